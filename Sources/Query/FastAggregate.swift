import Domain
import Foundation
import Projections

/// The vectorized path of a grouped query over one stored table: the common shape of an
/// analyst's question (`SELECT keys, count(*), sum(x), count(DISTINCT y) … FROM t WHERE simple
/// conditions GROUP BY keys`) run on whole column vectors of each row group, with VARCHAR values
/// as interned ids (a dictionary entry decoded once per row group, not once per row), filters
/// applied in the scan, and groups found in one flat hash table. Two workers split the row
/// groups, each with its own table, merged at the end.
///
/// `plan` returns nil for anything outside that shape (a LIKE, a CASE, an expression over two
/// columns, min of a string …); the general executor answers those. Both paths give the same
/// answers: the oracle's queries run through both (see `QueryTests`).
///
/// Sendable: a plan is read-only once made, and the tables it reads are mapped files.
struct FastAggregate: @unchecked Sendable {
  /// A column, or a date part of one: what keys, conditions and aggregates read.
  struct Operand: Hashable {
    enum Transform: Hashable { case none, year, month, quarter, day, planPeriod }
    var column: Int
    var transform: Transform
  }

  /// How an operand's values are held in a vector of `Int64`.
  enum Kind { case int, double, string }

  enum Op { case eq, ne, lt, le, gt, ge }

  /// A condition, true or not for each row (NULL is not true).
  indirect enum Predicate {
    case int(Operand, Op, Int64)
    case double(Operand, Op, Double)
    /// `=`, `<>`, `IN`, `NOT IN` on integers, or on VARCHAR constants (indices into
    /// `constants`).
    case member(Operand, Set<Int64>, strings: [Int], negated: Bool)
    case isNull(Operand, negated: Bool)
    case and([Predicate])
    case or([Predicate])
    case never
  }

  /// The operands a condition reads.
  static func operands(of p: Predicate) -> Set<Operand> {
    switch p {
    case .int(let o, _, _), .double(let o, _, _), .member(let o, _, _, _), .isNull(let o, _): [o]
    case .and(let parts), .or(let parts): parts.reduce(into: []) { $0.formUnion(operands(of: $1)) }
    case .never: []
    }
  }

  struct Aggregate {
    /// `keySum`: the hidden sum of record keys (`CellKey`) of the analyst role's perturbed
    /// counts: of the rows' `seq`, or DISTINCT, of the values its twin counts.
    enum Function { case count, sum, avg, min, max, keySum }
    var function: Function
    var operand: Operand?
    var distinct: Bool
    var filter: Predicate?
    var type: SQLType
    /// For a DISTINCT `keySum`: the `count(DISTINCT …)` of the same values and FILTER, whose
    /// pairs it sums the keys of as they are counted.
    var twin: Int? = nil
  }

  let view: TableView
  let only: [Int]?
  let types: [SQLType]
  let keys: [Operand]
  let keyTypes: [SQLType]
  let condition: Predicate?
  let aggregates: [Aggregate]
  /// Every operand read, in a fixed order.
  let operands: [Operand]
  /// VARCHAR constants interned before the scan, so that `=` compares ids.
  let constants: [String]
  /// A join's right side (the plan's columns are the left table's, then the right's).
  var join: JoinSource?
  /// The right side's own ON conditions, checked as it is read.
  var rightCondition: Predicate?
  /// The operands `rightCondition` reads.
  var rightOperands: [Operand] = []
  /// The engine's memory limit: past it, an error.
  var memoryLimit = Int.max
  /// Told after each row group read (groups read, groups in all).
  var progress: (@Sendable (Int, Int) -> Void)?

  // MARK: - Planning

