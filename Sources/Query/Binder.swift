import Foundation

extension Engine {
  /// Resolves names and types: columns against the scope (with "did you mean"), functions
  /// against the catalog, literals typed, implicit casts made explicit.
  func bind(_ e: Expr, _ scope: Scope, ctes: [String: QueryResult], asOf: UInt64?)
    throws(SQLError) -> Bound
  {
    if let (i, t) = scope.windows[e.rendered] { return .column(i, t) }
    if let grouped = scope.grouped, let (i, t) = grouped[e.rendered] { return .column(i, t) }
    func sub(_ x: Expr) throws(SQLError) -> Bound { try bind(x, scope, ctes: ctes, asOf: asOf) }
    switch e.kind {
    case .column(let table, let name):
      if scope.grouped != nil {
        let shown = table.map { "\($0).\(name)" } ?? name
        throw SQLError(
          .binder,
          "column \"\(shown)\" must appear in the GROUP BY clause or must be part of an aggregate function.",
          at: e.at)
      }
      let matches = scope.columns.indices.filter {
        scope.columns[$0].name == name && (table == nil || scope.columns[$0].table == table)
      }
      if matches.count > 1 {
        throw SQLError(.binder, "Ambiguous reference to column name \"\(name)\"", at: e.at)
      }
      guard let i = matches.first else {
        let names = scope.allNames ?? scope.columns.map(\.name)
        let hint = nearest(name, in: names).map { "\nCandidate bindings: \"\($0)\"" } ?? ""
        let shown = table.map { "\($0).\(name)" } ?? name
        throw SQLError(
          .binder, "Referenced column \"\(shown)\" not found in FROM clause!" + hint, at: e.at)
      }
      return .column(i, scope.columns[i].type)
    case .star:
      throw SQLError(.binder, "* can only be used in the select list", at: e.at)
    case .integer(let v): return .constant(.int(v), .bigint)
    case .decimal(let v): return .constant(.double(v), .double)
    case .string(let s): return .constant(.text(s), .varchar)
    case .null: return .constant(.null, .null)
    case .boolean(let b): return .constant(.bool(b), .boolean)
    case .typed(let type, let value):
      switch type {
      case "TIMESTAMP":
        guard let t = Cast.parseTimestamp(value) else {
          throw SQLError(.conversion, "invalid timestamp field format: \"\(value)\"", at: e.at)
        }
        return .constant(.timestamp(t), .timestamp)
      case "DATE":
        guard let d = try? Cast.value(.text(value), to: .date) else {
          throw SQLError(.conversion, "date field value out of range: \"\(value)\"", at: e.at)
        }
        return .constant(d, .date)
      case "INTERVAL":
        guard let v = Interval.parse(value) else {
          throw SQLError(
            .conversion, "could not convert string '\(value)' to INTERVAL", at: e.at)
        }
        return .constant(.interval(v), .interval)
      default:
        throw SQLError(.binder, "\(type) literals are not supported yet", at: e.at)
      }
    case .unary(let op, let x):
      let b = try sub(x)
      if op == "NOT" { return .not(try boolean(b, x)) }
      guard b.type.isNumeric || b.type == .null else {
        throw SQLError(.binder, "No function matches '-(\(b.type.rawValue))'", at: e.at)
      }
      return .negate(b, b.type == .null ? .bigint : b.type)
    case .binary(let op, let l, let r):
      let lb = try sub(l)
      let rb = try sub(r)
      switch op {
      case "AND", "OR": return .logic(op, [try boolean(lb, l), try boolean(rb, r)])
      case "=", "<>", "<", "<=", ">", ">=":
        let (x, y) = try comparable(lb, rb, at: e.at)
        return .compare(op, x, y)
      case "IS DISTINCT FROM", "IS NOT DISTINCT FROM":
        let (x, y) = try comparable(lb, rb, at: e.at)
        let bothNull = Bound.logic("AND", [.isNull(x, negated: false), .isNull(y, negated: false)])
        let same = Bound.logic(
          "OR",
          [
            bothNull,
            .logic(
              "AND",
              [.isNull(x, negated: true), .isNull(y, negated: true), .compare("=", x, y)]),
          ])
        return op == "IS NOT DISTINCT FROM" ? same : .not(same)
      case "||":
        return .arithmetic("||", lb, rb, .varchar)
      default:
        return try arithmetic(op, lb, rb, at: e.at)
      }
    case .isNull(let x, let negated): return .isNull(try sub(x), negated: negated)
    case .between(let x, let lo, let hi, let negated):
      let xb = try sub(x)
      let (a, l) = try comparable(xb, try sub(lo), at: e.at)
      let (c, h) = try comparable(xb, try sub(hi), at: e.at)
      let inside = Bound.logic("AND", [.compare(">=", a, l), .compare("<=", c, h)])
      return negated ? .not(inside) : inside
    case .inList(let x, let list, let negated):
      let xb = try sub(x)
      var items: [Bound] = []
      var left = xb
      for l in list {
        let (a, b) = try comparable(xb, try sub(l), at: l.at)
        left = a
        items.append(b)
      }
      return .inList(left, items, negated: negated)
    case .inQuery(let x, let q, let negated):
      let r = try execute(q, ctes: ctes, asOf: asOf)
      guard r.names.count == 1 else {
        throw SQLError(.binder, "Subquery returns \(r.names.count) columns - expected 1", at: e.at)
      }
      let xb = try sub(x)
      var items: [Bound] = []
      var left = xb
      var seen = Set<SQLValue>()
      for i in 0..<r.rows.count {
        let v = r.rows.columns[0].value(i)
        guard seen.insert(v).inserted else { continue }
        let (a, b) = try comparable(xb, .constant(v, v.isNull ? .null : r.types[0]), at: e.at)
        left = a
        items.append(b)
      }
      if items.isEmpty { return .constant(.bool(negated), .boolean) }
      return .inList(left, items, negated: negated)
    case .like(let x, let p, let negated, let ci):
      let xb = try sub(x)
      let pb = try sub(p)
      return .like(
        xb.type == .varchar ? xb : .cast(xb, .varchar),
        pb.type == .varchar ? pb : .cast(pb, .varchar),
        negated: negated, caseInsensitive: ci)
    case .caseWhen(let operand, let whens, let otherwise):
      var conditions: [(Bound, Bound)] = []
      var types: [SQLType] = []
      let ob = try operand.map { (o: Expr) throws(SQLError) -> Bound in try sub(o) }
      for (w, t) in whens {
        var c = try sub(w)
        if let ob {
          let (x, y) = try comparable(ob, c, at: w.at)
          c = .compare("=", x, y)
        } else {
          c = try boolean(c, w)
        }
        let tb = try sub(t)
        conditions.append((c, tb))
        types.append(tb.type)
      }
      let eb = try otherwise.map { (o: Expr) throws(SQLError) -> Bound in try sub(o) }
      if let eb { types.append(eb.type) }
      let t = try unify(types, at: e.at)
      return .caseWhen(
        conditions.map { ($0.0, Self.castIfNeeded($0.1, t)) },
        otherwise: eb.map { Self.castIfNeeded($0, t) }, t)
    case .cast(let x, let typeName):
      guard let t = Self.typeNamed(typeName) else {
        throw SQLError(.catalog, "Type with name \(typeName) does not exist!", at: e.at)
      }
      return .cast(try sub(x), t)
    case .subquery(let q):
      let r = try execute(q, ctes: ctes, asOf: asOf)
      guard r.names.count == 1 else {
        throw SQLError(.binder, "Subquery returns \(r.names.count) columns - expected 1", at: e.at)
      }
      // DuckDB: a scalar subquery's first row (NULL when none).
      let v = r.rows.count > 0 ? r.rows.columns[0].value(0) : .null
      return .constant(v, r.types[0])
    case .function(let c):
      let name = c.name.lowercased()
      if c.over != nil {
        throw SQLError(
          .binder, "window functions are allowed in the select list and ORDER BY only", at: e.at)
      }
      if Functions.aggregates.contains(name) {
        throw SQLError(.binder, "aggregate function calls cannot be nested", at: e.at)
      }
      guard let arity = Functions.arity[name] else {
        let names = Array(Functions.arity.keys) + Array(Functions.aggregates)
        let hint = nearest(name, in: names).map { "\nDid you mean \"\($0)\"?" } ?? ""
        throw SQLError(
          .catalog, "Scalar Function with name \(name) does not exist!" + hint, at: e.at)
      }
      guard arity.contains(c.args.count), !c.star, !c.distinct else {
        throw SQLError(
          .binder,
          "No function matches the given name and argument types '\(name)(…)' with \(c.args.count) arguments",
          at: e.at)
      }
      let args = try c.args.map { (a: Expr) throws(SQLError) -> Bound in try sub(a) }
      guard let t = Functions.resultType(name, args.map(\.type)) else {
        let types = args.map(\.type.rawValue).joined(separator: ", ")
        throw SQLError(
          .binder,
          "No function matches the given name and argument types '\(name)(\(types))'"
            + (Functions.takes[name].map { ": \(name) takes \($0)" } ?? ""), at: e.at)
      }
      var cast = args
      if name == "coalesce" { cast = args.map { Self.castIfNeeded($0, t) } }
      return .call(name, cast, t)
    }
  }

