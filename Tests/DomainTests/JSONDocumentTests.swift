import Domain
import Foundation
import Testing

/// The tape's layout and the document's accessors.
@Suite struct JSONDocumentTests {
  @Test func tapeLayout() throws {
    let text = #"{"a":[1,{"b":null}],"c":"x\n"}"#
    try withParsed(text) { document, _ in
      let nodes = document.nodes
      #expect(
        nodes.map(\.kind) == [
          .object, .string, .array, .number, .object, .string, .null,
          .string, .string,
        ])
      #expect(nodes.map(\.next) == [9, 2, 7, 4, 7, 6, 7, 8, 9])
      #expect(nodes.map(\.count) == [2, 0, 2, 0, 1, 0, 0, 0, 0])
      #expect(nodes[0].start == 0 && nodes[0].end == UInt32(text.utf8.count))
      #expect(nodes[2].start == 5 && nodes[2].end == 19)  // [1,{"b":null}]
      #expect(nodes[1].start == 1 && nodes[1].end == 4)  // "a", quotes included
      #expect(nodes[3].isInteger)
      #expect(nodes[8].hasEscapes && !nodes[7].hasEscapes)
    }
  }

  @Test func membersAndElements() throws {
    let text = #"{"id":"e1","data":{"list":[10,[20],{"x":30}],"n":"\u006e"},"\u0075nit":"VN"}"#
    try withParsed(text) { document, bytes in
      #expect(document.member("id", ofObject: 0, in: bytes) == 2)
      #expect(
        document.member("unit", ofObject: 0, in: bytes).map {
          document.string(at: $0, in: bytes)
        } == "VN")
      #expect(document.member("missing", ofObject: 0, in: bytes) == nil)
      #expect(document.member("", ofObject: 0, in: bytes) == nil)
      #expect(document.member("i", ofObject: 0, in: bytes) == nil)

      let data = try #require(document.member("data", ofObject: 0, in: bytes))
      let keys = document.members(ofObject: data).map { document.string(at: $0.key, in: bytes) }
      #expect(keys == ["list", "n"])
      let list = try #require(document.member("list", ofObject: data, in: bytes))
      let elements = Array(document.elements(ofArray: list))
      #expect(elements.map { document.nodes[$0].kind } == [.number, .array, .object])
      #expect(document.int64(at: elements[0], in: bytes) == 10)
      let inner = try #require(document.member("x", ofObject: elements[2], in: bytes))
      #expect(document.int64(at: inner, in: bytes) == 30)
      #expect(Array(document.elements(ofArray: elements[1])).count == 1)
      #expect(Array(document.members(ofObject: 0)).count == 3)
    }
    try withParsed("[]") { document, _ in
      #expect(Array(document.elements(ofArray: 0)).isEmpty)
    }
  }

  @Test func decodedStrings() throws {
    let cases: [(String, String)] = [
      (#""""#, ""),
      (#""plain""#, "plain"),
      (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"),
      (#""\u0000\u001f\u00e9\u00C9\u20AC""#, "\u{0}\u{1F}éÉ€"),
      (#""\uD834\uDD1E and \ud83d\ude00""#, "𝄞 and 😀"),
      (#""Sở Y tế \u004C\u1EA1ng Sơn""#, "Sở Y tế Lạng Sơn"),
    ]
    for (text, expected) in cases {
      try withParsed(text) { document, bytes in
        #expect(document.string(at: 0, in: bytes) == expected, "\(text)")
        var out: [UInt8] = [0x41]
        document.appendString(at: 0, in: bytes, to: &out)
        #expect(out == [0x41] + Array(expected.utf8), "\(text)")
      }
    }
  }

  @Test func integers() throws {
    let cases: [(String, Int64?)] = [
      ("0", 0), ("-0", 0), ("7", 7), ("-42", -42), ("9223372036854775807", .max),
      ("-9223372036854775808", .min), ("9223372036854775808", nil), ("-9223372036854775809", nil),
      ("12345678901234567890", nil), ("1.0", nil), ("1e2", nil), ("-0.0", nil),
    ]
    for (text, expected) in cases {
      try withParsed(text) { document, bytes in
        #expect(document.int64(at: 0, in: bytes) == expected, "\(text)")
        #expect(document.nodes[0].isInteger == (text.allSatisfy { $0 == "-" || $0.isNumber }))
      }
    }
  }

  /// Clinger's fast path and the slow path both round correctly: compared with the C
  /// library's conversion through `Double(_:)`.
  @Test func doubles() throws {
    let texts = [
      "0", "-0", "-0.0", "1", "0.1", "0.3", "1.5", "-2.75e3", "1e22", "1e23", "9007199254740992",
      "9007199254740993", "9007199254740995", "123456789012345678", "1234567890123456789012",
      "0.000001", "1e-22", "1e-23", "2.2250738585072011e-308", "2.2250738585072014e-308",
      "4.9406564584124654e-324", "5e-324", "2e-324", "1e-400", "1.7976931348623157e308",
      "1.7976931348623158e308", "179769313486231580793728971405301e275", "0.1e1", "100e-2",
      "3.14159265358979323846264338327950288", "12345.6789e-3", "1E+2", "0e99999999999999",
      // 20+ digit mantissas that are multiples of 2^64: a wrapping accumulator reads 0.
      "-92233720368547758080", "184467440737095516160", "0.184467440737095516160e3",
      "0.00000000000000000000000000001", "100000000000000000000000000000",
    ]
    for text in texts {
      try withParsed(text) { document, bytes in
        let parsed = document.double(at: 0, in: bytes)
        let expected = try #require(Double(text))
        #expect(parsed.bitPattern == expected.bitPattern, "\(text): \(parsed) vs \(expected)")
      }
    }
  }

  @Test func reusingTheDocument() throws {
    let first = Array(#"{"a":[1,2,3],"b":"x"}"#.utf8)
    let second = Array("[true]".utf8)
    var document = JSONDocument()
    try first.withUnsafeBytes { try document.parse($0) }
    #expect(document.nodes.count == 8)
    let saved = document
    let savedNodes = document.nodes
    try second.withUnsafeBytes { try document.parse($0) }
    #expect(document.nodes.map(\.kind) == [.array, .true])
    #expect(saved.nodes.count == 8 && savedNodes.count == 8)  // copies keep their own tape
    #expect(savedNodes[1].kind == .string)

    let failure = Array("[1,".utf8)
    #expect(throws: JSONSyntaxError.self) { try failure.withUnsafeBytes { try document.parse($0) } }
    #expect(document.nodes.isEmpty)

    // A document far larger than the first grows its storage, then parses small ones again.
    let large = Array(
      ("[" + (0..<5000).map { "{\"k\($0)\":\($0)}" }.joined(separator: ",") + "]").utf8)
    try large.withUnsafeBytes { try document.parse($0) }
    #expect(document.nodes.count == 1 + 5000 * 3)
    try second.withUnsafeBytes { try document.parse($0) }
    #expect(document.nodes.count == 2)
  }

  @Test func characterColumns() {
    func column(_ line: String, _ offset: Int) -> Int {
      Array(line.utf8).withUnsafeBytes { characterColumn(ofByteOffset: offset, in: $0) }
    }
    #expect(column("abc", 0) == 1)
    #expect(column("abc", 2) == 3)
    #expect(column("abc", 3) == 4)
    #expect(column("abc", 5) == 6)
    #expect(column("éa", 2) == 2)  // é is two bytes, one column
    #expect(column("😀x", 4) == 2)
    #expect(column("", 0) == 1)
  }

  /// An error in a line of Vietnamese text points at the column an editor shows.
  @Test func errorColumnInVietnameseText() throws {
    let line = #"{"actor":"Sở Y tế Lạng Sơn","unit":VN}"#
    let bytes = Array(line.utf8)
    let error = try #require(parseError(bytes))
    #expect(error.message == "expected a value, found 'V'")
    let column = bytes.withUnsafeBytes { characterColumn(ofByteOffset: error.offset, in: $0) }
    #expect(column == Array(line).firstIndex(of: "V")! + 1)
  }

  @Test func errorDescription() {
    let error = JSONSyntaxError(offset: 3, message: "unterminated string")
    #expect(error.description == "byte 3: unterminated string")
  }
}
