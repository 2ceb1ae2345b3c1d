import Domain
import Testing

/// The HMAC-SHA-256 test cases of RFC 4231, section 4.
struct HMACSHA256Tests {
  @Test func case1() {
    let code = HMACSHA256.authenticationCode(
      key: [UInt8](repeating: 0x0B, count: 20), message: Array("Hi There".utf8))
    #expect(hex(code) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
  }

  /// A key shorter than the output.
  @Test func case2() {
    let code = HMACSHA256.authenticationCode(
      key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
    #expect(hex(code) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  }

  /// Combined length of key and data larger than 64 bytes.
  @Test func case3() {
    let code = HMACSHA256.authenticationCode(
      key: [UInt8](repeating: 0xAA, count: 20), message: [UInt8](repeating: 0xDD, count: 50))
    #expect(hex(code) == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
  }

  @Test func case4() {
    let code = HMACSHA256.authenticationCode(
      key: (1...25).map { UInt8($0) }, message: [UInt8](repeating: 0xCD, count: 50))
    #expect(hex(code) == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b")
  }

  /// The RFC gives only the first 128 bits of the output for this case.
  @Test func case5Truncated() {
    let code = HMACSHA256.authenticationCode(
      key: [UInt8](repeating: 0x0C, count: 20), message: Array("Test With Truncation".utf8))
    #expect(hex(Array(code.prefix(16))) == "a3b6167473100ee06e0c796c2955552b")
  }

  /// A key longer than the block size, which must be hashed first.
  @Test func case6() {
    let code = HMACSHA256.authenticationCode(
      key: [UInt8](repeating: 0xAA, count: 131),
      message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
    #expect(hex(code) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
  }

  /// A key and a message both longer than the block size.
  @Test func case7() {
    let message =
      "This is a test using a larger than block-size key and a larger than block-size data. "
      + "The key needs to be hashed before being used by the HMAC algorithm."
    let code = HMACSHA256.authenticationCode(
      key: [UInt8](repeating: 0xAA, count: 131), message: Array(message.utf8))
    #expect(hex(code) == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
  }
}

/// Lowercase hexadecimal, the form in which the test vectors are published.
private func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef")
  return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}
