/// Conversions of validated number literals to Swift numbers.
///
/// Only ever given literals the scanner accepted, so the grammar is not checked again.
package enum JSONNumberText {
  /// The literal as an `Int64`, if it is an integer literal (no fraction, no exponent) whose
  /// value fits; nil otherwise.
  package static func int64(_ text: UnsafePointer<UInt8>, count: Int) -> Int64? {
    var pos = 0
    let negative = text[0] == UInt8(ascii: "-")
    if negative { pos = 1 }
    // 19 digits always fit in a UInt64; no valid integer literal has leading zeros.
    guard count - pos <= 19 else { return nil }
    var magnitude: UInt64 = 0
    while pos < count {
      let digit = text[pos] &- UInt8(ascii: "0")
      guard digit < 10 else { return nil }
      magnitude = magnitude &* 10 &+ UInt64(digit)
      pos += 1
    }
    if negative {
      return magnitude <= UInt64(1) << 63 ? Int64(bitPattern: 0 &- magnitude) : nil
    }
    return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
  }

  /// The literal as the nearest `Double` (round half to even, as IEEE 754 and strtod do).
  ///
  /// Clinger's fast path covers the common case exactly: a decimal mantissa of at most 2^53
  /// and a power of ten of at most 10^22 are both exact doubles, so one multiplication or
  /// division rounds correctly. Everything else goes to the C library's correctly rounded
  /// conversion, through Swift's `Double(_:)`, which pins the C locale (a bare `strtod` would
  /// read "1.5" wrongly in a locale with a decimal comma).
  package static func double(_ text: UnsafePointer<UInt8>, count: Int) -> Double {
    var pos = 0
    let negative = text[0] == UInt8(ascii: "-")
    if negative { pos = 1 }
    var mantissa: UInt64 = 0
    var significantDigits = 0
    var exponent = 0
    var inFraction = false
    while pos < count {
      let byte = text[pos]
      if byte == UInt8(ascii: ".") {
        inFraction = true
      } else if byte &- UInt8(ascii: "0") < 10 {
        let digit = byte &- UInt8(ascii: "0")
        // Counted from the first non-zero digit, never from `mantissa`: past 19 digits the
        // mantissa wraps (to 0, even, for 92233720368547758080 = 5 * 2^64), and then only the
        // count sends the literal to the slow path.
        if significantDigits > 0 || digit != 0 { significantDigits += 1 }
        mantissa = mantissa &* 10 &+ UInt64(digit)
        if inFraction { exponent -= 1 }
      } else {
        break
      }
      pos += 1
    }
    if pos < count {  // 'e' or 'E'
      pos += 1
      var negativeExponent = false
      if text[pos] == UInt8(ascii: "-") || text[pos] == UInt8(ascii: "+") {
        negativeExponent = text[pos] == UInt8(ascii: "-")
        pos += 1
      }
      var value = 0
      while pos < count {
        if value < 1_000_000 { value = value * 10 + Int(text[pos] &- UInt8(ascii: "0")) }
        pos += 1
      }
      exponent += negativeExponent ? -value : value
    }
    if significantDigits == 0 { return negative ? -0.0 : 0.0 }
    if significantDigits <= 19 && mantissa <= UInt64(1) << 53 {
      if exponent >= 0 && exponent <= 22 {
        let value = Double(mantissa) * exactPowersOfTen[exponent]
        return negative ? -value : value
      }
      if exponent < 0 && exponent >= -22 {
        let value = Double(mantissa) / exactPowersOfTen[-exponent]
        return negative ? -value : value
      }
    }
    return slowDouble(text, count: count)
  }

  /// 10^exponent for 0 ≤ exponent ≤ 22, all exactly representable.
  private static let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
  ]

  @inline(never)
  private static func slowDouble(_ text: UnsafePointer<UInt8>, count: Int) -> Double {
    // Short literals make a small String, which does not allocate.
    let string = String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    return Double(string) ?? .nan
  }
}
