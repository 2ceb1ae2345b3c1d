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
    let engine = try Engine(store: store.path)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    var schema = "-- hoso export of \(store.path): load with DuckDB's\n"
    schema +=
      "--   COPY t FROM 't.\(format == "csv" ? "csv' (HEADER)" : "ndjson' (FORMAT json)");\n"
    var written = 0
    let names = BuiltinTables.all.map(\.name) + engine.materializedViewNames()
    for name in names {
      let columns: [(String, SQLType)]
      do {
        columns = try engine.columns(of: name)
      } catch {
        throw UsageError("cannot read table \(name): \(error.message)")
      }
      schema += "CREATE TABLE \(name) (\n"
      schema += columns.map { "  \"\($0)\" \($1.rawValue)" }.joined(separator: ",\n")
      schema += "\n);\n"
      let path = out + "/\(name).\(format)"
      // Streamed a row group at a time: the table is never whole in memory.
      guard FileManager.default.createFile(atPath: path, contents: nil),
        let file = FileHandle(forWritingAtPath: path)
      else { throw UsageError("cannot write \(path)") }
      defer { try? file.close() }
      var bytes: [UInt8] = []
      if format == "csv" { ExportWriter.csvHeader(columns.map(\.0), into: &bytes) }
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
    try Data(schema.utf8).write(to: URL(fileURLWithPath: out + "/schema.sql"))
    print(
      "exported \(names.count) tables and views, \(written) rows, to \(out) (\(format), schema.sql)"
    )
    return 0
  }
}
