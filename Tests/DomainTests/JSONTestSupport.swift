import Domain
import TestSupport

/// A test input written for reading: `⟨C3 28⟩` stands for raw bytes (to spell invalid UTF-8),
/// and `1️⃣` marks the byte offset where an error should point (swift-format's markers).
struct MarkedInput: Sendable, CustomStringConvertible {
  var bytes: [UInt8] = []
  var marker: Int?
  let description: String

  init(_ text: String) {
    description = text
    var characters = text.makeIterator()
    while let character = characters.next() {
      switch character {
      case "1️⃣":
        marker = bytes.count
      case "⟨":
        var hex = ""
        while let next = characters.next(), next != "⟩" { hex.append(next) }
        bytes += hex.split(separator: " ").map { UInt8($0, radix: 16)! }
      default:
        bytes += character.utf8
      }
    }
  }
}

/// Parses `bytes` into a fresh document and hands it, with the buffer, to `body`. The bytes
/// end at an unreadable page, so any read past them crashes the test.
func withParsed<T>(
  _ bytes: [UInt8], _ body: (JSONDocument, UnsafeRawBufferPointer) throws -> T
) throws -> T {
  try withGuardedBytes(bytes) { raw in
    var document = JSONDocument()
    try document.parse(raw)
    return try body(document, raw)
  }
}

func withParsed<T>(
  _ text: String, _ body: (JSONDocument, UnsafeRawBufferPointer) throws -> T
) throws -> T {
  try withParsed(Array(text.utf8), body)
}

/// The parse error for `bytes` (ending at an unreadable page), or nil if they parse.
func parseError(_ bytes: [UInt8]) -> JSONSyntaxError? {
  withGuardedBytes(bytes) { raw -> JSONSyntaxError? in
    var document = JSONDocument()
    do throws(JSONSyntaxError) {
      try document.parse(raw)
      return nil
    } catch {
      return error
    }
  }
}

/// The canonical form of the parsed `bytes`.
func canonical(_ bytes: [UInt8], sortKeys: Bool = true) throws -> [UInt8] {
  try withParsed(bytes) { document, raw in
    var writer = CanonicalJSONWriter(capacity: bytes.count)
    writer.writeValue(0, of: document, in: raw, sortKeys: sortKeys)
    return writer.bytes
  }
}

func canonical(_ text: String, sortKeys: Bool = true) throws -> String {
  String(decoding: try canonical(Array(text.utf8), sortKeys: sortKeys), as: UTF8.self)
}
