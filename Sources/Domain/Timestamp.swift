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
    if let t = parseCanonical(b) { return .success(t) }
    return parseAny(b)
  }

  /// The canonical form alone, `YYYY-MM-DDTHH:MM:SS+07:00`, as nearly every input writes it:
  /// the separators in one compare, the digits a word at a time. Nil for anything else (the
  /// general parser then decides, and names the problem).
  @inline(__always)
  private static func parseCanonical(_ b: UnsafeRawBufferPointer) -> Int64? {
    guard b.count == 25, let p = b.baseAddress else { return nil }
    let w0 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    let w1 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    let w2 = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    let last = p.load(fromByteOffset: 24, as: UInt8.self)
    // "YYYY-MM-" "DDTHH:MM" ":SS+07:0" "0": the fixed bytes, then every other byte a digit.
    let shape0: UInt64 = 0x2D00_002D_0000_0000  // bytes 4 and 7 are '-'
    let shape1: UInt64 = 0x0000_3A00_0054_0000  // byte 10 'T', byte 13 ':'
    let shape2: UInt64 = 0x303A_3730_2B00_003A  // ':' SS '+' '0' '7' ':' '0'
    let mask0: UInt64 = 0xFF00_00FF_0000_0000
    let mask1: UInt64 = 0x0000_FF00_00FF_0000
    let mask2: UInt64 = 0xFFFF_FFFF_FF00_00FF
    guard w0 & mask0 == shape0, w1 & mask1 == shape1, w2 & mask2 == shape2, last == 0x30,
      allDigits(w0, ~mask0), allDigits(w1, ~mask1), allDigits(w2, ~mask2)
    else { return nil }
    @inline(__always) func digit(_ w: UInt64, _ byte: Int) -> Int64 {
      Int64((w &>> UInt64(byte * 8)) & 0x0F)
    }
    let year = digit(w0, 0) * 1000 + digit(w0, 1) * 100 + digit(w0, 2) * 10 + digit(w0, 3)
    let month = digit(w0, 5) * 10 + digit(w0, 6)
    let day = digit(w1, 0) * 10 + digit(w1, 1)
    let hour = digit(w1, 3) * 10 + digit(w1, 4)
    let minute = digit(w1, 6) * 10 + digit(w1, 7)
    let second = digit(w2, 1) * 10 + digit(w2, 2)
    guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour <= 23,
      minute <= 59, second <= 59
    else { return nil }
    let days = daysFromCivil(year, month, day)
    return (days * 86400 + hour * 3600 + minute * 60 + second - 7 * 3600) * 1_000_000
  }

  /// Whether every byte of `w` that `mask` selects is an ASCII digit.
  @inline(__always)
  private static func allDigits(_ w: UInt64, _ mask: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    // A digit is 0x30-0x39: high nibble 3, and low nibble + 6 does not carry into bit 4.
    let highNibbles = (w & (ones &* 0xF0)) ^ (ones &* 0x30)
    let carries = (w &+ (ones &* 0x06)) & (ones &* 0xF0) ^ (ones &* 0x30)
    return (highNibbles | carries) & mask == 0
  }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)`, any offset, with fractions.
  package static func parseAny(_ b: UnsafeRawBufferPointer) -> Result<Int64, Problem> {
    @inline(__always) func digits(_ at: Int, _ n: Int) -> Int64? {
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
  package static func append(_ micros: Int64, to out: inout ByteBuffer) {
    out.write(atMost: 32) { write(micros, to: $0) }
  }

  /// Appends the canonical text of a time to `out` (no allocation of its own).
  package static func append(_ micros: Int64, to out: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { b in
      let n = write(micros, to: b.baseAddress.unsafelyUnwrapped)
      out.append(contentsOf: UnsafeBufferPointer(start: b.baseAddress, count: n))
    }
  }

  /// Writes the canonical text of a time at `b` (at most 32 bytes); returns its length.
  private static func write(_ micros: Int64, to b: UnsafeMutablePointer<UInt8>) -> Int {
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
    let start = 0
    do {
      @inline(__always) func put(_ v: Int64, _ at: Int, _ n: Int) {
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
    return width
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
