import Domain
import Testing

/// Accept and reject tables in the spirit of nst/JSONTestSuite (its y_ and n_ cases), written
/// by hand. Inputs use `MarkedInput`'s notation: `⟨C3 28⟩` for raw bytes, `1️⃣` where the
/// error must point.
@Suite struct JSONConformanceTests {
  static let accepted: [String] = [
    // Structure and whitespace.
    "[]", "{}", "[[]]", "[{}]", " [1] ", "⟨09 0A 0D 20⟩[ ⟨0A⟩]⟨0D 0A⟩", "[1,[2,[3]]]",
    "{\"a\":{\"b\":{\"c\":[]}}}", "{\"a\":[],\"b\":{},\"c\":\"\"}", "{ \"a\" : 1 , \"b\" : 2 }",
    "[true,false,null]", "true", "false", "null", "\"x\"",
    String(repeating: "[", count: 64)
      + String(repeating: "]", count: 64),
    String(repeating: "{\"a\":", count: 63) + "{}" + String(repeating: "}", count: 63),
    // Numbers.
    "0", "-0", "1", "-1", "1.5", "1e5", "1E5", "1e+5", "1e-5", "-1.25e-3", "0.0", "0e0", "0E-0",
    "1e00", "-0.0e-0", "123456789012345678901234567890", "-9223372036854775808",
    "9223372036854775807", "1.7976931348623157e308", "1e-400", "4.9e-324", "[-1,0.5,7e7]",
    // Strings: escapes.
    "\"\"", "\"\\\"\"", "\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0000\"", "\"\\u001f\\u007F\"",
    "\"\\u00e9\\u00E9\"", "\"\\uD834\\uDD1E\"", "\"\\ud800\\udc00\"", "\"\\uDBFF\\uDFFF\"",
    "\"\\uFFFF\\uFEFF\"",
    // Strings: raw UTF-8 at every length boundary, and the edges of RFC 3629's table.
    "\"é€𝄞\"", "\"Chương trình phòng, chống mại dâm\"", "\"⟨7F⟩\"", "\"⟨C2 80⟩\"", "\"⟨DF BF⟩\"",
    "\"⟨E0 A0 80⟩\"", "\"⟨ED 9F BF⟩\"", "\"⟨EE 80 80⟩\"", "\"⟨EF BF BF⟩\"", "\"⟨EF BB BF⟩\"",
    "\"⟨E2 80 A8⟩\"", "\"⟨F0 90 80 80⟩\"", "\"⟨F4 8F BF BF⟩\"", "\"abcdefghijklmnopqrstuvwxyzé\"",
    // Keys: distinct once decoded, or distinct by case or by nesting.
    "{\"a\":1,\"A\":1}", "{\"a\":1,\"b\":{\"a\":2}}", "{\"\":0}",
    "{\"\\u0061b\":1,\"a\\u0062c\":2}",
    "{\"a\":1,\"a \":2,\" a\":3}", "{\"e\\u0301\":1,\"é\":2}",
  ]

  @Test(arguments: accepted)
  func accepts(_ text: String) {
    let input = MarkedInput(text)
    #expect(parseError(input.bytes) == nil, "\(input)")
  }

  /// A rejected input: where the error must point (the marker) and what it must say.
  struct Rejection: Sendable, CustomTestStringConvertible {
    let input: MarkedInput
    let message: String
    init(_ text: String, _ message: String) {
      input = MarkedInput(text)
      self.message = message
    }
    var testDescription: String { input.description }
  }

