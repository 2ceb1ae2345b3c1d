import Foundation

/// The types of the engine, as DuckDB names them.
package enum SQLType: String, Sendable, Equatable {
  case bigint = "BIGINT"
  case double = "DOUBLE"
  case boolean = "BOOLEAN"
  case varchar = "VARCHAR"
  /// Microseconds since 1970-01-01 of a wall clock (no zone).
  case timestamp = "TIMESTAMP"
  /// Days since 1970-01-01.
  case date = "DATE"
  /// Months, days and microseconds (DuckDB's three parts: a month is not a fixed number of
  /// days, nor a day of microseconds across a clock change).
  case interval = "INTERVAL"
  /// The type of a bare NULL, until something gives it one.
  case null = "NULL"

  package var isNumeric: Bool { self == .bigint || self == .double }
  /// Stored in `ints`.
  var isInteger: Bool { self == .bigint || self == .timestamp || self == .date || self == .boolean }
}

/// One value, for constants and results.
package enum SQLValue: Equatable, Hashable, Sendable {
  case null
  case int(Int64)
  case double(Double)
  case bool(Bool)
  case text(String)
  case timestamp(Int64)
  case date(Int64)
  case interval(Interval)

  package var isNull: Bool { self == .null }
}

/// A column of a batch: one array per representation, and which rows are NULL.
package struct Vector: Sendable {
  package var type: SQLType
  package var ints: [Int64] = []
  package var doubles: [Double] = []
  package var strings: [String] = []
  /// INTERVAL: the months and days of each (`ints` holds the microseconds).
  package var spans: [Interval.Calendar] = []
  /// nil: no NULLs.
  package var nulls: [Bool]?

  package init(type: SQLType) { self.type = type }

  package var count: Int {
    switch type {
    case .double: doubles.count
    case .varchar: strings.count
    case .null: nulls?.count ?? 0
    default: ints.count
    }
  }

  @inline(__always)
  package func isNull(_ i: Int) -> Bool { nulls?[i] ?? false }

  package mutating func reserve(_ n: Int) {
    switch type {
    case .double: doubles.reserveCapacity(n)
    case .varchar: strings.reserveCapacity(n)
    case .null: break
    case .interval:
      ints.reserveCapacity(n)
      spans.reserveCapacity(n)
    default: ints.reserveCapacity(n)
    }
  }

  /// Appends a value (of this vector's type, or NULL).
  package mutating func append(_ v: SQLValue) {
    let row = count
    var null = false
    switch (type, v) {
    case (_, .null):
      null = true
      switch type {
      case .double: doubles.append(0)
      case .varchar: strings.append("")
      case .null: break
      case .interval:
        ints.append(0)
        spans.append(.init())
      default: ints.append(0)
      }
    case (.double, .double(let d)): doubles.append(d)
    case (.double, .int(let i)): doubles.append(Double(i))
    case (.varchar, .text(let s)): strings.append(s)
    case (.interval, .interval(let v)):
      ints.append(v.micros)
      spans.append(.init(months: v.months, days: v.days))
    case (.boolean, .bool(let b)): ints.append(b ? 1 : 0)
    case (_, .int(let i)), (_, .timestamp(let i)), (_, .date(let i)): ints.append(i)
    case (_, .bool(let b)): ints.append(b ? 1 : 0)
    default: preconditionFailure("\(v) into a \(type.rawValue) vector")
    }
    if null {
      if nulls == nil { nulls = Array(repeating: false, count: row) }
      nulls!.append(true)
    } else if nulls != nil {
      nulls!.append(false)
    }
  }

  package func value(_ i: Int) -> SQLValue {
    if isNull(i) || type == .null { return .null }
    switch type {
    case .bigint: return .int(ints[i])
    case .double: return .double(doubles[i])
    case .boolean: return .bool(ints[i] != 0)
    case .varchar: return .text(strings[i])
    case .timestamp: return .timestamp(ints[i])
    case .date: return .date(ints[i])
    case .interval:
      return .interval(Interval(months: spans[i].months, days: spans[i].days, micros: ints[i]))
    case .null: return .null
    }
  }

  /// The rows of `selection`, in that order.
  package func gather(_ selection: [Int]) -> Vector {
    var out = Vector(type: type)
    switch type {
    case .double: out.doubles = selection.map { doubles[$0] }
    case .varchar: out.strings = selection.map { strings[$0] }
    case .null: break
    case .interval:
      out.ints = selection.map { ints[$0] }
      out.spans = selection.map { spans[$0] }
    default: out.ints = selection.map { ints[$0] }
    }
    if let nulls { out.nulls = selection.map { nulls[$0] } }
    if type == .null { out.nulls = Array(repeating: true, count: selection.count) }
    return out
  }

  static func nulls(_ type: SQLType, count: Int) -> Vector {
    var v = Vector(type: type)
    for _ in 0..<count { v.append(.null) }
    if type == .null { v.nulls = Array(repeating: true, count: count) }
    return v
  }
}

