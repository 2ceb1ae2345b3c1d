import Domain
import Foundation
import Query
import Views

extension CommandLine {
  /// `hoso report NAME [--year Y] [--as-of T] [--format …]`: runs `queries/reports/NAME.sql`.
  /// `$year` in the file is the year (this year by default); a header line `-- as of: MM-DD
  /// HH:MM:SS` makes the report read the records as they were known at that time of the year
  /// (the reporting deadline), `--as-of` at any other time.
  static func report(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let formatName = try a.value("--format") ?? "table"
    guard let format = Output.Format(rawValue: formatName) else {
      throw UsageError("--format is table, csv, json or markdown, not \(formatName)")
    }
    let yearText = try a.value("--year")
    let asOfText = try a.value("--as-of")
    let rest = try a.positional(max: 1, command: "report")
    let folder = g.queries + "/reports"
    let available =
      ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
      .filter { $0.hasSuffix(".sql") }.map { String($0.dropLast(4)) }.sorted()
    guard let name = rest.first else {
      throw UsageError("report needs a NAME: " + g.reportsList(available))
    }
    let path = folder + "/" + name + ".sql"
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(data: data, encoding: .utf8)
    else {
      let hint = Catalog.nearest(name, in: available).map { " (did you mean \($0)?)" } ?? ""
      throw UsageError("no report \(name)\(hint): " + g.reportsList(available))
    }
    var vietnam = Calendar(identifier: .gregorian)
    vietnam.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
    let year: Int
    if let yearText {
      guard let y = Int(yearText), (1900...9999).contains(y) else {
        throw UsageError("--year is a year such as 2024, not \(yearText)")
      }
      year = y
    } else {
      year = vietnam.component(.year, from: Date())
    }
    // The deadline the file names, in the report's year; --as-of wins.
    let header = text.split(separator: "\n").prefix { $0.hasPrefix("--") }
    let asOfLine = header.first {
      $0.dropFirst(2).trimmingCharacters(in: .whitespaces).hasPrefix("as of:")
    }
    // A year given to a report of no one year would be ignored: say so rather.
    if yearText != nil && !text.contains("$year") && asOfLine == nil {
      let ofAYear = available.filter { other in
        (try? String(contentsOfFile: folder + "/" + other + ".sql", encoding: .utf8))?
          .contains("$year") ?? false
      }
      throw UsageError(
        "report \(name) is not of one year and takes no --year (the reports of a year: "
          + "\(ofAYear.joined(separator: ", ")))")
    }
    var asOf = asOfText
    if asOf == nil, let line = asOfLine {
      let when = line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
      asOf = "\(year)-\(when)"
    }
    let sql = text.replacingOccurrences(of: "$year", with: String(year))
    let store = try Store.open(at: g.store)
    try projectIfFree(store)
    let engine = try engine(g, store)
    do {
      try engine.setAsOf(asOf)
    } catch {
      // The time is at fault, not the report's text: say which option gave it.
      throw UsageError(
        asOfText != nil
          ? "--as-of: \(error.message)" : "\(path): as of its deadline in \(year): \(error.message)"
      )
    }
    let results: [QueryResult]
    do {
      results = try engine.run(sql)
    } catch {
      if let offset = error.offset {
        let (line, column) = ViewProblem.at(sql, offset)
        throw UsageError("\(path):\(line):\(column): \(error.kind.rawValue): \(error.message)")
      }
      throw UsageError("\(path): \(error.kind.rawValue): \(error.message)")
    }
    var statement = "report \(name) --year \(year)"
    if let asOf { statement += " --as-of \(asOf)" }
    try recordAccess(
      g, store, "report", statement, rows: results.reduce(0) { $0 + $1.rows.count })
    if format == .table || format == .markdown {
      // The year only when the report is of one (the file reads `$year`).
      var title = text.contains("$year") ? "\(name), \(year)" : name
      if let asOf { title += ", as known at \(asOf) (Vietnam time)" }
      try Console.out(title + "\n")
    }
    for r in results {
      try Console.out(Output.render(r, as: format))
    }
    noteSuppression(results, format: format)
    warnStaleViews(g, store, engine)
    return 0
  }
}
