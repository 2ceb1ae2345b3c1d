/// A token of the SQL text, with where it starts and ends (UTF-8 byte offsets), so that every
/// error can point at its span.
package struct Token: Equatable, Sendable {
  package enum Kind: Equatable, Sendable {
    /// A bare word: a keyword or an identifier (which, is decided by the parser).
    case word(String)
    /// A "quoted" identifier: never a keyword, case kept.
    case quotedIdentifier(String)
    case string(String)
    case integer(String)
    case decimal(String)
    case symbol(String)
    case end
  }

  package var kind: Kind
  package var start: Int
  package var end: Int

  /// The word upper-cased, for keyword comparison (nil for other tokens).
  package var keyword: String? {
    if case .word(let w) = kind { return w.uppercased() }
    return nil
  }

  package func isSymbol(_ s: String) -> Bool { kind == .symbol(s) }
}

/// A mistake in a statement: what, and where (a byte offset into the statement's text).
package struct SQLError: Error, Equatable, Sendable {
  package enum Kind: String, Sendable {
    case parser = "Parser Error"
    case binder = "Binder Error"
    case catalog = "Catalog Error"
    case conversion = "Conversion Error"
    case outOfRange = "Out of Range Error"
    case invalidInput = "Invalid Input Error"
    case interrupted = "Interrupt Error"
    case limit = "Out of Memory Error"
    /// What the role running the statement may not see (DESIGN.md, "Privacy and access").
    case permission = "Permission Error"
  }

  package var kind: Kind
  package var message: String
  package var offset: Int?

  package init(_ kind: Kind, _ message: String, at offset: Int? = nil) {
    self.kind = kind
    self.message = message
    self.offset = offset
  }

  /// The message as DuckDB prints it: the kind and the message, then the line of the
  /// statement with the error and a caret under its first character.
  ///
  /// ```
  /// Parser Error: syntax error at or near "FROM"
  ///
  /// LINE 1: SELECT a, FROM t
  ///                   ^
  /// ```
  package func rendered(in text: String) -> String {
    var out = "\(kind.rawValue): \(message)"
    guard let offset else { return out }
    let bytes = Array(text.utf8)
    let at = min(max(offset, 0), bytes.count)
    var lineStart = at
    while lineStart > 0 && bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
    var lineEnd = at
    while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
    let lineNumber = bytes[..<lineStart].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    let line = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
    let prefix = "LINE \(lineNumber): "
    // The caret goes under the character (not the byte) where the error is.
    let column = String(decoding: bytes[lineStart..<at], as: UTF8.self).count
    out += "\n\n" + prefix + line + "\n"
    out += String(repeating: " ", count: prefix.count + column) + "^"
    return out
  }
}
