/// A parsed JSON document: a tape of nodes over the caller's bytes.
///
/// Built for the event log's hot path, where every NDJSON line is parsed once: `parse` checks
/// the whole of RFC 8259 strictly (plus UTF-8 per RFC 3629, unique keys and a nesting limit)
/// in one pass, copies nothing out of the buffer, and reuses its storage, so parsing line after
/// line allocates nothing once the storage has grown to the largest line. Values are decoded
/// only on demand, from the same bytes: every accessor takes the buffer that was parsed, and
/// the caller must keep it alive and unchanged while it reads.
package struct JSONDocument {
  private(set) var tape: JSONTape

  package init() {
    tape = JSONTape()
  }

  /// Parses exactly one JSON value, with only JSON whitespace around it, replacing the nodes of
  /// the previous parse. After a failure `nodes` is empty.
  ///
  /// - Throws: `JSONSyntaxError` at the first byte that breaks the grammar, UTF-8, the nesting
  ///   limit of 64, or key uniqueness (at the repeated key).
  package mutating func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) {
    if !isKnownUniquelyReferenced(&tape) {
      tape = JSONTape(nodeCapacity: tape.nodeCapacity, keyCapacity: tape.keyCapacity)
    }
    tape.count = 0
    guard let base = bytes.baseAddress, !bytes.isEmpty else {
      throw JSONSyntaxError(offset: 0, message: "expected a value, found end of input")
    }
    guard bytes.count < Int(UInt32.max) else {
      throw JSONSyntaxError(offset: 0, message: "document of 4 GiB or more")
    }
    var scanner = JSONScanner(
      base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count, tape: tape)
    tape.count = try scanner.parseDocument()
  }

  /// The tape of the last successful parse; `nodes[0]` is the root.
  package var nodes: JSONNodes { JSONNodes(tape: tape) }

  /// The node at `index`, checked against the tape and against `bytes`, so that a wrong buffer
  /// traps instead of reading out of bounds.
  @inline(__always)
  func node(_ index: Int, in bytes: UnsafeRawBufferPointer) -> JSONNode {
    precondition(index >= 0 && index < tape.count, "JSON node index out of range")
    let node = tape.nodes[index]
    precondition(Int(node.end) <= bytes.count, "JSON document read with a shorter buffer")
    return node
  }

  /// The bytes as UInt8s; only called once `node(_:in:)` has checked they are long enough.
  @inline(__always)
  func base(of bytes: UnsafeRawBufferPointer) -> UnsafePointer<UInt8> {
    bytes.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self)
  }

  func stringContent(_ index: Int, in bytes: UnsafeRawBufferPointer) -> JSONStringContent {
    let node = node(index, in: bytes)
    precondition(node.kind == .string, "JSON node is not a string")
    return JSONStringContent(node: node, base: base(of: bytes))
  }
}

extension JSONDocument {
  /// The index of the value of member `key` in the object at `object`, or nil. Keys compare by
  /// their decoded bytes, so `"unit"` finds a key written `"\u0075nit"`.
  package func member(_ key: String, ofObject object: Int, in bytes: UnsafeRawBufferPointer)
    -> Int?
  {
    let container = node(object, in: bytes)
    precondition(container.kind == .object, "JSON node is not an object")
    let find = { (wanted: UnsafeBufferPointer<UInt8>) -> Int? in
      for (keyIndex, valueIndex) in members(ofObject: object) {
        let content = stringContent(keyIndex, in: bytes)
        if content.equals(wanted) { return valueIndex }
      }
      return nil
    }
    if let found = key.utf8.withContiguousStorageIfAvailable(find) { return found }
    return Array(key.utf8).withUnsafeBufferPointer(find)
  }

  /// The members of the object at `object`: (key index, value index) pairs in document order.
  package func members(ofObject object: Int) -> JSONMembers {
    precondition(object >= 0 && object < tape.count, "JSON node index out of range")
    let node = tape.nodes[object]
    precondition(node.kind == .object, "JSON node is not an object")
    return JSONMembers(tape: tape, first: object + 1, count: Int(node.count))
  }

