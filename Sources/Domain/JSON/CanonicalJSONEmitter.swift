/// The canonical writer's engine: emits through a raw pointer into space the writer has made
/// ahead, sized by an upper bound computed up front (see `maximumLength(of:index:)`).
///
/// Every emitting function stays within that bound by construction; debug builds check it.
struct CanonicalJSONEmitter {
  /// The longest canonical number: an Int64 is at most 20 bytes, an integral double below 2^53
  /// at most 17, and Swift's shortest `description` of any finite double at most 24
  /// ("-2.2250738585072014e-308").
  static let maximumNumberLength = 24

  var out: UnsafeMutablePointer<UInt8>
  let limit: UnsafeMutablePointer<UInt8>

  /// A bound on the canonical length of a parsed subtree: the canonical form never has more
  /// punctuation, string bytes or literal bytes than the source, and a number grows by at most
  /// `maximumNumberLength` bytes ("1e22" becomes 23 digits).
  static func maximumLength(of root: JSONNode, index: Int) -> Int {
    Int(root.end - root.start) + maximumNumberLength * (Int(root.next) - index)
  }

  /// The exact canonical length of arbitrary UTF-8 as a quoted string.
  static func escapedLength(of text: UnsafeBufferPointer<UInt8>) -> Int {
    var length = text.count + 2
    for byte in text where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
      length += Self.escapeLength(of: byte) - 1
    }
    return length
  }

  @inline(__always)
  mutating func byte(_ value: UInt8) {
    assert(out < limit, "canonical JSON bound exceeded")
    out.pointee = value
    out += 1
  }

  @inline(__always)
  mutating func copy(_ start: UnsafePointer<UInt8>, count: Int) {
    assert(out + count <= limit, "canonical JSON bound exceeded")
    out.update(from: start, count: count)
    out += count
  }

  mutating func int(_ value: Int64) {
    var magnitude = value.magnitude
    var digits = 1
    var scale: UInt64 = 10
    while digits < 19 && magnitude >= scale {  // an Int64 has at most 19 digits
      digits += 1
      scale &*= 10
    }
    if value < 0 { byte(UInt8(ascii: "-")) }
    assert(out + digits <= limit, "canonical JSON bound exceeded")
    var pos = digits
    repeat {
      pos -= 1
      out[pos] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
      magnitude /= 10
    } while pos > 0
    out += digits
  }

  mutating func double(_ value: Double) {
    precondition(value.isFinite, "JSON cannot represent \(value)")
    if value.magnitude < 0x1p53 {
      // Cannot trap below 2^53; converting back tells whether the value was integral.
      let integer = Int64(value)
      if Double(integer) == value {
        int(integer)
        return
      }
    }
    var text = value.description
    text.withUTF8 { copy($0.baseAddress.unsafelyUnwrapped, count: $0.count) }
  }

  mutating func node(
    _ index: Int, nodes: UnsafePointer<JSONNode>, base: UnsafePointer<UInt8>, sortKeys: Bool
  ) {
    let node = nodes[index]
    switch node.kind {
    case .null: literal("null")
    case .false: literal("false")
    case .true: literal("true")
    case .number: number(node, base: base)
    case .string: string(JSONStringContent(node: node, base: base))
    case .array:
      byte(UInt8(ascii: "["))
      var element = index + 1
      for position in 0..<Int(node.count) {
        if position > 0 { byte(UInt8(ascii: ",")) }
        self.node(element, nodes: nodes, base: base, sortKeys: sortKeys)
        element = Int(nodes[element].next)
      }
      byte(UInt8(ascii: "]"))
    case .object:
      byte(UInt8(ascii: "{"))
      let count = Int(node.count)
      if sortKeys && count > 1 {
        // Sorted on the stack: no allocation per object.
        withUnsafeTemporaryAllocation(of: SortEntry.self, capacity: count) { order in
          var key = index + 1
          for slot in 0..<count {
            let content = JSONStringContent(node: nodes[key], base: base)
            order[slot] = SortEntry(
              prefix: content.sortPrefix, key: UInt32(truncatingIfNeeded: key))
            key = Int(nodes[key + 1].next)
          }
          Self.sort(order, nodes: nodes, base: base)
          for slot in 0..<count {
            if slot > 0 { byte(UInt8(ascii: ",")) }
            member(Int(order[slot].key), nodes: nodes, base: base, sortKeys: sortKeys)
          }
        }
      } else {
        var key = index + 1
        for position in 0..<count {
          if position > 0 { byte(UInt8(ascii: ",")) }
          member(key, nodes: nodes, base: base, sortKeys: sortKeys)
          key = Int(nodes[key + 1].next)
        }
      }
      byte(UInt8(ascii: "}"))
    }
  }

  @inline(__always)
  private mutating func member(
    _ key: Int, nodes: UnsafePointer<JSONNode>, base: UnsafePointer<UInt8>, sortKeys: Bool
  ) {
    string(JSONStringContent(node: nodes[key], base: base))
    byte(UInt8(ascii: ":"))
    node(key + 1, nodes: nodes, base: base, sortKeys: sortKeys)
  }

  /// A key to sort, with its first 8 decoded bytes as a big-endian number: most comparisons
  /// end there, on one integer compare.
  struct SortEntry {
    var prefix: UInt64
    var key: UInt32
  }

  /// Sorts members by decoded key bytes. Parsed keys are unique, so the order is total;
  /// insertion sort for the handful of members an event has.
  private static func sort(
    _ order: UnsafeMutableBufferPointer<SortEntry>, nodes: UnsafePointer<JSONNode>,
    base: UnsafePointer<UInt8>
  ) {
    let precedes = { (a: SortEntry, b: SortEntry) -> Bool in
      if a.prefix != b.prefix { return a.prefix < b.prefix }
      let first = JSONStringContent(node: nodes[Int(a.key)], base: base)
      return first.compare(to: JSONStringContent(node: nodes[Int(b.key)], base: base)) < 0
    }
    if order.count > 24 {
      var order = order
      order.sort(by: precedes)
      return
    }
    for slot in 1..<order.count {
      let moving = order[slot]
      var hole = slot
      while hole > 0 && precedes(moving, order[hole - 1]) {
        order[hole] = order[hole - 1]
        hole -= 1
      }
      order[hole] = moving
    }
  }

  @inline(__always)
  private mutating func literal(_ text: StaticString) {
    copy(text.utf8Start, count: text.utf8CodeUnitCount)
  }

  /// Integers up to 18 digits are copied as written: a valid literal has no leading zeros, so
  /// only "-0" needs rewriting. Longer ones are converted to check that they fit an Int64.
  private mutating func number(_ node: JSONNode, base: UnsafePointer<UInt8>) {
    let text = base + Int(node.start)
    let length = Int(node.end - node.start)
    if node.isInteger {
      let negative = text[0] == UInt8(ascii: "-")
      let digits = negative ? length - 1 : length
      if digits <= 18 && !(negative && text[1] == UInt8(ascii: "0")) {
        copy(text, count: length)
        return
      }
      if let value = JSONNumberText.int64(text, count: length) {
        int(value)
        return
      }
    }
    double(JSONNumberText.double(text, count: length))
  }

  /// Writes a parsed string: raw when it has no escapes, else decoded and escaped again.
  mutating func string(_ content: JSONStringContent) {
    guard content.hasEscapes else {
      copy(content.start - 1, count: content.end - content.start + 2)  // with its quotes
      return
    }
    byte(UInt8(ascii: "\""))
    var run = content.start
    var pos = content.start
    while pos < content.end {
      guard pos.pointee == UInt8(ascii: "\\") else {
        pos += 1
        continue
      }
      copy(run, count: pos - run)
      let (scalar, length) = JSONStringContent.decodeEscape(at: pos)
      if scalar < 0x80 {
        ascii(UInt8(truncatingIfNeeded: scalar))
      } else {
        let (packed, count) = JSONStringContent.utf8(scalar)
        for index in 0..<count { byte(UInt8(truncatingIfNeeded: packed >> (8 * index))) }
      }
      pos += length
      run = pos
    }
    copy(run, count: pos - run)
    byte(UInt8(ascii: "\""))
  }

  /// Writes arbitrary UTF-8 as a quoted string, escaping exactly what the canonical form does.
  mutating func escaped(_ text: UnsafeBufferPointer<UInt8>) {
    byte(UInt8(ascii: "\""))
    guard let start = text.baseAddress else {
      byte(UInt8(ascii: "\""))
      return
    }
    let count = text.count
    var run = 0
    var pos = 0
    while pos < count {
      while pos &+ 8 <= count {
        let word = UInt64(
          littleEndian: UnsafeRawPointer(start + pos).loadUnaligned(as: UInt64.self))
        let escapes = Self.bytesNeedingEscape(in: word)
        if escapes != 0 {
          pos &+= escapes.trailingZeroBitCount &>> 3
          break
        }
        pos &+= 8
      }
      guard pos < count else { break }
      let byte = start[pos]
      if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
        copy(start + run, count: pos - run)
        ascii(byte)
        run = pos + 1
      }
      pos += 1
    }
    copy(start + run, count: count - run)
    self.byte(UInt8(ascii: "\""))
  }

  /// A mask with the high bit set in the first byte of `word` (little-endian order) that is a
  /// quote, a backslash or a control character; see `JSONScanner.specialBytes(in:)` for why the
  /// lowest set bit is exact.
  @inline(__always)
  private static func bytesNeedingEscape(in word: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let quotes = word ^ (ones &* 0x22)
    let backslashes = word ^ (ones &* 0x5C)
    let candidates = (quotes &- ones) | (backslashes &- ones) | (word &- ones &* 0x20)
    return candidates & ~word & (ones &* 0x80)
  }

  private static func escapeLength(of byte: UInt8) -> Int {
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x08, 0x0C, 0x0A, 0x0D, 0x09: return 2
    case 0..<0x20: return 6
    default: return 1
    }
  }

  /// Writes one ASCII byte inside a string, escaped if the canonical form wants it escaped.
  private mutating func ascii(_ value: UInt8) {
    switch value {
    case UInt8(ascii: "\""): literal("\\\"")
    case UInt8(ascii: "\\"): literal("\\\\")
    case 0x08: literal("\\b")
    case 0x0C: literal("\\f")
    case 0x0A: literal("\\n")
    case 0x0D: literal("\\r")
    case 0x09: literal("\\t")
    case 0..<0x20:
      let hex: StaticString = "0123456789abcdef"
      literal("\\u00")
      byte(hex.utf8Start[Int(value >> 4)])
      byte(hex.utf8Start[Int(value & 0xF)])
    default: byte(value)
    }
  }
}

/// Writes into a buffer the writer owns for the duration of one call.
@available(*, unavailable) extension CanonicalJSONEmitter: Sendable {}
