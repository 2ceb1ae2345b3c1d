/// Numbers in free text that may be a Vietnamese national ID number: 9 digits (CMND) or 12
/// (CCCD), however they were typed. The validator refuses text that holds one, and the access
/// log masks them in the statements it keeps.
///
/// A number is a run of digits, or digit groups joined by single separators of one kind: a
/// space, a dot or a dash (`001 203 004 567`, `0012-0300-4567`, `123.456.789`, any grouping).
/// One kind, so that a date beside an hour (`2025-07-01 9`) is not read as one number; and a
/// space joins only groups that no dot or dash ties to others, so that a date is a word apart
/// from a number written beside it (`2025-07-01 123 456 789`). What does not count:
/// - part of a code: groups glued to an ASCII letter, or joined by dots or dashes to a word
///   (`C-LS-2023-00012`, `HS2023-00012`, `v1.2.3`); a run of 9 or 12 digits alone still
///   counts wherever it stands, as it always did;
/// - an amount in Vietnamese thousands (`300.000.000`, `120.000.000.000` đồng): dots, a first
///   group of 1 to 3 digits without a leading 0, groups of 3 after it, ending in `000`. A CCCD
///   starts with its province's code (001 to 096), so none has this shape; a CMND written with
///   dots that ends in 000 (one in a thousand) would pass.
/// Dates (`2025-07-01`, 8 digits), other amounts (`3.000.000`), phone numbers (10 or 11
/// digits) have other lengths.
package enum IdentityNumbers {
  /// The first such number in `text`: its byte range and its count of digits.
  package static func first(in text: UnsafeRawBufferPointer) -> (range: Range<Int>, digits: Int)? {
    var found: (range: Range<Int>, digits: Int)?
    scan(text) { range, digits in
      found = (range, digits)
      return false
    }
    return found
  }

  /// `text` with the digits of every such number replaced by `#` (its separators kept), until
  /// none is left: a group masked may leave the groups beside it a number of their own (in
  /// `12345678.9 12345 6789`, once the first number is masked, `12345 6789` is one of 9).
  package static func masked(_ text: String) -> String {
    var bytes = Array(text.utf8)
    var changed = false
    while true {
      var ranges: [Range<Int>] = []
      bytes.withUnsafeBytes { b in
        scan(b) { range, _ in
          ranges.append(range)
          return true
        }
      }
      guard !ranges.isEmpty else { break }
      for r in ranges {
        for i in r where bytes[i] &- 0x30 < 10 { bytes[i] = UInt8(ascii: "#") }
      }
      changed = true
    }
    return changed ? String(decoding: bytes, as: UTF8.self) : text
  }

  /// Calls `body` with each such number's byte range and digits, until it returns false. A run
  /// of 9 or 12 digits is reported as soon as it is read; a number of several groups when its
  /// last group is known (so the ranges are not in order, and may overlap).
  ///
  /// On the ingest path for every text field: eight bytes at a time while they hold no digit,
  /// and a few comparisons a group after that.
  @inline(__always)
  package static func scan(
    _ text: UnsafeRawBufferPointer, _ body: (Range<Int>, Int) -> Bool
  ) {
    guard let base = text.baseAddress else { return }
    let n = text.count
    @inline(__always) func byte(_ i: Int) -> UInt8 { base.load(fromByteOffset: i, as: UInt8.self) }
    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    // The number being read: its separator (0 while it is one group), start and digits.
    var separator: UInt8 = 0
    var start = 0
    var digits = 0
    var first = 0  // its first group's length, for the shape of an amount
    var thousands = true  // whether every group after the first has 3 digits
    // The group before the current one.
    var previousStart = -2
    var previousEnd = -2
    var previousJoiner: UInt8 = 0  // what joined it to the group before it, if anything
    var at = 0
    // Reports the number read so far, if it is one of several groups.
    func end() -> Bool {
      guard separator != 0, digits == 9 || digits == 12 else { return true }
      if isCode(start, previousEnd, separator) { return true }
      if separator == UInt8(ascii: "."), thousands, first <= 3, byte(start) != 0x30,
        byte(previousEnd - 1) == 0x30, byte(previousEnd - 2) == 0x30, byte(previousEnd - 3) == 0x30
      {
        return true
      }
      return body(start..<previousEnd, digits)
    }
    @inline(__always) func isLetter(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
    // Whether the number from `a` to `b` is part of a code: glued to a letter, or joined by its
    // own dot or dash to a word.
    func isCode(_ a: Int, _ b: Int, _ separator: UInt8) -> Bool {
      let joins = separator != UInt8(ascii: " ")
      if a > 0 {
        let p = byte(a - 1)
        if isLetter(p) || (joins && p == separator && a > 1 && isLetter(byte(a - 2))) {
          return true
        }
      }
      if b < n {
        let q = byte(b)
        if isLetter(q) || (joins && q == separator && b + 1 < n && isLetter(byte(b + 1))) {
          return true
        }
      }
      return false
    }
    while true {
      // To the next digit: most text has none in a word of eight bytes.
      while at + 8 <= n && !hasDigit(base.loadUnaligned(fromByteOffset: at, as: UInt64.self)) {
        at += 8
      }
      while at < n && !isDigit(byte(at)) { at += 1 }
      guard at < n else { break }
      let groupStart = at
      while at < n && isDigit(byte(at)) { at += 1 }
      let length = at - groupStart
      if length == 9 || length == 12 {
        guard body(groupStart..<at, length) else { return }
      }
      var joiner = groupStart == previousEnd + 1 ? byte(previousEnd) : 0
      if joiner == 0x20 {
        // A space separates words: a group a dot or a dash ties to another is part of a word
        // of its own (`2025-07-01 123 456 789`), and joins no group across a space.
        @inline(__always) func ties(_ b: UInt8) -> Bool { b == 0x2E || b == 0x2D }
        if ties(previousJoiner) || (at + 1 < n && ties(byte(at)) && isDigit(byte(at + 1))) {
          joiner = 0
        }
      }
      let joins = joiner == 0x20 || joiner == 0x2E || joiner == 0x2D
      previousJoiner = joins ? joiner : 0
      if joins && (separator == 0 || separator == joiner) {
        separator = joiner
        digits += length
        thousands = thousands && length == 3
      } else {
        guard end() else { return }
        if joins {
          // The previous group begins a number of another separator.
          separator = joiner
          start = previousStart
          first = previousEnd - previousStart
          digits = first + length
        } else {
          separator = 0
          start = groupStart
          first = length
          digits = length
        }
        thousands = separator == 0 || length == 3
      }
      previousStart = groupStart
      previousEnd = at
    }
    _ = end()
  }

  /// Whether any byte of `word` is an ASCII digit: "has a byte between m and n" of Bit
  /// Twiddling Hacks, for 0x2F < b < 0x3A (bytes from 0x80 up never count).
  @inline(__always)
  static func hasDigit(_ word: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let low7 = word & (ones &* 0x7F)
    let belowTop = (ones &* (127 + 0x3A)) &- low7
    let aboveBottom = low7 &+ (ones &* (127 - 0x2F))
    return belowTop & ~word & aboveBottom & (ones &* 0x80) != 0
  }
}
