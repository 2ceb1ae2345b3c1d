/// Writes canonical JSON, the form in which the log stores every event: one value has exactly
/// one spelling, so equal events are equal bytes (the idempotent-append check and the segment
/// hash chain both depend on it).
///
/// The form: no whitespace; strings with exactly the escapes `\"` `\\` `\b` `\f` `\n` `\r` `\t`
/// and `\u00xx` (lowercase hex) for the other bytes below 0x20, everything else (including `/`,
/// DEL and all non-ASCII) as raw UTF-8; integers in plain decimal; a double that is integral
/// with magnitude below 2^53 as that integer, any other double as Swift's shortest
/// round-tripping `description`. Object members keep the order they are written in, or with
/// `writeValue(…, sortKeys: true)` the byte order of their decoded keys.
package struct CanonicalJSONWriter {
  package var bytes: [UInt8]

  package init(capacity: Int) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  /// Appends punctuation or a key known at compile time, as is: the caller vouches that it is
  /// canonical JSON text.
  package mutating func writeRaw(_ text: StaticString) {
    text.withUTF8Buffer { bytes.append(contentsOf: $0) }
  }

  package mutating func writeNull() { writeRaw("null") }

  package mutating func writeBool(_ value: Bool) {
    if value { writeRaw("true") } else { writeRaw("false") }
  }

  package mutating func writeInt(_ value: Int64) {
    writeBounded(CanonicalJSONEmitter.maximumNumberLength) { $0.int(value) }
  }

  /// Writes a finite double; JSON has no spelling for infinities or NaN, so they trap.
  package mutating func writeDouble(_ value: Double) {
    writeBounded(CanonicalJSONEmitter.maximumNumberLength) { $0.double(value) }
  }

  package mutating func writeString(_ string: String) {
    if string.utf8.withContiguousStorageIfAvailable({ writeEscaped($0) }) == nil {
      Array(string.utf8).withUnsafeBufferPointer { writeEscaped($0) }
    }
  }

  package mutating func writeEscaped(_ raw: UnsafeRawBufferPointer) {
    writeEscaped(raw.bindMemory(to: UInt8.self))
  }

  private mutating func writeEscaped(_ text: UnsafeBufferPointer<UInt8>) {
    writeBounded(CanonicalJSONEmitter.escapedLength(of: text)) { $0.escaped(text) }
  }

  /// Writes the string node at `index`. One without escapes is copied raw, quotes and all: the
  /// parser has proven it valid UTF-8 free of control characters, which is already canonical.
  /// One with escapes is decoded and escaped again the canonical way.
  package mutating func writeStringNode(
    _ index: Int, of document: JSONDocument, in input: UnsafeRawBufferPointer
  ) {
    let content = document.stringContent(index, in: input)
    withExtendedLifetime(document) {
      // Decoding never lengthens a string: an escape becomes at most as many bytes.
      writeBounded(content.rawBytes.count + 2) { $0.string(content) }
    }
  }

  /// Writes the subtree at `index`, numbers and strings made canonical; with `sortKeys`, the
  /// members of every object in the byte order of their decoded keys.
  package mutating func writeValue(
    _ index: Int, of document: JSONDocument, in input: UnsafeRawBufferPointer, sortKeys: Bool
  ) {
    let root = document.node(index, in: input)  // descendants lie inside the root's range
    let nodes = document.tape.nodes
    let base = document.base(of: input)
    withExtendedLifetime(document) {
      writeBounded(CanonicalJSONEmitter.maximumLength(of: root, index: index)) {
        $0.node(index, nodes: nodes, base: base, sortKeys: sortKeys)
      }
    }
  }

  /// Runs `body` on an emitter over `bound` bytes of new capacity at the end of `bytes`, and
  /// keeps what it wrote. Emitting through a pointer into space made ahead is what makes the
  /// writer fast: no capacity or uniqueness check per byte, and no zero-filling either.
  private mutating func writeBounded(
    _ bound: Int, _ body: (inout CanonicalJSONEmitter) -> Void
  ) {
    bytes.append(addingCapacity: bound) { span in
      span.withUnsafeMutableBufferPointer { buffer, initialized in
        let first = buffer.baseAddress.unsafelyUnwrapped + initialized
        var emitter = CanonicalJSONEmitter(out: first, limit: first + bound)
        body(&emitter)
        initialized += emitter.out - first
      }
    }
  }
}

extension CanonicalJSONWriter: Sendable {}
