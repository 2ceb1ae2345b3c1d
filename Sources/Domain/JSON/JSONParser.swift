#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The recursive-descent scanner behind `JSONDocument.parse`.
struct Parser {
  let bytes: UnsafeRawBufferPointer
  let base: UnsafePointer<UInt8>
  var nodes: [JSONNode]
  var i = 0

  init(bytes: UnsafeRawBufferPointer, nodes: [JSONNode]) {
    self.bytes = bytes
    self.base =
      bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) }
      ?? UnsafePointer(bitPattern: 1)!
    self.nodes = nodes
  }

  @inline(__always) var end: Int { bytes.count }

  @inline(__always) func byte(_ k: Int) -> UInt8 { base[k] }

  func describe(_ k: Int) -> String {
    guard k < end else { return "end of input" }
    let b = byte(k)
    if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
    return String(format: "byte 0x%02X", b)
  }

  func error(_ at: Int, _ message: String) -> JSONSyntaxError {
    JSONSyntaxError(offset: at, message: message)
  }

  @inline(__always)
  mutating func skipSpace() {
    while i < end {
      let b = byte(i)
      guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
      i += 1
    }
  }

  mutating func value(depth: Int) throws(JSONSyntaxError) {
    guard i < end else { throw error(i, "unexpected end of input: a value is missing") }
    switch byte(i) {
    case 0x22: try string()
    case 0x7B: try object(depth: depth)
    case 0x5B: try array(depth: depth)
    case 0x74: try literal("true", .true)
    case 0x66: try literal("false", .false)
    case 0x6E: try literal("null", .null)
    case 0x2D, 0x30...0x39: try number()
    default: throw error(i, "unexpected \(describe(i)) where a value should be")
    }
  }

  mutating func literal(_ word: StaticString, _ kind: JSONNode.Kind) throws(JSONSyntaxError) {
    let n = word.utf8CodeUnitCount
    guard i + n <= end, memcmp(base + i, word.utf8Start, n) == 0 else {
      throw error(i, "unexpected \(describe(i)) where a value should be")
    }
    nodes.append(
      JSONNode(kind: kind, start: UInt32(i), end: UInt32(i + n), next: UInt32(nodes.count + 1)))
    i += n
  }

  mutating func number() throws(JSONSyntaxError) {
    let start = i
    var integer = true
    if byte(i) == 0x2D { i += 1 }
    guard i < end, byte(i) >= 0x30 && byte(i) <= 0x39 else {
      throw error(i, "a number needs a digit after '-'")
    }
    if byte(i) == 0x30 {
      i += 1
      if i < end && byte(i) >= 0x30 && byte(i) <= 0x39 {
        throw error(start, "leading zeros are not allowed in numbers")
      }
    } else {
      while i < end && byte(i) >= 0x30 && byte(i) <= 0x39 { i += 1 }
    }
    if i < end && byte(i) == 0x2E {
      integer = false
      i += 1
      guard i < end, byte(i) >= 0x30 && byte(i) <= 0x39 else {
        throw error(i, "a number needs a digit after '.'")
      }
      while i < end && byte(i) >= 0x30 && byte(i) <= 0x39 { i += 1 }
    }
    if i < end && (byte(i) == 0x65 || byte(i) == 0x45) {
      integer = false
      i += 1
      if i < end && (byte(i) == 0x2B || byte(i) == 0x2D) { i += 1 }
      guard i < end, byte(i) >= 0x30 && byte(i) <= 0x39 else {
        throw error(i, "a number needs a digit in its exponent")
      }
      while i < end && byte(i) >= 0x30 && byte(i) <= 0x39 { i += 1 }
    }
    var node = JSONNode(
      kind: .number, start: UInt32(start), end: UInt32(i), next: UInt32(nodes.count + 1))
    node.isInteger = integer
    nodes.append(node)
  }

  /// Scans a string, validating escapes and UTF-8 as it goes.
  mutating func string() throws(JSONSyntaxError) {
    let start = i
    i += 1
    var escapes = false
    while true {
      // Eight plain ASCII bytes at a time: none is '"', '\', a control or non-ASCII.
      while i + 8 <= end {
        let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        let high = w & 0x8080_8080_8080_8080
        let quote = (w ^ 0x2222_2222_2222_2222) &- 0x0101_0101_0101_0101
        let slash = (w ^ 0x5C5C_5C5C_5C5C_5C5C) &- 0x0101_0101_0101_0101
        let control = w &- 0x2020_2020_2020_2020
        if (high | ((quote | slash | control) & ~w & 0x8080_8080_8080_8080)) != 0 { break }
        i += 8
      }
      guard i < end else { throw error(start, "unterminated string") }
      let b = byte(i)
      if b == 0x22 {
        i += 1
        break
      }
      if b == 0x5C {
        escapes = true
        try escape()
      } else if b < 0x20 {
        throw error(i, "a control character (\(describe(i))) must be escaped inside a string")
      } else if b < 0x80 {
        i += 1
      } else {
        try utf8()
      }
    }
    var node = JSONNode(
      kind: .string, start: UInt32(start), end: UInt32(i), next: UInt32(nodes.count + 1))
    node.hasEscapes = escapes
    nodes.append(node)
  }

  mutating func escape() throws(JSONSyntaxError) {
    let at = i
    guard i + 1 < end else { throw error(at, "unterminated string") }
    switch byte(i + 1) {
    case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
      i += 2
    case 0x75:
      let high = try hex4(i + 2)
      i += 6
      if high >= 0xDC00 && high < 0xE000 {
        throw error(at, "a lone low surrogate \\u\(String(high, radix: 16)) is not a character")
      }
      if high >= 0xD800 && high < 0xDC00 {
        guard i + 1 < end, byte(i) == 0x5C, byte(i + 1) == 0x75 else {
          throw error(at, "a high surrogate escape must be followed by a low one")
        }
        let low = try hex4(i + 2)
        guard low >= 0xDC00 && low < 0xE000 else {
          throw error(i, "a high surrogate escape must be followed by a low one")
        }
        i += 6
      }
    default:
      throw error(at, "invalid escape \\\(describe(i + 1))")
    }
  }

  func hex4(_ at: Int) throws(JSONSyntaxError) -> UInt16 {
    guard at + 4 <= end else { throw error(at, "\\u needs four hex digits") }
    var v: UInt16 = 0
    for k in at..<(at + 4) {
      let h = JSONDocument.hexValue(byte(k))
      guard h != 0xFF else { throw error(k, "\\u needs four hex digits") }
      v = v << 4 | UInt16(h)
    }
    return v
  }

  /// Validates one multi-byte UTF-8 sequence at `i` (RFC 3629, table 3-7 of Unicode).
  mutating func utf8() throws(JSONSyntaxError) {
    let b0 = byte(i)
    var lo: UInt8 = 0x80
    var hi: UInt8 = 0xBF
    let n: Int
    switch b0 {
    case 0xC2...0xDF: n = 1
    case 0xE0:
      n = 2
      lo = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: n = 2
    case 0xED:
      n = 2
      hi = 0x9F
    case 0xF0:
      n = 3
      lo = 0x90
    case 0xF1...0xF3: n = 3
    case 0xF4:
      n = 3
      hi = 0x8F
    default:
      throw error(
        i,
        "invalid UTF-8: byte 0x\(String(b0, radix: 16, uppercase: true)) cannot start a character")
    }
    guard i + n < end else { throw error(i, "invalid UTF-8: a character is cut off") }
    let b1 = byte(i + 1)
    guard b1 >= lo && b1 <= hi else { throw invalid(i, n + 1) }
    for k in 2...max(2, n) where k <= n {
      let b = byte(i + k)
      guard b >= 0x80 && b <= 0xBF else { throw invalid(i, n + 1) }
    }
    i += n + 1
  }

  func invalid(_ at: Int, _ n: Int) -> JSONSyntaxError {
    let shown = (at..<min(at + n, end)).map {
      "0x" + String(byte($0), radix: 16, uppercase: true)
    }
    return error(at, "invalid UTF-8 sequence \(shown.joined(separator: " "))")
  }

  mutating func array(depth: Int) throws(JSONSyntaxError) {
    guard depth < JSONDocument.maxDepth else {
      throw error(i, "nested deeper than \(JSONDocument.maxDepth) levels")
    }
    let index = nodes.count
    nodes.append(JSONNode(kind: .array, start: UInt32(i)))
    i += 1
    skipSpace()
    var count: UInt32 = 0
    if i < end && byte(i) == 0x5D {
      i += 1
    } else {
      while true {
        try value(depth: depth + 1)
        count += 1
        skipSpace()
        guard i < end else { throw error(i, "unterminated array: expected ',' or ']'") }
        if byte(i) == 0x2C {
          i += 1
          skipSpace()
          continue
        }
        if byte(i) == 0x5D {
          i += 1
          break
        }
        throw error(i, "expected ',' or ']' after an array element, found \(describe(i))")
      }
    }
    nodes[index].end = UInt32(i)
    nodes[index].count = count
    nodes[index].next = UInt32(nodes.count)
  }

  mutating func object(depth: Int) throws(JSONSyntaxError) {
    guard depth < JSONDocument.maxDepth else {
      throw error(i, "nested deeper than \(JSONDocument.maxDepth) levels")
    }
    let index = nodes.count
    nodes.append(JSONNode(kind: .object, start: UInt32(i)))
    i += 1
    skipSpace()
    var count: UInt32 = 0
    if i < end && byte(i) == 0x7D {
      i += 1
    } else {
      while true {
        guard i < end, byte(i) == 0x22 else {
          throw error(i, "expected a quoted key, found \(describe(i))")
        }
        try string()
        skipSpace()
        guard i < end, byte(i) == 0x3A else {
          throw error(i, "expected ':' after an object key, found \(describe(i))")
        }
        i += 1
        skipSpace()
        try value(depth: depth + 1)
        count += 1
        skipSpace()
        guard i < end else { throw error(i, "unterminated object: expected ',' or '}'") }
        if byte(i) == 0x2C {
          i += 1
          skipSpace()
          continue
        }
        if byte(i) == 0x7D {
          i += 1
          break
        }
        throw error(i, "expected ',' or '}' after an object member, found \(describe(i))")
      }
    }
    nodes[index].end = UInt32(i)
    nodes[index].count = count
    nodes[index].next = UInt32(nodes.count)
    if count > 1 { try checkDuplicateKeys(index) }
  }

  /// Rejects an object with the same key twice: which one would count is undefined (RFC 8259
  /// §4), and an event must mean one thing. Pairwise for small objects, sorted for large ones,
  /// so a hostile line cannot make this quadratic.
  func checkDuplicateKeys(_ object: Int) throws(JSONSyntaxError) {
    let count = Int(nodes[object].count)
    if count <= 16 {
      // Keys without escapes compare as raw bytes, in place: the common case allocates nothing.
      var a = object + 1
      for _ in 0..<count {
        var b = Int(nodes[a + 1].next)
        while b < Int(nodes[object].next) {
          if sameKey(a, b) {
            throw error(Int(nodes[b].start), "duplicate key \(view.quoted(b))")
          }
          b = Int(nodes[b + 1].next)
        }
        a = Int(nodes[a + 1].next)
      }
      return
    }
    var keys: [Int] = []
    var m = object + 1
    for _ in 0..<count {
      keys.append(m)
      m = Int(nodes[m + 1].next)
    }
    let decoded = keys.map { (view.decoded($0), $0) }.sorted {
      $0.0.lexicographicallyPrecedes($1.0)
    }
    for k in 1..<decoded.count where decoded[k].0 == decoded[k - 1].0 {
      let later = max(decoded[k].1, decoded[k - 1].1)
      throw error(Int(nodes[later].start), "duplicate key \(view.quoted(later))")
    }
  }

  private var view: JSONDocumentView { JSONDocumentView(nodes: nodes, bytes: bytes) }

  @inline(__always)
  private func sameKey(_ a: Int, _ b: Int) -> Bool {
    let x = nodes[a]
    let y = nodes[b]
    if !x.hasEscapes && !y.hasEscapes {
      let n = Int(x.end - x.start)
      return n == Int(y.end - y.start) && memcmp(base + Int(x.start), base + Int(y.start), n) == 0
    }
    return view.keysEqual(a, b)
  }
}

/// Read access to a tape while it is still being built.
private struct JSONDocumentView {
  let nodes: [JSONNode]
  let bytes: UnsafeRawBufferPointer

  func raw(_ k: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: bytes[Int(nodes[k].start + 1)..<Int(nodes[k].end - 1)])
  }

  func decoded(_ k: Int) -> [UInt8] {
    var d = JSONDocument()
    d.adopt(nodes)
    var out: [UInt8] = []
    d.appendString(at: k, in: bytes, to: &out)
    return out
  }

  func keysEqual(_ a: Int, _ b: Int) -> Bool {
    if !nodes[a].hasEscapes && !nodes[b].hasEscapes { return raw(a).elementsEqual(raw(b)) }
    return decoded(a) == decoded(b)
  }

  func quoted(_ k: Int) -> String {
    "\"" + String(decoding: decoded(k), as: UTF8.self) + "\""
  }
}

extension JSONDocument {
  /// Uses `nodes` as this document's tape (for reading keys during a parse).
  fileprivate mutating func adopt(_ nodes: [JSONNode]) { self.nodes = nodes }
}
