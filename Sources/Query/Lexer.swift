/// Splits SQL text into tokens: words, "quoted identifiers" (`""` inside is a quote),
/// 'string literals' (`''` inside is a quote; any UTF-8, Vietnamese included), numbers,
/// symbols, `-- line` and `/* block */` comments skipped.
package struct Lexer {
  private let bytes: [UInt8]
  private var at = 0

  package init(_ text: String) { bytes = Array(text.utf8) }

  static let symbols: [String] = [
    "::", "<=", ">=", "<>", "!=", "||", "//", "==",
    "(", ")", ",", ".", ";", "+", "-", "*", "/", "%", "=", "<", ">", "[", "]",
  ]

  /// Every token, ending with `.end`.
  package static func tokens(_ text: String) throws(SQLError) -> [Token] {
    var lexer = Lexer(text)
    var out: [Token] = []
    while true {
      let t = try lexer.next()
      out.append(t)
      if t.kind == .end { return out }
    }
  }

  private func peek(_ k: Int = 0) -> UInt8? { at + k < bytes.count ? bytes[at + k] : nil }

  private static func isWordStart(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
  }

  private static func isWord(_ b: UInt8) -> Bool { isWordStart(b) || isDigit(b) || b == 0x24 }

  private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

  private func text(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

  package mutating func next() throws(SQLError) -> Token {
    try skipSpaceAndComments()
    let start = at
    guard let b = peek() else { return Token(kind: .end, start: at, end: at) }
    if Self.isWordStart(b) {
      while let c = peek(), Self.isWord(c) { at += 1 }
      return Token(kind: .word(text(start..<at)), start: start, end: at)
    }
    if Self.isDigit(b) || (b == 0x2E && peek(1).map(Self.isDigit) == true) {
      return try number(start)
    }
    if b == 0x27 { return try quoted(start, quote: 0x27) { .string($0) } }
    if b == 0x22 {
      return try quoted(start, quote: 0x22) { .quotedIdentifier($0) }
    }
    for s in Self.symbols {
      let u = Array(s.utf8)
      if at + u.count <= bytes.count && Array(bytes[at..<(at + u.count)]) == u {
        at += u.count
        return Token(kind: .symbol(s == "!=" ? "<>" : s == "==" ? "=" : s), start: start, end: at)
      }
    }
    throw SQLError(
      .parser, "syntax error at or near \"\(Character(Unicode.Scalar(b)))\"", at: start)
  }

  private mutating func skipSpaceAndComments() throws(SQLError) {
    while let b = peek() {
      if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == 0x0C {
        at += 1
      } else if b == 0x2D && peek(1) == 0x2D {
        while let c = peek(), c != 0x0A { at += 1 }
      } else if b == 0x2F && peek(1) == 0x2A {
        let start = at
        at += 2
        var depth = 1
        while depth > 0 {
          guard let c = peek() else {
            throw SQLError(.parser, "unterminated /* comment */", at: start)
          }
          if c == 0x2A && peek(1) == 0x2F {
            depth -= 1
            at += 2
          } else if c == 0x2F && peek(1) == 0x2A {
            depth += 1
            at += 2
          } else {
            at += 1
          }
        }
      } else {
        return
      }
    }
  }

  private mutating func number(_ start: Int) throws(SQLError) -> Token {
    var decimal = false
    while let c = peek(), Self.isDigit(c) || c == 0x5F { at += 1 }
    if peek() == 0x2E, peek(1).map(Self.isDigit) ?? true {
      decimal = true
      at += 1
      while let c = peek(), Self.isDigit(c) { at += 1 }
    }
    if let e = peek(), e == 0x65 || e == 0x45 {
      let save = at
      at += 1
      if let s = peek(), s == 0x2B || s == 0x2D { at += 1 }
      if let d = peek(), Self.isDigit(d) {
        decimal = true
        while let c = peek(), Self.isDigit(c) { at += 1 }
      } else {
        at = save
      }
    }
    if let c = peek(), Self.isWordStart(c) {
      while let c = peek(), Self.isWord(c) { at += 1 }
      throw SQLError(.parser, "syntax error at or near \"\(text(start..<at))\"", at: start)
    }
    var t = text(start..<at)
    if t.utf8.contains(0x5F) { t.removeAll { $0 == "_" } }
    return Token(kind: decimal ? .decimal(t) : .integer(t), start: start, end: at)
  }

  private mutating func quoted(
    _ start: Int, quote: UInt8, _ make: (String) -> Token.Kind
  ) throws(SQLError) -> Token {
    at += 1
    var value: [UInt8] = []
    while true {
      guard let c = peek() else {
        let what = quote == 0x27 ? "string literal" : "quoted identifier"
        throw SQLError(.parser, "unterminated \(what)", at: start)
      }
      at += 1
      if c == quote {
        if peek() == quote {
          value.append(quote)
          at += 1
          continue
        }
        break
      }
      value.append(c)
    }
    return Token(kind: make(String(decoding: value, as: UTF8.self)), start: start, end: at)
  }
}

extension String {
  fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
    split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
  }
}
