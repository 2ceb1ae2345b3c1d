import Domain
import EventLog
import Foundation
import Projections
import Query

/// Materialized views in a store: `<store>/matviews/NAME`, each a table of the column store
/// (its manifest declares the columns and the checkpoint of the tables it was computed from)
/// and a `VIEW` file with the hash of the definition it was built from. A rebuild writes a new
/// copy beside the old one and swaps it in with two renames, so a crash leaves the old view
/// whole; the same tables and the same definitions give byte-identical files.
package enum ViewStore {
  package enum State: Equatable, Sendable {
    case fresh
    case notBuilt
    /// Built by an older hoso, in files this one does not read.
    case olderFormat
    case definitionChanged
    /// Built from tables made by other rules (`Projection.rules`): an older hoso's.
    case tablesRulesChanged
    /// The tables have this many more events than when the view was built.
    case behind(UInt64)
    case problem(String)

    package var isFresh: Bool { self == .fresh }

    package var text: String {
      switch self {
      case .fresh: "fresh"
      case .notBuilt: "stale: not built yet"
      case .olderFormat: "stale: built by an older hoso"
      case .definitionChanged: "stale: its definition changed"
      case .tablesRulesChanged: "stale: built from tables made by an older hoso's rules"
      case .behind(let n): "stale: \(n) \(n == 1 ? "event" : "events") behind the tables"
      case .problem(let p): "error: \(p)"
      }
    }
  }

  package struct Status: Sendable {
    package let name: String
    package let state: State
    package let checkpoint: UInt64?
    package let rows: Int?
    package let bytes: Int
    package let built: Date?
  }

  package static func folder(store: String) -> String { Engine.viewsFolder(store: store) }

  /// Runs `body` holding the views' lock (`<store>/matviews/LOCK`, flock): one rebuild or
  /// refresh at a time, whichever process runs it.
  package static func withLock<T>(store: String, _ body: () throws -> T) throws -> T {
    try makeFolderChain(folder(store: store))
    let path = folder(store: store) + "/LOCK"
    let fd = FileSystem.system.open(path, O_RDWR | O_CREAT, 0o600)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    defer { close(fd) }
    guard flock(fd, LOCK_EX) == 0 else {
      throw ViewError("cannot lock \(path): \(String(cString: strerror(errno)))")
    }
    defer { flock(fd, LOCK_UN) }
    try recoverInterrupted(store: store)
    return try body()
  }

  /// What a rebuild killed midway left, put right by the next holder of the lock: a
  /// half-made `V.rebuild` goes; `V.old` comes back when `V` is missing (a swap cut between
  /// its renames, the view then judged again), and goes when `V` is there (a swap cut while
  /// the old copy was being removed). Left, a `V.old` beside a fresh view stayed for good.
  private static func recoverInterrupted(store: String) throws {
    let root = folder(store: store)
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
    var views = Set<String>()
    for e in entries {
      if e.hasSuffix(".rebuild") { views.insert(String(e.dropLast(".rebuild".count))) }
      if e.hasSuffix(".old") { views.insert(String(e.dropLast(".old".count))) }
    }
    for v in views.sorted() {
      try Projection.recoverInterruptedRebuild(root + "/" + v)
    }
  }

  /// The checkpoint of the built-in tables (what a view built now reflects): the least of
  /// their manifests', tables and patches alike. The tables are committed one after another,
  /// and a view refreshed between two commits must not take the first for all.
  package static func tablesCheckpoint(store: String) -> UInt64 {
    let views = Projection.folder(store: store)
    var least: UInt64?
    for spec in BuiltinTables.all {
      var manifests = [views + "/" + spec.name + "/patches/MANIFEST"]
      if spec.backing == nil { manifests.append(views + "/" + spec.name + "/MANIFEST") }
      for path in manifests {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
          // A table without patches has no patches folder; a missing table: nothing built.
          if path.hasSuffix("/patches/MANIFEST") { continue }
          return 0
        }
        for line in text.split(separator: "\n") where line.hasPrefix("checkpoint ") {
          let c = UInt64(line.dropFirst(11)) ?? 0
          least = min(least ?? c, c)
        }
      }
    }
    return least ?? 0
  }

  /// The rules of the tables a built view was made from (its `VIEW` file; 0: not recorded).
  static func builtRules(_ folder: String) -> Int {
    guard let text = try? String(contentsOfFile: folder + "/VIEW", encoding: .utf8) else {
      return 0
    }
    for line in text.split(separator: "\n") where line.hasPrefix("tables-rules ") {
      return Int(line.dropFirst(13)) ?? 0
    }
    return 0
  }

  /// The hash a built view was made from (its `VIEW` file).
  static func builtHash(_ folder: String) -> String? {
    guard let text = try? String(contentsOfFile: folder + "/VIEW", encoding: .utf8) else {
      return nil
    }
    for line in text.split(separator: "\n") where line.hasPrefix("definition ") {
      return String(line.dropFirst(11))
    }
    return nil
  }

  package static func status(store: String, catalog: ViewCatalog) -> [Status] {
    let current = tablesCheckpoint(store: store)
    var out: [Status] = []
    for d in catalog.definitions {
      // A view whose swap a kill cut between its renames is read from its old copy, as
      // queries read it, until the next holder of the lock puts it back.
      let path = Engine.readableViewFolder(store: store, name: d.name)
      let table = try? Table.open(name: d.name, schema: nil, folder: path)
      var bytes = 0
      for f in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + f)
        bytes += (attributes?[.size] as? NSNumber)?.intValue ?? 0
      }
      let built =
        (try? FileManager.default.attributesOfItem(atPath: path + "/MANIFEST"))?[
          .modificationDate] as? Date
      let state: State
      if let table = table ?? nil {
        if builtHash(path) != catalog.hashes[d.name]
          || !FileManager.default.fileExists(atPath: path + "/" + Engine.viewDefinitionFile)
        {
          // A build of an older hoso, without its definition on record, is rebuilt too.
          state = .definitionChanged
        } else if builtRules(path) != Projection.rules {
          state = .tablesRulesChanged
        } else if table.checkpoint < current {
          state = .behind(current - table.checkpoint)
        } else {
          state = .fresh
        }
        out.append(
          Status(
            name: d.name, state: state, checkpoint: table.checkpoint, rows: table.rowCount,
            bytes: bytes, built: built))
      } else {
        let state: State = Table.isOlderFormat(folder: path) ? .olderFormat : .notBuilt
        out.append(
          Status(name: d.name, state: state, checkpoint: nil, rows: nil, bytes: 0, built: nil))
      }
    }
    for p in catalog.problems where !out.contains(where: { $0.name == p.view }) {
      out.append(
        Status(
          name: p.view, state: .problem(p.description), checkpoint: nil, rows: nil, bytes: 0,
          built: nil))
    }
    return out.sorted { $0.name < $1.name }
  }

  /// What to rebuild, in dependency order: the named views (every stale one when none is
  /// named), and any stale view they read.
  package static func plan(store: String, catalog: ViewCatalog, names: [String]) throws
    -> [ViewDefinition]
  {
    let states = Dictionary(
      uniqueKeysWithValues: status(store: store, catalog: catalog).map { ($0.name, $0.state) })
    for n in names where catalog.definition(n) == nil {
      if let p = catalog.problems.first(where: { $0.view == n }) { throw p }
      let hint = Catalog.nearest(n, in: catalog.definitions.map(\.name)).map {
        " (did you mean \($0)?)"
      }
      throw ViewError("no view named \(n)\(hint ?? ""): the views are the files of queries/views")
    }
    var wanted = Set(
      names.isEmpty ? catalog.definitions.map(\.name).filter { states[$0] != .fresh } : names)
    // Stale views below a wanted one come first.
    var changed = true
    while changed {
      changed = false
      for d in catalog.definitions where wanted.contains(d.name) {
        for dep in d.dependencies where !wanted.contains(dep.name) && states[dep.name] != .fresh {
          wanted.insert(dep.name)
          changed = true
        }
      }
    }
    // A view over one being rebuilt is rebuilt after it (its input changes).
    changed = true
    while changed {
      changed = false
      for d in catalog.definitions where !wanted.contains(d.name) {
        if d.dependencies.contains(where: { wanted.contains($0.name) }) && !names.isEmpty {
          continue  // named ones only: the rest turn stale and say so
        }
        if d.dependencies.contains(where: { wanted.contains($0.name) }) {
          wanted.insert(d.name)
          changed = true
        }
      }
    }
    return catalog.definitions.filter { wanted.contains($0.name) }
  }

  package struct BuildReport: Sendable {
    package let name: String
    package let rows: Int
    package let columns: Int
    package let seconds: Double
    /// nil when there was no old copy.
    package let added: Int?
    package let removed: Int?
    package let changed: Int?
    package let examples: [String]
    /// A dry run's new copy, left beside the old one; nil when it was swapped in.
    package let copy: String?
  }

  /// Computes `d` from the tables and, unless `dryRun`, swaps the new copy in. The report says
  /// what changed against the old copy. A dry run leaves its new copy beside the old one (the
  /// report's `copy`), for the views over it to read through `newCopies` (by name) as a
  /// rebuild would have them; `discard` removes them, as does the view's next build.
  package static func build(
    _ d: ViewDefinition, hash: String, store: String, dryRun: Bool = false, sync: Bool = true,
    newCopies: [String: String] = [:]
  ) throws -> BuildReport {
    let started = Date()
    let target = folder(store: store) + "/" + d.name
    try Projection.recoverInterruptedRebuild(target)
    let checkpoint = tablesCheckpoint(store: store)
    let engine = try Engine(store: store)
    engine.viewFolders = newCopies
    let result: QueryResult
    do {
      // A view of the incremental shape is stored with its bookkeeping columns.
      if let shape = engine.incrementalShape(d.sql) {
        result = try engine.run(shape, rows: nil, asOf: nil)
      } else {
        guard let r = try engine.run(d.sql).first else {
          throw ViewError("\(d.path): no result")
        }
        result = r
      }
    } catch let e as SQLError {
      let (line, column) = ViewProblem.at(d.sql, e.offset ?? 0)
      throw ViewProblem(
        view: d.name, file: d.path, line: line, column: column,
        message: "\(e.kind.rawValue): \(e.message)")
    }
    var schema: [ColumnSchema] = []
    var seen = Set<String>()
    for (name, type) in zip(result.names, result.types) {
      guard name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil,
        seen.insert(name).inserted
      else {
        throw ViewProblem(
          view: d.name, file: d.path, line: 1, column: 1,
          message:
            "column \"\(name)\" needs a name of letters, digits and _, once: give it one with AS")
      }
      schema.append(ColumnSchema(name, columnType(type)))
    }
    // The new copy, beside the old one.
    let fresh = target + ".rebuild"
    try? FileSystem.system.removeTree(fresh)
    var appender = TableAppender(
      Table.empty(name: d.name, schema: schema, folder: fresh), target: checkpoint, sync: sync)
    let columns = result.rows.columns
    for r in 0..<result.rows.count {
      for (c, v) in columns.enumerated() {
        append(v.value(r), to: &appender.builders[c])
      }
      try appender.endRow()
    }
    _ = try appender.commit()
    let meta =
      "hoso-view 1\ndefinition \(hash)\nsource \((d.path as NSString).lastPathComponent)\n"
      + "tables-rules \(Projection.rules)\n"
    try FileSystem.system.writeAtomically(
      Array(meta.utf8), to: fresh + "/VIEW", directory: fresh, sync: sync)
    // The SELECT itself, by which the analyst role's rules know what the columns hold.
    try FileSystem.system.writeAtomically(
      Array(d.sql.utf8), to: fresh + "/" + Engine.viewDefinitionFile, directory: fresh,
      sync: sync)
    // Against the old copy, by the rows' keys.
    var added: Int?
    var removed: Int?
    var changed: Int?
    var examples: [String] = []
    if let old = try? Table.open(name: d.name, schema: nil, folder: target),
      let was = try? engine.run("SELECT * FROM \(d.name)").first
    {
      // Rows as values (compared and hashed as they are; text only for the examples).
      func values(_ r: QueryResult) -> [[SQLValue]] {
        (0..<r.rows.count).map { i in r.rows.columns.map { $0.value(i) } }
      }
      let oldRows = values(was)
      let visible = result.names.prefix { !$0.hasPrefix("__") }.count
      let oldNames = Array(old.schema.map(\.name).prefix { !$0.hasPrefix("__") })
      let newRows = values(result).map { Array($0.prefix(visible)) }
      let names = Array(schema.map(\.name).prefix(visible))
      // The key columns' positions in both copies; whole rows when there is no key, or when
      // it does not identify rows.
      var keyAt = (d.keys ?? []).compactMap { k in names.firstIndex(of: k) }
      let oldKeyAt = (d.keys ?? []).compactMap { k in oldNames.firstIndex(of: k) }
      func key(_ row: [SQLValue], _ at: [Int]) -> [SQLValue] { at.map { row[$0] } }
      if keyAt.count != (d.keys ?? []).count || oldKeyAt.count != keyAt.count
        || Set(newRows.map { key($0, keyAt) }).count != newRows.count
        || Set(oldRows.map { key($0, oldKeyAt) }).count != oldRows.count
      {
        keyAt = []
      }
      var a = 0
      var rm = 0
      var ch = 0
      if keyAt.isEmpty {
        // Rows compared whole, as multisets.
        var count: [[SQLValue]: Int] = [:]
        for row in oldRows { count[row, default: 0] += 1 }
        for row in newRows {
          if let n = count[row], n > 0 {
            count[row] = n - 1
          } else {
            a += 1
            if examples.count < 6 { examples.append("+ " + describe(names, row)) }
          }
        }
        for row in oldRows where (count[row] ?? 0) > 0 {
          count[row]! -= 1
          rm += 1
          if examples.count < 6 { examples.append("- " + describe(oldNames, row)) }
        }
      } else {
        var before: [[SQLValue]: [SQLValue]] = [:]
        for row in oldRows { before[key(row, oldKeyAt)] = row }
        var seen = Set<[SQLValue]>()
        for row in newRows {
          let k = key(row, keyAt)
          seen.insert(k)
          guard let was = before[k] else {
            a += 1
            if examples.count < 6 { examples.append("+ " + describe(names, row)) }
            continue
          }
          let wasNames = oldNames
          let diffs = names.enumerated().compactMap { (i, n) -> String? in
            let before = wasNames.firstIndex(of: n).map { was[$0] }
            return before == row[i] ? nil : "\(n) \(text(before)) -> \(text(row[i]))"
          }
          if !diffs.isEmpty || wasNames != names {
            ch += 1
            if examples.count < 6 {
              examples.append(
                "~ " + describe(keyAt.map { names[$0] }, k) + ": "
                  + (diffs.isEmpty ? "columns changed" : diffs.joined(separator: ", ")))
            }
          }
        }
        for row in oldRows where !seen.contains(key(row, oldKeyAt)) {
          rm += 1
          if examples.count < 6 { examples.append("- " + describe(oldNames, row)) }
        }
      }
      (added, removed, changed) = (a, rm, ch)
    }
    if !dryRun {
      try makeFolderChain(folder(store: store))
      try Projection.swapIn(fresh, for: target)
    }
    return BuildReport(
      name: d.name, rows: result.rows.count, columns: schema.count,
      seconds: Date().timeIntervalSince(started), added: added, removed: removed,
      changed: changed, examples: examples, copy: dryRun ? fresh : nil)
  }

  /// Removes the new copies a dry run left (`BuildReport.copy`).
  package static func discard(_ copies: some Sequence<String>) {
    for c in copies { try? FileSystem.system.removeTree(c) }
  }

  static func describe(_ names: [String], _ row: [SQLValue]) -> String {
    zip(names, row).map { "\($0)=\(text($1))" }.joined(separator: " ")
  }

  static func text(_ v: SQLValue?) -> String { v.map { Cast.text($0) } ?? "(none)" }

  static func makeFolderChain(_ path: String) throws {
    try PrivateFile.makeFolders(path)
  }

  static func columnType(_ t: SQLType) -> ColumnType {
    switch t {
    case .bigint: .bigint
    case .double: .double
    case .boolean: .boolean
    case .timestamp: .timestamp
    case .date: .date
    case .varchar, .interval, .null: .varchar
    }
  }

  static func append(_ v: SQLValue, to b: inout ColumnBuilder) {
    switch v {
    case .null: b.appendNull()
    case .int(let x), .timestamp(let x), .date(let x): b.append(x)
    case .double(let x): b.append(x)
    case .bool(let x): b.append(x)
    case .text(let s): b.append(s)
    case .interval: b.append(Cast.text(v))
    }
  }
}

package struct ViewError: Error, CustomStringConvertible {
  package let description: String
  package init(_ d: String) { description = d }
}
