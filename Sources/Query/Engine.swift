import Domain
import EventLog
import Foundation
import Projections

/// A query's answer: named, typed columns.
package struct QueryResult: Sendable {
  package var names: [String]
  package var types: [SQLType]
  package var rows: Batch
  /// Cells not shown (the analyst role's small counts of persons, and the cells hidden beside
  /// them so that totals do not give them away): column → rows.
  package var suppressed: [Int: Set<Int>] = [:]
  /// Of those, the ones hidden beside the small counts: shown as `*`, for they are not small.
  package var complementary: [Int: Set<Int>] = [:]
  /// What a small count is shown as: `<5`.
  package var suppressedLabel = "<5"
  /// How many cells were suppressed for being small, and how many beside them.
  package var primarySuppressed = 0
  package var complementarySuppressed = 0
  /// How many counts and sums of persons the statement perturbed (cell-key noise, the analyst
  /// role's; see `CellKey`), in its answer or in the subqueries it was computed from.
  package var perturbed = 0

  package init(names: [String], types: [SQLType], rows: Batch) {
    self.names = names
    self.types = types
    self.rows = rows
  }

  /// Whether the cell at column `c`, row `i` is hidden.
  package func isSuppressed(_ c: Int, _ i: Int) -> Bool {
    suppressed[c]?.contains(i) ?? false
  }

  /// What a hidden cell shows: `<5` for a small count, `*` for one hidden beside it.
  package func suppressedText(_ c: Int, _ i: Int) -> String {
    complementary[c]?.contains(i) ?? false ? "*" : suppressedLabel
  }

  /// A line saying what was suppressed and perturbed, or nil when nothing was.
  package var suppressionNote: String? {
    let n = primarySuppressed + complementarySuppressed
    var parts: [String] = []
    if n > 0 {
      var s = "\(n) cell\(n == 1 ? "" : "s") hidden for the analyst role:"
      s += " \(primarySuppressed) count\(primarySuppressed == 1 ? "" : "s") of persons under"
      s += " \(suppressedLabel.dropFirst()), shown as \(suppressedLabel)"
      if complementarySuppressed > 0 {
        s += ", and \(complementarySuppressed) more shown as *, from which they could be worked out"
      }
      parts.append(s)
    }
    if perturbed > 0 {
      // Said every time: an analyst must not take these for exact numbers, nor add them up
      // expecting a total shown elsewhere.
      parts.append(
        "counts of persons are perturbed for the analyst role (within ±2, sums and averages by"
          + " up to half their largest amount; the same persons always get the same answer)")
    }
    return parts.isEmpty ? nil : parts.joined(separator: "; ")
  }
}

/// Columns a FROM clause offers, and how to read them a batch at a time.
struct Relation {
  struct Column {
    var table: String?
    var name: String
    var type: SQLType
  }
  var columns: [Column]
  /// Calls `body` with batches holding the columns `needed` (in that order) until it returns
  /// false or the rows run out.
  var scan: (_ needed: [Int], _ body: (Batch) throws(SQLError) -> Bool) throws(SQLError) -> Void
  /// A stored table read directly (its columns are `columns`, in order), and the rows an index
  /// narrowed it to: what the vectorized paths run on.
  var stored: (view: TableView, only: [Int]?)? = nil
  /// An equi-join of two stored tables on one column each: what the vectorized join runs on.
  var joined: JoinSource? = nil
}

/// Two stored tables joined on `left.column = right.column` (inner or left), each side's own
/// ON conditions apart (bound over the join's columns: the right table's start at
/// `leftColumns`), no other condition.
struct JoinSource {
  var left: TableView
  var right: TableView
  var outer: Bool
  var leftColumns: Int
  var leftKey: Int
  /// Among the right table's columns.
  var rightKey: Int
  var leftFilter: Bound?
  var rightFilter: Bound?
}

