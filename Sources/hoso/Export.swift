import Domain
import EventLog
import Foundation
import Projections
import Query

extension CommandLine {
  /// `hoso export --format csv|ndjson --out DIR`: every table as it stands (corrections
  /// applied, voided rows left out) and every materialized view as last built, one file each,
  /// and `schema.sql` with DuckDB's types.
  static func export(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let format = try a.value("--format") ?? "csv"
    guard format == "csv" || format == "ndjson" else {
      throw UsageError("--format is csv or ndjson, not \(format)")
    }
    guard let out = try a.value("--out") else {
      throw UsageError("export needs --out DIR, the folder to write the tables to")
    }
    _ = try a.positional(max: 0, command: "export")
    let store = try Store.open(at: g.store)
    try projectIfFree(store)
    let engine = try engine(g, store)
    // An export holds the store's data: the folders made for it are their owner's only, as
    // the store is, and so is each file, from the moment it exists.
    do {
      try PrivateFile.makeFolders(out)
    } catch {
      throw UsageError("cannot make the folder \(out): \(error)")
    }
    var schema = "-- hoso export of \(store.path): load with DuckDB's\n"
    schema +=
      "--   COPY t FROM 't.\(format == "csv" ? "csv' (HEADER)" : "ndjson' (FORMAT json)");\n"
    var written = 0
    var suppressed = 0
    var perturbed = 0
    var skipped = 0
    // The analyst's export leaves out the person-level tables, and its views (aggregates) are
    // suppressed as a query of them would be.
    let analyst = engine.policy != nil
    let left =
      analyst ? BuiltinTables.all.map(\.name).filter(PrivacyPolicy.personTables.contains) : []
    let views = engine.materializedViewNames()
    let names = BuiltinTables.all.map(\.name).filter { !left.contains($0) } + views
    try recordAccess(
      g, store, "export",
      "export --format \(format) --out \(out): " + names.joined(separator: ", "), rows: nil)
    for name in names {
      var columns: [(String, SQLType)]
      do {
        columns = try engine.columns(of: name)
      } catch {
        throw UsageError("cannot read table \(name): \(error.message)")
      }
      var whole: QueryResult?
      if analyst && views.contains(name) {
        do {
          whole = try engine.run("SELECT * FROM \"\(name)\"").first
        } catch  where error.kind == .permission {
          // A view the analyst's rules do not allow whole is left out, and said so.
          note("left out view \(name): \(error.message)")
          skipped += 1
          continue
        } catch {
          throw UsageError("cannot export view \(name): \(error.message)")
        }
        // A column with hidden cells holds `<5` and `*`: text.
        for c in whole?.suppressed.keys ?? [:].keys { columns[c].1 = .varchar }
        suppressed += (whole?.primarySuppressed ?? 0) + (whole?.complementarySuppressed ?? 0)
        perturbed += whole?.perturbed ?? 0
      }
      schema += "CREATE TABLE \(name) (\n"
      schema += columns.map { "  \"\($0)\" \($1.rawValue)" }.joined(separator: ",\n")
      schema += "\n);\n"
      let path = out + "/\(name).\(format)"
      // Streamed a row group at a time: the table is never whole in memory.
      let file: FileHandle
      do {
        file = FileHandle(fileDescriptor: try PrivateFile.create(path), closeOnDealloc: true)
      } catch {
        throw UsageError("cannot write \(path): \(error)")
      }
      defer { try? file.close() }
      var bytes: [UInt8] = []
      if format == "csv" { ExportWriter.csvHeader(columns.map(\.0), into: &bytes) }
      if let whole {
        if format == "csv" {
          ExportWriter.csv(whole, into: &bytes)
        } else {
          ExportWriter.ndjson(whole, into: &bytes)
        }
        written += whole.rows.count
        try file.write(contentsOf: bytes)
        continue
      }
      do {
        try engine.stream(table: name) { piece in
          if format == "csv" {
            ExportWriter.csv(piece, into: &bytes)
          } else {
            ExportWriter.ndjson(piece, into: &bytes)
          }
          written += piece.rows.count
          if bytes.count >= 1 << 22 {
            try file.write(contentsOf: bytes)
            bytes.removeAll(keepingCapacity: true)
          }
        }
      } catch let e as SQLError {
        throw UsageError("cannot read table \(name): \(e.message)")
      }
      try file.write(contentsOf: bytes)
    }
    do {
      let fd = try PrivateFile.create(out + "/schema.sql")
      try FileHandle(fileDescriptor: fd, closeOnDealloc: true).write(contentsOf: Data(schema.utf8))
    } catch {
      throw UsageError("cannot write \(out)/schema.sql: \(error)")
    }
    print(
      "exported \(names.count - skipped) tables and views, \(written) rows, to \(out) (\(format),"
        + " schema.sql)"
    )
    if !left.isEmpty {
      note(
        "left out, person-level: \(left.joined(separator: ", ")) (--role auditor exports them)")
    }
    if suppressed > 0 {
      note(
        "\(suppressed) cells of the views hidden: counts of persons under \(g.minCell) are"
          + " written as <\(g.minCell), and cells beside them as * (analyst role)")
    }
    if perturbed > 0 {
      note(
        "\(perturbed) counts and sums of persons in the views are perturbed (analyst role: within"
          + " ±2, sums by a part of their mean; the auditor's export is exact)")
    }
    return 0
  }
}
