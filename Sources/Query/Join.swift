import Projections

/// Joins: both sides read whole, the right one hashed on the equality conditions of ON (any
/// other condition checked on each candidate pair), LEFT JOIN keeping unmatched left rows
/// with NULLs. A join that would hold more than 200 million values (rows × columns; a few
/// GB) is refused before it is made.
extension Engine {
  static let maxJoinCells = 200_000_000

  func join(
    _ left: Relation, _ right: Relation, kind: JoinKind, on: Expr?, at: Int,
    ctes: [String: QueryResult], asOf: UInt64?
  ) throws(SQLError) -> Relation {
    let columns = left.columns + right.columns
    let scope = Scope(columns: columns)
    let condition = try on.map { (e: Expr) throws(SQLError) -> Bound in
      try bind(e, scope, ctes: ctes, asOf: asOf)
    }
    let nl = left.columns.count
    // Equality conjuncts with one side in each input: the hash keys.
    var leftKeys: [Bound] = []
    var rightKeys: [Bound] = []
    func conjuncts(_ b: Bound) -> [Bound] {
      if case .logic("AND", let items) = b { return items.flatMap(conjuncts) }
      return [b]
    }
    func columnsOf(_ b: Bound) -> Set<Int> {
      switch b {
      case .column(let i, _): return [i]
      case .constant: return []
      case .arithmetic(_, let l, let r, _), .compare(_, let l, let r):
        return columnsOf(l).union(columnsOf(r))
      case .logic(_, let items): return items.reduce(into: Set()) { $0.formUnion(columnsOf($1)) }
      case .not(let x), .negate(let x, _), .isNull(let x, _), .cast(let x, _): return columnsOf(x)
      case .inList(let x, let l, _): return l.reduce(columnsOf(x)) { $0.union(columnsOf($1)) }
      case .like(let x, let p, _, _): return columnsOf(x).union(columnsOf(p))
      case .caseWhen(let w, let o, _):
        var s = o.map(columnsOf) ?? []
        for (a, b) in w { s.formUnion(columnsOf(a).union(columnsOf(b))) }
        return s
      case .call(_, let a, _): return a.reduce(into: Set()) { $0.formUnion(columnsOf($1)) }
      }
    }
    func shift(_ b: Bound, by k: Int) -> Bound {
      switch b {
      case .column(let i, let t): return .column(i - k, t)
      case .constant: return b
      case .arithmetic(let op, let l, let r, let t):
        return .arithmetic(op, shift(l, by: k), shift(r, by: k), t)
      case .compare(let op, let l, let r): return .compare(op, shift(l, by: k), shift(r, by: k))
      case .logic(let op, let items): return .logic(op, items.map { shift($0, by: k) })
      case .not(let x): return .not(shift(x, by: k))
      case .negate(let x, let t): return .negate(shift(x, by: k), t)
      case .isNull(let x, let n): return .isNull(shift(x, by: k), negated: n)
      case .inList(let x, let l, let n):
        return .inList(shift(x, by: k), l.map { shift($0, by: k) }, negated: n)
      case .like(let x, let p, let n, let i):
        return .like(shift(x, by: k), shift(p, by: k), negated: n, caseInsensitive: i)
      case .caseWhen(let w, let o, let t):
        return .caseWhen(
          w.map { (shift($0.0, by: k), shift($0.1, by: k)) }, otherwise: o.map { shift($0, by: k) },
          t)
      case .cast(let x, let t): return .cast(shift(x, by: k), t)
      case .call(let n, let a, let t): return .call(n, a.map { shift($0, by: k) }, t)
      }
    }
    // The ON condition's conjuncts: equalities across the sides are the hash keys; one side's
    // own conditions filter that side as it is read (the right side's always, the left's in an
    // inner join only: a LEFT JOIN keeps every left row); the rest is checked on each pair.
    var leftFilters: [Bound] = []
    var rightFilters: [Bound] = []
    var rightFiltersHere: [Bound] = []
    var residual: [Bound] = []
    for c in condition.map(conjuncts) ?? [] {
      let cc = columnsOf(c)
      if !cc.isEmpty && cc.allSatisfy({ $0 >= nl }) && kind != .cross {
        rightFilters.append(shift(c, by: nl))
        rightFiltersHere.append(c)
        continue
      }
      if !cc.isEmpty && cc.allSatisfy({ $0 < nl }) && kind == .inner {
        leftFilters.append(c)
        continue
      }
      residual.append(c)
      guard case .compare("=", let a, let b) = c else { continue }
      let ca = columnsOf(a)
      let cb = columnsOf(b)
      if !ca.isEmpty && !cb.isEmpty && ca.allSatisfy({ $0 < nl }) && cb.allSatisfy({ $0 >= nl }) {
        leftKeys.append(a)
        rightKeys.append(shift(b, by: nl))
        residual.removeLast()
      } else if !ca.isEmpty && !cb.isEmpty && cb.allSatisfy({ $0 < nl })
        && ca.allSatisfy({ $0 >= nl })
      {
        leftKeys.append(b)
        rightKeys.append(shift(a, by: nl))
        residual.removeLast()
      }
    }
    let residualCondition: Bound? =
      residual.isEmpty ? nil : residual.count == 1 ? residual[0] : .logic("AND", residual)
    func all(_ b: [Bound]) -> Bound? { b.isEmpty ? nil : b.count == 1 ? b[0] : .logic("AND", b) }
    var relation = Relation(columns: columns) { needed, body throws(SQLError) in
      // Only the columns the statement and the residual condition read; the others stay
      // empty and are never looked at.
      var used = Set(needed)
      for k in leftKeys { used.formUnion(columnsOf(k)) }
      for k in rightKeys { used.formUnion(columnsOf(k).map { $0 + nl }) }
      if let residualCondition { used.formUnion(columnsOf(residualCondition)) }
      let leftUsed = used.filter { $0 < nl }.sorted()
      let rightUsed = used.filter { $0 >= nl }.map { $0 - nl }.sorted()
      func widen(_ b: Batch, _ picked: [Int], _ types: [SQLType]) -> Batch {
        var columns = types.map { Vector(type: $0) }
        for (i, c) in picked.enumerated() { columns[c] = b.columns[i] }
        return Batch(columns: columns, count: b.count)
      }
      let l = widen(
        try self.readAll(
          left, where: all(leftFilters), scope: Scope(columns: left.columns), columns: leftUsed),
        leftUsed, left.columns.map(\.type))
      let r = widen(
        try self.readAll(
          right, where: all(rightFilters), scope: Scope(columns: right.columns),
          columns: rightUsed),
        rightUsed, right.columns.map(\.type))
      let lKeep = Set(leftUsed)
      let rKeep = Set(rightUsed)
      func gather(_ b: Batch, _ sel: [Int], _ keep: Set<Int>) -> [Vector] {
        b.columns.enumerated().map {
          keep.contains($0.offset) ? $0.element.gather(sel) : $0.element
        }
      }
      // The right side hashed on its keys.
      let rk = try rightKeys.map { (k: Bound) throws(SQLError) -> Vector in try Evaluator.eval(k, r)
      }
      var table: [[SQLValue]: [Int]] = [:]
      for i in 0..<r.count {
        let key = rk.map { $0.value(i) }
        if key.contains(where: \.isNull) { continue }  // NULL never equals
        table[key, default: []].append(i)
      }
      let lk = try leftKeys.map { (k: Bound) throws(SQLError) -> Vector in try Evaluator.eval(k, l)
      }
      var pairsL: [Int] = []
      var pairsR: [Int] = []
      var produced = 0
      for i in 0..<l.count {
        if self.cancelled() { throw SQLError(.interrupted, "Interrupted!") }
        let candidates: [Int]
        if leftKeys.isEmpty {
          candidates = Array(0..<r.count)
        } else {
          let key = lk.map { $0.value(i) }
          candidates = key.contains(where: \.isNull) ? [] : table[key] ?? []
        }
        produced += candidates.count
        try self.checkMemory(produced * 16 + (l.count + r.count) * columns.count * 16)
        if produced * columns.count > Self.maxJoinCells {
          throw SQLError(
            .limit,
            "the join would make more than \(Self.maxJoinCells / columns.count) rows of"
              + " \(columns.count) columns: add a join condition or a filter", at: at)
        }
        for c in candidates {
          pairsL.append(i)
          pairsR.append(c)
        }
      }
      if kind != .left && (residualCondition == nil || kind == .cross) {
        // Every pair is a row: gathered a row group at a time (the batches deliver would cut),
        // so that a join of millions of pairs stops at Ctrl-C between row groups rather than
        // after gathering them all, and never holds them all at once.
        var start = 0
        while start < pairsL.count {
          if self.cancelled() { throw SQLError(.interrupted, "Interrupted!") }
          let end = min(pairsL.count, start + ColumnGroup.rows)
          let part =
            gather(l, Array(pairsL[start..<end]), lKeep)
            + gather(r, Array(pairsR[start..<end]), rKeep)
          if try !body(Batch(columns: needed.map { part[$0] }, count: end - start)) { return }
          start = end
        }
        return
      }
      // Pairs that pass the rest of the ON condition.
      let keep = lKeep.union(rKeep.map { $0 + nl })
      var joinedColumns = gather(l, pairsL, lKeep) + gather(r, pairsR, rKeep)
      var joined = Batch(columns: joinedColumns, count: pairsL.count)
      var matched = Array(repeating: false, count: l.count)
      if let residualCondition, kind != .cross {
        let pass = try Evaluator.eval(residualCondition, joined)
        var sel: [Int] = []
        for k in 0..<joined.count where !pass.isNull(k) && pass.ints[k] != 0 { sel.append(k) }
        joined = Batch(
          columns: joined.columns.enumerated().map {
            keep.contains($0.offset) ? $0.element.gather(sel) : $0.element
          }, count: sel.count)
        for k in sel { matched[pairsL[k]] = true }
      } else {
        for i in pairsL { matched[i] = true }
      }
      if kind == .left {
        let missing = (0..<l.count).filter { !matched[$0] }
        if !missing.isEmpty {
          let lm = gather(l, missing, lKeep)
          joinedColumns = joined.columns
          for c in keep {
            let extra = c < nl ? lm[c] : Vector.nulls(columns[c].type, count: missing.count)
            Self.appendVector(&joinedColumns[c], extra)
          }
          joined = Batch(columns: joinedColumns, count: joined.count + missing.count)
        }
      }
      try self.deliver(Batch(columns: needed.map { joined.columns[$0] }, count: joined.count), body)
    }
    if let l = left.stored, let r = right.stored, l.only == nil, r.only == nil,
      kind == .inner || kind == .left, residual.isEmpty, leftKeys.count == 1,
      case .column(let a, let ta) = leftKeys[0], case .column(let b, let tb) = rightKeys[0],
      ta == tb, ta != .double, ta != .null
    {
      relation.joined = JoinSource(
        left: l.view, right: r.view, outer: kind == .left, leftColumns: nl, leftKey: a,
        rightKey: b, leftFilter: all(leftFilters), rightFilter: all(rightFiltersHere))
    }
    return relation
  }
}