  /// The plan of a grouped query, or nil when it is not of the shape this path runs.
  static func plan(
    view: TableView, only: [Int]?, types: [SQLType], keys: [Bound], where w: Bound?,
    aggregates: [Query.Aggregate], join: JoinSource? = nil
  ) -> FastAggregate? {
    var constants: [String] = []
    var operands: [Operand] = []
    func note(_ o: Operand) {
      if !operands.contains(o) { operands.append(o) }
    }
    func operand(_ b: Bound) -> (Operand, SQLType)? {
      switch b {
      case .column(let i, let t):
        guard t != .null else { return nil }
        return (Operand(column: i, transform: .none), t)
      case .call(let name, let args, let t):
        // A time's parts; and a year's plan period (a view's `year` column).
        guard args.count == 1, case .column(let i, let ct) = args[0],
          ct == .timestamp || ct == .date || (ct == .bigint && name == "plan_period")
        else { return nil }
        let transform: Operand.Transform
        switch name {
        case "year": transform = .year
        case "month": transform = .month
        case "quarter": transform = .quarter
        case "day": transform = .day
        case "plan_period": transform = .planPeriod
        default: return nil
        }
        return (Operand(column: i, transform: transform), t)
      default: return nil
      }
    }
    func kind(_ t: SQLType) -> Kind {
      t == .double ? .double : t == .varchar ? .string : .int
    }
    func constant(_ b: Bound, as t: SQLType) -> SQLValue? {
      switch b {
      case .constant(let v, _): return v
      case .cast(.constant(let v, _), let ct) where ct == t: return try? Cast.value(v, to: t)
      case .column, .call: return nil
      default:
        // An expression of constants (`TIMESTAMP '2024-06-10' - INTERVAL 30 DAY`): its value.
        guard !Self.readsColumns(b), b.type == t,
          let v = try? Evaluator.eval(b, Batch(columns: [], count: 1))
        else { return nil }
        return v.value(0)
      }
    }
    func predicate(_ b: Bound) -> Predicate? {
      switch b {
      case .logic(let op, let items):
        var parts: [Predicate] = []
        for i in items {
          guard let p = predicate(i) else { return nil }
          parts.append(p)
        }
        return op == "AND" ? .and(parts) : .or(parts)
      case .isNull(let x, let negated):
        guard let (o, _) = operand(x) else { return nil }
        note(o)
        return .isNull(o, negated: negated)
      case .compare(let op, let l, let r):
        var (x, y, o) = (l, r, op)
        if operand(x) == nil {
          (x, y) = (r, l)
          o = ["<": ">", "<=": ">=", ">": "<", ">=": "<="][op] ?? op
        }
        guard let (xo, t) = operand(x), let v = constant(y, as: t) else { return nil }
        note(xo)
        let op: Op = ["=": .eq, "<>": .ne, "<": .lt, "<=": .le, ">": .gt][o] ?? .ge
        if v.isNull { return .never }
        switch (kind(t), v) {
        case (.string, .text(let s)):
          guard op == .eq || op == .ne else { return nil }
          constants.append(s)
          return .member(xo, [], strings: [constants.count - 1], negated: op == .ne)
        case (.int, .int(let c)) where t == .bigint,
          (.int, .timestamp(let c)) where t == .timestamp,
          (.int, .date(let c)) where t == .date:
          return .int(xo, op, c)
        case (.int, .bool(let c)) where t == .boolean: return .int(xo, op, c ? 1 : 0)
        case (.int, .double(let c)) where t == .bigint, (.double, .double(let c)):
          return .double(xo, op, c)
        case (.double, .int(let c)): return .double(xo, op, Double(c))
        default: return nil
        }
      case .inList(let x, let items, let negated):
        guard let (xo, t) = operand(x), t == .varchar || t == .bigint else { return nil }
        var set = Set<Int64>()
        var strings: [Int] = []
        for i in items {
          switch constant(i, as: t) {
          case .text(let s)? where t == .varchar:
            constants.append(s)
            strings.append(constants.count - 1)
          case .int(let c)? where t == .bigint: set.insert(c)
          default: return nil  // a NULL in the list, or another type
          }
        }
        note(xo)
        return .member(xo, set, strings: strings, negated: negated)
      case .constant(.bool(let b), _): return b ? .and([]) : .never
      case .constant(.null, _): return .never
      default: return nil
      }
    }

    var keyOperands: [Operand] = []
    for k in keys {
      guard let (o, t) = operand(k) else { return nil }
      note(o)
      keyOperands.append(o)
      _ = t
    }
    var condition: Predicate?
    let conditions = [w, join?.leftFilter].compactMap { $0 }
    if !conditions.isEmpty {
      guard let p = predicate(conditions.count == 1 ? conditions[0] : .logic("AND", conditions))
      else { return nil }
      condition = p
    }
    var rightCondition: Predicate?
    var rightOperands: [Operand] = []
    if let f = join?.rightFilter {
      let before = operands
      operands = []
      guard let p = predicate(f) else { return nil }
      rightCondition = p
      rightOperands = operands
      operands = before + operands.filter { !before.contains($0) }
    }
    var aggs: [Aggregate] = []
    for a in aggregates {
      let function: Aggregate.Function
      switch a.name {
      case "count": function = .count
      case "sum": function = .sum
      case "avg": function = .avg
      case "min": function = .min
      case "max": function = .max
      case Engine.cellKeyAggregate: function = .keySum
      default: return nil
      }
      var o: Operand?
      if !a.star {
        guard let (x, t) = operand(a.arguments[0]) else { return nil }
        // min and max of VARCHAR compare the strings' bytes (DuckDB's default collation).
        if a.distinct && function != .count && function != .min && function != .max
          && function != .keySum
        {
          return nil
        }
        if (function == .sum || function == .avg) && !t.isNumeric { return nil }
        // A sum of keys of rows hashes an integer (a seq) as it is; a DISTINCT one reads its
        // twin's pairs, which must be there.
        if function == .keySum
          && (a.distinct
            ? a.twin.map { $0 >= aggs.count || aggs[$0].function != .count || !aggs[$0].distinct }
              ?? true
            : t == .varchar || t == .double || x.transform != .none)
        {
          return nil
        }
        note(x)
        o = x
      }
      var f: Predicate?
      if let filter = a.filter {
        guard let p = predicate(filter) else { return nil }
        f = p
      }
      aggs.append(
        Aggregate(
          function: function, operand: o,
          distinct: a.distinct && (function == .count || function == .keySum), filter: f,
          type: a.type, twin: function == .keySum && a.distinct ? a.twin : nil))
    }
    return FastAggregate(
      view: view, only: only, types: types, keys: keyOperands, keyTypes: keys.map(\.type),
      condition: condition, aggregates: aggs, operands: operands, constants: constants,
      join: join, rightCondition: rightCondition, rightOperands: rightOperands)
  }