/// Rows of a few columns: what operators pass to one another.
package struct Batch: Sendable {
  package var columns: [Vector]
  package var count: Int

  package init(columns: [Vector], count: Int) {
    self.columns = columns
    self.count = count
  }

  package func gather(_ selection: [Int]) -> Batch {
    Batch(columns: columns.map { $0.gather(selection) }, count: selection.count)
  }
}

/// An INTERVAL: months, days and microseconds, each signed, as DuckDB keeps them.
package struct Interval: Equatable, Hashable, Sendable {
  package struct Calendar: Equatable, Hashable, Sendable {
    var months: Int32 = 0
    var days: Int32 = 0
  }
  package var months: Int32
  package var days: Int32
  package var micros: Int64

  package init(months: Int32 = 0, days: Int32 = 0, micros: Int64 = 0) {
    self.months = months
    self.days = days
    self.micros = micros
  }

  /// For ordering and equality, as DuckDB normalizes: a month is 30 days, a day 24 hours.
  var normalized: (Int64, Int64) {
    let total = Int64(months) * 30 + Int64(days) + micros / 86_400_000_000
    return (total, micros % 86_400_000_000)
  }

  /// `'20 days'`, `'1 year 2 months'`, `'3 hours 30 minutes'`, `'1 day 02:00:00'`, `'-5 days'`,
  /// `'2 weeks'`: what DuckDB reads after `INTERVAL`.
  package static func parse(_ text: String) -> Interval? {
    var v = Interval()
    let words = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "," })
    var i = 0
    var any = false
    while i < words.count {
      let w = String(words[i])
      if w.contains(":") {
        // [-]HH:MM[:SS[.ffffff]]
        let negative = w.hasPrefix("-")
        let parts = w.drop(while: { $0 == "-" || $0 == "+" }).split(
          separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let h = Int64(parts[0]),
          h < 1 << 32, let m = Int64(parts[1]), (0..<60).contains(m)
        else { return nil }
        var micros = (h * 60 + m) * 60_000_000
        if parts.count == 3 {
          guard let sec = Double(parts[2]), (0..<60).contains(sec) else { return nil }
          micros += Int64((sec * 1_000_000).rounded())
        }
        v.micros += negative ? -micros : micros
        any = true
        i += 1
        continue
      }
      guard let n = Double(w), i + 1 < words.count else { return nil }
      var unit = String(words[i + 1])
      if unit.hasSuffix("s") && unit.count > 1 { unit.removeLast() }
      let whole = n.rounded(.towardZero) == n
      // A part past what an interval holds is no interval (not a crash).
      func add(_ x: Double, to part: inout Int32) -> Bool {
        guard let k = Int32(exactly: x.rounded(.towardZero)) else { return false }
        let (sum, overflow) = part.addingReportingOverflow(k)
        part = sum
        return !overflow
      }
      func add(_ x: Double, to part: inout Int64) -> Bool {
        guard let k = Int64(exactly: x.rounded()) else { return false }
        let (sum, overflow) = part.addingReportingOverflow(k)
        part = sum
        return !overflow
      }
      let fits: Bool
      switch unit {
      case "year", "yr", "y": fits = whole && add(n * 12, to: &v.months)
      case "month", "mon": fits = whole && add(n, to: &v.months)
      case "week", "w": fits = add(n * 7, to: &v.days)
      case "day", "d": fits = whole && add(n, to: &v.days)
      case "hour", "h", "hr": fits = add(n * 3_600_000_000, to: &v.micros)
      case "minute", "min", "m": fits = add(n * 60_000_000, to: &v.micros)
      case "second", "sec", "s": fits = add(n * 1_000_000, to: &v.micros)
      case "millisecond", "ms": fits = add(n * 1_000, to: &v.micros)
      case "microsecond", "us": fits = add(n, to: &v.micros)
      default: return nil
      }
      guard fits else { return nil }
      any = true
      i += 2
    }
    return any ? v : nil
  }

  /// DuckDB's text: `1 year 2 months 3 days 04:05:06`, parts that are zero left out,
  /// `00:00:00` for nothing at all.
  package var text: String {
    var parts: [String] = []
    func unit(_ n: Int64, _ name: String) {
      if n != 0 { parts.append("\(n) \(name)\(n == 1 || n == -1 ? "" : "s")") }
    }
    unit(Int64(months) / 12, "year")
    unit(Int64(months) % 12, "month")
    unit(Int64(days), "day")
    if micros != 0 || parts.isEmpty {
      let m = micros.magnitude
      let seconds = m / 1_000_000
      var t =
        (micros < 0 ? "-" : "")
        + [seconds / 3600, seconds / 60 % 60, seconds % 60].map {
          $0 < 10 ? "0\($0)" : "\($0)"
        }.joined(separator: ":")
      if m % 1_000_000 != 0 {
        var f = String(m % 1_000_000)
        f = String(repeating: "0", count: 6 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        t += "." + f
      }
      parts.append(t)
    }
    return parts.joined(separator: " ")
  }
}