  private func boolean(_ b: Bound, _ e: Expr) throws(SQLError) -> Bound {
    if b.type == .boolean || b.type == .null { return b }
    throw SQLError(
      .binder, "Cannot use \(b.type.rawValue) as a condition: \(e.rendered)", at: e.at)
  }

  static func castIfNeeded(_ b: Bound, _ t: SQLType) -> Bound {
    b.type == t || b.type == .null ? b : .cast(b, t)
  }

  static func typeNamed(_ n: String) -> SQLType? {
    switch n {
    case "BIGINT", "INT", "INTEGER", "INT8", "INT4", "SMALLINT", "TINYINT", "HUGEINT", "LONG":
      .bigint
    case "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "FLOAT8": .double
    case "VARCHAR", "TEXT", "STRING", "CHAR": .varchar
    case "BOOLEAN", "BOOL": .boolean
    case "TIMESTAMP", "DATETIME": .timestamp
    case "DATE": .date
    case "INTERVAL": .interval
    default: nil
    }
  }

  func unify(_ types: [SQLType], at: Int) throws(SQLError) -> SQLType {
    var t = SQLType.null
    for x in types where x != .null {
      if t == .null || t == x {
        t = x
      } else if t.isNumeric && x.isNumeric {
        t = .double
      } else if (t == .date && x == .timestamp) || (t == .timestamp && x == .date) {
        t = .timestamp
      } else {
        throw SQLError(
          .binder, "Cannot mix values of type \(t.rawValue) and \(x.rawValue) in CASE expression",
          at: at)
      }
    }
    return t
  }

