/// The parsing engine: one pass over the bytes that checks everything RFC 8259 and RFC 3629
/// demand and writes the tape.
///
/// It is the only JSON code that walks raw input pointers, and it compares every position with
/// `end` before reading there: the buffer usually points into a memory-mapped log, where one byte
/// too far can be an unmapped page. Containers are tracked on an explicit stack in the tape
/// rather than by recursion, so the nesting limit is a bound check and not a stack overflow.
struct JSONScanner: ~Copyable {
  /// Objects with up to this many keys are checked for duplicates pairwise as each key arrives,
  /// which is cheaper than hashing for the eight or so members of an event; larger objects are
  /// checked by sorting key hashes when they close.
  static let pairwiseKeyLimit = 32

  let base: UnsafePointer<UInt8>
  let end: Int
  /// Unowned: the document that runs the scanner holds the tape for the scanner's whole life,
  /// and skipping the reference count is measurable on short lines.
  unowned(unsafe) let tape: JSONTape
  var nodes: UnsafeMutablePointer<JSONNode>
  var nodeCount = 0
  var nodeCapacity: Int
  var keys: UnsafeMutablePointer<UInt32>
  var keyCount = 0
  var keyCapacity: Int

  init(base: UnsafePointer<UInt8>, count: Int, tape: JSONTape) {
    self.base = base
    self.end = count
    self.tape = tape
    nodes = tape.nodes
    nodeCapacity = tape.nodeCapacity
    keys = tape.keys
    keyCapacity = tape.keyCapacity
  }

  /// Parses one value with only whitespace around it; returns the number of nodes written.
  mutating func parseDocument() throws(JSONSyntaxError) -> Int {
    let containers = tape.containers
    let keyBases = tape.keyBases
    var depth = 0
    var pos = skipWhitespace(from: 0)
    nextValue: while true {
      guard pos < end else {
        throw syntaxError("expected a value, found end of input", at: pos)
      }
      switch base[pos] {
      case UInt8(ascii: "\""):
        let string = try scanString(at: pos)
        append(string)
        pos = Int(string.end)
      case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
        pos = try scanNumber(at: pos)
      case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
        pos = try scanLiteral(at: pos)
      case UInt8(ascii: "{"):
        guard depth < JSONTape.maximumDepth else { throw tooDeep(at: pos) }
        let object = nodeCount
        containers[depth] = UInt32(truncatingIfNeeded: object)
        keyBases[depth] = UInt32(truncatingIfNeeded: keyCount)
        depth += 1
        append(JSONNode(kind: .object, start: UInt32(truncatingIfNeeded: pos), end: 0, next: 0))
        pos = skipWhitespace(from: pos + 1)
        if pos < end && base[pos] == UInt8(ascii: "}") {
          close(object, at: pos)
          depth -= 1
          pos += 1
        } else {
          pos = try scanKey(at: pos, of: object, keyBase: keyCount, isFirst: true)
          continue nextValue
        }
      case UInt8(ascii: "["):
        guard depth < JSONTape.maximumDepth else { throw tooDeep(at: pos) }
        let array = nodeCount
        containers[depth] = UInt32(truncatingIfNeeded: array)
        depth += 1
        append(JSONNode(kind: .array, start: UInt32(truncatingIfNeeded: pos), end: 0, next: 0))
        pos = skipWhitespace(from: pos + 1)
        if pos < end && base[pos] == UInt8(ascii: "]") {
          close(array, at: pos)
          depth -= 1
          pos += 1
        } else {
          nodes[array].count = 1
          continue nextValue
        }
      default:
        throw syntaxError("expected a value, found \(describe(at: pos))", at: pos)
      }

      // A value is complete: close the containers it completes, or go on to the next one.
      while true {
        pos = skipWhitespace(from: pos)
        guard depth > 0 else {
          guard pos == end else {
            throw syntaxError(
              "expected end of input after the JSON value, found \(describe(at: pos))", at: pos)
          }
          return nodeCount
        }
        let container = Int(containers[depth - 1])
        let byte = pos < end ? base[pos] : 0
        if nodes[container].kind == .object {
          let keyBase = Int(keyBases[depth - 1])
          if byte == UInt8(ascii: ",") {
            pos = skipWhitespace(from: pos + 1)
            pos = try scanKey(at: pos, of: container, keyBase: keyBase, isFirst: false)
            continue nextValue
          }
          guard byte == UInt8(ascii: "}") else {
            throw syntaxError(
              "expected ',' or '}' after object member, found \(describe(at: pos))", at: pos)
          }
          if nodes[container].count > Self.pairwiseKeyLimit {
            try checkKeysBySorting(keys: keyBase..<keyCount)
          }
          keyCount = keyBase
        } else {
          if byte == UInt8(ascii: ",") {
            nodes[container].count += 1
            pos = skipWhitespace(from: pos + 1)
            continue nextValue
          }
          guard byte == UInt8(ascii: "]") else {
            throw syntaxError(
              "expected ',' or ']' after array element, found \(describe(at: pos))", at: pos)
          }
        }
        close(container, at: pos)
        depth -= 1
        pos += 1
      }
    }
  }

