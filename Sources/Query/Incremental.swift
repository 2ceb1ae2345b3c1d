import Projections

/// The shape of a view that can be kept up to date by deltas instead of recomputed: one
/// built-in table grouped by plain keys, each output column a key or `count`, `sum`, `min` or
/// `max` or `avg` (with FILTER), no DISTINCT, HAVING, ORDER BY, LIMIT or CTE. Its stored form
/// carries hidden columns (`__rows`, the rows of each group; `__nJ`, the non-NULL inputs of
/// aggregate J; `__sJ`, an average's sum) so that a delta can add rows to a group, take them
/// away (a void, the old values of a corrected row) and tell an empty group or a NULL sum.
package struct IncrementalShape: Sendable {
  package enum Function: String, Sendable { case count, sum, min, max, avg }

  /// The statement with the hidden columns added.
  package let select: Select
  /// The built-in table it reads.
  package let table: String
  /// The leading output columns that are the keys.
  package let keyCount: Int
  /// Each visible output column after the keys: its function, the output column of its
  /// hidden non-NULL count (nil for count) and, for an average, of its hidden sum.
  package let aggregates: [(function: Function, count: Int?, sum: Int?)]
  /// The output column of `__rows`.
  package let rowsColumn: Int
}

extension Engine {
  /// The incremental shape of a view's SQL, or nil when it must be recomputed.
  package func incrementalShape(_ sql: String) -> IncrementalShape? {
    guard let statements = try? Parser.parse(sql), statements.count == 1,
      case .select(var q) = statements[0], q.with.isEmpty, !q.distinct, q.having == nil,
      q.orderBy.isEmpty, q.limit == nil, q.offset == nil, q.asOf == nil,
      case .table(let name, _, nil, _)? = q.from,
      BuiltinTables.all.contains(where: { $0.name == name }),
      !q.groupBy.isEmpty || q.groupByAll
    else { return nil }
    // Keys first, then aggregates, as written.
    var keyCount = 0
    var aggregates: [(IncrementalShape.Function, Expr.Call, Int)] = []
    for (i, item) in q.items.enumerated() {
      if case .function(let c) = item.expr.kind, c.over == nil,
        let f = IncrementalShape.Function(rawValue: c.name.lowercased())
      {
        guard !c.distinct else { return nil }
        aggregates.append((f, c, i))
        continue
      }
      var found: [Expr] = []
      collectAggregates(item.expr, into: &found)
      guard found.isEmpty, aggregates.isEmpty else { return nil }
      if case .star = item.expr.kind { return nil }
      keyCount += 1
    }
    guard !aggregates.isEmpty else { return nil }
    if !q.groupByAll {
      // The GROUP BY must be exactly the keys (by text, ordinal or alias).
      let keys = q.items.prefix(keyCount)
      guard q.groupBy.count == keyCount else { return nil }
      for (g, k) in zip(q.groupBy, keys) {
        if case .integer(let n) = g.kind, Int(n) >= 1, Int(n) <= keyCount { continue }
        if g.rendered == k.expr.rendered { continue }
        if case .column(nil, let n) = g.kind, n == k.alias { continue }
        return nil
      }
    }
    let at = q.items.first?.expr.at ?? 0
    var shapes: [(function: IncrementalShape.Function, count: Int?, sum: Int?)] = []
    for (f, c, _) in aggregates {
      if f == .count {
        shapes.append((f, nil, nil))
        continue
      }
      let j = shapes.count
      var n = Expr.Call(name: "count", args: c.args)
      n.filter = c.filter
      q.items.append(SelectItem(expr: Expr(.function(n), at: at), alias: "__n\(j)"))
      let count = q.items.count - 1
      var sum: Int?
      if f == .avg {
        // The sum as a DOUBLE (an average's is), so that deltas add as the average divides.
        var s = Expr.Call(
          name: "sum",
          args: [Expr(.cast(c.args.first ?? Expr(.null, at: at), type: "DOUBLE"), at: at)])
        s.filter = c.filter
        q.items.append(SelectItem(expr: Expr(.function(s), at: at), alias: "__s\(j)"))
        sum = q.items.count - 1
      }
      shapes.append((f, count, sum))
    }
    var rows = Expr.Call(name: "count", args: [])
    rows.star = true
    q.items.append(SelectItem(expr: Expr(.function(rows), at: at), alias: "__rows"))
    return IncrementalShape(
      select: q, table: name, keyCount: keyCount, aggregates: shapes,
      rowsColumn: q.items.count - 1)
  }

  /// Runs an incremental shape over only the table rows `rows` (ascending; all when nil), as
  /// of `asOf`.
  package func run(_ shape: IncrementalShape, rows: [Int]?, asOf: UInt64?) throws(SQLError)
    -> QueryResult
  {
    restrictedRows = rows
    defer { restrictedRows = nil }
    return try PlanPeriods.with(planPeriods) { () throws(SQLError) -> QueryResult in
      try execute(shape.select, ctes: [:], asOf: asOf)
    }
  }
}