  /// Two sides of a comparison brought to one type: numbers together, DATE with TIMESTAMP,
  /// a string literal read as the other side's type (`occurred_at >= '2024-01-01'`).
  func comparable(_ l: Bound, _ r: Bound, at: Int) throws(SQLError) -> (Bound, Bound) {
    if l.type == r.type || l.type == .null || r.type == .null { return (l, r) }
    if l.type.isNumeric && r.type.isNumeric { return (l, r) }
    func read(_ s: String, as t: SQLType) throws(SQLError) -> SQLValue {
      do {
        return try Cast.value(.text(s), to: t)
      } catch {
        var e = error
        e.offset = at
        throw e
      }
    }
    if case .constant(.text(let s), _) = r, l.type != .varchar {
      return (l, .constant(try read(s, as: l.type), l.type))
    }
    if case .constant(.text(let s), _) = l, r.type != .varchar {
      return (.constant(try read(s, as: r.type), r.type), r)
    }
    if (l.type == .date || l.type == .timestamp) && (r.type == .date || r.type == .timestamp) {
      return (l, r)
    }
    throw SQLError(
      .binder,
      "Cannot compare values of type \(l.type.rawValue) and type \(r.type.rawValue) - an explicit cast is required",
      at: at)
  }

  private func arithmetic(_ op: String, _ l: Bound, _ r: Bound, at: Int) throws(SQLError) -> Bound {
    let t: SQLType
    switch (l.type, r.type) {
    case (.bigint, .bigint), (.bigint, .null), (.null, .bigint), (.null, .null):
      t = op == "/" ? .double : .bigint
    case (.double, .bigint), (.bigint, .double), (.double, .double), (.double, .null),
      (.null, .double):
      t = .double
    // Times and intervals, as DuckDB types them.
    case (.timestamp, .timestamp) where op == "-": t = .interval
    case (.date, .date) where op == "-": t = .bigint
    case (.date, .bigint) where op == "+" || op == "-", (.bigint, .date) where op == "+": t = .date
    case (.timestamp, .interval) where op == "+" || op == "-",
      (.date, .interval) where op == "+" || op == "-",
      (.interval, .timestamp) where op == "+", (.interval, .date) where op == "+":
      t = .timestamp
    case (.interval, .interval) where op == "+" || op == "-": t = .interval
    case (.interval, .bigint) where op == "*", (.bigint, .interval) where op == "*": t = .interval
    default:
      throw SQLError(
        .binder,
        "No function matches the given name and argument types '\(op)(\(l.type.rawValue), \(r.type.rawValue))'",
        at: at)
    }
    return .arithmetic(op, l, r, t)
  }
}

/// An aggregate call: count, sum, avg, min, max, with DISTINCT and FILTER.
struct Aggregate {
  enum State {
    case count(Int64)
    case sumInt(Int64, overflowed: Double?, any: Bool)
    case sumDouble(Double, any: Bool)
    case avg(Double, Int64)
    case extreme(SQLValue)
    case distinct(Set<SQLValue>)
    /// The hidden sum of record keys (`CellKey`), modulo 2^64.
    case keySum(UInt64)
  }

