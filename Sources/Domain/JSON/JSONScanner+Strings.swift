extension JSONScanner {
  /// Scans a string literal: UTF-8 validated per RFC 3629, no raw control characters, escapes
  /// well formed with surrogates paired. Returns its node, which the caller appends (a key's
  /// caller first checks it for duplicates, from registers rather than a fresh store).
  ///
  /// ASCII runs go 8 bytes at a time; the rare bytes that need a closer look (quote, backslash,
  /// control, non-ASCII) stop the run.
  @inline(__always)
  mutating func scanString(at start: Int) throws(JSONSyntaxError) -> JSONNode {
    var pos = start + 1
    var hasEscapes = false
    while true {
      while pos &+ 8 <= end {
        let special = Self.specialBytes(in: loadUInt64(at: pos))
        if special != 0 {
          pos &+= special.trailingZeroBitCount &>> 3
          break
        }
        pos &+= 8
      }
      guard pos < end else { throw syntaxError("unterminated string", at: start) }
      let byte = base[pos]
      if byte == UInt8(ascii: "\"") {
        break
      } else if byte >= 0x80 {
        pos = try skipUTF8Sequence(at: pos)
      } else if byte == UInt8(ascii: "\\") {
        pos = try skipEscape(at: pos, stringStart: start)
        hasEscapes = true
      } else if byte < 0x20 {
        throw syntaxError("unescaped control character \(hexByte(byte)) in string", at: pos)
      } else {
        pos += 1
      }
    }
    return JSONNode(
      kind: .string, hasEscapes: hasEscapes, start: UInt32(truncatingIfNeeded: start),
      end: UInt32(truncatingIfNeeded: pos + 1), next: UInt32(truncatingIfNeeded: nodeCount + 1))
  }

  /// A mask with the high bit set in the first byte of `word` (little-endian order) that is a
  /// quote, a backslash, a control character or non-ASCII; zero when there is none.
  ///
  /// The classic "has a zero byte" trick, (v - 0x01…) & ~v & 0x80…, can also flag bytes above a
  /// true hit (through the borrow) but never below one, so the lowest set bit is exact.
  @inline(__always)
  static func specialBytes(in word: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let quotes = word ^ (ones &* 0x22)
    let backslashes = word ^ (ones &* 0x5C)
    let candidates = (quotes &- ones) | (backslashes &- ones) | (word &- ones &* 0x20)
    return (candidates & ~word | word) & (ones &* 0x80)
  }

  /// Validates the UTF-8 sequence whose lead byte is at `pos` (RFC 3629 table 4: no overlong
  /// forms, no surrogates, nothing above U+10FFFF); returns the offset after it.
  @inline(__always)
  private func skipUTF8Sequence(at pos: Int) throws(JSONSyntaxError) -> Int {
    let lead = base[pos]
    let length: Int
    var low: UInt8 = 0x80
    var high: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF:
      length = 2
    case 0xE0...0xEF:
      length = 3
      if lead == 0xE0 { low = 0xA0 } else if lead == 0xED { high = 0x9F }
    case 0xF0...0xF4:
      length = 4
      if lead == 0xF0 { low = 0x90 } else if lead == 0xF4 { high = 0x8F }
    default:
      throw utf8Error(at: pos, length: 1)
    }
    guard pos + 1 < end else { throw truncatedUTF8(at: pos) }
    let second = base[pos + 1]
    guard second >= low && second <= high else { throw utf8Error(at: pos, length: 2) }
    var index = 2
    while index < length {
      guard pos + index < end else { throw truncatedUTF8(at: pos) }
      guard base[pos + index] & 0xC0 == 0x80 else {
        throw utf8Error(at: pos, length: index + 1)
      }
      index += 1
    }
    return pos + length
  }

  /// Validates the escape at `pos` (a backslash); returns the offset after it.
  private func skipEscape(at pos: Int, stringStart: Int) throws(JSONSyntaxError) -> Int {
    guard pos + 1 < end else { throw syntaxError("unterminated string", at: stringStart) }
    switch base[pos + 1] {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
      UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      return pos + 2
    case UInt8(ascii: "u"):
      let unit = try hexEscape(at: pos)
      switch unit {
      case 0xD800...0xDBFF:
        guard
          pos + 7 < end && base[pos + 6] == UInt8(ascii: "\\")
            && base[pos + 7] == UInt8(ascii: "u")
        else { throw unpairedSurrogate(at: pos) }
        guard 0xDC00...0xDFFF ~= (try hexEscape(at: pos + 6)) else {
          throw unpairedSurrogate(at: pos)
        }
        return pos + 12
      case 0xDC00...0xDFFF:
        throw unpairedSurrogate(at: pos)
      default:
        return pos + 6
      }
    default:
      let byte = base[pos + 1]
      if byte > 0x20 && byte < 0x7F {
        throw syntaxError("invalid escape '\\\(Character(Unicode.Scalar(byte)))'", at: pos)
      }
      throw syntaxError("invalid escape: '\\' followed by byte \(hexByte(byte))", at: pos)
    }
  }

  /// The code unit of the `\uXXXX` escape at `pos`.
  private func hexEscape(at pos: Int) throws(JSONSyntaxError) -> UInt32 {
    guard pos + 5 < end else {
      throw syntaxError("invalid \\u escape, expected 4 hex digits", at: pos)
    }
    var unit: UInt32 = 0
    for index in pos + 2...pos + 5 {
      guard let digit = hexDigitValue(base[index]) else {
        throw syntaxError("invalid \\u escape, expected 4 hex digits", at: pos)
      }
      unit = unit << 4 | digit
    }
    return unit
  }

  @inline(never)
  private func unpairedSurrogate(at pos: Int) -> JSONSyntaxError {
    let escape = String(decoding: UnsafeBufferPointer(start: base + pos, count: 6), as: UTF8.self)
    return syntaxError("unpaired surrogate escape \(escape)", at: pos)
  }

  @inline(never)
  private func truncatedUTF8(at pos: Int) -> JSONSyntaxError {
    let shown = (pos..<end).map { hexByte(base[$0]) }.joined(separator: " ")
    return syntaxError("truncated UTF-8 sequence \(shown) at end of input", at: pos)
  }

  /// The sequence at `pos` is invalid at its `length`th byte; the message names the bytes up to
  /// that one, and the rule they break.
  @inline(never)
  private func utf8Error(at pos: Int, length: Int) -> JSONSyntaxError {
    let bytes = (pos..<pos + length).map { base[$0] }
    let lead = bytes[0]
    let reason: String
    switch (length, lead) {
    case (1, 0x80...0xBF): reason = "unexpected continuation byte"
    case (1, 0xC0...0xC1): reason = "overlong encoding"
    case (1, 0xF5...0xF7): reason = "above U+10FFFF"
    case (1, _): reason = "never valid in UTF-8"
    case (2, _) where bytes[1] & 0xC0 == 0x80:
      switch lead {
      case 0xED: reason = "UTF-16 surrogate"
      case 0xF4: reason = "above U+10FFFF"
      default: reason = "overlong encoding"
      }
    default: reason = "expected a continuation byte"
    }
    let shown = bytes.map(hexByte).joined(separator: " ")
    return syntaxError("invalid UTF-8 byte \(shown) (\(reason))", at: pos)
  }
}

/// The value of a hexadecimal digit, either case.
@inline(__always)
func hexDigitValue(_ byte: UInt8) -> UInt32? {
  if byte &- UInt8(ascii: "0") < 10 { return UInt32(byte &- UInt8(ascii: "0")) }
  let lower = byte | 0x20
  if lower &- UInt8(ascii: "a") < 6 { return UInt32(lower &- UInt8(ascii: "a") + 10) }
  return nil
}