/// Runs statements over a store's tables. One engine per command; not shared across threads.
package final class Engine {
  let store: String
  /// The seq the tables are read as of, when a statement or the shell says `AS OF`.
  private(set) lazy var reader: LogReader? = try? LogReader(at: store + "/log")
  /// Stops a long query (Ctrl-C in the shell): checked between batches.
  package var cancelled: @Sendable () -> Bool = { false }
  /// Told after each row group a scan has read: (groups read, groups in the table). The shell
  /// draws a bar from it when a statement runs past two seconds. Called from the scan's
  /// workers.
  package var progress: (@Sendable (Int, Int) -> Void)?
  /// Whether the vectorized paths may answer (off: the general executor answers everything;
  /// the tests compare the two).
  package var vectorized = true
  /// The most memory a statement may hold in rows it reads, groups, join tables and sets of
  /// distinct values, in bytes (DuckDB's `memory_limit`): past it, an error rather than a
  /// machine out of memory. Half the physical memory, or `$HOSO_MEMORY_LIMIT` (`4GB`,
  /// `512MB`, bytes).
  package var memoryLimit: Int = Engine.defaultMemoryLimit()

  static func defaultMemoryLimit() -> Int {
    // getenv, not ProcessInfo's environment: that builds a dictionary of every variable.
    if let value = getenv("HOSO_MEMORY_LIMIT"), let n = parseBytes(String(cString: value)) {
      return n
    }
    return Int(ProcessInfo.processInfo.physicalMemory / 2)
  }

  /// `4GB`, `512 MB`, `1.5GiB`, `1000000`: bytes.
  package static func parseBytes(_ text: String) -> Int? {
    let t = text.trimmingCharacters(in: .whitespaces).uppercased()
    let units: [(String, Double)] = [
      ("GIB", 1_073_741_824), ("MIB", 1_048_576), ("KIB", 1024), ("GB", 1e9), ("MB", 1e6),
      ("KB", 1e3),
      ("B", 1),
    ]
    for (u, f) in units where t.hasSuffix(u) {
      guard let x = Double(t.dropLast(u.count).trimmingCharacters(in: .whitespaces)), x > 0
      else { return nil }
      return Int(x * f)
    }
    return Int(t).flatMap { $0 > 0 ? $0 : nil }
  }

  /// Throws when `bytes` is past `memoryLimit`.
  func checkMemory(_ bytes: Int) throws(SQLError) {
    guard bytes > memoryLimit else { return }
    throw SQLError.memory(limit: memoryLimit)
  }

  /// The analyst role's rules, when they apply: person-level rows refused, small counts of
  /// persons suppressed (`run` then answers with `QueryResult.suppressed` filled in).
  package var policy: PrivacyPolicy?

  /// What `privacyShape` learned of each subquery, while it runs (by where it starts, in
  /// which text: the statement's, or a view's definition).
  var privacyMemo: [String: PrivacyRelation] = [:]
  var privacySource = ""
  /// The views whose definitions the analysis is in, innermost last, and the outermost one
  /// read `FOR SYSTEM_TIME AS OF` (where the statement names it): its tables are read as of
  /// then, as if the statement named them so.
  var privacyViews: [String] = []
  var privacyViewAsOf: (view: String, at: Int)?

  /// The statement's aggregate calls (by where they start in its text) that count persons or
  /// sum their amounts, as the analysis found them: the analyst role's answers perturb them.
  var cellKeyRules: [Int: CellKeyRule] = [:]
  /// The views the statement reads whose columns count persons, as the analysis found them.
  var viewCellKeys: [String: ViewCellKeys] = [:]
  /// How many values the running statement perturbed.
  var perturbedCells = 0
  /// The store's secret, which the noise of a cell is drawn with (read at its first use).
  lazy var cellKeySecret = CellKey.Secret.of(store: store)

  /// Only these rows of the table a statement reads (an incremental view's delta).
  var restrictedRows: [Int]?

  /// The materialized views statements have read (the CLI warns when one is stale).
  package private(set) var viewsRead: Set<String> = []
  /// The views statements have computed as of a past time from their recorded definitions
  /// (the CLI warns when a definition has changed since).
  package internal(set) var viewsComputedAsOf: Set<String> = []
  /// Views computed as of a time while a call of `run` lasts (`NAME@seq`), and those being
  /// computed, innermost last: `ViewAsOf`'s.
  var viewsAsOf: [String: QueryResult] = [:]
  var viewsComputing: [String] = []

  /// Views read from another folder than their own, by name: a dry run's new copies, which
  /// the views over them are computed from as a rebuild would.
  package var viewFolders: [String: String] = [:]

  /// The system time every statement reads as of, unless it says otherwise: the seq of the
  /// last record recorded by then (the shell's `.asof`, a report's deadline). nil: now.
  package private(set) var asOf: UInt64?

  /// Reads every following statement as of `timestamp` (`YYYY-MM-DD[ HH:MM[:SS]]`, Vietnam
  /// wall clock), or now when nil.
  package func setAsOf(_ timestamp: String?) throws(SQLError) {
    guard let timestamp else {
      asOf = nil
      return
    }
    guard let wall = Cast.parseTimestamp(timestamp) else {
      throw SQLError(
        .conversion, "invalid timestamp \"\(timestamp)\": write YYYY-MM-DD[ HH:MM[:SS]]")
    }
    let seq = try seq(wall: wall)
    // Before the first record nothing was known: an empty answer would pass for a report of
    // a quiet time.
    if seq == 0, let first = reader?.firstRecordedAt {
      throw SQLError(
        .invalidInput,
        "nothing was recorded by \(timestamp): the store's first record was recorded at"
          + " \(Cast.timestampText(first + 7 * 3_600_000_000)) (Vietnam time); give a later time")
    }
    asOf = seq
  }

  /// What the operators did, while `EXPLAIN ANALYZE` runs a statement.
  var trace: [String]?

  /// Notes a line of `EXPLAIN ANALYZE`'s account (built only when it runs).
  func note(_ line: @autoclosure () -> String) { trace?.append(line()) }

  /// How many grouped scans the vectorized path answered (for the tests).
  package internal(set) var vectorizedScans = 0

  /// The tables and views statements have opened, kept while unchanged.
  let tables = TableCache()
  /// The national programmes' periods, for `plan_period`: read at its first use.
  let planPeriods: PlanPeriods

  package init(store: String) throws {
    self.store = store
    planPeriods = PlanPeriods { [store] in Self.planPeriods(store: store) }
  }

  /// The national programmes' periods from `plans` (level national): `plan_period`'s data.
  private static func planPeriods(store: String) -> [PlanPeriods.Period] {
    let spec = BuiltinTables.all.first { $0.name == "plans" }!
    guard let v = try? TableView.open(store: store, spec: spec) else { return [] }
    let names = v.table.schema.map(\.name)
    guard let level = names.firstIndex(of: "level"),
      let start = names.firstIndex(of: "period_start"),
      let end = names.firstIndex(of: "period_end")
    else { return [] }
    var periods: [(start: Int64, end: Int64)] = []
    for r in 0..<v.table.rowCount where v.isVisible(r) {
      guard case .text("national") = v.value(r, level), case .int(let s) = v.value(r, start),
        case .int(let e) = v.value(r, end)
      else { continue }
      // A decision inside a programme's period is not a period of its own.
      if periods.contains(where: { $0.start <= s && e <= $0.end }) { continue }
      periods.removeAll { s <= $0.start && $0.end <= e }
      periods.append((s, e))
    }
    return periods.map { p in
      let (y1, y2) = (Timestamp.civilFromDays(p.start).0, Timestamp.civilFromDays(p.end).0)
      return (start: p.start, end: p.end, label: y1 == y2 ? "\(y1)" : "\(y1)-\(y2)")
    }
  }

  /// Parses and runs `sql` (one or more statements); the answer of each.
  package func run(_ sql: String) throws(SQLError) -> [QueryResult] {
    // The tables may have grown since the last call.
    viewsAsOf = [:]
    return try PlanPeriods.with(planPeriods) { () throws(SQLError) -> [QueryResult] in
      try runStatements(sql)
    }
  }

  private func runStatements(_ sql: String) throws(SQLError) -> [QueryResult] {
    try Parser.parse(sql).map { (s: Statement) throws(SQLError) -> QueryResult in
      switch s {
      case .select(let q):
        guard let policy else { return try execute(q, ctes: [:], asOf: asOf) }
        let shape = try privacyShape(q)
        perturbedCells = 0
        do throws(SQLError) {
          var r = try execute(q, ctes: [:], asOf: asOf)
          r.perturbed = perturbedCells
          return Suppression.apply(r, shape, policy)
        } catch {
          throw error.withoutValues
        }
      case .explain(let q, let analyze):
        if analyze && policy != nil {
          throw SQLError(
            .permission,
            "EXPLAIN ANALYZE shows how many rows each step read, small numbers too: the analyst"
              + " role may run EXPLAIN (the plan, without running it)",
            at: q.at)
        }
        var text = Explain.plan(q)
        if analyze {
          trace = []
          defer { trace = nil }
          let started = Date()
          let r = try execute(q, ctes: [:], asOf: asOf)
          text += "\n\nrun (" + String(format: "%.3f s", Date().timeIntervalSince(started))
          text += ", \(r.rows.count) rows):\n" + trace!.map { "  " + $0 }.joined(separator: "\n")
        } else {
          text += "\n\n(EXPLAIN ANALYZE runs the statement and shows what each operator did)"
        }
        var b = Vector(type: .varchar)
        b.append(.text(text))
        return QueryResult(
          names: ["explain"], types: [.varchar], rows: Batch(columns: [b], count: 1))
      }
    }
  }

  // MARK: - Relations

  /// The seq of the last record recorded at or before `t` (a TIMESTAMP literal, Vietnam wall
  /// clock).
  func seq(asOf e: Expr) throws(SQLError) -> UInt64 {
    guard case .typed(_, let text) = e.kind, let wall = Cast.parseTimestamp(text) else {
      if case .string(let text) = e.kind, let wall = Cast.parseTimestamp(text) {
        return try seq(wall: wall)
      }
      throw SQLError(.binder, "AS OF needs a TIMESTAMP '…' literal", at: e.at)
    }
    return try seq(wall: wall)
  }

  private func seq(wall: Int64) throws(SQLError) -> UInt64 {
    guard let reader else { return 0 }
    let utc = wall - 7 * 3_600_000_000
    do {
      if let s = try reader.firstSeq(recordedAtOrAfter: utc + 1) { return s - 1 }
    } catch {
      throw SQLError(.invalidInput, "cannot read the log: \(error)")
    }
    return .max
  }

  func relation(
    _ item: FromItem, ctes: [String: QueryResult], asOf: UInt64?, whereHint: Expr? = nil
  ) throws(SQLError) -> Relation {
    switch item {
    case .table(let name, let alias, let tableAsOf, let at):
      if let cte = ctes[name] { return materialized(cte, name: alias ?? name) }
      if BuiltinTables.all.first(where: { $0.name == name }) == nil,
        let view = try materializedView(
          name, alias: alias, asOf: tableAsOf, outerAsOf: asOf, at: at)
      {
        return view
      }
      guard let spec = BuiltinTables.all.first(where: { $0.name == name }) else {
        let names = BuiltinTables.all.map(\.name) + ctes.keys + materializedViewNames()
        let hint = nearest(name, in: names).map { "\nDid you mean \"\($0)\"?" } ?? ""
        throw SQLError(
          .catalog, "Table with name \(name) does not exist!" + hint, at: at)
      }
      let seq =
        try tableAsOf.map { (e: Expr) throws(SQLError) -> UInt64 in try self.seq(asOf: e) }
        ?? asOf ?? .max
      let view: TableView?
      do {
        view = try tables.view(store: store, spec: spec, asOf: seq)
      } catch {
        throw SQLError(.invalidInput, "cannot read table \(name): \(error)", at: at)
      }
      let columns = spec.columns.map {
        Relation.Column(table: alias ?? name, name: $0.name, type: Self.sqlType($0.type))
      }
      guard let view else {
        return Relation(columns: columns) { _, _ throws(SQLError) in }
      }
      // `column = 'value'` on an indexed column (events_raw's and events' case_id, id,
      // establishment, person): only the rows the index names are read.
      var only: [Int]? = restrictedRows
      if only == nil, let whereHint {
        for c in Self.conjuncts(whereHint) {
          guard case .binary("=", let l, let r) = c.kind else { continue }
          var pair: (String, String)?
          if case .column(let t, let n) = l.kind, case .string(let v) = r.kind,
            t == nil || t == (alias ?? name)
          {
            pair = (n, v)
          } else if case .column(let t, let n) = r.kind, case .string(let v) = l.kind,
            t == nil || t == (alias ?? name)
          {
            pair = (n, v)
          }
          if let (n, v) = pair, let i = spec.columns.firstIndex(where: { $0.name == n }),
            let hits = view.rows(where: i, equals: v)
          {
            only = hits
            note(
              "INDEX_SCAN \(name).\(n) = '\(v)': \(hits.count) rows (\(view.table.rowCount) in the table)"
            )
            break
          }
        }
      }
      if only == nil {
        note(
          "SEQ_SCAN \(name): \(view.table.rowCount) rows in \(view.table.groups.count) row groups"
            + ", \(view.patchedRows.count) patched")
      }
      var relation = Relation(columns: columns) { needed, body throws(SQLError) in
        try self.scan(
          view, needed: needed, types: needed.map { columns[$0].type }, only: only, body)
      }
      relation.stored = (view, only)
      return relation
    case .subquery(let q, let alias, _):
      return materialized(try execute(q, ctes: ctes, asOf: asOf), name: alias)
    case .join(let l, let r, let kind, let on, let at):
      return try join(
        try relation(l, ctes: ctes, asOf: asOf), try relation(r, ctes: ctes, asOf: asOf),
        kind: kind, on: on, at: at, ctes: ctes, asOf: asOf)
    }
  }

  /// Where materialized views live: `<store>/matviews/NAME`, each a table whose manifest
  /// declares its columns (the `Views` module writes them; this engine only reads them).
  package static func viewsFolder(store: String) -> String { store + "/matviews" }

  /// The names of the materialized views in the store.
  package func materializedViewNames() -> [String] {
    let folder = Self.viewsFolder(store: store)
    return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
      !$0.contains(".") && FileManager.default.fileExists(atPath: folder + "/" + $0 + "/MANIFEST")
    }.sorted()
  }

  /// The SELECT a materialized view was built from, as its build recorded it (what its
  /// columns carry under `policy` follows from it); nil for a view built before hoso recorded
  /// it, or no view.
  func storedViewDefinition(_ name: String) -> String? {
    let path = viewFolder(name) + "/" + Self.viewDefinitionFile
    return try? String(contentsOfFile: path, encoding: .utf8)
  }

  /// The folder a materialized view is read from: its own, or its old copy while a rebuild
  /// swaps a new one in (or after a crash between the swap's two renames, until the next
  /// rebuild puts it back), so that a query never finds the view missing.
  func viewFolder(_ name: String) -> String {
    viewFolders[name] ?? Self.readableViewFolder(store: store, name: name)
  }

  /// The folder view `name` of `store` is read from, by a query or by `hoso views`: its own,
  /// or its old copy when only that has a manifest.
  package static func readableViewFolder(store: String, name: String) -> String {
    let folder = viewsFolder(store: store) + "/" + name
    if !FileManager.default.fileExists(atPath: folder + "/MANIFEST"),
      FileManager.default.fileExists(atPath: folder + ".old/MANIFEST")
    {
      return folder + ".old"
    }
    return folder
  }

  /// The file of a materialized view's folder that holds its definition.
  package static let viewDefinitionFile = "DEFINITION.sql"

  /// The columns of a materialized view as stored (not its `__` bookkeeping); none when
  /// there is no such view.
  func materializedViewColumns(_ name: String) -> [String] {
    let folder = viewFolder(name)
    guard let table = try? Table.open(name: name, schema: nil, folder: folder) else { return [] }
    return table.schema.prefix { !$0.name.hasPrefix("__") }.map(\.name)
  }

  /// A materialized view, read like a stored table (as of a time, computed: `viewAsOf`); nil
  /// when there is none of that name.
  func materializedView(
    _ name: String, alias: String?, asOf: Expr?, outerAsOf: UInt64?, at: Int
  ) throws(SQLError) -> Relation? {
    let folder = viewFolder(name)
    guard FileManager.default.fileExists(atPath: folder + "/MANIFEST") else { return nil }
    if let when = try asOf.map({ (e: Expr) throws(SQLError) -> UInt64 in try seq(asOf: e) })
      ?? outerAsOf
    {
      // The copy is as of its last build: as of another time, the view is computed again.
      return try viewAsOf(name, alias: alias, seq: when, at: at)
    }
    let table: Table?
    do {
      table = try tables.table(name: name, folder: folder)
    } catch {
      throw SQLError(.invalidInput, "cannot read view \(name): \(error)", at: at)
    }
    guard let table else {
      if Table.isOlderFormat(folder: folder) {
        throw SQLError(
          .catalog,
          "view \(name) was built by an older version of hoso, whose files this one does not"
            + " read: run `hoso rebuild \(name)`", at: at)
      }
      return nil
    }
    viewsRead.insert(name)
    let view = TableView(table: table, patches: nil)
    // Columns named `__…` are an incremental view's own bookkeeping: not shown. They come
    // last, so the others keep their positions.
    let columns = table.schema.prefix { !$0.name.hasPrefix("__") }.map {
      Relation.Column(table: alias ?? name, name: $0.name, type: Self.sqlType($0.type))
    }
    if policy != nil, let keys = viewCellKeys[name], keys.matches(columns.map(\.name)) {
      // Built exact, for every role; the analyst's counts and sums of persons get their noise
      // as they are read (the general path: a view is a few hundred rows).
      return Relation(columns: columns) { needed, body throws(SQLError) in
        // Every column read (a view's rows are few): each cell's key needs its row's others.
        try self.scan(view, needed: Array(columns.indices), types: columns.map(\.type)) {
          (b: Batch) throws(SQLError) -> Bool in
          var b = b
          self.perturb(&b, keys, view: name)
          return try body(Batch(columns: needed.map { b.columns[$0] }, count: b.count))
        }
      }
    }
    var relation = Relation(columns: columns) { needed, body throws(SQLError) in
      try self.scan(view, needed: needed, types: needed.map { columns[$0].type }, body)
    }
    relation.stored = (view, nil)
    return relation
  }

  func materialized(_ r: QueryResult, name: String?) -> Relation {
    let columns = zip(r.names, r.types).map { Relation.Column(table: name, name: $0, type: $1) }
    return Relation(columns: columns) { needed, body throws(SQLError) in
      try self.deliver(Batch(columns: needed.map { r.rows.columns[$0] }, count: r.rows.count), body)
    }
  }

  /// Hands `b` to `body` a row group's worth at a time (65,536 rows), so that the operators
  /// above see cancellation between pieces, as they do over a stored table.
  func deliver(_ b: Batch, _ body: (Batch) throws(SQLError) -> Bool) throws(SQLError) {
    if b.count <= ColumnGroup.rows {
      _ = try body(b)
      return
    }
    var start = 0
    while start < b.count {
      if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
      let end = min(b.count, start + ColumnGroup.rows)
      if try !body(b.gather(Array(start..<end))) { return }
      start = end
    }
  }

  static func conjuncts(_ e: Expr) -> [Expr] {
    if case .binary("AND", let l, let r) = e.kind { return conjuncts(l) + conjuncts(r) }
    return [e]
  }

  package static func sqlType(_ t: ColumnType) -> SQLType {
    switch t {
    case .bigint: .bigint
    case .double: .double
    case .boolean: .boolean
    case .timestamp: .timestamp
    case .date: .date
    case .varchar: .varchar
    }
  }

  /// Reads a table a row group at a time: the visible rows' values of the needed columns,
  /// strings decoded once per dictionary entry, patched rows through the view.
  /// With `filter` (a plan of the WHERE clause alone), only the rows that pass it, found on
  /// whole vectors before any value is decoded.
  func scan(
    _ view: TableView, needed: [Int], types: [SQLType], only: [Int]? = nil,
    filter: FastAggregate? = nil, _ body: (Batch) throws(SQLError) -> Bool
  ) throws(SQLError) {
    var base = 0
    var partial = filter.map { FastAggregate.Partial(plan: $0) }
    for (n, g) in view.table.groups.enumerated() {
      if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
      progress?(n, view.table.groups.count)
      var read = only
      if let p = partial, let condition = p.plan.condition,
        !p.plan.mayPass(condition, in: g, strings: p.constantBytes)
      {
        // The zone map rules the group out: only its corrected rows may pass.
        var patched = view.patchedRows(from: base, count: g.rows, touching: p.conditionColumns)
        if let only { patched = patched.filter { TableView.contains(only, $0) } }
        if patched.isEmpty {
          base += g.rows
          continue
        }
        read = patched
      }
      var rows = view.visibleRows(g, base: base, only: read)
      if let f = filter, let condition = f.condition, !rows.isEmpty {
        let keep = partial!.passing(condition, g, base: base, rows)
        rows = rows.indices.filter { keep[$0] }.map { rows[$0] }
      }
      let patched = view.patched(among: rows, base: base, count: g.rows)
      var columns: [Vector] = []
      for (k, c) in needed.enumerated() {
        let reader = g.columns[c]
        var v = Vector(type: types[k])
        v.reserve(rows.count)
        switch types[k] {
        case .double: for r in rows { v.doubles.append(reader.double(Int(r))) }
        case .varchar:
          if reader.isDictionary {
            let dict = (0..<reader.dictionaryCount).map {
              String(decoding: reader.dictionaryEntry($0), as: UTF8.self)
            }
            for r in rows {
              // (A code past the dictionary, in a damaged file, reads its last entry.)
              v.strings.append(
                reader.isValid(Int(r)) && !dict.isEmpty
                  ? dict[min(reader.code(Int(r)), dict.count - 1)] : "")
            }
          } else {
            for r in rows {
              v.strings.append(String(decoding: reader.bytes(Int(r)), as: UTF8.self))
            }
          }
        default: for r in rows { v.ints.append(reader.int64(Int(r))) }
        }
        if reader.hasNulls { v.nulls = rows.map { !reader.isValid(Int($0)) } }
        // Rows a correction changed: their values as patched.
        for (i, row) in patched where view.isPatched(column: c) {
          if let value = view.patchedValue(row, c) {
            Self.set(&v, i, Self.sqlValue(value, types[k]))
          }
        }
        columns.append(v)
      }
      base += g.rows
      if rows.isEmpty { continue }
      if try !body(Batch(columns: columns, count: rows.count)) { return }
    }
  }

  package static func sqlValue(_ v: Value, _ t: SQLType) -> SQLValue {
    switch (v, t) {
    case (.null, _): return .null
    case (.int(let i), .timestamp): return .timestamp(i)
    case (.int(let i), .date): return .date(i)
    case (.int(let i), .boolean): return .bool(i != 0)
    case (.int(let i), _): return .int(i)
    case (.double(let d), _): return .double(d)
    case (.text(let s), _): return .text(s)
    }
  }

  static func set(_ v: inout Vector, _ i: Int, _ value: SQLValue) {
    if value.isNull {
      if v.nulls == nil { v.nulls = Array(repeating: false, count: v.count) }
      v.nulls![i] = true
      return
    }
    v.nulls?[i] = false
    switch value {
    case .double(let d): v.doubles[i] = d
    case .text(let s): v.strings[i] = s
    case .int(let x), .timestamp(let x), .date(let x): v.ints[i] = x
    case .bool(let b): v.ints[i] = b ? 1 : 0
    case .interval(let x):
      v.ints[i] = x.micros
      v.spans[i] = .init(months: x.months, days: x.days)
    case .null: break
    }
  }
}