  let name: String
  let distinct: Bool
  let star: Bool
  let arguments: [Bound]
  let filter: Bound?
  let type: SQLType
  /// For a hidden sum of the record keys of distinct values: the statement's
  /// `count(DISTINCT …)` of the same values, whose deduplication the vectorized path shares.
  var twin: Int? = nil

  init(
    _ c: Expr.Call, at: Int, scope: Engine.Scope, engine: Engine, ctes: [String: QueryResult],
    asOf: UInt64?, inWindow: Bool = false
  ) throws(SQLError) {
    name = c.name.lowercased()
    distinct = c.distinct
    star = c.star
    if c.star && name != "count" {
      throw SQLError(.binder, "\(name)(*) is not a function: only count(*)", at: at)
    }
    guard c.star || c.args.count == 1 else {
      throw SQLError(.binder, "\(name) takes one argument", at: at)
    }
    arguments = try c.args.map { (a: Expr) throws(SQLError) -> Bound in
      var found: [Expr] = []
      engine.collectAggregates(a, into: &found)
      // Over a window, the argument may be a grouped query's aggregate: sum(count(*)) OVER ().
      if !found.isEmpty && !inWindow {
        throw SQLError(.binder, "aggregate function calls cannot be nested", at: a.at)
      }
      return try engine.bind(a, scope, ctes: ctes, asOf: asOf)
    }
    filter = try c.filter.map { (f: Expr) throws(SQLError) -> Bound in
      try engine.bind(f, scope, ctes: ctes, asOf: asOf)
    }
    let argType = arguments.first?.type ?? .bigint
    switch name {
    case "count", Engine.cellKeyAggregate: type = .bigint
    case "avg":
      guard argType.isNumeric || argType == .null else {
        throw SQLError(.binder, "No function matches 'avg(\(argType.rawValue))'", at: at)
      }
      type = .double
    case "sum":
      guard argType.isNumeric || argType == .null else {
        throw SQLError(.binder, "No function matches 'sum(\(argType.rawValue))'", at: at)
      }
      type = argType == .double ? .double : .bigint
    default: type = argType == .null ? .bigint : argType
    }
  }

  func initial() -> State {
    if distinct { return .distinct([]) }
    switch name {
    case "count": return .count(0)
    case Engine.cellKeyAggregate: return .keySum(0)
    case "sum":
      return type == .double ? .sumDouble(0, any: false) : .sumInt(0, overflowed: nil, any: false)
    case "avg": return .avg(0, 0)
    default: return .extreme(.null)
    }
  }

  func update(_ s: inout State, _ values: [SQLValue]) throws(SQLError) {
    let v = values.first ?? .int(1)
    if !star && v.isNull { return }
    switch s {
    case .distinct(var set):
      set.insert(v)
      s = .distinct(set)
    case .count(let n): s = .count(n + 1)
    case .keySum(let k): s = .keySum(k &+ CellKey.recordKey(v))
    case .sumInt(let x, let over, _):
      guard case .int(let i) = v else { return }
      if let over {
        s = .sumInt(x, overflowed: over + Double(i), any: true)
      } else {
        let (r, o) = x.addingReportingOverflow(i)
        if o { throw SQLError.sumOverflow }
        s = .sumInt(r, overflowed: nil, any: true)
      }
    case .sumDouble(let x, _):
      s = .sumDouble(x + (Cast.double(v) ?? 0), any: true)
    case .avg(let x, let n):
      s = .avg(x + (Cast.double(v) ?? 0), n + 1)
    case .extreme(let cur):
      if cur.isNull {
        s = .extreme(v)
      } else {
        let c = Evaluator.compareValues(v, cur)
        if (name == "min" && c < 0) || (name == "max" && c > 0) { s = .extreme(v) }
      }
    }
  }

  func result(_ s: State) -> SQLValue {
    switch s {
    case .distinct(let set):
      // The distinct values folded by the same aggregate without DISTINCT.
      let plain = Aggregate(copying: self)
      var inner = plain.initial()
      for v in set { try? plain.update(&inner, [v]) }
      return plain.result(inner)
    case .count(let n): return .int(n)
    case .keySum(let k): return .int(Int64(bitPattern: k))
    case .sumInt(let x, let over, let any):
      if !any { return .null }
      return over.map { .double($0) } ?? .int(x)
    case .sumDouble(let x, let any): return any ? .double(x) : .null
    case .avg(let x, let n): return n == 0 ? .null : .double(x / Double(n))
    case .extreme(let v): return v
    }
  }

  /// The same aggregate without DISTINCT (to fold a distinct set).
  private init(copying a: Aggregate) {
    name = a.name
    distinct = false
    star = a.star
    arguments = a.arguments
    filter = a.filter
    type = a.type
  }
}