  static func readsColumns(_ b: Bound) -> Bool {
    switch b {
    case .column: true
    case .constant: false
    case .arithmetic(_, let l, let r, _), .compare(_, let l, let r):
      readsColumns(l) || readsColumns(r)
    case .logic(_, let items): items.contains(where: readsColumns)
    case .not(let x), .negate(let x, _), .isNull(let x, _), .cast(let x, _): readsColumns(x)
    case .inList(let x, let l, _): readsColumns(x) || l.contains(where: readsColumns)
    case .like(let x, let p, _, _): readsColumns(x) || readsColumns(p)
    case .caseWhen(let w, let o, _):
      w.contains { readsColumns($0.0) || readsColumns($0.1) } || o.map(readsColumns) ?? false
    // A function of no column is still evaluated per row (it could be volatile).
    case .call: true
    }
  }

}

/// A literal's text as the store holds text: composed (NFC) when it has combining marks
/// (U+0300–U+037F: the bytes 0xCC and 0xCD, the rule of `append`), as it is otherwise. Most
/// literals have none, and skip Foundation's normalization, costly at its first use in a
/// process.
func precomposed(_ s: String) -> String {
  s.utf8.contains { $0 == 0xCC || $0 == 0xCD } ? s.precomposedStringWithCanonicalMapping : s
}

extension SQLError {
  static func memory(limit: Int) -> SQLError {
    SQLError(
      .limit,
      String(
        format:
          "the query needs more than its memory limit of %.1f GiB: add a filter, read fewer columns or groups, or raise HOSO_MEMORY_LIMIT",
        Double(limit) / Double(1 << 30)))
  }

  /// DuckDB sums BIGINTs into a HUGEINT; here a sum beyond 64 bits is an error, not a wrong
  /// answer.
  package static var sumOverflow: SQLError {
    SQLError(.outOfRange, "Overflow in SUM: the sum does not fit in a BIGINT; sum a DOUBLE instead")
  }
}