  static let rejected: [Rejection] = [
    // Structure.
    .init("1️⃣", "expected a value, found end of input"),
    .init("  1️⃣", "expected a value, found end of input"),
    .init("[1️⃣", "expected a value, found end of input"),
    .init("1️⃣]", "expected a value, found ']'"),
    .init("{1️⃣", "expected a string key or '}', found end of input"),
    .init("1️⃣}", "expected a value, found '}'"),
    .init("[1,1️⃣]", "expected a value, found ']'"),
    .init("[1️⃣,1]", "expected a value, found ','"),
    .init("[1 1️⃣2]", "expected ',' or ']' after array element, found '2'"),
    .init("[1,2 1️⃣", "expected ',' or ']' after array element, found end of input"),
    .init("{\"a\"1️⃣}", "expected ':' after object key, found '}'"),
    .init("{\"a\":1️⃣}", "expected a value, found '}'"),
    .init("{\"a\" 1️⃣1}", "expected ':' after object key, found '1'"),
    .init("{1️⃣a:1}", "expected a string key or '}', found 'a'"),
    .init("{1️⃣'a':1}", "expected a string key or '}', found \"'\""),
    .init("{\"a\":1,1️⃣}", "expected a string key, found '}'"),
    .init("{1️⃣,}", "expected a string key or '}', found ','"),
    .init("{\"a\":1 1️⃣\"b\":2}", "expected ',' or '}' after object member, found '\"'"),
    .init("{\"a\":1️⃣", "expected a value, found end of input"),
    .init("{\"a\":[1️⃣}", "expected a value, found '}'"),
    .init("[1]1️⃣]", "expected end of input after the JSON value, found ']'"),
    .init("[1] 1️⃣[2]", "expected end of input after the JSON value, found '['"),
    .init("1 1️⃣2", "expected end of input after the JSON value, found '2'"),
    .init("1️⃣⟨EF BB BF⟩[1]", "expected a value, found byte 0xEF"),
    .init("1️⃣/* c */ 1", "expected a value, found '/'"),
    .init("[1] 1️⃣// c", "expected end of input after the JSON value, found '/'"),
    .init("1️⃣⟨C2 A0⟩1", "expected a value, found byte 0xC2"),
    .init("1️⃣⟨0C⟩1", "expected a value, found byte 0x0C"),
    .init("[1,1️⃣⟨0B⟩2]", "expected a value, found byte 0x0B"),
    .init(
      String(repeating: "[", count: 64) + "1️⃣[" + String(repeating: "]", count: 65),
      "nesting deeper than 64 levels"),
    .init(
      String(repeating: "{\"a\":", count: 64) + "1️⃣{}" + String(repeating: "}", count: 64),
      "nesting deeper than 64 levels"),
    // Literals and numbers.
    .init("1️⃣tru", "invalid literal, expected 'true'"),
    .init("1️⃣True", "expected a value, found 'T'"),
    .init("[1️⃣nul]", "invalid literal, expected 'null'"),
    .init("1️⃣fals", "invalid literal, expected 'false'"),
    .init("false1️⃣y", "expected end of input after the JSON value, found 'y'"),
    .init("[true 1️⃣false]", "expected ',' or ']' after array element, found 'f'"),
    .init("1️⃣01", "leading zeros are not allowed in numbers"),
    .init("-1️⃣01", "leading zeros are not allowed in numbers"),
    .init("[1️⃣00]", "leading zeros are not allowed in numbers"),
    .init("1️⃣+1", "expected a value, found '+'"),
    .init("1️⃣.5", "expected a value, found '.'"),
    .init("1.1️⃣", "expected a digit after the decimal point, found end of input"),
    .init("1.1️⃣e5", "expected a digit after the decimal point, found 'e'"),
    .init("1e1️⃣", "expected a digit in the exponent, found end of input"),
    .init("[1E+1️⃣]", "expected a digit in the exponent, found ']'"),
    .init("-1️⃣", "expected a digit after '-', found end of input"),
    .init("-1️⃣-1", "expected a digit after '-', found '-'"),
    .init("01️⃣x10", "expected end of input after the JSON value, found 'x'"),
    .init("1️⃣NaN", "expected a value, found 'N'"),
    .init("1️⃣Infinity", "expected a value, found 'I'"),
    .init("-1️⃣Infinity", "expected a digit after '-', found 'I'"),
    .init("1️⃣1e400", "number out of range for a 64-bit float"),
    .init("[1️⃣-1e309]", "number out of range for a 64-bit float"),
    .init("1️⃣" + String(repeating: "9", count: 310), "number out of range for a 64-bit float"),
    // Strings: termination, escapes, control characters.
    .init("1️⃣\"abc", "unterminated string"),
    .init("[1️⃣\"abcdefghijklmnopqrstuvwxyz]", "unterminated string"),
    .init("1️⃣\"abc\\", "unterminated string"),
    .init("1️⃣'a'", "expected a value, found \"'\""),
    .init("\"1️⃣\\x\"", "invalid escape '\\x'"),
    .init("\"1️⃣\\U0041\"", "invalid escape '\\U'"),
    .init("\"1️⃣\\⟨0A⟩\"", "invalid escape: '\\' followed by byte 0x0A"),
    .init("\"1️⃣\\u12\"", "invalid \\u escape, expected 4 hex digits"),
    .init("\"1️⃣\\u12G4\"", "invalid \\u escape, expected 4 hex digits"),
    .init("\"1️⃣\\u00", "invalid \\u escape, expected 4 hex digits"),
    .init("\"1️⃣\\uD800\"", "unpaired surrogate escape \\uD800"),
    .init("\"1️⃣\\udc00\"", "unpaired surrogate escape \\udc00"),
    .init("\"1️⃣\\uDC00\\uD800\"", "unpaired surrogate escape \\uDC00"),
    .init("\"1️⃣\\uD800\\u0041\"", "unpaired surrogate escape \\uD800"),
    .init("\"1️⃣\\uD83D\\uD83D\"", "unpaired surrogate escape \\uD83D"),
    .init("\"1️⃣\\uD83D\\n\"", "unpaired surrogate escape \\uD83D"),
    .init("\"\\uD83D1️⃣\\uZZZZ\"", "invalid \\u escape, expected 4 hex digits"),
    .init("\"a1️⃣⟨09⟩\"", "unescaped control character 0x09 in string"),
    .init("\"1️⃣⟨0A⟩\"", "unescaped control character 0x0A in string"),
    .init("\"1️⃣⟨00⟩\"", "unescaped control character 0x00 in string"),
    .init("\"abcdefghijklmnopqrs1️⃣⟨1F⟩tuvwxyz\"", "unescaped control character 0x1F in string"),
    .init("\"0123456789abcdef1️⃣\\q\"", "invalid escape '\\q'"),
    // Strings: every way UTF-8 can be wrong (RFC 3629).
    .init("\"1️⃣⟨80⟩\"", "invalid UTF-8 byte 0x80 (unexpected continuation byte)"),
    .init("\"1️⃣⟨BF⟩\"", "invalid UTF-8 byte 0xBF (unexpected continuation byte)"),
    .init("\"é1️⃣⟨A9⟩\"", "invalid UTF-8 byte 0xA9 (unexpected continuation byte)"),
    .init("\"1️⃣⟨C0 80⟩\"", "invalid UTF-8 byte 0xC0 (overlong encoding)"),
    .init("\"1️⃣⟨C1 BF⟩\"", "invalid UTF-8 byte 0xC1 (overlong encoding)"),
    .init("\"1️⃣⟨E0 80 80⟩\"", "invalid UTF-8 byte 0xE0 0x80 (overlong encoding)"),
    .init("\"1️⃣⟨E0 9F BF⟩\"", "invalid UTF-8 byte 0xE0 0x9F (overlong encoding)"),
    .init("\"1️⃣⟨F0 80 80 80⟩\"", "invalid UTF-8 byte 0xF0 0x80 (overlong encoding)"),
    .init("\"1️⃣⟨F0 8F BF BF⟩\"", "invalid UTF-8 byte 0xF0 0x8F (overlong encoding)"),
    .init("\"1️⃣⟨ED A0 80⟩\"", "invalid UTF-8 byte 0xED 0xA0 (UTF-16 surrogate)"),
    .init("\"1️⃣⟨ED BF BF⟩\"", "invalid UTF-8 byte 0xED 0xBF (UTF-16 surrogate)"),
    .init("\"1️⃣⟨ED A0 BD ED B2 A9⟩\"", "invalid UTF-8 byte 0xED 0xA0 (UTF-16 surrogate)"),
    .init("\"1️⃣⟨F4 90 80 80⟩\"", "invalid UTF-8 byte 0xF4 0x90 (above U+10FFFF)"),
    .init("\"1️⃣⟨F5 80 80 80⟩\"", "invalid UTF-8 byte 0xF5 (above U+10FFFF)"),
    .init("\"1️⃣⟨F8 88 80 80 80⟩\"", "invalid UTF-8 byte 0xF8 (never valid in UTF-8)"),
    .init("\"1️⃣⟨FE⟩\"", "invalid UTF-8 byte 0xFE (never valid in UTF-8)"),
    .init("\"1️⃣⟨FF⟩\"", "invalid UTF-8 byte 0xFF (never valid in UTF-8)"),
    .init("\"1️⃣⟨C3 28⟩\"", "invalid UTF-8 byte 0xC3 0x28 (expected a continuation byte)"),
    .init("\"1️⃣⟨E1 80 28⟩\"", "invalid UTF-8 byte 0xE1 0x80 0x28 (expected a continuation byte)"),
    .init(
      "\"1️⃣⟨F0 9F 98⟩\"", "invalid UTF-8 byte 0xF0 0x9F 0x98 0x22 (expected a continuation byte)"),
    .init("\"1️⃣⟨C3⟩", "truncated UTF-8 sequence 0xC3 at end of input"),
    .init("\"1️⃣⟨E1 80⟩", "truncated UTF-8 sequence 0xE1 0x80 at end of input"),
    .init("\"1️⃣⟨F0 9F 98⟩", "truncated UTF-8 sequence 0xF0 0x9F 0x98 at end of input"),
    .init("\"abcdefgh1️⃣⟨E2 82⟩", "truncated UTF-8 sequence 0xE2 0x82 at end of input"),
    .init(
      "\"abcdefghijklmnop1️⃣⟨80⟩abcdefgh\"", "invalid UTF-8 byte 0x80 (unexpected continuation byte)"
    ),
    .init("1️⃣⟨C3 A9⟩", "expected a value, found byte 0xC3"),
    .init("{1️⃣⟨C3 A9⟩:1}", "expected a string key or '}', found byte 0xC3"),
    // Duplicate keys, compared decoded.
    .init("{\"a\":1,1️⃣\"a\":2}", "duplicate key \"a\""),
    .init("{\"unit\":\"VN\",\"type\":\"x\",1️⃣\"unit\":\"VN-LS\"}", "duplicate key \"unit\""),
    .init("{\"ab\":1,1️⃣\"\\u0061b\":2}", "duplicate key \"ab\""),
    .init("{\"\\u0061b\":1,1️⃣\"ab\":2}", "duplicate key \"ab\""),
    .init("{\"a\\nb\":1,1️⃣\"a\\u000ab\":2}", "duplicate key \"a\\nb\""),
    .init("{\"\\uD834\\uDD1E\":1,1️⃣\"𝄞\":2}", "duplicate key \"𝄞\""),
    .init("{\"\":1,1️⃣\"\":2}", "duplicate key \"\""),
    .init("[{\"a\":1},{\"a\":1,\"b\":{},1️⃣\"a\":2}]", "duplicate key \"a\""),
  ]

