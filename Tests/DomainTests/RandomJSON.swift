import Domain
import TestSupport

/// A JSON value as the randomized tests generate it: what each parsed node must decode to.
/// Strings are byte arrays, because `String`'s `==` would call canonically equivalent but
/// different bytes equal, and the parser compares bytes.
indirect enum TestJSON {
  case null
  case bool(Bool)
  case int(Int64)
  /// An integer literal too large for an Int64, read as the nearest double.
  case bigInteger(String)
  case double(Double)
  case string([UInt8])
  case array([TestJSON])
  case object([(key: [UInt8], value: TestJSON)])
}

/// Generates random JSON values, and writes them in random but valid spellings: random
/// whitespace, random escapes for any character, numbers in every equivalent notation.
struct RandomJSON {
  var random: SplitMix64
  /// Stay clear of two Foundation quirks: its dictionaries merge canonically equivalent keys
  /// (so keys get no combining marks), and its parser drops U+FEFF inside strings.
  var avoidFoundationQuirks = false

  init(seed: UInt64) {
    random = SplitMix64(seed: seed)
  }

  mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

  mutating func value(depth: Int = 0) -> TestJSON {
    let containers = depth < 5 ? 30 : 0
    let roll = Int.random(in: 0..<100, using: &random)
    switch roll {
    case ..<(containers / 2):
      return .array(
        (0..<Int.random(in: 0...6, using: &random)).map { _ in value(depth: depth + 1) })
    case ..<containers:
      var keys = Set<[UInt8]>()
      var members: [(key: [UInt8], value: TestJSON)] = []
      let count =
        chance(5) ? Int.random(in: 30...45, using: &random) : Int.random(in: 0...8, using: &random)
      for _ in 0..<count {
        let key = string(combiningMarks: !avoidFoundationQuirks, maximumLength: 12)
        if keys.insert(key).inserted { members.append((key, value(depth: depth + 1))) }
      }
      return .object(members)
    case ..<(containers + 5): return .null
    case ..<(containers + 10): return .bool(chance(50))
    case ..<(containers + 30): return .int(integer())
    case ..<(containers + 33):
      let digits = (0..<Int.random(in: 20...30, using: &random)).map { index in
        String(Int.random(in: (index == 0 ? 1 : 0)...9, using: &random))
      }
      return .bigInteger((chance(50) ? "-" : "") + digits.joined())
    case ..<(containers + 50): return .double(double())
    default: return .string(string(combiningMarks: true, maximumLength: 40))
    }
  }

  mutating func integer() -> Int64 {
    switch Int.random(in: 0..<4, using: &random) {
    case 0: return Int64.random(in: -100...100, using: &random)
    case 1: return [Int64.min, .max, 0, -1, 1 << 53, -(1 << 53) - 1].randomElement(using: &random)!
    case 2: return Int64.random(in: -1_000_000_000...1_000_000_000_000, using: &random)
    default: return Int64.random(in: .min ... .max, using: &random)
    }
  }

  mutating func double() -> Double {
    switch Int.random(in: 0..<6, using: &random) {
    case 0:
      let value = Double(bitPattern: random.next())
      return value.isFinite ? value : 0.5
    case 1:
      let scale = [1.0, 10, 100, 1000, 1e6][Int.random(in: 0..<5, using: &random)]
      return Double(Int.random(in: -10_000_000...10_000_000, using: &random)) / scale
    case 2:
      return [
        0.0, -0.0, 0.1, 0.2, 0.3, 1e22, 1e23, 0x1p53, 0x1p53 + 2, -0x1p63, 0x1p64, 1e-7,
        .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 2.5e-308,
      ].randomElement(using: &random)!
    case 3: return Double.random(in: 0..<1, using: &random)
    case 4: return Double(Int64.random(in: .min ... .max, using: &random))
    default: return Double.random(in: -1e-300...1e-300, using: &random)
    }
  }

