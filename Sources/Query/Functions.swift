import Domain
import Foundation

/// Conversions between types, with DuckDB's text forms.
package enum Cast {
  package static func double(_ v: SQLValue) -> Double? {
    switch v {
    case .int(let i): Double(i)
    case .double(let d): d
    case .bool(let b): b ? 1 : 0
    default: nil
    }
  }

  /// DuckDB's text of a value: `2023-06-10 08:00:00` for a TIMESTAMP, `2023-06-10` for a
  /// DATE, the shortest round-tripping digits for a DOUBLE.
  package static func text(_ v: SQLValue) -> String {
    switch v {
    case .null: return "NULL"
    case .int(let i): return String(i)
    case .double(let d):
      if d.isNaN { return "nan" }
      if d.isInfinite { return d > 0 ? "inf" : "-inf" }
      if d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
      return "\(d)"
    case .bool(let b): return b ? "true" : "false"
    case .text(let s): return s
    case .timestamp(let t): return timestampText(t)
    case .interval(let v): return v.text
    case .date(let d):
      let (y, m, day) = Timestamp.civilFromDays(d)
      return String(format: "%04d-%02d-%02d", Int(y), Int(m), Int(day))
    }
  }

  package static func timestampText(_ t: Int64) -> String {
    let seconds = t >= 0 ? t / 1_000_000 : (t - 999_999) / 1_000_000
    let micros = t - seconds * 1_000_000
    var days = seconds / 86_400
    var rest = seconds % 86_400
    if rest < 0 {
      rest += 86_400
      days -= 1
    }
    let (y, m, d) = Timestamp.civilFromDays(days)
    var s = String(
      format: "%04d-%02d-%02d %02d:%02d:%02d", Int(y), Int(m), Int(d), Int(rest / 3600),
      Int(rest / 60 % 60), Int(rest % 60))
    if micros != 0 {
      var f = String(format: "%06d", Int(micros))
      while f.hasSuffix("0") { f.removeLast() }
      s += "." + f
    }
    return s
  }

  /// A TIMESTAMP literal: `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]` (a wall clock, no zone).
  package static func parseTimestamp(_ s: String) -> Int64? {
    let parts = s.trimmingCharacters(in: .whitespaces).split(
      separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
    guard let first = parts.first, let day = Timestamp.parseDate(Array(first.utf8)) else {
      return nil
    }
    var micros: Int64 = 0
    if parts.count == 2 {
      let hms = parts[1].split(separator: ":")
      guard (2...3).contains(hms.count), let h = Int64(hms[0]), let m = Int64(hms[1]),
        h < 24, m < 60
      else { return nil }
      var sec: Double = 0
      if hms.count == 3 {
        guard let s = Double(hms[2]), s >= 0, s < 60 else { return nil }
        sec = s
      }
      micros = (h * 3600 + m * 60) * 1_000_000 + Int64((sec * 1e6).rounded())
    }
    return day * 86_400_000_000 + micros
  }

  package static func value(_ v: SQLValue, to t: SQLType) throws(SQLError) -> SQLValue {
    if v.isNull { return .null }
    switch t {
    case .varchar: return .text(text(v))
    case .double:
      if let d = double(v) { return .double(d) }
      if case .text(let s) = v, let d = Double(s.trimmingCharacters(in: .whitespaces)) {
        return .double(d)
      }
    case .bigint:
      switch v {
      case .int: return v
      case .double(let d):
        guard d.isFinite, abs(d) < 9.2e18 else { break }
        return .int(Int64(d.rounded(.toNearestOrEven)))
      case .bool(let b): return .int(b ? 1 : 0)
      case .text(let s):
        if let i = Int64(s.trimmingCharacters(in: .whitespaces)) { return .int(i) }
      default: break
      }
    case .boolean:
      switch v {
      case .bool: return v
      case .int(let i): return .bool(i != 0)
      case .text(let s):
        switch s.lowercased() {
        case "true", "t", "1": return .bool(true)
        case "false", "f", "0": return .bool(false)
        default: break
        }
      default: break
      }
    case .timestamp:
      switch v {
      case .timestamp: return v
      case .date(let d): return .timestamp(d * 86_400_000_000)
      case .text(let s): if let t = parseTimestamp(s) { return .timestamp(t) }
      default: break
      }
    case .date:
      switch v {
      case .date: return v
      case .timestamp(let t): return .date(floorDiv(t, 86_400_000_000))
      case .text(let s):
        if let d = Timestamp.parseDate(Array(s.utf8)) { return .date(d) }
      default: break
      }
    case .interval:
      switch v {
      case .interval: return v
      case .text(let s): if let i = Interval.parse(s) { return .interval(i) }
      default: break
      }
    case .null: return .null
    }
    throw SQLError(
      .conversion, "Could not convert \(describe(v)) to \(t.rawValue)")
  }

  static func describe(_ v: SQLValue) -> String {
    if case .text(let s) = v { return "string '\(s)'" }
    return text(v)
  }
}

/// The scalar functions of DESIGN.md.
package enum Functions {
  /// Name → (argument count range, result type from argument types).
  static func resultType(_ name: String, _ args: [SQLType]) -> SQLType? {
    switch name {
    case "year", "month", "quarter", "day", "length": return .bigint
    case "lower", "upper", "strip_accents": return .varchar
    case "plan_period":
      // A time, or a year as the tables and views hold it (`year`, an integer); anything
      // else (a year as text, say) would be a NULL no one asked for.
      return [.timestamp, .date, .bigint, .null].contains(args.first) ? .varchar : nil
    case "date_trunc": return args.count == 2 ? (args[1] == .date ? .date : .timestamp) : nil
    case "date_diff": return .bigint
    case "round": return args.first == .bigint ? .bigint : .double
    case "abs": return args.first ?? .bigint
    case "coalesce":
      var t = SQLType.null
      for a in args where a != .null {
        t = t == .null ? a : (t == a ? t : (t.isNumeric && a.isNumeric ? .double : .varchar))
      }
      return t
    case "nullif": return args.first
    default: return nil
    }
  }

  static let arity: [String: ClosedRange<Int>] = [
    "year": 1...1, "month": 1...1, "quarter": 1...1, "day": 1...1, "length": 1...1,
    "lower": 1...1, "upper": 1...1, "strip_accents": 1...1, "plan_period": 1...1,
    "date_trunc": 2...2, "date_diff": 3...3, "round": 1...2, "abs": 1...1,
    "coalesce": 1...64, "nullif": 2...2,
  ]

  /// What a function takes, for the error when its arguments are of no type it does.
  static let takes: [String: String] = [
    "plan_period": "a DATE, a TIMESTAMP or a year (BIGINT)"
  ]

  static let aggregates: Set<String> = ["count", "sum", "avg", "min", "max"]

  static func scalar(_ name: String, _ args: [Vector], _ t: SQLType, _ n: Int)
    throws(SQLError) -> Vector
  {
    var out = Vector(type: t)
    out.reserve(n)
    for i in 0..<n {
      let vs = args.map { $0.value(i) }
      out.append(try apply(name, vs, t))
    }
    return out
  }

  static func wallParts(_ v: SQLValue) -> (Int64, Int64, Int64, Int64)? {
    switch v {
    case .timestamp(let t):
      let days = floorDiv(t, 86_400_000_000)
      let (y, m, d) = Timestamp.civilFromDays(days)
      return (y, m, d, t - days * 86_400_000_000)
    case .date(let days):
      let (y, m, d) = Timestamp.civilFromDays(days)
      return (y, m, d, 0)
    default: return nil
    }
  }

  static func apply(_ name: String, _ a: [SQLValue], _ t: SQLType) throws(SQLError) -> SQLValue {
    switch name {
    case "coalesce":
      return a.first { !$0.isNull }.map { Evaluator.coerce($0, to: t) } ?? .null
    case "nullif":
      if a[0].isNull { return .null }
      if !a[1].isNull && Evaluator.compareValues(a[0], a[1]) == 0 { return .null }
      return a[0]
    default: break
    }
    if a.contains(where: \.isNull) { return .null }
    switch name {
    case "year", "month", "quarter", "day":
      guard let (y, m, d, _) = wallParts(a[0]) else { return .null }
      switch name {
      case "year": return .int(y)
      case "month": return .int(m)
      case "quarter": return .int((m - 1) / 3 + 1)
      default: return .int(d)
      }
    case "length":
      if case .text(let s) = a[0] { return .int(Int64(s.count)) }
    case "lower": if case .text(let s) = a[0] { return .text(s.lowercased()) }
    case "upper": if case .text(let s) = a[0] { return .text(s.uppercased()) }
    case "strip_accents": if case .text(let s) = a[0] { return .text(stripAccents(s)) }
    case "plan_period":
      if case .int(let y) = a[0] { return .text(PlanPeriods.period(ofYear: y)) }
      guard let (y, _, _, _) = wallParts(a[0]) else { return .null }
      return .text(PlanPeriods.period(ofYear: y))
    case "abs":
      switch a[0] {
      case .int(let i):
        guard i != .min else { throw SQLError(.outOfRange, "Overflow on abs(\(i))") }
        return .int(abs(i))
      case .double(let d): return .double(abs(d))
      default: break
      }
    case "round":
      // Digits past what a double holds change nothing (and an enormous count is no Int).
      let digits =
        a.count > 1
        ? (Cast.double(a[1]).map { Int(max(-400, min(400, $0.rounded(.towardZero)))) } ?? 0) : 0
      if case .int = a[0], digits >= 0 { return a[0] }
      guard let d = Cast.double(a[0]) else { return .null }
      let f = pow(10.0, Double(digits))
      // DuckDB rounds half away from zero.
      return .double((d * f).rounded(.toNearestOrAwayFromZero) / f)
    case "date_trunc":
      guard case .text(let part) = a[0], let (y, m, d, _) = wallParts(a[1]) else { return .null }
      let (ty, tm, td): (Int64, Int64, Int64)
      switch part.lowercased() {
      case "year": (ty, tm, td) = (y, 1, 1)
      case "quarter": (ty, tm, td) = (y, (m - 1) / 3 * 3 + 1, 1)
      case "month": (ty, tm, td) = (y, m, 1)
      case "day": (ty, tm, td) = (y, m, d)
      default:
        throw SQLError(
          .invalidInput, "date_trunc: unknown part '\(part)' (year, quarter, month, day)")
      }
      let days = Timestamp.daysFromCivil(ty, tm, td)
      return t == .date ? .date(days) : .timestamp(days * 86_400_000_000)
    case "date_diff":
      guard case .text(let part) = a[0], let (y1, m1, _, _) = wallParts(a[1]),
        let (y2, m2, _, _) = wallParts(a[2])
      else { return .null }
      let t1 = micros(a[1])
      let t2 = micros(a[2])
      switch part.lowercased() {
      case "year": return .int(y2 - y1)
      case "quarter": return .int((y2 * 12 + m2 - 1) / 3 - (y1 * 12 + m1 - 1) / 3)
      case "month": return .int((y2 * 12 + m2) - (y1 * 12 + m1))
      case "day": return .int(floorDiv(t2, 86_400_000_000) - floorDiv(t1, 86_400_000_000))
      case "hour": return .int(floorDiv(t2, 3_600_000_000) - floorDiv(t1, 3_600_000_000))
      default:
        throw SQLError(
          .invalidInput, "date_diff: unknown part '\(part)' (year, quarter, month, day, hour)")
      }
    default: break
    }
    return .null
  }

  static func micros(_ v: SQLValue) -> Int64 {
    switch v {
    case .timestamp(let t): t
    case .date(let d): d * 86_400_000_000
    default: 0
    }
  }

  /// Vietnamese letters without their marks, đ and Đ as d and D.
  static func stripAccents(_ s: String) -> String {
    let decomposed = s.decomposedStringWithCanonicalMapping
    var out = String.UnicodeScalarView()
    for u in decomposed.unicodeScalars {
      if (0x300...0x36F).contains(u.value) { continue }
      switch u {
      case "đ": out.append("d")
      case "Đ": out.append("D")
      default: out.append(u)
      }
    }
    return String(out)
  }
}

/// The periods of the national programmes, from the `plans` table (national level): a year
/// that none covers is its own period. Each engine has its own, read when a statement first
/// asks for one (most never do).
///
/// A period is a matter of whole years: a year belongs to the programme in force on most of
/// its days (of two that overlap there, the later one: a new programme replaces the old), and
/// is its own period when it lies mostly outside every programme. A time is in the period of
/// its year. The views count by `year` and the reports by period, and `plan_period(year)` and
/// `plan_period(occurred_at)` must put every event in the same one, or a report's periods
/// would not add up to its years; the programmes run from 1 January to 31 December anyway.
///
/// `plan_period` finds the periods of the statement running on its thread: `Engine.run` sets
/// them for its thread, and the workers it starts for theirs. They were one global once, and
/// engines on two stores in one process (the tests run so) took each other's.
package final class PlanPeriods: @unchecked Sendable {
  /// A programme's first and last day (days since 1970-01-01), and its label (`2011-2015`).
  package typealias Period = (start: Int64, end: Int64, label: String)
  private let lock = NSLock()
  private let loader: @Sendable () -> [Period]
  private var loaded: [Int64: String]?

  /// Periods that `loader` reads at their first use.
  package init(_ loader: @escaping @Sendable () -> [Period]) {
    self.loader = loader
  }

  /// The period of each year that some programme is in force on most of.
  private var byYear: [Int64: String] {
    lock.withLock {
      if let loaded { return loaded }
      let years = Self.years(loader())
      loaded = years
      return years
    }
  }

  package func period(ofYear y: Int64) -> String {
    byYear[y] ?? String(y)
  }

  /// The label of each year that some period is in force on most of: the period with the
  /// most days of it, the later-starting of two with as many, if it has at least as many as
  /// the days under none.
  static func years(_ periods: [Period]) -> [Int64: String] {
    let periods = periods.filter { $0.start <= $0.end }.sorted { $0.start < $1.start }
    var out: [Int64: String] = [:]
    for p in periods {
      for y in Timestamp.civilFromDays(p.start).0...Timestamp.civilFromDays(p.end).0
      where out[y] == nil {
        let first = Timestamp.daysFromCivil(y, 1, 1)
        let last = Timestamp.daysFromCivil(y, 12, 31)
        func days(_ q: Period) -> Int64 { max(0, min(q.end, last) - max(q.start, first) + 1) }
        // The days under some programme, however many overlap (in order of their start).
        var covered: Int64 = 0
        var reached = first - 1
        for q in periods where days(q) > 0 && min(q.end, last) > reached {
          covered += min(q.end, last) - max(q.start, reached + 1) + 1
          reached = min(q.end, last)
        }
        var best: Period?
        for q in periods where days(q) > 0 && days(q) >= best.map(days) ?? 0 { best = q }
        if let best, days(best) >= last - first + 1 - covered { out[y] = best.label }
      }
    }
    return out
  }

  /// The period of year `y` under the periods of the statement running on this thread.
  package static func period(ofYear y: Int64) -> String {
    current.map { $0.period(ofYear: y) } ?? String(y)
  }

  /// The periods of the statement running on this thread.
  package static var current: PlanPeriods? {
    guard let p = pthread_getspecific(key) else { return nil }
    return Unmanaged<PlanPeriods>.fromOpaque(p).takeUnretainedValue()
  }

  /// Runs `body` with `periods` as this thread's, then restores the ones before.
  package static func with<R, E: Error>(
    _ periods: PlanPeriods?, _ body: () throws(E) -> R
  ) throws(E) -> R {
    let before = pthread_getspecific(key)
    pthread_setspecific(key, periods.map { Unmanaged.passUnretained($0).toOpaque() })
    defer { pthread_setspecific(key, before) }
    return try withExtendedLifetime(periods) { () throws(E) -> R in try body() }
  }

  private static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
  }()
}
