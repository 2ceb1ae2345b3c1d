import Foundation

/// Binding and running one SELECT: scan, filter, group, project, distinct, order, limit.
extension Engine {
  /// Names visible to expressions: the FROM clause's columns, or a grouped query's keys and
  /// aggregates (matched by their text).
  struct Scope {
    var columns: [Relation.Column]
    /// In a grouped query: the text of each GROUP BY expression and aggregate call, and the
    /// column of the grouped output holding it.
    var grouped: [String: (Int, SQLType)]? = nil
    /// Window function calls computed over the rows, by their text: the column holding each.
    var windows: [String: (Int, SQLType)] = [:]
    /// Every column name of the FROM clause, for "did you mean" when `columns` holds only
    /// those a statement reads.
    var allNames: [String]? = nil
  }

  func execute(_ q: Select, ctes outer: [String: QueryResult], asOf outerAsOf: UInt64?)
    throws(SQLError) -> QueryResult
  {
    let asOf =
      try q.asOf.map { (e: Expr) throws(SQLError) -> UInt64 in try seq(asOf: e) } ?? outerAsOf
    // AS OF at the end of a statement reads every table of it as of then, its CTEs' too.
    var ctes = outer
    for c in q.with { ctes[c.name] = try execute(c.query, ctes: ctes, asOf: asOf) }
    let relation: Relation
    if let from = q.from {
      relation = try self.relation(from, ctes: ctes, asOf: asOf, whereHint: q.whereClause)
    } else {
      relation = Relation(columns: []) { _, body throws(SQLError) in
        _ = try body(Batch(columns: [], count: 1))
      }
    }
    let input = Scope(columns: relation.columns)

    // The select list, `*` expanded.
    var items: [(expr: Expr, name: String)] = []
    for item in q.items {
      if case .star(let table) = item.expr.kind {
        let cols = relation.columns.filter { table == nil || $0.table == table }
        if cols.isEmpty, let table {
          throw SQLError(
            .binder, "Referenced table \"\(table)\" not found in FROM clause!", at: item.expr.at)
        }
        for c in cols {
          items.append((Expr(.column(table: c.table, name: c.name), at: item.expr.at), c.name))
        }
      } else {
        items.append((item.expr, item.alias ?? Self.columnName(item.expr)))
      }
    }

    var q = q
    q.orderBy = q.orderItems(columns: items.count)
    var aggregateCalls: [Expr] = []
    for i in items { collectAggregates(i.expr, into: &aggregateCalls) }
    if let h = q.having { collectAggregates(h, into: &aggregateCalls) }
    for o in q.orderBy { collectAggregates(o.expr, into: &aggregateCalls) }
    // SELECT DISTINCT without aggregates, windows or ORDER BY is a GROUP BY of its items: it
    // takes the grouping paths (the vectorized one on a stored table).
    if q.distinct && aggregateCalls.isEmpty && q.groupBy.isEmpty && !q.groupByAll
      && q.having == nil && q.orderBy.isEmpty
    {
      var windows: [Expr] = []
      for i in items { collectWindows(i.expr, into: &windows) }
      if windows.isEmpty && !items.isEmpty { q.groupByAll = true }
    }
    let grouped = !aggregateCalls.isEmpty || !q.groupBy.isEmpty || q.groupByAll
    if let w = q.whereClause {
      var found: [Expr] = []
      collectAggregates(w, into: &found)
      if let f = found.first {
        throw SQLError(.binder, "WHERE clause cannot contain aggregates!", at: f.at)
      }
    }

    let whereBound = try q.whereClause.map { (w: Expr) throws(SQLError) -> Bound in
      try bind(w, input, ctes: ctes, asOf: asOf)
    }

    var outScope: Scope
    var rowsIn: Batch
    if grouped {
      // GROUP BY: expressions, select-list ordinals or aliases, or ALL (every item without
      // an aggregate).
      var keys: [Expr] = []
      if q.groupByAll {
        for i in items {
          var found: [Expr] = []
          collectAggregates(i.expr, into: &found)
          if found.isEmpty { keys.append(i.expr) }
        }
      } else {
        for g in q.groupBy {
          if case .integer(let n) = g.kind {
            guard n >= 1 && Int(n) <= items.count else {
              throw SQLError(
                .binder, "GROUP BY term out of range - should be between 1 and \(items.count)",
                at: g.at)
            }
            keys.append(items[Int(n) - 1].expr)
          } else if case .column(nil, let name) = g.kind,
            !input.columns.contains(where: { $0.name == name }),
            let i = items.first(where: { $0.name == name })
          {
            keys.append(i.expr)
          } else {
            keys.append(g)
          }
        }
      }
      let keyBound = try keys.map { (k: Expr) throws(SQLError) -> Bound in
        try bind(k, input, ctes: ctes, asOf: asOf)
      }
      var aggregates: [Aggregate] = []
      for call in aggregateCalls {
        guard case .function(let c) = call.kind else { continue }
        aggregates.append(
          try Aggregate(c, at: call.at, scope: input, engine: self, ctes: ctes, asOf: asOf))
      }
      // The analyst's counts and sums of persons: their cell keys computed beside them, and
      // their noise added before anything reads them.
      let noise = cellKeyPlan(aggregateCalls, keys: keys)
      var hidden: [Aggregate] = []
      for (h, c) in (noise?.hidden ?? []).enumerated() {
        var a = try Aggregate(c, at: q.at, scope: input, engine: self, ctes: ctes, asOf: asOf)
        a.twin = noise?.twins[h]
        hidden.append(a)
      }
      rowsIn = try groupRows(
        relation, where: whereBound, keys: keyBound, aggregates: aggregates + hidden,
        global: keys.isEmpty)
      if let noise {
        perturb(&rowsIn, noise, keyCount: keys.count, aggregateCount: aggregates.count)
      }
      var map: [String: (Int, SQLType)] = [:]
      for (i, k) in keys.enumerated() { map[k.rendered] = (i, keyBound[i].type) }
      for (j, a) in aggregateCalls.enumerated() {
        map[a.rendered] = (keys.count + j, aggregates[j].type)
      }
      outScope = Scope(columns: input.columns, grouped: map)
    } else {
      // Only the columns the statement names are read (a case look-up reads 3 of 13).
      var exprs = items.map(\.expr) + q.orderBy.map(\.expr)
      if let h = q.having { exprs.append(h) }
      var used = Set<Int>()
      for e in exprs { referencedColumns(e, in: input, into: &used) }
      let columns = used.sorted()
      outScope = Scope(columns: columns.map { input.columns[$0] })
      outScope.allNames = input.columns.map(\.name)
      // LIMIT without ORDER BY, DISTINCT or a window: the scan stops once it has the rows.
      var enough: Int?
      var windows: [Expr] = []
      for i in items { collectWindows(i.expr, into: &windows) }
      if q.orderBy.isEmpty && !q.distinct && windows.isEmpty && q.having == nil,
        let l = q.limit, case .integer(let n) = l.kind, n >= 0
      {
        let skip: Int64
        if let o = q.offset {
          guard case .integer(let m) = o.kind, m >= 0 else {
            throw SQLError(.binder, "OFFSET must be a non-negative integer constant", at: o.at)
          }
          skip = m
        } else {
          skip = 0
        }
        let (sum, overflow) = n.addingReportingOverflow(skip)
        if !overflow { enough = Int(sum) }
      }
      rowsIn = try readAll(
        relation, where: whereBound, scope: input, columns: columns, enough: enough)
    }

    if let h = q.having {
      guard grouped else {
        throw SQLError(.binder, "HAVING clause without GROUP BY or aggregates", at: h.at)
      }
      let hb = try bind(h, outScope, ctes: ctes, asOf: asOf)
      let keep = try Evaluator.eval(hb, rowsIn)
      rowsIn = rowsIn.gather((0..<rowsIn.count).filter { !keep.isNull($0) && keep.ints[$0] != 0 })
    }
    // Window functions: computed over the rows as they stand after grouping and HAVING.
    var windowCalls: [Expr] = []
    for i in items { collectWindows(i.expr, into: &windowCalls) }
    for o in q.orderBy { collectWindows(o.expr, into: &windowCalls) }
    for call in windowCalls {
      let v = try window(call, rowsIn, outScope, ctes: ctes, asOf: asOf)
      rowsIn.columns.append(v)
      outScope.windows[call.rendered] = (rowsIn.columns.count - 1, v.type)
    }
    // The select list and ORDER BY keys, evaluated over the same rows.
    let itemBound = try items.map { (i: (expr: Expr, name: String)) throws(SQLError) -> Bound in
      try bind(i.expr, outScope, ctes: ctes, asOf: asOf)
    }
    var orderKeys: [(Bound?, Int?, OrderItem)] = []
    for o in q.orderBy {
      if case .integer(let n) = o.expr.kind {
        guard n >= 1 && Int(n) <= items.count else {
          throw SQLError(
            .binder, "ORDER term out of range - should be between 1 and \(items.count)",
            at: o.expr.at)
        }
        orderKeys.append((nil, Int(n) - 1, o))
      } else if case .column(nil, let name) = o.expr.kind,
        let i = items.firstIndex(where: { $0.name == name }),
        grouped || !input.columns.contains(where: { $0.name == name })
          || items[i].expr.rendered == name
      {
        orderKeys.append((nil, i, o))
      } else {
        orderKeys.append((try bind(o.expr, outScope, ctes: ctes, asOf: asOf), nil, o))
      }
    }
    var columns = try itemBound.map { (b: Bound) throws(SQLError) -> Vector in
      try Evaluator.eval(b, rowsIn)
    }
    var keyVectors: [Vector] = []
    for (b, i, _) in orderKeys {
      keyVectors.append(
        try b.map { (x: Bound) throws(SQLError) -> Vector in try Evaluator.eval(x, rowsIn) }
          ?? columns[i!])
    }
    var count = rowsIn.count
    if q.distinct {
      var seen = Set<[SQLValue]>()
      var keep: [Int] = []
      for r in 0..<count where seen.insert(columns.map { $0.value(r) }).inserted { keep.append(r) }
      columns = columns.map { $0.gather(keep) }
      keyVectors = keyVectors.map { $0.gather(keep) }
      count = keep.count
    }
    let offset =
      try q.offset.map { (e: Expr) throws(SQLError) -> Int in try constantInt(e, "OFFSET") } ?? 0
    let limit = try q.limit.map { (e: Expr) throws(SQLError) -> Int in try constantInt(e, "LIMIT") }
    var order = Array(0..<count)
    if !orderKeys.isEmpty {
      let specs = orderKeys.map { $0.2 }
      func less(_ a: Int, _ b: Int) -> Bool {
        for (k, v) in keyVectors.enumerated() {
          let x = v.value(a)
          let y = v.value(b)
          if x.isNull || y.isNull {
            if x.isNull && y.isNull { continue }
            // DuckDB: NULLS LAST unless asked, whatever the direction.
            let nullsFirst = specs[k].nullsFirst ?? false
            return x.isNull ? nullsFirst : !nullsFirst
          }
          let c = Evaluator.compareValues(x, y)
          if c != 0 { return specs[k].descending ? c > 0 : c < 0 }
        }
        return a < b
      }
      if let limit, offset + limit < count / 8 {
        // ORDER BY … LIMIT k: the k first rows kept in order as the rows go by (top-k), not
        // every row sorted.
        let k = offset + limit
        var best: [Int] = []
        best.reserveCapacity(k + 1)
        for r in 0..<count {
          if best.count == k, let last = best.last, !less(r, last) { continue }
          var lo = 0
          var hi = best.count
          while lo < hi {
            let mid = (lo + hi) / 2
            if less(best[mid], r) { lo = mid + 1 } else { hi = mid }
          }
          best.insert(r, at: lo)
          if best.count > k { best.removeLast() }
        }
        order = best
        note("TOP_N \(k) of \(count) rows")
      } else {
        order.sort(by: less)
        note("ORDER_BY: \(count) rows sorted")
      }
    }
    let from = min(offset, order.count)
    let to = limit.map { min(order.count, from + $0) } ?? order.count
    let selected = Array(order[from..<to])
    let rows = Batch(columns: columns.map { $0.gather(selected) }, count: selected.count)
    return QueryResult(names: items.map(\.name), types: itemBound.map(\.type), rows: rows)
  }

