import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Times as hoso stores them: microseconds since 1970-01-01T00:00:00Z.
///
/// Parsing is strict ISO 8601 / RFC 3339 with a required offset (an event without one would
/// be ambiguous by seven hours); formatting is canonical: Vietnam local time, `+07:00`, with
/// a fraction only when there is one.
package enum Timestamp {
  /// Vietnam's offset from UTC: +07:00, no daylight saving.
  package static let vietnamOffsetSeconds: Int64 = 7 * 3600
  /// The earliest time an event may carry: 2000-01-01T00:00:00+07:00.
  package static let earliest: Int64 =
    (daysFromCivil(2000, 1, 1) * 86400 - vietnamOffsetSeconds)
    * 1_000_000

  /// Why a time did not parse, as a phrase for an error message.
  package enum Problem: Error, Equatable, Sendable {
    case syntax
    case missingOffset
    case outOfRange(String)
    case tooPrecise

    package var text: String {
      switch self {
      case .syntax: "is not an ISO 8601 time like 2024-03-01T09:30:00+07:00"
      case .missingOffset: "has no offset; add one, +07:00 for Vietnam"
      case .outOfRange(let part): "has an impossible \(part)"
      case .tooPrecise: "has more than 6 fractional digits (hoso keeps microseconds)"
      }
    }
  }

  /// Days from 1970-01-01 to a civil date.
  package static func daysFromCivil(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    CivilCalendar.days(year: y, month: m, day: d)
  }

  /// The civil date of a day count since 1970-01-01.
  package static func civilFromDays(_ z: Int64) -> (year: Int64, month: Int64, day: Int64) {
    CivilCalendar.date(days: z)
  }

  package static func daysInMonth(_ year: Int64, _ month: Int64) -> Int64 {
    switch month {
    case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`.
  package static func parse(_ s: some Collection<UInt8>) -> Result<Int64, Problem> {
    Array(s).withUnsafeBytes { parse($0) }
  }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)` from raw bytes, without allocating.
  package static func parse(_ b: UnsafeRawBufferPointer) -> Result<Int64, Problem> {
    func digits(_ at: Int, _ n: Int) -> Int64? {
      guard at + n <= b.count else { return nil }
      var v: Int64 = 0
      for i in at..<(at + n) {
        let c = b[i]
        guard c >= 0x30 && c <= 0x39 else { return nil }
        v = v * 10 + Int64(c - 0x30)
      }
      return v
    }
    guard b.count >= 19, let year = digits(0, 4), b[4] == 0x2D, let month = digits(5, 2),
      b[7] == 0x2D, let day = digits(8, 2), b[10] == 0x54 || b[10] == 0x74,
      let hour = digits(11, 2), b[13] == 0x3A, let minute = digits(14, 2), b[16] == 0x3A,
      let second = digits(17, 2)
    else { return .failure(.syntax) }
    guard (1...12).contains(month) else { return .failure(.outOfRange("month")) }
    guard day >= 1 && day <= daysInMonth(year, month) else { return .failure(.outOfRange("day")) }
    guard hour <= 23 else { return .failure(.outOfRange("hour")) }
    guard minute <= 59 else { return .failure(.outOfRange("minute")) }
    guard second <= 59 else { return .failure(.outOfRange("second")) }
    var i = 19
    var micros: Int64 = 0
    if i < b.count && b[i] == 0x2E {
      i += 1
      var n = 0
      while i < b.count, b[i] >= 0x30, b[i] <= 0x39 {
        if n < 6 {
          micros = micros * 10 + Int64(b[i] - 0x30)
        } else if b[i] != 0x30 {
          return .failure(.tooPrecise)
        }
        n += 1
        i += 1
      }
      guard n > 0 else { return .failure(.syntax) }
      for _ in min(n, 6)..<6 { micros *= 10 }
    }
    guard i < b.count else { return .failure(.missingOffset) }
    var offset: Int64 = 0
    if b[i] == 0x5A || b[i] == 0x7A {
      i += 1
    } else if b[i] == 0x2B || b[i] == 0x2D {
      let sign: Int64 = b[i] == 0x2D ? -1 : 1
      guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == 0x3A,
        let om = digits(i + 4, 2)
      else { return .failure(.syntax) }
      guard oh <= 14, om <= 59 else { return .failure(.outOfRange("offset")) }
      offset = sign * (oh * 3600 + om * 60)
      i += 6
    } else {
      return .failure(.syntax)
    }
    guard i == b.count else { return .failure(.syntax) }
    let days = daysFromCivil(year, month, day)
    let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    return .success(seconds * 1_000_000 + micros)
  }

  /// Parses a calendar date `YYYY-MM-DD` to its day count since 1970-01-01.
  package static func parseDate(_ s: some Collection<UInt8>) -> Int64? {
    Array(s).withUnsafeBytes { parseDate($0) }
  }

  package static func parseDate(_ b: UnsafeRawBufferPointer) -> Int64? {
    guard b.count == 10, b[4] == 0x2D, b[7] == 0x2D else { return nil }
    func num(_ r: Range<Int>) -> Int64? {
      var v: Int64 = 0
      for i in r {
        guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
        v = v * 10 + Int64(b[i] - 0x30)
      }
      return v
    }
    guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), (1...12).contains(m),
      d >= 1, d <= daysInMonth(y, m)
    else { return nil }
    return daysFromCivil(y, m, d)
  }

  /// The canonical text of a time: Vietnam local time with `+07:00`.
  package static func format(_ micros: Int64) -> String {
    var out: [UInt8] = []
    append(micros, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Appends the canonical text of a time to `out` (no allocation of its own).
  package static func append(_ micros: Int64, to out: inout [UInt8]) {
    let local = micros + vietnamOffsetSeconds * 1_000_000
    var seconds = local / 1_000_000
    var fraction = local % 1_000_000
    if fraction < 0 {
      fraction += 1_000_000
      seconds -= 1
    }
    var days = seconds / 86400
    var rest = seconds % 86400
    if rest < 0 {
      rest += 86400
      days -= 1
    }
    let (y, m, d) = civilFromDays(days)
    // Fixed width: "YYYY-MM-DDTHH:MM:SS", then ".ffffff" if any, then "+07:00".
    let width = 19 + (fraction != 0 ? 7 : 0) + 6
    let start = out.count
    out.append(contentsOf: repeatElement(0x30, count: width))
    out.withUnsafeMutableBufferPointer { b in
      func put(_ v: Int64, _ at: Int, _ n: Int) {
        var x = v
        for k in stride(from: start + at + n - 1, through: start + at, by: -1) {
          b[k] = 0x30 + UInt8(truncatingIfNeeded: x % 10)
          x /= 10
        }
      }
      put(y, 0, 4)
      b[start + 4] = 0x2D
      put(m, 5, 2)
      b[start + 7] = 0x2D
      put(d, 8, 2)
      b[start + 10] = 0x54
      put(rest / 3600, 11, 2)
      b[start + 13] = 0x3A
      put(rest / 60 % 60, 14, 2)
      b[start + 16] = 0x3A
      put(rest % 60, 17, 2)
      var at = start + 19
      if fraction != 0 {
        b[at] = 0x2E
        put(fraction, 20, 6)
        at += 7
      }
      b[at] = 0x2B
      b[at + 1] = 0x30
      b[at + 2] = 0x37
      b[at + 3] = 0x3A
      b[at + 4] = 0x30
      b[at + 5] = 0x30
    }
  }

  /// Now, in microseconds since the epoch. `clock_gettime(CLOCK_REALTIME)`.
  package static func now() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
  }
}

/// `a / b` rounded toward negative infinity (Swift's `/` truncates toward zero).
package func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
  let q = a / b
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// `n` in decimal, with zeros in front to `width` digits.
package func pad(_ n: Int, _ width: Int) -> String {
  let s = String(n)
  return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
