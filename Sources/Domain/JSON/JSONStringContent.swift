/// The content of a validated string literal (between its quotes), and the ways to read it
/// decoded without building a `String`: key comparison, sorting and hashing all run on this.
///
/// Only ever made from a node of a successful parse, so escapes are known to be well formed
/// and surrogates paired; nothing here checks again.
struct JSONStringContent {
  let start: UnsafePointer<UInt8>
  let end: UnsafePointer<UInt8>
  let hasEscapes: Bool

  init(node: JSONNode, base: UnsafePointer<UInt8>) {
    start = base + Int(node.start) + 1
    end = base + Int(node.end) - 1
    hasEscapes = node.hasEscapes
  }

  var rawBytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: start, count: end - start) }

  /// Appends the decoded UTF-8 bytes: raw runs copied whole, escapes resolved.
  func appendDecoded(to out: inout [UInt8]) {
    guard hasEscapes else {
      out.append(contentsOf: rawBytes)
      return
    }
    var run = start
    var pos = start
    while pos < end {
      guard pos.pointee == UInt8(ascii: "\\") else {
        pos += 1
        continue
      }
      out.append(contentsOf: UnsafeBufferPointer(start: run, count: pos - run))
      let (scalar, length) = Self.decodeEscape(at: pos)
      let (packed, count) = Self.utf8(scalar)
      for index in 0..<count { out.append(UInt8(truncatingIfNeeded: packed >> (8 * index))) }
      pos += length
      run = pos
    }
    out.append(contentsOf: UnsafeBufferPointer(start: run, count: pos - run))
  }

  /// Orders two contents by their decoded bytes (-1, 0 or 1), as unsigned bytes compare.
  func compare(to other: JSONStringContent) -> Int {
    if !hasEscapes && !other.hasEscapes {
      return Self.compareRaw(start, end - start, other.start, other.end - other.start)
    }
    var mine = makeDecodedIterator()
    var theirs = other.makeDecodedIterator()
    while true {
      switch (mine.next(), theirs.next()) {
      case (nil, nil): return 0
      case (nil, _): return -1
      case (_, nil): return 1
      case (let a?, let b?) where a != b: return a < b ? -1 : 1
      default: continue
      }
    }
  }

  /// The first 8 decoded bytes as a big-endian number, zero-padded: ordering by it agrees with
  /// ordering by the bytes, except that equal prefixes need a full comparison.
  var sortPrefix: UInt64 {
    var prefix: UInt64 = 0
    var shift = 56
    if hasEscapes {
      var bytes = makeDecodedIterator()
      while shift >= 0, let byte = bytes.next() {
        prefix |= UInt64(byte) << shift
        shift -= 8
      }
    } else {
      var pos = start
      while shift >= 0 && pos < end {
        prefix |= UInt64(pos.pointee) << shift
        shift -= 8
        pos += 1
      }
    }
    return prefix
  }

  /// Whether the decoded content is exactly `bytes`.
  func equals(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard hasEscapes else {
      guard let other = bytes.baseAddress, !bytes.isEmpty else { return start == end }
      return Self.compareRaw(start, end - start, other, bytes.count) == 0
    }
    var decoded = makeDecodedIterator()
    var index = 0
    while let byte = decoded.next() {
      guard index < bytes.count && bytes[index] == byte else { return false }
      index += 1
    }
    return index == bytes.count
  }

  /// Lexicographic order of two byte ranges, 8 bytes at a time (big-endian words compare as
  /// their bytes do).
  private static func compareRaw(
    _ a: UnsafePointer<UInt8>, _ aCount: Int, _ b: UnsafePointer<UInt8>, _ bCount: Int
  ) -> Int {
    let common = min(aCount, bCount)
    var index = 0
    while index + 8 <= common {
      let x = UInt64(bigEndian: UnsafeRawPointer(a + index).loadUnaligned(as: UInt64.self))
      let y = UInt64(bigEndian: UnsafeRawPointer(b + index).loadUnaligned(as: UInt64.self))
      if x != y { return x < y ? -1 : 1 }
      index += 8
    }
    while index < common {
      if a[index] != b[index] { return a[index] < b[index] ? -1 : 1 }
      index += 1
    }
    return aCount == bCount ? 0 : (aCount < bCount ? -1 : 1)
  }

  func makeDecodedIterator() -> DecodedBytes { DecodedBytes(pos: start, end: end) }

  /// The decoded bytes one at a time; an escape's UTF-8 bytes wait in `pending`.
  struct DecodedBytes: IteratorProtocol {
    var pos: UnsafePointer<UInt8>
    let end: UnsafePointer<UInt8>
    var pending: UInt32 = 0
    var pendingCount = 0

    init(pos: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>) {
      self.pos = pos
      self.end = end
    }

    mutating func next() -> UInt8? {
      if pendingCount > 0 {
        let byte = UInt8(truncatingIfNeeded: pending)
        pending >>= 8
        pendingCount -= 1
        return byte
      }
      guard pos < end else { return nil }
      let byte = pos.pointee
      guard byte == UInt8(ascii: "\\") else {
        pos += 1
        return byte
      }
      let (scalar, length) = JSONStringContent.decodeEscape(at: pos)
      pos += length
      (pending, pendingCount) = JSONStringContent.utf8(scalar)
      return next()
    }
  }

  /// The scalar an escape stands for, and the escape's length in bytes (2, 6, or 12 for a
  /// surrogate pair).
  static func decodeEscape(at pos: UnsafePointer<UInt8>) -> (scalar: UInt32, length: Int) {
    switch pos[1] {
    case UInt8(ascii: "b"): return (0x08, 2)
    case UInt8(ascii: "f"): return (0x0C, 2)
    case UInt8(ascii: "n"): return (0x0A, 2)
    case UInt8(ascii: "r"): return (0x0D, 2)
    case UInt8(ascii: "t"): return (0x09, 2)
    case UInt8(ascii: "u"):
      let unit = hexUnit(at: pos + 2)
      guard unit & 0xFC00 == 0xD800 else { return (unit, 6) }
      let low = hexUnit(at: pos + 8)
      return (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12)
    default: return (UInt32(pos[1]), 2)  // \" \\ \/
    }
  }

  private static func hexUnit(at pos: UnsafePointer<UInt8>) -> UInt32 {
    var unit: UInt32 = 0
    for index in 0..<4 { unit = unit << 4 | (hexDigitValue(pos[index]) ?? 0) }
    return unit
  }

  /// The UTF-8 form of a scalar, packed first byte lowest, and its length.
  static func utf8(_ scalar: UInt32) -> (packed: UInt32, count: Int) {
    switch scalar {
    case 0..<0x80:
      return (scalar, 1)
    case 0x80..<0x800:
      return ((0xC0 | scalar >> 6) | continuation(scalar) << 8, 2)
    case 0x800..<0x10000:
      let lead = 0xE0 | scalar >> 12
      return (lead | continuation(scalar >> 6) << 8 | continuation(scalar) << 16, 3)
    default:
      let lead = 0xF0 | scalar >> 18
      let rest =
        continuation(scalar >> 12) | continuation(scalar >> 6) << 8
        | continuation(scalar) << 16
      return (lead | rest << 8, 4)
    }
  }

  /// A continuation byte carrying the low six bits of `bits`.
  @inline(__always)
  private static func continuation(_ bits: UInt32) -> UInt32 { 0x80 | bits & 0x3F }
}

/// Raw pointers into a caller's buffer: valid only where they were made.
@available(*, unavailable) extension JSONStringContent: Sendable {}