  private func constantInt(_ e: Expr, _ what: String) throws(SQLError) -> Int {
    // Past any table's rows; kept small enough that OFFSET + LIMIT cannot overflow.
    if case .integer(let n) = e.kind, n >= 0 { return Int(min(n, 1 << 60)) }
    throw SQLError(.binder, "\(what) must be a non-negative integer constant", at: e.at)
  }

  static func columnName(_ e: Expr) -> String {
    if case .column(_, let n) = e.kind { return n }
    return e.rendered
  }

  func collectAggregates(_ e: Expr, into out: inout [Expr]) {
    if case .function(let c) = e.kind, Functions.aggregates.contains(c.name.lowercased()),
      c.over == nil
    {
      if !out.contains(where: { $0.rendered == e.rendered }) { out.append(e) }
      return
    }
    for x in e.children { collectAggregates(x, into: &out) }
  }

  // MARK: - Reading and grouping

  /// The columns of the relation that `bound` reads, and `bound` rewritten to read them at
  /// their position in that list.
  private func narrow(_ bound: [Bound]) -> (needed: [Int], rewritten: [Bound]) {
    var needed: [Int] = []
    func walk(_ b: Bound) -> Bound {
      switch b {
      case .column(let i, let t):
        if let k = needed.firstIndex(of: i) { return .column(k, t) }
        needed.append(i)
        return .column(needed.count - 1, t)
      case .constant: return b
      case .arithmetic(let op, let l, let r, let t): return .arithmetic(op, walk(l), walk(r), t)
      case .compare(let op, let l, let r): return .compare(op, walk(l), walk(r))
      case .logic(let op, let items): return .logic(op, items.map(walk))
      case .not(let x): return .not(walk(x))
      case .negate(let x, let t): return .negate(walk(x), t)
      case .isNull(let x, let n): return .isNull(walk(x), negated: n)
      case .inList(let x, let l, let n): return .inList(walk(x), l.map(walk), negated: n)
      case .like(let x, let p, let n, let i):
        return .like(walk(x), walk(p), negated: n, caseInsensitive: i)
      case .caseWhen(let w, let o, let t):
        return .caseWhen(w.map { (walk($0.0), walk($0.1)) }, otherwise: o.map(walk), t)
      case .cast(let x, let t): return .cast(walk(x), t)
      case .call(let n, let a, let t): return .call(n, a.map(walk), t)
      }
    }
    let rewritten = bound.map(walk)
    return (needed, rewritten)
  }

