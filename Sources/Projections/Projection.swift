import Domain
import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The built-in tables of a store (`<store>/views/`), kept up to date with its log.
package enum Projection {
  package struct Report: Sendable {
    /// Records applied.
    package var applied: UInt64 = 0
    /// Whether the tables were rebuilt from the first record (a unit merged or moved after
    /// rows naming it were stored, or tables of an older hoso).
    package var rebuilt = false
    package var checkpoint: UInt64 = 0
  }

  package static func folder(store: String) -> String { store + "/views" }

  /// Brings every table up to the log's last committed record: the records after the tables'
  /// checkpoint are applied in log order. The caller holds the store's writer lock (a second
  /// writer would race for the same files), so `append` does this before it lets go.
  ///
  /// A crash at any point leaves each table whole at its old or new checkpoint: the next
  /// catch-up goes on from there and ends with the same tables as a rebuild.
  package static func catchUp(
    store: String, reader: LogReader, sync: Bool = true,
    progress: ((UInt64, UInt64) -> Void)? = nil
  ) throws -> Report {
    let last = reader.lastSeq
    let views = folder(store: store)
    var projector = try Projector(folder: views, target: last)
    var report = Report(checkpoint: last)
    var from = projector.checkpoint
    if from >= last { return report }
    // First pass: the range's unit events, so every row gets its province from everything
    // known. A merge or move that arrives after rows were stored changes rows already
    // written: then everything is rebuilt (rare: units change a few times a decade).
    var reshapes = false
    try reader.readRecords(in: (from + 1)...last) { r in
      if projector.learnUnits(r) { reshapes = true }
    }
    if (reshapes && from > 0) || projector.hasStaleTables {
      try removeTables(views)
      projector = try Projector(folder: views, target: last)
      from = 0
      report.rebuilt = true
      try reader.readRecords(in: 1...last) { r in _ = projector.learnUnits(r) }
    }
    var done: UInt64 = 0
    try reader.readRecords(in: (from + 1)...last) { r in
      try projector.apply(r)
      done += 1
      if done % 65_536 == 0 { progress?(done, last - from) }
    }
    try projector.commit()
    report.applied = last - from
    return report
  }

  /// Removes every table's files (the folder stays): a rebuild starts from nothing.
  static func removeTables(_ views: String) throws {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: views) else { return }
    for n in names {
      try? FileManager.default.removeItem(atPath: views + "/" + n)
    }
  }
}

extension Projector {
  /// Whether some table's manifest is from another schema (hoso changed its tables): its
  /// folder held a manifest that `Table.open` refused.
  var hasStaleTables: Bool {
    tables.values.contains { t in
      t.table.checkpoint == 0
        && FileManager.default.fileExists(atPath: t.table.folder + "/" + Table.manifestName)
    }
  }
}

extension Projection {
  package struct Check: Sendable {
    package var tables = 0
    package var groups = 0
    package var bytes = 0
    /// Tables that have no manifest yet (caught up by the next command) or are of an older
    /// format (rebuilt by it).
    package var behind: [String] = []
  }

  /// Reads every group of every table and checks its checksum. Throws `ProjectionError`
  /// naming the first damaged file.
  package static func verify(store: String) throws -> Check {
    var check = Check()
    let views = folder(store: store)
    for spec in BuiltinTables.all {
      let folder = views + "/" + spec.name
      var tables: [(String, [ColumnSchema], String)] = [
        ("patches", BuiltinTables.patches, folder + "/patches")
      ]
      if spec.backing == nil { tables.insert((spec.name, spec.columns, folder), at: 0) }
      for (name, schema, path) in tables {
        guard FileManager.default.fileExists(atPath: path + "/" + Table.manifestName) else {
          if name == spec.name { check.behind.append(spec.name) }
          continue
        }
        guard let t = try Table.open(name: name, schema: schema, folder: path) else {
          check.behind.append(spec.name)
          continue
        }
        check.tables += name == spec.name ? 1 : 0
        for g in t.groupNames {
          let file = try MappedFile(path + "/" + g)
          _ = try file.withBytes {
            try GroupReader($0, schema: schema, path: file.path, verify: true)
          }
          check.groups += 1
          check.bytes += file.count
        }
      }
    }
    return check
  }
}
