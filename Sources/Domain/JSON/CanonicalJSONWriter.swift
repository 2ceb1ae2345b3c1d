/// Writes canonical JSON: no whitespace; strings with exactly the escapes `\" \\ \b \f \n \r \t`
/// and `\u00XX` (lowercase hex) for other bytes below 0x20, everything else as raw UTF-8;
/// integers in plain decimal.
///
/// A string node without escapes is already canonical (raw control characters, quotes and
/// backslashes cannot appear unescaped in valid JSON), so it is copied as it is.
package struct CanonicalJSONWriter {
  package var bytes: [UInt8]

  package init(capacity: Int) {
    bytes = []
    bytes.reserveCapacity(capacity)
  }

  package mutating func writeRaw(_ s: StaticString) {
    bytes.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  package mutating func writeString(_ s: String) {
    var s = s
    s.withUTF8 { writeEscaped(UnsafeRawBufferPointer($0)) }
  }

  /// Writes already-decoded UTF-8 as a JSON string.
  package mutating func writeEscaped(_ raw: UnsafeRawBufferPointer) {
    bytes.append(0x22)
    var runStart = 0
    for (k, b) in raw.enumerated() where b < 0x20 || b == 0x22 || b == 0x5C {
      bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[runStart..<k]))
      runStart = k + 1
      switch b {
      case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
      case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
      case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
      case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
      case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
      case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
      case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
      default:
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
      }
    }
    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[runStart...]))
    bytes.append(0x22)
  }

  package mutating func writeStringNode(
    _ index: Int, of doc: JSONDocument, in source: UnsafeRawBufferPointer
  ) {
    let n = doc.nodes[index]
    if !n.hasEscapes {
      bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: source[Int(n.start)..<Int(n.end)]))
      return
    }
    var decoded: [UInt8] = []
    doc.appendString(at: index, in: source, to: &decoded)
    decoded.withUnsafeBytes { writeEscaped($0) }
  }

  package mutating func writeInt(_ v: Int64) { bytes.append(contentsOf: String(v).utf8) }

  /// An integral value below 2^53 as an integer, anything else in Swift's shortest
  /// round-tripping form.
  package mutating func writeDouble(_ v: Double) {
    if v == v.rounded(), abs(v) < 9_007_199_254_740_992 {
      writeInt(Int64(v))
    } else {
      bytes.append(contentsOf: v.description.utf8)
    }
  }

  package mutating func writeBool(_ v: Bool) { v ? writeRaw("true") : writeRaw("false") }
  package mutating func writeNull() { writeRaw("null") }

  /// Writes any subtree canonically; with `sortKeys`, object members in byte order of their
  /// decoded keys.
  package mutating func writeValue(
    _ index: Int, of doc: JSONDocument, in source: UnsafeRawBufferPointer, sortKeys: Bool
  ) {
    let n = doc.nodes[index]
    switch n.kind {
    case .null: writeNull()
    case .true: writeBool(true)
    case .false: writeBool(false)
    case .string: writeStringNode(index, of: doc, in: source)
    case .number:
      if let i = doc.int64(at: index, in: source) {
        writeInt(i)
      } else {
        writeDouble(doc.double(at: index, in: source))
      }
    case .array:
      bytes.append(0x5B)
      var e = index + 1
      for k in 0..<Int(n.count) {
        if k > 0 { bytes.append(0x2C) }
        writeValue(e, of: doc, in: source, sortKeys: sortKeys)
        e = Int(doc.nodes[e].next)
      }
      bytes.append(0x5D)
    case .object:
      var members: [(key: [UInt8], keyNode: Int)] = []
      var m = index + 1
      for _ in 0..<Int(n.count) {
        var key: [UInt8] = []
        doc.appendString(at: m, in: source, to: &key)
        members.append((key, m))
        m = Int(doc.nodes[m + 1].next)
      }
      if sortKeys { members.sort { $0.key.lexicographicallyPrecedes($1.key) } }
      bytes.append(0x7B)
      for (k, member) in members.enumerated() {
        if k > 0 { bytes.append(0x2C) }
        member.key.withUnsafeBytes { writeEscaped($0) }
        bytes.append(0x3A)
        writeValue(member.keyNode + 1, of: doc, in: source, sortKeys: sortKeys)
      }
      bytes.append(0x7D)
    }
  }
}
