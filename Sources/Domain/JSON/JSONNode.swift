/// One node of a parsed document's tape, in document order (simdjson's "tape").
///
/// A node locates its value in the parsed buffer instead of holding it: decoding a string or a
/// number costs nothing until someone asks for it, and most values of an event are only ever
/// copied into the canonical output. Object members are laid out as a key node (a string) and a
/// value node, alternately, right after the object node; array elements follow their array node.
/// Offsets are 32-bit, which keeps a node at 20 bytes; `JSONDocument.parse` rejects buffers of
/// 4 GiB or more.
package struct JSONNode: Equatable {
  /// The JSON value's type; `true` and `false` are kinds of their own so that a boolean needs no
  /// look at the bytes.
  package enum Kind: UInt8, Sendable {
    case null
    case `false`
    case `true`
    case number
    case string
    case array
    case object
  }

  package var kind: Kind
  /// Strings: the literal contains a backslash escape, so its raw bytes are not its value.
  package var hasEscapes: Bool
  /// Numbers: the literal has neither fraction nor exponent.
  package var isInteger: Bool
  /// Byte offset of the value's first byte (strings: the opening quote).
  package var start: UInt32
  /// One past the value's last byte (strings: one past the closing quote; containers: one past
  /// the closing bracket).
  package var end: UInt32
  /// Arrays: elements; objects: members; otherwise 0.
  package var count: UInt32
  /// Index of the node that follows this value and all its descendants.
  package var next: UInt32

  package init(
    kind: Kind, hasEscapes: Bool = false, isInteger: Bool = false, start: UInt32, end: UInt32,
    count: UInt32 = 0, next: UInt32
  ) {
    self.kind = kind
    self.hasEscapes = hasEscapes
    self.isInteger = isInteger
    self.start = start
    self.end = end
    self.count = count
    self.next = next
  }
}

/// The nodes of a parsed document, as a collection that shares the document's storage.
///
/// A view rather than an `Array` so that reading the tape never copies or allocates; holding a
/// view while the document parses again is safe (the document then moves to fresh storage).
package struct JSONNodes: RandomAccessCollection {
  private let tape: JSONTape
  package let count: Int

  init(tape: JSONTape) {
    self.tape = tape
    self.count = tape.count
  }

  package var startIndex: Int { 0 }
  package var endIndex: Int { count }

  package subscript(position: Int) -> JSONNode {
    precondition(position >= 0 && position < count, "JSON node index out of range")
    return tape.nodes[position]
  }
}

extension JSONNode: Sendable {}

extension JSONNodes: Sendable {}
