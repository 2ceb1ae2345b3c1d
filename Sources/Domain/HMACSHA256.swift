import EventLog

/// HMAC-SHA256 (RFC 2104), for authenticating data with a shared secret key.
package enum HMACSHA256 {
  /// SHA-256's block size in bytes; RFC 2104 pads (or first hashes) the key to this length.
  private static let blockSize = 64

  /// The 32-byte HMAC-SHA256 of `message` under `key` (of any length).
  package static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
    // A key longer than a block is replaced by its hash; a shorter one is padded with zeros.
    var paddedKey = key.count > blockSize ? SHA256.hash(key) : key
    paddedKey += [UInt8](repeating: 0, count: blockSize - paddedKey.count)

    var inner = SHA256()
    inner.update(paddedKey.map { $0 ^ 0x36 })
    inner.update(message)
    let innerDigest = inner.finalize()

    var outer = SHA256()
    outer.update(paddedKey.map { $0 ^ 0x5C })
    outer.update(innerDigest)
    return outer.finalize()
  }
}
