/// A document that is not strict JSON: where (`offset`, the 0-based byte offset in the parsed
/// buffer) and what (`message`, short and precise, without the offset).
///
/// The offset is a byte offset because that is what the parser knows for free; a caller that
/// reports to a person turns it into a column with `characterColumn(ofByteOffset:in:)`.
package struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
  package var offset: Int
  package var message: String

  package init(offset: Int, message: String) {
    self.offset = offset
    self.message = message
  }

  package var description: String { "byte \(offset): \(message)" }
}

extension JSONSyntaxError: Sendable {}

/// The 1-based column of byte `offset` in `line`, counting Unicode scalars as an editor does:
/// every byte that is not a UTF-8 continuation byte starts a new column. Offsets at or past the
/// end count on as if the line went on in ASCII, so end-of-input errors point just past it.
package func characterColumn(ofByteOffset offset: Int, in line: UnsafeRawBufferPointer) -> Int {
  var column = 1
  for byte in line.prefix(max(0, offset)) where byte & 0xC0 != 0x80 {
    column += 1
  }
  return column + max(0, offset - line.count)
}
