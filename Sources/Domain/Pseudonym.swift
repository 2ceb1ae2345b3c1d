/// Pseudonyms for persons: `P-` and 16 lowercase hex digits, the first 64 bits of
/// HMAC-SHA256(key, raw identifier).
///
/// The key lives in a file apart from the store (DESIGN.md, "Privacy and access"): without it
/// a store or an export cannot be re-identified, and with it the same person always gets the
/// same pseudonym, so support given over years can be counted per person.
package struct Pseudonymizer: Sendable {
  private let key: [UInt8]

  package init(key: [UInt8]) { self.key = key }

  /// Whether `value` already is a pseudonym.
  package static func isPseudonym(_ value: some Collection<UInt8>) -> Bool {
    guard value.count == 18 else { return false }
    var i = 0
    for b in value {
      switch i {
      case 0: guard b == UInt8(ascii: "P") else { return false }
      case 1: guard b == UInt8(ascii: "-") else { return false }
      default:
        guard (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) else { return false }
      }
      i += 1
    }
    return true
  }

  /// Whether `value` is the mask that `forget` left where a pseudonym was:
  /// `forgotten-` and 8 digits, as long as a pseudonym. A person field may hold one: the
  /// record of a forget names the mask, and a dump of a store after a forget holds them.
  package static func isForgottenMask(_ value: some Collection<UInt8>) -> Bool {
    let prefix = Array("forgotten-".utf8)
    guard value.count == 18 else { return false }
    for (i, b) in value.enumerated() {
      if i < prefix.count {
        guard b == prefix[i] else { return false }
      } else {
        guard b >= 0x30 && b <= 0x39 else { return false }
      }
    }
    return true
  }

  /// The pseudonym of a raw identifier. Surrounding spaces are dropped and ASCII letters
  /// upper-cased first, so `" 079201001234"` and `"079201001234"` are one person.
  package func pseudonym(of raw: some Collection<UInt8>) -> String {
    var normal = Array(raw.drop(while: { $0 == 0x20 || $0 == 0x09 }))
    while let last = normal.last, last == 0x20 || last == 0x09 { normal.removeLast() }
    for i in normal.indices where normal[i] >= 0x61 && normal[i] <= 0x7A { normal[i] -= 0x20 }
    let mac = HMACSHA256.authenticationCode(key: key, message: normal)
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = [UInt8(ascii: "P"), UInt8(ascii: "-")]
    for b in mac.prefix(8) {
      out.append(hex[Int(b >> 4)])
      out.append(hex[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }
}
