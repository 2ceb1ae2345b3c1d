/// Window functions: `row_number`, `rank`, `dense_rank`, `lag`, `lead`, and `sum`, `count`,
/// `avg`, `min`, `max` over a partition, running (with peers, DuckDB's default RANGE frame)
/// when the window is ordered.
extension Engine {
  static let windowFunctions: Set<String> = [
    "row_number", "rank", "dense_rank", "lag", "lead", "sum", "count", "avg", "min", "max",
  ]

  func collectWindows(_ e: Expr, into out: inout [Expr]) {
    if case .function(let c) = e.kind, c.over != nil {
      if !out.contains(where: { $0.rendered == e.rendered }) { out.append(e) }
      return
    }
    for x in e.children { collectWindows(x, into: &out) }
  }

  func window(
    _ call: Expr, _ rows: Batch, _ scope: Scope, ctes: [String: QueryResult], asOf: UInt64?
  ) throws(SQLError) -> Vector {
    guard case .function(let c) = call.kind, let w = c.over else {
      throw SQLError(.binder, "not a window function", at: call.at)
    }
    let name = c.name.lowercased()
    guard Self.windowFunctions.contains(name) else {
      throw SQLError(.catalog, "Window Function with name \(name) does not exist!", at: call.at)
    }
    func eval(_ e: Expr) throws(SQLError) -> Vector {
      try Evaluator.eval(try bind(e, scope, ctes: ctes, asOf: asOf), rows)
    }
    let parts = try w.partitionBy.map { (e: Expr) throws(SQLError) -> Vector in try eval(e) }
    let orders = try w.orderBy.map { (o: OrderItem) throws(SQLError) -> Vector in try eval(o.expr) }
    let args = try c.args.map { (e: Expr) throws(SQLError) -> Vector in try eval(e) }
    let n = rows.count
    func compareOrder(_ a: Int, _ b: Int) -> Int {
      for (k, v) in orders.enumerated() {
        let x = v.value(a)
        let y = v.value(b)
        if x.isNull || y.isNull {
          if x.isNull && y.isNull { continue }
          let first = w.orderBy[k].nullsFirst ?? false
          return x.isNull == first ? -1 : 1
        }
        let cmp = Evaluator.compareValues(x, y)
        if cmp != 0 { return w.orderBy[k].descending ? -cmp : cmp }
      }
      return 0
    }
    // Rows by partition (without PARTITION BY, all of them in one), then by the window's
    // order.
    var partitions: [[Int]] = []
    if parts.isEmpty {
      partitions = [Array(0..<n)]
    } else {
      var index: [[SQLValue]: Int] = [:]
      for r in 0..<n {
        let key = parts.map { $0.value(r) }
        if let k = index[key] {
          partitions[k].append(r)
        } else {
          index[key] = partitions.count
          partitions.append([r])
        }
      }
    }
    let argType = args.first?.type ?? .bigint
    let type: SQLType
    switch name {
    case "row_number", "rank", "dense_rank", "count": type = .bigint
    case "avg": type = .double
    case "sum": type = argType == .double ? .double : .bigint
    default: type = argType == .null ? .bigint : argType
    }
    var result = [SQLValue](repeating: .null, count: n)
    for var members in partitions {
      if !orders.isEmpty {
        members.sort { a, b in
          let c = compareOrder(a, b)
          return c != 0 ? c < 0 : a < b
        }
      }
      switch name {
      case "row_number":
        for (k, r) in members.enumerated() { result[r] = .int(Int64(k + 1)) }
      case "rank", "dense_rank":
        var rank = 0
        var dense = 0
        for (k, r) in members.enumerated() {
          if k == 0 || compareOrder(members[k - 1], r) != 0 {
            rank = k + 1
            dense += 1
          }
          result[r] = .int(Int64(name == "rank" ? rank : dense))
        }
      case "lag", "lead":
        guard let arg = args.first else {
          throw SQLError(.binder, "\(name) needs an argument", at: call.at)
        }
        for (k, r) in members.enumerated() {
          var offset = 1
          if args.count > 1, case .int(let o) = args[1].value(r) { offset = Int(o) }
          // An offset past the partition (however large) is simply outside it.
          let (target, overflow) =
            name == "lag"
            ? k.subtractingReportingOverflow(offset) : k.addingReportingOverflow(offset)
          if !overflow && target >= 0 && target < members.count {
            result[r] = arg.value(members[target])
          } else if args.count > 2 {
            result[r] = args[2].value(r)
          }
        }
      default:
        // Aggregates over the partition; with ORDER BY, running up to the current row's
        // last peer.
        let aggregate = try Aggregate(
          Expr.Call(name: name, args: c.args, distinct: c.distinct, star: c.star), at: call.at,
          scope: scope, engine: self, ctes: ctes, asOf: asOf, inWindow: true)
        var state = aggregate.initial()
        var k = 0
        while k < members.count {
          var end = k + 1
          if !orders.isEmpty {
            while end < members.count && compareOrder(members[k], members[end]) == 0 { end += 1 }
          } else {
            end = members.count
          }
          for r in members[k..<end] {
            try aggregate.update(&state, args.map { $0.value(r) })
          }
          let v = aggregate.result(state)
          for r in members[k..<end] { result[r] = v }
          k = end
        }
      }
    }
    var out = Vector(type: type)
    out.reserve(n)
    for v in result { out.append(Evaluator.coerce(v, to: type)) }
    return out
  }
}