  @Test(arguments: rejected)
  func rejects(_ rejection: Rejection) {
    let error = parseError(rejection.input.bytes)
    #expect(error?.message == rejection.message, "\(rejection.input)")
    #expect(
      error?.offset == rejection.input.marker, "\(rejection.input): \(String(describing: error))")
  }

  /// Objects beyond the pairwise limit are checked by sorting hashes; the error must still
  /// name the first key, in document order, that repeats an earlier one.
  @Test func duplicateKeysInLargeObjects() throws {
    func object(_ keys: [String]) -> [UInt8] {
      Array(("{" + keys.map { "\"\($0)\":0" }.joined(separator: ",") + "}").utf8)
    }
    var keys = (0..<40).map { "key\($0)" }
    #expect(parseError(object(keys)) == nil)

    keys[36] = "key2"
    keys[34] = "key33"
    let error = try #require(parseError(object(keys)))
    #expect(error.message == "duplicate key \"key33\"")
    #expect(error.offset == object(Array(keys.prefix(34))).count)  // where key 34 starts

    var escaped = (0..<40).map { "key\($0)" }
    escaped[39] = "\\u006bey0"
    #expect(parseError(object(escaped))?.message == "duplicate key \"key0\"")
  }

  @Test func longDuplicateKeysAreShortenedInTheMessage() throws {
    let key = String(repeating: "ă", count: 50)
    let error = try #require(parseError(Array("{\"\(key)\":1,\"\(key)\":2}".utf8)))
    #expect(error.message == "duplicate key \"\(String(repeating: "ă", count: 32))…\"")
  }
}