  /// The column indices of `scope` that `e` names (outside subqueries, which bind on their
  /// own), window specifications included.
  func referencedColumns(_ e: Expr, in scope: Scope, into out: inout Set<Int>) {
    if case .column(let table, let name) = e.kind {
      for (i, c) in scope.columns.enumerated()
      where c.name == name && (table == nil || c.table == table) {
        out.insert(i)
      }
    }
    if case .function(let c) = e.kind, let w = c.over {
      for x in w.partitionBy + w.orderBy.map(\.expr) { referencedColumns(x, in: scope, into: &out) }
    }
    for x in e.children { referencedColumns(x, in: scope, into: &out) }
  }

  /// Every row of `r` that passes `w`, with the columns of `scope` at `columns` (all of them
  /// when nil), in that order.
  /// At least `enough` rows when given (the scan stops there: a LIMIT).
  func readAll(
    _ r: Relation, where w: Bound?, scope: Scope, columns: [Int]? = nil, enough: Int? = nil
  ) throws(SQLError) -> Batch {
    let picked = columns ?? Array(scope.columns.indices)
    var out = picked.map { Vector(type: scope.columns[$0].type) }
    var count = 0
    var bytes = 0
    // A stored table and a WHERE clause of simple conditions: filtered in the scan.
    if vectorized, let stored = r.stored, let w,
      let filter = FastAggregate.plan(
        view: stored.view, only: stored.only, types: scope.columns.map(\.type), keys: [],
        where: w, aggregates: [])
    {
      try scan(
        stored.view, needed: picked, types: picked.map { scope.columns[$0].type },
        only: stored.only, filter: filter
      ) { batch throws(SQLError) in
        for c in 0..<picked.count {
          Self.appendVector(&out[c], batch.columns[c])
          bytes += Self.bytes(batch.columns[c])
        }
        count += batch.count
        try checkMemory(bytes)
        return enough.map { count < $0 } ?? true
      }
      note(
        "FILTER in the scan (vectorized) -> \(count) rows"
          + (enough != nil ? ", the scan stopped at LIMIT" : ""))
      return Batch(columns: out, count: count)
    }
    let all = picked.map { Bound.column($0, scope.columns[$0].type) }
    let (needed, rewritten) = narrow(all + (w.map { [$0] } ?? []))
    try r.scan(needed) { batch throws(SQLError) in
      var b = batch
      if let w = rewritten.last, rewritten.count > all.count {
        let keep = try Evaluator.eval(w, batch)
        b = batch.gather((0..<batch.count).filter { !keep.isNull($0) && keep.ints[$0] != 0 })
      }
      for (c, e) in rewritten.prefix(all.count).enumerated() {
        let v = try Evaluator.eval(e, b)
        Self.appendVector(&out[c], v)
        bytes += Self.bytes(v)
      }
      count += b.count
      try checkMemory(bytes)
      return enough.map { count < $0 } ?? true
    }
    note(
      (w != nil ? "FILTER row at a time" : "READ") + " -> \(count) rows"
        + (enough != nil ? " (LIMIT: the scan stops when it has them)" : ""))
    return Batch(columns: out, count: count)
  }