  /// Scans an object key, the colon and the whitespace after it; returns where the value starts.
  private mutating func scanKey(
    at start: Int, of object: Int, keyBase: Int, isFirst: Bool
  ) throws(JSONSyntaxError) -> Int {
    guard start < end && base[start] == UInt8(ascii: "\"") else {
      let expected = isFirst ? "a string key or '}'" : "a string key"
      throw syntaxError("expected \(expected), found \(describe(at: start))", at: start)
    }
    let key = try scanString(at: start)
    try addKey(key, keyBase: keyBase)
    nodes[object].count += 1
    let pos = skipWhitespace(from: Int(key.end))
    guard pos < end && base[pos] == UInt8(ascii: ":") else {
      throw syntaxError("expected ':' after object key, found \(describe(at: pos))", at: pos)
    }
    return skipWhitespace(from: pos + 1)
  }

  /// Scans `true`, `false` or `null`.
  private mutating func scanLiteral(at start: Int) throws(JSONSyntaxError) -> Int {
    let kind: JSONNode.Kind
    let length: Int
    switch base[start] {
    case UInt8(ascii: "t"):
      guard end - start >= 4 && loadUInt32(at: start) == 0x6575_7274 else {  // "true"
        throw syntaxError("invalid literal, expected 'true'", at: start)
      }
      (kind, length) = (.true, 4)
    case UInt8(ascii: "f"):
      guard end - start >= 5 && loadUInt32(at: start + 1) == 0x6573_6C61 else {  // "alse"
        throw syntaxError("invalid literal, expected 'false'", at: start)
      }
      (kind, length) = (.false, 5)
    default:
      guard end - start >= 4 && loadUInt32(at: start) == 0x6C6C_756E else {  // "null"
        throw syntaxError("invalid literal, expected 'null'", at: start)
      }
      (kind, length) = (.null, 4)
    }
    append(
      JSONNode(
        kind: kind, start: UInt32(truncatingIfNeeded: start),
        end: UInt32(truncatingIfNeeded: start + length),
        next: UInt32(truncatingIfNeeded: nodeCount + 1)))
    return start + length
  }

