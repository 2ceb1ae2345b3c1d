import EventLog
import Foundation

extension Table {
  /// Rewrites every row group that holds `pattern` in a VARCHAR value, with `mask` (as long)
  /// in its place, under a new file name (`tag` added to it), then the manifest; returns how
  /// many groups were rewritten. The rows, their order and every other value stay: the table
  /// is what a projection of the masked log gives. As an append does, it writes the new
  /// groups, syncs them, replaces the manifest, and only then removes the old groups.
  package func redact(_ pattern: [UInt8], with mask: [UInt8], tag: String, sync: Bool = true)
    throws -> Int
  {
    precondition(pattern.count == mask.count && !pattern.isEmpty)
    var names = groupNames
    var rewritten = 0
    for (g, group) in groups.enumerated() {
      // The file first, whole: a group that does not hold the bytes anywhere is left alone.
      let path = folder + "/" + groupNames[g]
      guard try MappedFile(path).withBytes({ firstOffset(of: pattern, in: $0) != nil }) else {
        continue
      }
      var builders = schema.map { ColumnBuilder($0.type) }
      for r in 0..<group.rows {
        for c in builders.indices {
          let column = group.columns[c]
          guard schema[c].type == .varchar, column.isValid(r) else {
            builders[c].append(from: column, row: r)
            continue
          }
          let value = column.bytes(r)
          guard firstOffset(of: pattern, in: value) != nil else {
            builders[c].append(from: column, row: r)
            continue
          }
          var masked = Array(value)
          masked.withUnsafeMutableBytes { m in
            while let i = firstOffset(of: pattern, in: UnsafeRawBufferPointer(m)) {
              for k in 0..<mask.count { m[i + k] = mask[k] }
            }
          }
          masked.withUnsafeBytes { builders[c].append($0) }
        }
      }
      let indexed = schema.indices.filter { group.hasIndex($0) }
      let parts = groupNames[g].dropLast(4).split(separator: "-")
      let name = parts.prefix(2).joined(separator: "-") + "-" + tag + ".grp"
      try FileSystem.system.writeAtomically(
        ColumnGroup.encode(builders, indexed: indexed), to: folder + "/" + name,
        directory: folder, sync: sync)
      names[g] = name
      rewritten += 1
    }
    guard rewritten > 0 else { return 0 }
    try Table.writeManifest(
      name: self.name, schema: schema, checkpoint: checkpoint, rows: rowCount,
      groups: Array(zip(names, groups.map(\.rows))), folder: folder, sync: sync)
    return rewritten
  }
}

extension Projection {
  /// Masks `pattern` in every table of the store (the projections, their patches, and the
  /// materialized views) by `mask`, for `forget` after the log was masked: the tables are then
  /// what a rebuild from the masked log would give, and only the row groups that held the
  /// pseudonym are written. The caller holds the store's writer lock and the views' lock.
  package static func redact(store: String, pattern: [UInt8], mask: [UInt8], tag: String)
    throws -> (tables: Int, groups: Int)
  {
    let fm = FileManager.default
    var tables = 0
    var groups = 0
    for root in [folder(store: store), store + "/matviews"] {
      for name in (try? fm.contentsOfDirectory(atPath: root))?.sorted() ?? [] {
        for folder in [root + "/" + name, root + "/" + name + "/patches"]
        where fm.fileExists(atPath: folder + "/" + Table.manifestName) {
          let tableName = folder.hasSuffix("/patches") ? "patches" : name
          guard let table = try Table.open(name: tableName, schema: nil, folder: folder) else {
            continue
          }
          let n = try table.redact(pattern, with: mask, tag: tag)
          if n > 0 { tables += 1 }
          groups += n
        }
      }
    }
    return (tables, groups)
  }
}
