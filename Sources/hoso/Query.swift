import Domain
import EventLog
import Foundation
import Query

extension CommandLine {
  /// `hoso query SQL [--format table|csv|json|markdown] [--timing]`
  static func query(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let formatName = try a.value("--format") ?? "table"
    guard let format = Output.Format(rawValue: formatName) else {
      throw UsageError("--format is table, csv, json or markdown, not \(formatName)")
    }
    let timing = a.flag("--timing")
    let rest = try a.positional(max: 1, command: "query")
    guard let sql = rest.first else {
      throw UsageError("query needs a SQL statement, such as \"SELECT count(*) FROM events\"")
    }
    Engine.warmUpInBackground()
    let store = try Store.open(at: g.store)
    try projectIfFree(store)
    let started = Date()
    let engine = try engine(g, store)
    let results: [QueryResult]
    do {
      results = try engine.run(sql)
    } catch {
      Console.error(error.rendered(in: sql) + "\n")
      return 1
    }
    // Written before the answer is shown, synced while it is.
    let sync = try recordAccessSyncing(
      g, store, "query", sql, rows: results.reduce(0) { $0 + $1.rows.count })
    for r in results {
      try Console.out(Output.render(r, as: format))
    }
    noteSuppression(results, format: format)
    warnStaleViews(g, store, engine)
    if timing {
      FileHandle.standardError.write(
        Data(String(format: "Run Time (s): real %.3f\n", Date().timeIntervalSince(started)).utf8))
    }
    try sync.wait()
    return 0
  }
}