  /// Scans a number per RFC 8259's grammar; rejects magnitudes that overflow a `Double`, which
  /// no reader could represent.
  private mutating func scanNumber(at start: Int) throws(JSONSyntaxError) -> Int {
    var pos = start
    if base[pos] == UInt8(ascii: "-") {
      pos += 1
      guard pos < end && isDigit(base[pos]) else {
        throw syntaxError("expected a digit after '-', found \(describe(at: pos))", at: pos)
      }
    }
    let integerStart = pos
    if base[pos] == UInt8(ascii: "0") {
      pos += 1
      if pos < end && isDigit(base[pos]) {
        throw syntaxError("leading zeros are not allowed in numbers", at: integerStart)
      }
    } else {
      repeat { pos += 1 } while pos < end && isDigit(base[pos])
    }
    let integerDigits = pos - integerStart
    var isInteger = true
    var exponent = 0
    if pos < end && base[pos] == UInt8(ascii: ".") {
      pos += 1
      guard pos < end && isDigit(base[pos]) else {
        throw syntaxError(
          "expected a digit after the decimal point, found \(describe(at: pos))", at: pos)
      }
      repeat { pos += 1 } while pos < end && isDigit(base[pos])
      isInteger = false
    }
    if pos < end && base[pos] | 0x20 == UInt8(ascii: "e") {
      pos += 1
      var negative = false
      if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) {
        negative = base[pos] == UInt8(ascii: "-")
        pos += 1
      }
      guard pos < end && isDigit(base[pos]) else {
        throw syntaxError(
          "expected a digit in the exponent, found \(describe(at: pos))", at: pos)
      }
      repeat {
        if exponent < 1_000_000 { exponent = exponent * 10 + Int(base[pos] &- 0x30) }
        pos += 1
      } while pos < end && isDigit(base[pos])
      if negative { exponent = -exponent }
      isInteger = false
    }
    // Only a literal of 10^308 or more can overflow; those few pay for an exact conversion.
    if integerDigits + exponent > 308
      && !JSONNumberText.double(base + start, count: pos - start).isFinite
    {
      throw syntaxError("number out of range for a 64-bit float", at: start)
    }
    append(
      JSONNode(
        kind: .number, isInteger: isInteger, start: UInt32(truncatingIfNeeded: start),
        end: UInt32(truncatingIfNeeded: pos), next: UInt32(truncatingIfNeeded: nodeCount + 1)))
    return pos
  }

  /// Marks a container complete: its end offset, and the node after its last descendant.
  @inline(__always)
  private mutating func close(_ container: Int, at pos: Int) {
    nodes[container].end = UInt32(truncatingIfNeeded: pos + 1)
    nodes[container].next = UInt32(truncatingIfNeeded: nodeCount)
  }

  @inline(__always)
  mutating func append(_ node: JSONNode) {
    if nodeCount == nodeCapacity { growNodes() }
    nodes[nodeCount] = node
    nodeCount += 1
  }

  @inline(never)
  private mutating func growNodes() {
    tape.growNodes(keeping: nodeCount)
    nodes = tape.nodes
    nodeCapacity = tape.nodeCapacity
  }

  @inline(__always)
  func skipWhitespace(from start: Int) -> Int {
    var pos = start
    while pos < end {
      let byte = base[pos]
      guard byte <= 0x20 else { break }  // most calls: a token follows at once
      guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { break }
      pos += 1
    }
    return pos
  }

  @inline(__always)
  func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

  @inline(__always)
  func loadUInt32(at pos: Int) -> UInt32 {
    UInt32(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt32.self))
  }

  @inline(__always)
  func loadUInt64(at pos: Int) -> UInt64 {
    UInt64(littleEndian: UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
  }

  /// What the parser found at `pos`, for "expected …, found …" messages.
  func describe(at pos: Int) -> String {
    guard pos < end else { return "end of input" }
    let byte = base[pos]
    if byte == UInt8(ascii: "'") { return "\"'\"" }
    if byte > 0x20 && byte < 0x7F {
      return "'\(Character(Unicode.Scalar(byte)))'"
    }
    return "byte \(hexByte(byte))"
  }

  @inline(never)
  func syntaxError(_ message: String, at offset: Int) -> JSONSyntaxError {
    JSONSyntaxError(offset: offset, message: message)
  }

  @inline(never)
  private func tooDeep(at offset: Int) -> JSONSyntaxError {
    syntaxError("nesting deeper than \(JSONTape.maximumDepth) levels", at: offset)
  }
}

/// `0xC3`: how error messages show a byte.
func hexByte(_ byte: UInt8) -> String {
  let digits = Array("0123456789ABCDEF")
  return "0x\(digits[Int(byte >> 4)])\(digits[Int(byte & 0xF)])"
}

/// Reads the caller's buffer and writes the tape in place, for the duration of one parse.
@available(*, unavailable) extension JSONScanner: Sendable {}