  /// About how many bytes `v` holds (a string: its UTF-8 and a 16-byte header).
  static func bytes(_ v: Vector) -> Int {
    var n = v.ints.count * 8 + v.doubles.count * 8 + v.strings.count * 16 + (v.nulls?.count ?? 0)
    for s in v.strings { n += s.utf8.count }
    return n
  }

  static func appendVector(_ into: inout Vector, _ v: Vector) {
    let before = into.count
    switch into.type {
    case .double: into.doubles += v.doubles
    case .varchar: into.strings += v.strings
    case .null: break
    default: into.ints += v.ints
    }
    if v.nulls != nil || into.nulls != nil {
      if into.nulls == nil { into.nulls = Array(repeating: false, count: before) }
      into.nulls! += v.nulls ?? Array(repeating: false, count: v.count)
    }
  }

  private func groupRows(
    _ r: Relation, where w: Bound?, keys: [Bound], aggregates: [Aggregate], global: Bool
  ) throws(SQLError) -> Batch {
    // The vectorized paths: one stored table, or two joined on a column.
    var plan: FastAggregate?
    var what = ""
    if vectorized, let stored = r.stored {
      plan = FastAggregate.plan(
        view: stored.view, only: stored.only, types: r.columns.map(\.type), keys: keys, where: w,
        aggregates: aggregates)
      what =
        "VECTORIZED_HASH_GROUP_BY: \(keys.count) keys, \(aggregates.count) aggregates, "
        + "filter in the scan: \(w == nil ? "none" : "yes"), two workers"
    } else if vectorized, let j = r.joined {
      plan = FastAggregate.plan(
        view: j.left, only: nil, types: r.columns.map(\.type), keys: keys, where: w,
        aggregates: aggregates, join: j)
      what =
        "VECTORIZED_HASH_JOIN (\(j.outer ? "LEFT" : "INNER"), right side built first, its own"
        + " conditions in its scan) + HASH_GROUP_BY"
    }
    if var plan {
      vectorizedScans += 1
      plan.memoryLimit = memoryLimit
      plan.progress = progress
      let started = Date()
      let out = try plan.run(cancelled: cancelled, global: global)
      note(
        what + " -> \(out.count) groups "
          + String(format: "(%.3f s)", Date().timeIntervalSince(started)))
      return out
    }
    let args = aggregates.flatMap { a in a.arguments + (a.filter.map { [$0] } ?? []) }
    let (needed, rewritten) = narrow(keys + args + (w.map { [$0] } ?? []))
    let keyB = Array(rewritten[0..<keys.count])
    var at = keys.count
    var aggB: [(args: [Bound], filter: Bound?)] = []
    for a in aggregates {
      let n = a.arguments.count
      let argsB = Array(rewritten[at..<(at + n)])
      at += n
      var f: Bound?
      if a.filter != nil {
        f = rewritten[at]
        at += 1
      }
      aggB.append((argsB, f))
    }
    let whereB = w != nil ? rewritten[at] : nil
    note(
      "HASH_GROUP_BY, row at a time (not of the vectorized shape): \(keys.count) keys, "
        + "\(aggregates.count) aggregates")
    var groups: [[SQLValue]: Int] = [:]
    var groupKeys: [[SQLValue]] = []
    var states: [[Aggregate.State]] = []
    if global {
      groups[[]] = 0
      groupKeys.append([])
      states.append(aggregates.map { $0.initial() })
    }
    try r.scan(needed) { batch throws(SQLError) in
      if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
      var b = batch
      if let whereB {
        let keep = try Evaluator.eval(whereB, batch)
        b = batch.gather((0..<batch.count).filter { !keep.isNull($0) && keep.ints[$0] != 0 })
      }
      let keyV = try keyB.map { (k: Bound) throws(SQLError) -> Vector in try Evaluator.eval(k, b) }
      let argV = try aggB.map {
        (a: (args: [Bound], filter: Bound?)) throws(SQLError) -> ([Vector], Vector?) in
        (
          try a.args.map { (x: Bound) throws(SQLError) -> Vector in try Evaluator.eval(x, b) },
          try a.filter.map { (x: Bound) throws(SQLError) -> Vector in try Evaluator.eval(x, b) }
        )
      }
      for row in 0..<b.count {
        if row & 0x3FFF == 0x3FFF && cancelled() { throw SQLError(.interrupted, "Interrupted!") }
        let key = keyV.map { $0.value(row) }
        var g = groups[key]
        if g == nil {
          g = groupKeys.count
          groups[key] = g
          groupKeys.append(key)
          states.append(aggregates.map { $0.initial() })
          if groupKeys.count > 10_000_000 {
            throw SQLError(.limit, "more than 10,000,000 groups: narrow the GROUP BY")
          }
        }
        for (j, a) in aggregates.enumerated() {
          if let f = argV[j].1, f.isNull(row) || f.ints[row] == 0 { continue }
          try a.update(&states[g!][j], argV[j].0.map { $0.value(row) })
        }
      }
      try checkMemory(groupKeys.count * (keys.count * 24 + aggregates.count * 40 + 64))
      return true
    }
    var columns = keys.map { Vector(type: $0.type == .null ? .varchar : $0.type) }
    var aggColumns = aggregates.map { Vector(type: $0.type) }
    for (g, key) in groupKeys.enumerated() {
      for (i, v) in key.enumerated() { columns[i].append(v) }
      for (j, a) in aggregates.enumerated() { aggColumns[j].append(a.result(states[g][j])) }
    }
    return Batch(columns: columns + aggColumns, count: groupKeys.count)
  }
}
