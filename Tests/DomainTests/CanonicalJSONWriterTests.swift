import Domain
import Testing

/// The canonical form, one rule at a time.
@Suite struct CanonicalJSONWriterTests {
  @Test func stringEscapes() {
    var writer = CanonicalJSONWriter(capacity: 0)
    let controls = String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) })
    writer.writeString(controls + "\"\\/\u{7F}é€😀 plain")
    let expected =
      #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f"#
      + #"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c"#
      + #"\u001d\u001e\u001f\"\\/"# + "\u{7F}é€😀 plain\""
    #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
  }

  @Test func stringsOfEveryLengthAroundTheWordSize() {
    for length in 0..<20 {
      for position in 0..<max(length, 1) {
        var text = Array(repeating: UInt8(ascii: "a"), count: length)
        if length > 0 { text[position] = UInt8(ascii: "\"") }
        var writer = CanonicalJSONWriter(capacity: 0)
        writer.writeString(String(decoding: text, as: UTF8.self))
        var expected = text.flatMap { $0 == UInt8(ascii: "\"") ? [0x5C, $0] : [$0] }
        expected = [0x22] + expected + [0x22]
        #expect(writer.bytes == expected, "length \(length), quote at \(position)")
      }
    }
  }

  @Test func scalars() {
    var writer = CanonicalJSONWriter(capacity: 0)
    writer.writeRaw("[")
    writer.writeInt(0)
    writer.writeRaw(",")
    writer.writeInt(-1)
    writer.writeRaw(",")
    writer.writeInt(.max)
    writer.writeRaw(",")
    writer.writeInt(.min)
    writer.writeRaw(",")
    writer.writeBool(true)
    writer.writeRaw(",")
    writer.writeBool(false)
    writer.writeRaw(",")
    writer.writeNull()
    writer.writeRaw("]")
    #expect(
      String(decoding: writer.bytes, as: UTF8.self)
        == "[0,-1,9223372036854775807,-9223372036854775808,true,false,null]")
  }

  @Test func doubles() {
    let cases: [(Double, String)] = [
      (1.0, "1"), (-0.0, "0"), (0.5, "0.5"), (-2.5, "-2.5"), (0.1, "0.1"), (1e-7, "1e-07"),
      (100, "100"), (0x1p53 - 1, "9007199254740991"), (-(0x1p53 - 1), "-9007199254740991"),
      (0x1p53, "9007199254740992.0"), (1e16, "1e+16"), (1e300, "1e+300"),
      (4503599627370495.5, "4503599627370495.5"), (.leastNonzeroMagnitude, "5e-324"),
      (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
    ]
    for (value, expected) in cases {
      var writer = CanonicalJSONWriter(capacity: 0)
      writer.writeDouble(value)
      #expect(String(decoding: writer.bytes, as: UTF8.self) == expected, "\(value)")
    }
  }

  @Test func valuesFromDocuments() throws {
    let cases: [(String, String)] = [
      (" { \"b\" : [ 1 , 2 ] ,\n\t\"a\" : null } ", #"{"a":null,"b":[1,2]}"#),
      (#"{"b":1,"\u0061":2,"é":3,"z":4,"A":5,"aa":6}"#, #"{"A":5,"a":2,"aa":6,"b":1,"z":4,"é":3}"#),
      (#"{"z":{"y":1,"x":[{"d":1,"c":2}]},"a":0}"#, #"{"a":0,"z":{"x":[{"c":2,"d":1}],"y":1}}"#),
      (#"["\u00e9\/\u001F\u0008\"\\\ud83d\ude00\u007f"]"#, "[\"é/\\u001f\\b\\\"\\\\😀\u{7F}\"]"),
      (
        "[1E2,-0,1.0,1.5e0,0.1e1,-0.0,1e22,123456789012345678]",
        "[100,0,1,1.5,1,0,1e+22,123456789012345678]"
      ),
      (
        "[12345678901234567890,-9223372036854775808,9223372036854775808,-9223372036854775809]",
        "[1.2345678901234567e+19,-9223372036854775808,9.223372036854776e+18,"
          + "-9.223372036854776e+18]"
      ),
      (
        "[9007199254740993,9007199254740993.0,1e-7,2.5E-3]",
        "[9007199254740993,9007199254740992.0,1e-07,0.0025]"
      ),
      ("\"\"", "\"\""), ("[]", "[]"), ("{}", "{}"), ("[[],{}]", "[[],{}]"), ("true", "true"),
    ]
    for (input, expected) in cases {
      #expect(try canonical(input) == expected, "\(input)")
    }
    #expect(
      try canonical(#"{"b":1,"a":{"d":1,"c":2}}"#, sortKeys: false) == #"{"b":1,"a":{"d":1,"c":2}}"#
    )
  }

  @Test func keysWithSharedPrefixesSort() throws {
    // Longer than the 8-byte sort prefix, and differing only after it.
    let keys = ["abcdefghij", "abcdefgh", "abcdefghi", "abcdefgha", "abcdefgh\\u0000", "abcdefg"]
    let input = "{" + keys.enumerated().map { "\"\($1)\":\($0)" }.joined(separator: ",") + "}"
    #expect(
      try canonical(input)
        == #"{"abcdefg":5,"abcdefgh":1,"abcdefgh\u0000":4,"abcdefgha":3,"abcdefghi":2,"#
        + #""abcdefghij":0}"#)
  }

  @Test func stringNodes() throws {
    let text = #"["raw é","esc\u00e9\/\t",3]"#
    try withParsed(text) { document, bytes in
      var writer = CanonicalJSONWriter(capacity: 0)
      writer.writeStringNode(1, of: document, in: bytes)
      writer.writeRaw(",")
      writer.writeStringNode(2, of: document, in: bytes)
      writer.writeRaw(",")
      writer.writeValue(3, of: document, in: bytes, sortKeys: false)
      #expect(String(decoding: writer.bytes, as: UTF8.self) == #""raw é","escé/\t",3"#)
    }
  }

  /// The writer appends: a whole event assembled from fixed keys and parsed values.
  @Test func composingAnEvent() throws {
    let input = #"{"unit" : "VN-LS", "data" : {"reached" : 1.2e2, "form" : "meeting"}}"#
    try withParsed(input) { document, bytes in
      var writer = CanonicalJSONWriter(capacity: 64)
      writer.writeRaw(#"{"id":"#)
      writer.writeString("e-1")
      writer.writeRaw(#","data":"#)
      let data = try #require(document.member("data", ofObject: 0, in: bytes))
      writer.writeValue(data, of: document, in: bytes, sortKeys: true)
      writer.writeRaw(#","unit":"#)
      writer.writeStringNode(
        try #require(document.member("unit", ofObject: 0, in: bytes)), of: document, in: bytes)
      writer.writeRaw("}")
      #expect(
        String(decoding: writer.bytes, as: UTF8.self)
          == #"{"id":"e-1","data":{"form":"meeting","reached":120},"unit":"VN-LS"}"#)
    }
  }
}