  /// Random text from pools that matter to a JSON parser: ASCII, JSON's special characters,
  /// controls, Vietnamese (precomposed and with combining marks), CJK, astral characters.
  mutating func string(combiningMarks: Bool, maximumLength: Int) -> [UInt8] {
    var text = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...maximumLength, using: &random) {
      let pools: [ClosedRange<UInt32>]
      switch Int.random(in: 0..<10, using: &random) {
      case 0, 1, 2: pools = [0x20...0x7E]
      case 3: pools = [0x00...0x1F, 0x22...0x22, 0x5C...0x5C, 0x2F...0x2F, 0x7F...0x7F]
      case 4, 5: pools = [0xC0...0x1B3, 0x1EA0...0x1EF9]  // Latin, Vietnamese
      case 6: pools = combiningMarks ? [0x300...0x323] : [0x41...0x5A]
      case 7: pools = [0x4E00...0x9FFF, 0xAC00...0xD7A3, 0xE000...0xFFFF]
      case 8: pools = [0x1_0000...0x1_0FFF, 0x1F600...0x1F64F, 0x10_FFF0...0x10_FFFF]
      default: pools = [0x80...0x7FF, 0x800...0xD7FF]
      }
      let pool = pools.randomElement(using: &random)!
      if let scalar = Unicode.Scalar(UInt32.random(in: pool, using: &random)),
        !(avoidFoundationQuirks && scalar == "\u{FEFF}")
      {
        text.append(scalar)
      }
    }
    return Array(String(text).utf8)
  }

  // MARK: Random spellings

  mutating func whitespace() -> String {
    chance(70) ? "" : [" ", "\n", "\t", "\r\n", "  ", " \t\n "].randomElement(using: &random)!
  }

  mutating func text(_ value: TestJSON) -> [UInt8] {
    Array((whitespace() + spelling(value) + whitespace()).utf8)
  }

  mutating func spelling(_ value: TestJSON) -> String {
    switch value {
    case .null: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .int(let integer): return integer == 0 && chance(20) ? "-0" : String(integer)
    case .bigInteger(let digits): return digits
    case .double(let double): return numberSpelling(double)
    case .string(let bytes): return stringSpelling(bytes)
    case .array(let elements):
      if elements.isEmpty { return "[" + whitespace() + "]" }
      let inner = elements.map { whitespace() + spelling($0) + whitespace() }
      return "[" + inner.joined(separator: ",") + "]"
    case .object(let members):
      if members.isEmpty { return "{" + whitespace() + "}" }
      let inner = members.map { member in
        whitespace() + stringSpelling(member.key) + whitespace() + ":" + whitespace()
          + spelling(member.value) + whitespace()
      }
      return "{" + inner.joined(separator: ",") + "}"
    }
  }

  /// Escapes what must be escaped, and anything else at random: short escapes, `\u` escapes in
  /// either case, surrogate pairs for astral characters, `\/`.
  mutating func stringSpelling(_ bytes: [UInt8]) -> String {
    var out = "\""
    for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
      let short: [Unicode.Scalar: String] = [
        "\"": "\\\"", "\\": "\\\\", "/": "\\/", "\u{8}": "\\b", "\u{C}": "\\f", "\n": "\\n",
        "\r": "\\r", "\t": "\\t",
      ]
      let mustEscape = scalar.value < 0x20 || scalar == "\"" || scalar == "\\"
      if mustEscape || chance(15), let escape = short[scalar], chance(70) {
        out += escape
      } else if mustEscape || chance(10) {
        for unit in String(scalar).utf16 {
          let hex = String(unit, radix: 16, uppercase: chance(50))
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// The double's shortest decimal digits, moved around the decimal point and into the
  /// exponent in any valid way. The decimal value never changes, so a correctly rounding
  /// parser must get the same double back. There is always a fraction or an exponent: without
  /// one the literal would be an integer, which stays an integer in canonical form.
  mutating func numberSpelling(_ value: Double) -> String {
    let description = value.description
    let negative = description.hasPrefix("-")
    let parts = description.drop { $0 == "-" }.split(separator: "e")
    let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
    let fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
    var digits = Array(String(mantissa[0]) + fraction)
    var exponent = (parts.count > 1 ? Int(parts[1])! : 0) - fraction.count
    while digits.count > 1 && digits.first == "0" { digits.removeFirst() }
    while digits.count > 1 && digits.last == "0" {
      digits.removeLast()
      exponent += 1
    }
    // value = digits × 10^exponent
    var out = negative ? "-" : ""
    var literalExponent: Int
    if digits != ["0"] && chance(25) {
      let zeros = Int.random(in: 0...3, using: &random)
      out += "0." + String(repeating: "0", count: zeros) + String(digits)
      literalExponent = exponent + zeros + digits.count
    } else {
      let point = Int.random(in: 1...digits.count, using: &random)
      out += String(digits[..<point])
      var fractionDigits = String(digits[point...])
      if chance(20) {
        fractionDigits += String(repeating: "0", count: Int.random(in: 1...3, using: &random))
      }
      if !fractionDigits.isEmpty { out += "." + fractionDigits }
      literalExponent = exponent + digits.count - point
    }
    if literalExponent != 0 || chance(20) {
      out += chance(50) ? "e" : "E"
      if literalExponent >= 0 && chance(50) { out += "+" }
      if literalExponent < 0 { out += "-" }
      out += String(repeating: "0", count: chance(20) ? Int.random(in: 1...2, using: &random) : 0)
      out += String(literalExponent.magnitude)
    } else if !out.contains(".") {
      out += chance(50) ? ".0" : "e0"
    }
    return out
  }
}

extension TestJSON {
  /// The canonical form, written independently of `CanonicalJSONWriter` from the rules alone.
  func canonicalText(sortKeys: Bool) -> [UInt8] {
    switch self {
    case .null: return Array("null".utf8)
    case .bool(let flag): return Array((flag ? "true" : "false").utf8)
    case .int(let integer): return Array(String(integer).utf8)
    case .bigInteger(let digits): return Self.canonicalDouble(Double(digits)!)
    case .double(let double): return Self.canonicalDouble(double)
    case .string(let bytes): return Self.canonicalString(bytes)
    case .array(let elements):
      return Array("[".utf8)
        + Array(
          elements.map { $0.canonicalText(sortKeys: sortKeys) }
            .joined(separator: Array(",".utf8))) + Array("]".utf8)
    case .object(let members):
      let ordered = sortKeys ? members.sorted { $0.key.lexicographicallyPrecedes($1.key) } : members
      let texts = ordered.map {
        Self.canonicalString($0.key) + [0x3A] + $0.value.canonicalText(sortKeys: sortKeys)
      }
      return [0x7B] + Array(texts.joined(separator: [0x2C])) + [0x7D]
    }
  }

  static func canonicalDouble(_ value: Double) -> [UInt8] {
    if value.magnitude < 0x1p53 && value.rounded(.towardZero) == value {
      return Array(String(Int64(value)).utf8)
    }
    return Array(value.description.utf8)
  }

  static func canonicalString(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x22]
    for byte in bytes {
      switch byte {
      case 0x22: out += Array(#"\""#.utf8)
      case 0x5C: out += Array(#"\\"#.utf8)
      case 0x08: out += Array(#"\b"#.utf8)
      case 0x0C: out += Array(#"\f"#.utf8)
      case 0x0A: out += Array(#"\n"#.utf8)
      case 0x0D: out += Array(#"\r"#.utf8)
      case 0x09: out += Array(#"\t"#.utf8)
      case ..<0x20:
        let hex = String(byte, radix: 16)
        out += Array(("\\u00" + (hex.count == 1 ? "0" : "") + hex).utf8)
      default: out.append(byte)
      }
    }
    return out + [0x22]
  }

  /// Whether the node at `index` decodes to this value. Numbers compare by value, as the
  /// canonical form turns integral doubles into integer literals; with `ordered`, object
  /// members must also come in this value's order.
  func matches(
    _ document: JSONDocument, _ index: Int, _ bytes: UnsafeRawBufferPointer, ordered: Bool
  ) -> Bool {
    let node = document.nodes[index]
    switch self {
    case .null: return node.kind == .null
    case .bool(let flag): return node.kind == (flag ? .true : .false)
    case .int(let integer):
      return node.kind == .number && document.int64(at: index, in: bytes) == integer
    case .bigInteger(let digits):
      return node.kind == .number && document.double(at: index, in: bytes) == Double(digits)!
    case .double(let double):
      return node.kind == .number && document.double(at: index, in: bytes) == double
    case .string(let expected):
      var decoded: [UInt8] = []
      guard node.kind == .string else { return false }
      document.appendString(at: index, in: bytes, to: &decoded)
      return decoded == expected && Array(document.string(at: index, in: bytes).utf8) == expected
    case .array(let elements):
      guard node.kind == .array, node.count == elements.count else { return false }
      return zip(elements, document.elements(ofArray: index)).allSatisfy {
        $0.matches(document, $1, bytes, ordered: ordered)
      }
    case .object(let members):
      guard node.kind == .object, node.count == members.count else { return false }
      if ordered {
        return zip(members, document.members(ofObject: index)).allSatisfy { member, indices in
          var key: [UInt8] = []
          document.appendString(at: indices.key, in: bytes, to: &key)
          return key == member.key
            && member.value.matches(document, indices.value, bytes, ordered: ordered)
        }
      }
      return members.allSatisfy { member in
        let key = String(decoding: member.key, as: UTF8.self)
        guard let value = document.member(key, ofObject: index, in: bytes) else { return false }
        return member.value.matches(document, value, bytes, ordered: ordered)
      }
    }
  }
}