  /// The element indices of the array at `array`, in document order.
  package func elements(ofArray array: Int) -> JSONElements {
    precondition(array >= 0 && array < tape.count, "JSON node index out of range")
    let node = tape.nodes[array]
    precondition(node.kind == .array, "JSON node is not an array")
    return JSONElements(tape: tape, first: array + 1, count: Int(node.count))
  }

  /// Appends the decoded string at `index` (escapes resolved) to `out`: the allocation-free
  /// way to read a string.
  package func appendString(
    at index: Int, in bytes: UnsafeRawBufferPointer, to out: inout [UInt8]
  ) {
    stringContent(index, in: bytes).appendDecoded(to: &out)
  }

  /// The decoded string at `index`.
  package func decodeString(
    at index: Int, in bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawPointer
  ) -> Int {
    var decoded: [UInt8] = []
    appendString(at: index, in: bytes, to: &decoded)
    decoded.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    return decoded.count
  }

  package func string(at index: Int, in bytes: UnsafeRawBufferPointer) -> String {
    let content = stringContent(index, in: bytes)
    guard content.hasEscapes else { return String(decoding: content.rawBytes, as: UTF8.self) }
    var decoded: [UInt8] = []
    decoded.reserveCapacity(content.rawBytes.count)
    content.appendDecoded(to: &decoded)
    return String(decoding: decoded, as: UTF8.self)
  }

  /// The number at `index` as an `Int64`: exact for an integer literal (no fraction or
  /// exponent) that fits, nil for any other number.
  package func int64(at index: Int, in bytes: UnsafeRawBufferPointer) -> Int64? {
    let node = node(index, in: bytes)
    precondition(node.kind == .number, "JSON node is not a number")
    guard node.isInteger else { return nil }
    return JSONNumberText.int64(
      base(of: bytes) + Int(node.start), count: Int(node.end - node.start))
  }

  /// The number at `index` as the nearest `Double`; always finite, as `parse` rejects
  /// literals beyond the range of a double.
  package func double(at index: Int, in bytes: UnsafeRawBufferPointer) -> Double {
    let node = node(index, in: bytes)
    precondition(node.kind == .number, "JSON node is not a number")
    return JSONNumberText.double(
      base(of: bytes) + Int(node.start), count: Int(node.end - node.start))
  }
}

/// The members of an object, found by following each value's `next` link.
package struct JSONMembers: Sequence {
  let tape: JSONTape
  let first: Int
  let count: Int

  package func makeIterator() -> Iterator { Iterator(tape: tape, key: first, remaining: count) }

  /// Yields (key index, value index) pairs.
  package struct Iterator: IteratorProtocol {
    let tape: JSONTape
    var key: Int
    var remaining: Int

    package mutating func next() -> (key: Int, value: Int)? {
      guard remaining > 0 else { return nil }
      remaining -= 1
      let value = key + 1
      key = Int(tape.nodes[value].next)
      return (key: value - 1, value: value)
    }
  }

  package var underestimatedCount: Int { count }
}

/// The elements of an array, found by following each element's `next` link.
package struct JSONElements: Sequence {
  let tape: JSONTape
  let first: Int
  let count: Int

  package func makeIterator() -> Iterator { Iterator(tape: tape, element: first, remaining: count) }

  /// Yields element indices.
  package struct Iterator: IteratorProtocol {
    let tape: JSONTape
    var element: Int
    var remaining: Int

    package mutating func next() -> Int? {
      guard remaining > 0 else { return nil }
      remaining -= 1
      let current = element
      element = Int(tape.nodes[current].next)
      return current
    }
  }

  package var underestimatedCount: Int { count }
}

/// Copy-on-write storage: each copy parses into a tape it alone holds.
extension JSONDocument: Sendable {}

extension JSONMembers: Sendable {}

extension JSONElements: Sendable {}
