import EventLog
import Foundation
import Projections
import Query

extension ViewStore {
  /// Brings a view of the incremental shape up to the tables by deltas: the groups of the rows
  /// recorded since its checkpoint are added, and the rows that corrections and voids since
  /// then changed are taken away as they were and added as they are. A `min` or `max` cannot
  /// take a value away, so when such a view meets a correction it answers false and is left to
  /// a rebuild, as is a view of any other shape. Written as a new copy swapped in whole.
  package static func refresh(
    _ d: ViewDefinition, hash: String, store: String, sync: Bool = true
  ) throws -> Bool {
    let target = folder(store: store) + "/" + d.name
    try Projection.recoverInterruptedRebuild(target)
    guard builtHash(target) == hash, builtRules(target) == Projection.rules,
      let old = try Table.open(name: d.name, schema: nil, folder: target)
    else { return false }
    let engine = try Engine(store: store)
    // The stored copy must carry the bookkeeping of this shape (a copy built before the view
    // had it is rebuilt instead).
    guard let shape = engine.incrementalShape(d.sql),
      let spec = BuiltinTables.all.first(where: { $0.name == shape.table }),
      old.schema.count == shape.select.items.count, old.schema.last?.name == "__rows"
    else { return false }
    let now = tablesCheckpoint(store: store)
    let was = old.checkpoint
    // As of `now`: rows and patches committed since it was read belong to the next refresh.
    guard now > was, let current = try TableView.open(store: store, spec: spec, asOf: now) else {
      return false
    }
    // A unit event since then (a merger, a move, a renaming) may have changed `province` or
    // `province_now` of rows stored before: the tables were rebuilt, and so is the view.
    if let units = try TableView.open(
      store: store, spec: BuiltinTables.unitEvents)
    {
      for r in 0..<units.table.rowCount {
        // As the projection decides: any unit event but an establishment reshapes.
        if case .int(let seq) = units.base(r, 0), UInt64(seq) > was,
          units.base(r, 1) != .text("unit.established")
        {
          return false
        }
      }
    }
    // The table's rows are in seq order: those recorded after the view's checkpoint are a
    // suffix.
    var lo = 0
    var hi = current.table.rowCount
    while lo < hi {
      let mid = (lo + hi) / 2
      if case .int(let seq) = current.base(mid, 0), UInt64(seq) <= was {
        lo = mid + 1
      } else {
        hi = mid
      }
    }
    let firstNew = lo
    let touched = current.patchedRows.filter { row in
      row < firstNew && current.patches(of: row).contains { $0.seq > was }
    }
    if !touched.isEmpty
      && shape.aggregates.contains(where: { $0.function == .min || $0.function == .max })
    {
      return false
    }
    let plus = try engine.run(
      shape, rows: touched + Array(firstNew..<current.table.rowCount), asOf: nil)
    let minus = touched.isEmpty ? nil : try engine.run(shape, rows: touched, asOf: was)

    // The stored groups, by key, then the deltas folded in.
    let types = old.schema.map(\.type)
    var order: [[SQLValue]] = []
    var groups: [[SQLValue]: [SQLValue]] = [:]
    for row in TableView(table: old, patches: nil).rows() {
      let values = zip(row, types).map { Engine.sqlValue($0, Engine.sqlType($1)) }
      let key = Array(values.prefix(shape.keyCount))
      order.append(key)
      groups[key] = values
    }
    func fold(_ r: QueryResult, _ sign: Int64) throws {
      for i in 0..<r.rows.count {
        let delta = r.rows.columns.map { $0.value(i) }
        let key = Array(delta.prefix(shape.keyCount))
        var row =
          groups[key] ?? (key + Array(repeating: SQLValue.null, count: delta.count - key.count))
        if groups[key] == nil { order.append(key) }
        for (j, a) in shape.aggregates.enumerated() {
          let c = shape.keyCount + j
          switch a.function {
          case .count: row[c] = try add(row[c], delta[c], sign)
          case .sum: row[c] = try add(row[c], delta[c], sign)
          case .avg: break  // from its hidden sum and count, below
          case .min, .max:
            if delta[c].isNull { break }
            if row[c].isNull {
              row[c] = delta[c]
            } else {
              let cmp = Evaluator.compareValues(delta[c], row[c])
              if (a.function == .min && cmp < 0) || (a.function == .max && cmp > 0) {
                row[c] = delta[c]
              }
            }
          }
        }
        for c in (shape.keyCount + shape.aggregates.count)..<row.count {
          row[c] = try add(row[c], delta[c], sign)
        }
        groups[key] = row
      }
    }
    try fold(plus, 1)
    if let minus { try fold(minus, -1) }

    // The new copy: groups with rows left, sums of nothing NULL.
    let fresh = target + ".rebuild"
    try? FileSystem.system.removeTree(fresh)
    var appender = TableAppender(
      Table.empty(name: d.name, schema: old.schema, folder: fresh), target: now, sync: sync)
    var seen = Set<[SQLValue]>()
    for key in order where seen.insert(key).inserted {
      var row = groups[key]!
      guard case .int(let n) = row[shape.rowsColumn], n > 0 else { continue }
      for (j, a) in shape.aggregates.enumerated() {
        if a.function == .avg, let k = a.count, let t = a.sum {
          if case .int(let m) = row[k], m > 0, case .double(let total) = row[t] {
            row[shape.keyCount + j] = .double(total / Double(m))
          } else {
            row[shape.keyCount + j] = .null
          }
        }
        if let k = a.count, case .int(let m) = row[k], m == 0 { row[shape.keyCount + j] = .null }
        if a.function == .count, row[shape.keyCount + j].isNull {
          row[shape.keyCount + j] = .int(0)
        }
      }
      for (c, v) in row.enumerated() { append(v, to: &appender.builders[c]) }
      try appender.endRow()
    }
    _ = try appender.commit()
    // The new copy keeps what the old one recorded: its definition's hash and its SELECT.
    for file in ["VIEW", Engine.viewDefinitionFile] {
      let text = try String(contentsOfFile: target + "/" + file, encoding: .utf8)
      try FileSystem.system.writeAtomically(
        Array(text.utf8), to: fresh + "/" + file, directory: fresh, sync: sync)
    }
    try Projection.swapIn(fresh, for: target)
    return true
  }

