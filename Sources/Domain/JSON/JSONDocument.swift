#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A syntax error: `offset` is the 0-based byte offset of the problem in the parsed buffer.
package struct JSONSyntaxError: Error, Equatable, Sendable {
  package var offset: Int
  package var message: String
}

/// One value of a parsed document, in document order (a "tape", as simdjson calls it).
///
/// An object's members follow it as key node, value node, key node, …; an array's elements
/// follow it in order. `next` skips a value with everything inside it.
package struct JSONNode: Sendable {
  package enum Kind: UInt8, Sendable { case null, `false`, `true`, number, string, array, object }
  package var kind: Kind
  /// Strings: holds a backslash escape (so its raw bytes are not its value).
  package var hasEscapes = false
  /// Numbers: no fraction and no exponent.
  package var isInteger = false
  /// Byte offset of the first byte (strings: the opening quote).
  package var start: UInt32
  /// One past the last byte (strings: past the closing quote).
  package var end: UInt32 = 0
  /// Arrays: elements; objects: members.
  package var count: UInt32 = 0
  /// Index of the node after this value and all its descendants.
  package var next: UInt32 = 0
}

/// A strict RFC 8259 parser for the log's hot path: one event line at a time, straight from a
/// memory-mapped file, without allocating once its node storage has grown to fit.
///
/// Strict means: UTF-8 validated as RFC 3629 says (no overlong forms, no surrogates, nothing
/// past U+10FFFF), raw control characters in strings rejected, escapes checked (surrogate
/// escapes must pair), numbers as the grammar says, duplicate keys rejected, nesting at most 64
/// deep, nothing after the value but whitespace.
package struct JSONDocument {
  package internal(set) var nodes: [JSONNode] = []
  package static let maxDepth = 64

  package init() {}

  package mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) {
    nodes.removeAll(keepingCapacity: true)
    guard bytes.count < Int(UInt32.max) else {
      throw JSONSyntaxError(offset: 0, message: "input too large")
    }
    var p = Parser(bytes: bytes, nodes: nodes)
    nodes = []
    defer { nodes = p.nodes }
    p.skipSpace()
    try p.value(depth: 0)
    p.skipSpace()
    if p.i < bytes.count {
      throw JSONSyntaxError(offset: p.i, message: "unexpected \(p.describe(p.i)) after the value")
    }
  }

  // MARK: Reading values

  /// The index of the value of member `key` of the object at `object`, or nil.
  package func member(_ key: String, ofObject object: Int, in bytes: UnsafeRawBufferPointer)
    -> Int?
  {
    var m = object + 1
    let k = Array(key.utf8)
    for _ in 0..<Int(nodes[object].count) {
      if stringEquals(m, k, in: bytes) { return m + 1 }
      m = Int(nodes[m + 1].next)
    }
    return nil
  }

  /// Whether the string at `index` decodes to exactly `value`.
  package func stringEquals(_ index: Int, _ value: [UInt8], in bytes: UnsafeRawBufferPointer)
    -> Bool
  {
    let n = nodes[index]
    if !n.hasEscapes {
      let raw = UnsafeRawBufferPointer(rebasing: bytes[Int(n.start + 1)..<Int(n.end - 1)])
      return raw.elementsEqual(value)
    }
    var out: [UInt8] = []
    appendString(at: index, in: bytes, to: &out)
    return out == value
  }

  /// Appends the decoded bytes of the string at `index` (escapes resolved) to `out`.
  package func appendString(at index: Int, in bytes: UnsafeRawBufferPointer, to out: inout [UInt8])
  {
    let n = nodes[index]
    let raw = UnsafeRawBufferPointer(rebasing: bytes[Int(n.start + 1)..<Int(n.end - 1)])
    guard n.hasEscapes else {
      out.append(contentsOf: raw)
      return
    }
    var i = 0
    while i < raw.count {
      let b = raw[i]
      if b != 0x5C {
        out.append(b)
        i += 1
        continue
      }
      let e = raw[i + 1]
      i += 2
      switch e {
      case 0x62: out.append(0x08)
      case 0x66: out.append(0x0C)
      case 0x6E: out.append(0x0A)
      case 0x72: out.append(0x0D)
      case 0x74: out.append(0x09)
      case 0x75:
        var scalar = UInt32(Self.hex4(raw, i))
        i += 4
        if scalar >= 0xD800 && scalar < 0xDC00 {
          let low = UInt32(Self.hex4(raw, i + 2))
          i += 6
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        Self.appendUTF8(scalar, to: &out)
      default: out.append(e)  // \" \\ \/
      }
    }
  }

  /// Decodes the string at `index` into `out` (room for the raw string's length: decoding
  /// never makes a string longer) and returns the decoded byte count.
  package func decodeString(
    at index: Int, in bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer
  ) -> Int {
    var decoded: [UInt8] = []
    appendString(at: index, in: bytes, to: &decoded)
    decoded.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    return decoded.count
  }

  /// The decoded string at `index`.
  package func string(at index: Int, in bytes: UnsafeRawBufferPointer) -> String {
    let n = nodes[index]
    if !n.hasEscapes {
      return String(
        decoding: UnsafeRawBufferPointer(rebasing: bytes[Int(n.start + 1)..<Int(n.end - 1)]),
        as: UTF8.self)
    }
    var out: [UInt8] = []
    appendString(at: index, in: bytes, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// The exact value of an integer literal that fits in 64 bits, else nil.
  package func int64(at index: Int, in bytes: UnsafeRawBufferPointer) -> Int64? {
    let n = nodes[index]
    guard n.kind == .number, n.isInteger else { return nil }
    var i = Int(n.start)
    let negative = bytes[i] == 0x2D
    if negative { i += 1 }
    var v: Int64 = 0
    while i < Int(n.end) {
      let d = Int64(bytes[i] - 0x30)
      let (m, o1) = v.multipliedReportingOverflow(by: 10)
      let (s, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
      if o1 || o2 { return nil }
      v = s
      i += 1
    }
    return v
  }

  /// The value of any number, correctly rounded (`strtod`).
  package func double(at index: Int, in bytes: UnsafeRawBufferPointer) -> Double {
    if let v = int64(at: index, in: bytes), v.magnitude < 1 << 53 { return Double(v) }
    let n = nodes[index]
    let count = Int(n.end - n.start)
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buf in
      for k in 0..<count { buf[k] = CChar(bitPattern: bytes[Int(n.start) + k]) }
      buf[count] = 0
      return strtod(buf.baseAddress!, nil)
    }
  }

  static func hex4(_ raw: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
    var v: UInt16 = 0
    for k in at..<(at + 4) { v = v << 4 | UInt16(hexValue(raw[k])) }
    return v
  }

  @inline(__always)
  static func hexValue(_ c: UInt8) -> UInt8 {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    case 0x41...0x46: c - 0x41 + 10
    default: 0xFF
    }
  }

  static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
    switch s {
    case 0..<0x80: out.append(UInt8(s))
    case 0x80..<0x800:
      out.append(UInt8(0xC0 | s >> 6))
      out.append(UInt8(0x80 | s & 0x3F))
    case 0x800..<0x10000:
      out.append(UInt8(0xE0 | s >> 12))
      out.append(UInt8(0x80 | s >> 6 & 0x3F))
      out.append(UInt8(0x80 | s & 0x3F))
    default:
      out.append(UInt8(0xF0 | s >> 18))
      out.append(UInt8(0x80 | s >> 12 & 0x3F))
      out.append(UInt8(0x80 | s >> 6 & 0x3F))
      out.append(UInt8(0x80 | s & 0x3F))
    }
  }
}

/// 1-based column of `offset` in `line`, counting Unicode scalars (UTF-8 lead bytes), as an
/// editor shows it.
package func characterColumn(ofByteOffset offset: Int, in line: UnsafeRawBufferPointer) -> Int {
  var column = 1
  for b in line.prefix(min(offset, line.count)) where b & 0xC0 != 0x80 { column += 1 }
  return column
}
