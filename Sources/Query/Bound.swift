import Domain
import Foundation

/// An expression with its names resolved and its type known, evaluated a batch at a time.
package indirect enum Bound: Sendable {
  case column(Int, SQLType)
  case constant(SQLValue, SQLType)
  case arithmetic(String, Bound, Bound, SQLType)
  case compare(String, Bound, Bound)
  case logic(String, [Bound])
  case not(Bound)
  case negate(Bound, SQLType)
  case isNull(Bound, negated: Bool)
  case inList(Bound, [Bound], negated: Bool)
  case like(Bound, Bound, negated: Bool, caseInsensitive: Bool)
  case caseWhen([(Bound, Bound)], otherwise: Bound?, SQLType)
  case cast(Bound, SQLType)
  case call(String, [Bound], SQLType)

  package var type: SQLType {
    switch self {
    case .column(_, let t), .constant(_, let t), .arithmetic(_, _, _, let t), .negate(_, let t),
      .caseWhen(_, _, let t), .cast(_, let t), .call(_, _, let t):
      t
    case .compare, .logic, .not, .isNull, .inList, .like: .boolean
    }
  }
}

/// Evaluates bound expressions over batches, with DuckDB's semantics: NULL in, NULL out
/// (three-valued logic for AND, OR, NOT), `/` real division, `//` integer division, integer
/// overflow an error, division by zero NULL.
package enum Evaluator {
  package static func eval(_ e: Bound, _ b: Batch) throws(SQLError) -> Vector {
    switch e {
    case .column(let i, _): return b.columns[i]
    case .constant(let v, let t):
      var out = Vector(type: t)
      out.reserve(b.count)
      for _ in 0..<b.count { out.append(v) }
      if t == .null { out.nulls = Array(repeating: true, count: b.count) }
      return out
    case .arithmetic(let op, let l, let r, let t):
      return try arithmetic(op, try eval(l, b), try eval(r, b), t, b.count)
    case .negate(let x, let t):
      let v = try eval(x, b)
      return try map(v, t, b.count) { value throws(SQLError) in
        switch value {
        case .int(let i):
          guard i != .min else { throw SQLError(.outOfRange, "Overflow in negation of INT64") }
          return .int(-i)
        case .double(let d): return .double(-d)
        default: return .null
        }
      }
    case .compare(let op, let l, let r):
      let lv = try eval(l, b)
      let rv = try eval(r, b)
      var out = Vector(type: .boolean)
      out.reserve(b.count)
      for i in 0..<b.count {
        let x = lv.value(i)
        let y = rv.value(i)
        if x.isNull || y.isNull {
          out.append(.null)
          continue
        }
        let c = compareValues(x, y)
        let r: Bool
        switch op {
        case "=": r = c == 0
        case "<>": r = c != 0
        case "<": r = c < 0
        case "<=": r = c <= 0
        case ">": r = c > 0
        default: r = c >= 0
        }
        out.append(.bool(r))
      }
      return out
    case .logic(let op, let items):
      let vs = try items.map { (x: Bound) throws(SQLError) -> Vector in try eval(x, b) }
      var out = Vector(type: .boolean)
      for i in 0..<b.count {
        var sawNull = false
        var result = op == "AND"
        for v in vs {
          if v.isNull(i) {
            sawNull = true
          } else if (v.ints[i] != 0) != (op == "AND") {
            result = op != "AND"
            sawNull = false
            break
          }
        }
        out.append(sawNull ? .null : .bool(result))
      }
      return out
    case .not(let x):
      return try map(try eval(x, b), .boolean, b.count) { v in
        if case .bool(let t) = v { return .bool(!t) }
        return .null
      }
    case .isNull(let x, let negated):
      let v = try eval(x, b)
      var out = Vector(type: .boolean)
      for i in 0..<b.count { out.append(.bool(v.isNull(i) != negated)) }
      return out
    case .inList(let x, let list, let negated):
      let v = try eval(x, b)
      let items = try list.map { (l: Bound) throws(SQLError) -> Vector in try eval(l, b) }
      var out = Vector(type: .boolean)
      for i in 0..<b.count {
        let value = v.value(i)
        if value.isNull {
          out.append(.null)
          continue
        }
        var found = false
        var sawNull = false
        for item in items {
          let y = item.value(i)
          if y.isNull {
            sawNull = true
          } else if compareValues(value, y) == 0 {
            found = true
            break
          }
        }
        out.append(found ? .bool(!negated) : sawNull ? .null : .bool(negated))
      }
      return out
    case .like(let x, let p, let negated, let insensitive):
      let v = try eval(x, b)
      let pv = try eval(p, b)
      var out = Vector(type: .boolean)
      for i in 0..<b.count {
        guard case .text(let s) = v.value(i), case .text(let pattern) = pv.value(i) else {
          out.append(.null)
          continue
        }
        let m =
          insensitive
          ? Like.matches(s.lowercased(), pattern.lowercased()) : Like.matches(s, pattern)
        out.append(.bool(m != negated))
      }
      return out
    case .caseWhen(let whens, let otherwise, let t):
      let conditions = try whens.map { (w: (Bound, Bound)) throws(SQLError) -> (Vector, Vector) in
        (try eval(w.0, b), try eval(w.1, b))
      }
      let other = try otherwise.map { (o: Bound) throws(SQLError) -> Vector in try eval(o, b) }
      var out = Vector(type: t)
      for i in 0..<b.count {
        var done = false
        for (c, v) in conditions where !c.isNull(i) && c.ints[i] != 0 {
          out.append(coerce(v.value(i), to: t))
          done = true
          break
        }
        if !done { out.append(other.map { coerce($0.value(i), to: t) } ?? .null) }
      }
      return out
    case .cast(let x, let t):
      let v = try eval(x, b)
      return try map(v, t, b.count) { value throws(SQLError) in try Cast.value(value, to: t) }
    case .call(let name, let args, let t):
      let vs = try args.map { (a: Bound) throws(SQLError) -> Vector in try eval(a, b) }
      return try Functions.scalar(name, vs, t, b.count)
    }
  }

  static func map(
    _ v: Vector, _ t: SQLType, _ n: Int, _ f: (SQLValue) throws(SQLError) -> SQLValue
  ) throws(SQLError) -> Vector {
    var out = Vector(type: t)
    out.reserve(n)
    for i in 0..<n { out.append(try f(v.value(i))) }
    return out
  }

  static func coerce(_ v: SQLValue, to t: SQLType) -> SQLValue {
    if t == .double, case .int(let i) = v { return .double(Double(i)) }
    return v
  }

  /// The days a DATE may be: as far as a TIMESTAMP reaches (about 292,000 years either way),
  /// so that every date is also a time.
  static let dateRange: ClosedRange<Int64> = -106_751_990...106_751_990

  /// A date from date arithmetic, or an error when it overflowed or left `dateRange`.
  static func date(_ r: (partialValue: Int64, overflow: Bool)) throws(SQLError) -> SQLValue {
    guard !r.overflow, dateRange.contains(r.partialValue) else {
      throw SQLError(.outOfRange, "DATE out of range")
    }
    return .date(r.partialValue)
  }

  static func arithmetic(
    _ op: String, _ l: Vector, _ r: Vector, _ t: SQLType, _ n: Int
  ) throws(SQLError) -> Vector {
    var out = Vector(type: t)
    out.reserve(n)
    for i in 0..<n {
      let x = l.value(i)
      let y = r.value(i)
      if x.isNull || y.isNull {
        out.append(.null)
        continue
      }
      out.append(try arithmetic(op, x, y, t))
    }
    return out
  }

  static func arithmetic(_ op: String, _ x: SQLValue, _ y: SQLValue, _ t: SQLType)
    throws(SQLError) -> SQLValue
  {
    if case .text(let a) = x, case .text(let b) = y, op == "||" { return .text(a + b) }
    if op == "||" { return .text(Cast.text(x) + Cast.text(y)) }
    switch (x, y) {
    case (.int(let a), .int(let b)) where t == .bigint:
      switch op {
      case "+":
        let (v, o) = a.addingReportingOverflow(b)
        if o { throw SQLError(.outOfRange, "Overflow in addition of INT64 (\(a) + \(b))!") }
        return .int(v)
      case "-":
        let (v, o) = a.subtractingReportingOverflow(b)
        if o { throw SQLError(.outOfRange, "Overflow in subtraction of INT64 (\(a) - \(b))!") }
        return .int(v)
      case "*":
        let (v, o) = a.multipliedReportingOverflow(by: b)
        if o {
          throw SQLError(.outOfRange, "Overflow in multiplication of INT64 (\(a) * \(b))!")
        }
        return .int(v)
      case "//":
        if b == 0 { throw divisionByZero(x, op, y) }
        if a == .min && b == -1 { throw SQLError(.outOfRange, "Overflow in division of INT64") }
        // DuckDB's // truncates toward zero for integers.
        return .int(a / b)
      case "%":
        if b == 0 { throw divisionByZero(x, op, y) }
        return .int(b == -1 ? 0 : a % b)
      default: break
      }
    case (.timestamp(let a), .timestamp(let b)) where op == "-":
      let (d, o) = a.subtractingReportingOverflow(b)
      if o { throw SQLError(.outOfRange, "Overflow in subtraction of TIMESTAMP") }
      return .interval(
        Interval(days: Int32(d / 86_400_000_000), micros: d % 86_400_000_000))
    case (.date(let a), .date(let b)) where op == "-":
      let (d, o) = a.subtractingReportingOverflow(b)
      if o { throw SQLError(.outOfRange, "Overflow in subtraction of DATE") }
      return .int(d)
    case (.date(let a), .int(let b)) where t == .date:
      return try date(op == "-" ? a.subtractingReportingOverflow(b) : a.addingReportingOverflow(b))
    case (.int(let a), .date(let b)) where t == .date:
      return try date(b.addingReportingOverflow(a))
    case (.timestamp(let a), .interval(let v)): return .timestamp(try shift(a, by: v, op == "-"))
    case (.date(let a), .interval(let v)):
      return .timestamp(try shift(a * 86_400_000_000, by: v, op == "-"))
    case (.interval(let v), .timestamp(let a)): return .timestamp(try shift(a, by: v, false))
    case (.interval(let v), .date(let a)):
      return .timestamp(try shift(a * 86_400_000_000, by: v, false))
    case (.interval(let a), .interval(let b)):
      let sign: Int64 = op == "-" ? -1 : 1
      return .interval(
        Interval(
          months: Int32(clamping: Int64(a.months) + sign * Int64(b.months)),
          days: Int32(clamping: Int64(a.days) + sign * Int64(b.days)),
          micros: a.micros &+ sign &* b.micros))
    case (.interval(let v), .int(let k)), (.int(let k), .interval(let v)):
      return .interval(
        Interval(
          months: Int32(clamping: Int64(v.months) * k), days: Int32(clamping: Int64(v.days) * k),
          micros: v.micros.multipliedReportingOverflow(by: k).partialValue))
    default: break
    }
    guard let a = Cast.double(x), let b = Cast.double(y) else { return .null }
    switch op {
    case "+": return .double(a + b)
    case "-": return .double(a - b)
    case "*": return .double(a * b)
    // As DuckDB 2.0: `/` is IEEE division (1 / 0 is inf); `//` and `%` by zero are errors;
    // `//` of doubles divides without rounding.
    case "/": return .double(a / b)
    case "//":
      if b == 0 { throw divisionByZero(x, op, y) }
      return .double(a / b)
    case "%":
      if b == 0 { throw divisionByZero(x, op, y) }
      return .double(a.truncatingRemainder(dividingBy: b))
    default: return .null
    }
  }

  /// A timestamp moved by an interval: months on the calendar (the day kept, or the month's
  /// last when it has fewer: 31 January + 1 month is 29 February in a leap year), then days,
  /// then microseconds; as DuckDB does.
  static func shift(_ t: Int64, by v: Interval, _ back: Bool) throws(SQLError) -> Int64 {
    let sign: Int64 = back ? -1 : 1
    var days = floorDiv(t, 86_400_000_000)
    let time = t - days * 86_400_000_000
    if v.months != 0 {
      let (y, m, d) = Timestamp.civilFromDays(days)
      let total = y * 12 + (m - 1) + sign * Int64(v.months)
      let ny = floorDiv(total, 12)
      let nm = total - ny * 12 + 1
      days = Timestamp.daysFromCivil(ny, nm, min(d, Timestamp.daysInMonth(ny, nm)))
    }
    days += sign * Int64(v.days)
    let (a, o1) = days.multipliedReportingOverflow(by: 86_400_000_000)
    let (b, o2) = a.addingReportingOverflow(time)
    let (c, o3) = b.addingReportingOverflow(sign * v.micros)
    if o1 || o2 || o3 { throw SQLError(.outOfRange, "Overflow in TIMESTAMP + INTERVAL") }
    return c
  }

  static func divisionByZero(_ x: SQLValue, _ op: String, _ y: SQLValue) -> SQLError {
    SQLError(
      .invalidInput,
      "Division by zero in expression (\(Cast.text(x)) \(op) \(Cast.text(y))); use nullif(divisor, 0)"
        + " to make it NULL")
  }

  /// -1, 0, 1: numbers by value (BIGINT and DOUBLE together), text by bytes (DuckDB's
  /// default collation), booleans false < true, times by instant.
  package static func compareValues(_ x: SQLValue, _ y: SQLValue) -> Int {
    switch (x, y) {
    case (.int(let a), .int(let b)), (.timestamp(let a), .timestamp(let b)),
      (.date(let a), .date(let b)):
      return a < b ? -1 : a > b ? 1 : 0
    case (.text(let a), .text(let b)):
      if a == b { return 0 }
      return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    case (.bool(let a), .bool(let b)):
      return a == b ? 0 : (a ? 1 : -1)
    case (.interval(let a), .interval(let b)):
      let (x, y) = (a.normalized, b.normalized)
      return x < y ? -1 : x > y ? 1 : 0
    case (.date(let d), .timestamp(let t)):
      return compareValues(.timestamp(d * 86_400_000_000), .timestamp(t))
    case (.timestamp(let t), .date(let d)):
      return compareValues(.timestamp(t), .timestamp(d * 86_400_000_000))
    default:
      guard let a = Cast.double(x), let b = Cast.double(y) else { return 0 }
      if a.isNaN || b.isNaN { return a.isNaN ? (b.isNaN ? 0 : 1) : -1 }
      return a < b ? -1 : a > b ? 1 : 0
    }
  }
}

/// SQL LIKE: `%` any run, `_` one character, no escape character.
enum Like {
  static func matches(_ s: String, _ p: String) -> Bool {
    let s = Array(s)
    let p = Array(p)
    var si = 0
    var pi = 0
    var star = -1
    var mark = 0
    while si < s.count {
      if pi < p.count && (p[pi] == "_" || (p[pi] != "%" && p[pi] == s[si])) {
        si += 1
        pi += 1
      } else if pi < p.count && p[pi] == "%" {
        star = pi
        mark = si
        pi += 1
      } else if star >= 0 {
        pi = star + 1
        mark += 1
        si = mark
      } else {
        return false
      }
    }
    while pi < p.count && p[pi] == "%" { pi += 1 }
    return pi == p.count
  }
}