  /// Every view of the incremental shape that is behind the tables, brought up to them (by
  /// deltas, else recomputed: they are small grouped tables); the names of those refreshed.
  /// The others stay stale until `rebuild`.
  package static func refreshAll(store: String, catalog: ViewCatalog, sync: Bool = true) throws
    -> [String]
  {
    var done: [String] = []
    for s in status(store: store, catalog: catalog) {
      guard case .behind = s.state, let d = catalog.definition(s.name),
        d.dependencies.isEmpty, let hash = catalog.hashes[d.name]
      else { continue }
      let engine = try Engine(store: store)
      guard engine.incrementalShape(d.sql) != nil else { continue }
      if try refresh(d, hash: hash, store: store, sync: sync) {
        done.append(d.name)
      } else {
        // Deltas cannot say it (a min or max met a correction, units changed): recomputed.
        _ = try build(d, hash: hash, store: store, sync: sync)
        done.append(d.name + " (recomputed)")
      }
    }
    return done
  }

  /// `a + sign * b`, NULL as nothing.
  static func add(_ a: SQLValue, _ b: SQLValue, _ sign: Int64) throws -> SQLValue {
    switch (a, b) {
    case (_, .null): return a
    case (.null, .int(let y)): return .int(sign * y)
    case (.null, .double(let y)): return .double(Double(sign) * y)
    case (.int(let x), .int(let y)):
      let (r, o) = x.addingReportingOverflow(sign * y)
      if o { throw SQLError.sumOverflow }
      return .int(r)
    case (.double(let x), .double(let y)): return .double(x + Double(sign) * y)
    default: return a
    }
  }
}