/// The nearest of `names` to `name`, for "did you mean": the catalog's rule.
func nearest(_ name: String, in names: [String]) -> String? { Catalog.nearest(name, in: names) }

/// `EXPLAIN`: the plan a statement runs as.
enum Explain {
  static func plan(_ q: Select) -> String {
    var lines: [String] = []
    if !q.orderBy.isEmpty {
      lines.append(
        (q.limit != nil ? "TOP_N " : "ORDER_BY ")
          + q.orderBy.map {
            if case .star = $0.expr.kind { return "ALL" }
            return $0.expr.rendered
          }.joined(separator: ", "))
    } else if let l = q.limit {
      lines.append("LIMIT \(l.rendered)")
    }
    if q.distinct { lines.append("DISTINCT") }
    lines.append("PROJECTION " + q.items.map(\.expr.rendered).joined(separator: ", "))
    if let h = q.having { lines.append("FILTER (HAVING) \(h.rendered)") }
    if !q.groupBy.isEmpty || q.groupByAll {
      lines.append(
        "HASH_GROUP_BY "
          + (q.groupByAll ? "ALL" : q.groupBy.map(\.rendered).joined(separator: ", ")))
    }
    if let w = q.whereClause { lines.append("FILTER \(w.rendered)") }
    switch q.from {
    case .table(let name, _, _, _)?: lines.append("SEQ_SCAN \(name)")
    case .subquery?: lines.append("SUBQUERY")
    case .join?: lines.append("JOIN")
    case nil: lines.append("DUMMY_SCAN")
    }
    return lines.enumerated().map { String(repeating: "  ", count: $0.offset) + $0.element }
      .joined(separator: "\n")
  }
}
