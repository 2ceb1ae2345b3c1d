import Domain
import EventLog
import Foundation
import Projections
import Query

extension CommandLine {
  /// `hoso export --format csv|ndjson --out DIR`: every table as it stands (corrections
  /// applied, voided rows left out), one file each, and `schema.sql` with DuckDB's types.
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
    let engine = try Engine(store: store.path)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    var schema = "-- hoso export of \(store.path): load with DuckDB's\n"
    schema +=
      "--   COPY t FROM 't.\(format == "csv" ? "csv' (HEADER)" : "ndjson' (FORMAT json)");\n"
    var written = 0
    for spec in BuiltinTables.all {
      let result: QueryResult
      do {
        result = try engine.run("SELECT * FROM \(spec.name)")[0]
      } catch {
        throw UsageError("cannot read table \(spec.name): \(error.message)")
      }
      schema += "CREATE TABLE \(spec.name) (\n"
      schema += zip(result.names, result.types).map { "  \"\($0)\" \($1.rawValue)" }.joined(
        separator: ",\n")
      schema += "\n);\n"
      let path = out + "/\(spec.name).\(format)"
      // Written a piece at a time: Foundation's one-shot writes of 2 GiB or more wrap around.
      guard FileManager.default.createFile(atPath: path, contents: nil),
        let file = FileHandle(forWritingAtPath: path)
      else { throw UsageError("cannot write \(path)") }
      defer { try? file.close() }
      try Output.export(result, ndjson: format == "ndjson") { piece in
        try file.write(contentsOf: Data(piece.utf8))
      }
      written += result.rows.count
    }
    try Data(schema.utf8).write(to: URL(fileURLWithPath: out + "/schema.sql"))
    print(
      "exported \(BuiltinTables.all.count) tables, \(written) rows, to \(out) (\(format), schema.sql)"
    )
    return 0
  }
}
