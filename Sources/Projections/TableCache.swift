import EventLog
import Foundation

/// Views of tables already opened, kept while their manifests say the same: a shell's next
/// statement over `events` maps no file and decodes no patch again, and a statement's end
/// unmaps nothing. A table's files are never changed in place: an append, a rebuild or an
/// erasure writes files under new names and renames a new manifest over the old, which
/// names them. So a manifest with the same bytes is the same table.
package final class TableCache: @unchecked Sendable {
  /// A manifest's bytes (nil: none).
  private typealias Stamp = [UInt8]?

  private static func stamp(_ manifest: String) -> Stamp {
    (try? FileSystem.system.readFile(manifest)) ?? nil
  }

  /// Whether two lists of stamps are the same, compared here: `==` of arrays of optionals
  /// looks its conformances up at run time, a tenth of a millisecond at its first use.
  private static func same(_ a: [Stamp], _ b: [Stamp]) -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) {
      switch (x, y) {
      case (nil, nil): continue
      case (let x?, let y?) where x == y: continue
      default: return false
      }
    }
    return true
  }

  private let lock = NSLock()
  private var views: [String: (stamps: [Stamp], view: TableView)] = [:]
  private var tables: [String: (stamp: Stamp, table: Table)] = [:]

  /// The most views (and tables) kept.
  static let limit = 64

  package init() {}

  /// `TableView.open`, or the view opened before when its table and patches are unchanged.
  package func view(store: String, spec: TableSpec, asOf: UInt64 = .max) throws -> TableView? {
    let views = Projection.folder(store: store)
    let folder = views + "/" + spec.name
    let manifests = [
      folder + "/patches/" + Table.manifestName,
      views + "/" + (spec.backing ?? spec.name) + "/" + Table.manifestName,
    ]
    let stamps = manifests.map(Self.stamp)
    let key = "\(folder)|\(asOf)"
    if let hit = lock.withLock({ self.views[key] }), Self.same(hit.stamps, stamps) {
      return hit.view
    }
    guard let view = try TableView.open(store: store, spec: spec, asOf: asOf) else { return nil }
    lock.withLock {
      // Statements as of many times each keep a view: a bound on what stays mapped.
      if self.views.count >= Self.limit { self.views.removeAll() }
      self.views[key] = (stamps, view)
    }
    return view
  }

  /// `Table.open` of a table whose columns its manifest declares (a materialized view), or
  /// the one opened before when its manifest is unchanged.
  package func table(name: String, folder: String) throws -> Table? {
    let stamp = Self.stamp(folder + "/" + Table.manifestName)
    guard stamp != nil else { return try Table.open(name: name, schema: nil, folder: folder) }
    let key = folder + "|" + name
    if let hit = lock.withLock({ tables[key] }), Self.same([hit.stamp], [stamp]) {
      return hit.table
    }
    guard let table = try Table.open(name: name, schema: nil, folder: folder) else { return nil }
    lock.withLock {
      if tables.count >= Self.limit { tables.removeAll() }
      tables[key] = (stamp, table)
    }
    return table
  }
}
