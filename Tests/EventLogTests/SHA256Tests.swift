import EventLog
import TestSupport
import Testing

/// Known-answer and streaming tests for `SHA256`.
struct SHA256Tests {
  @Test(arguments: [
    ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    (
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    ),
    (
      "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
    ),
  ])
  func nistVectors(message: String, digest: String) {
    for portable in [false, true] {
      #expect(hex(SHA256.hash(Array(message.utf8), portable: portable)) == digest)
    }
  }

  @Test(arguments: [false, true]) func oneMillionAs(portable: Bool) {
    let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
    let message = [UInt8](repeating: 0x61, count: 1_000_000)
    #expect(hex(SHA256.hash(message, portable: portable)) == expected)
    // The same message fed in uneven pieces, so updates cross block boundaries.
    var hasher = SHA256(portable: portable)
    let piece = [UInt8](repeating: 0x61, count: 997)
    var fed = 0
    while fed < 1_000_000 {
      let count = min(piece.count, 1_000_000 - fed)
      hasher.update(Array(piece[..<count]))
      fed += count
    }
    #expect(hex(hasher.finalize()) == expected)
  }

  /// Lengths around the padding boundaries: 55 bytes is the most that fits the length field in
  /// one block, 56 to 63 need a second block. Digests from an independent implementation.
  @Test(arguments: [
    (55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"),
    (56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"),
    (57, "f13b2d724659eb3bf47f2dd6af1accc87b81f09f59f2b75e5c0bed6589dfe8c6"),
    (63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"),
    (64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"),
    (65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"),
    (119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"),
    (120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"),
    (128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e"),
  ])
  func paddingBoundaries(length: Int, digest: String) {
    for portable in [false, true] {
      let message = [UInt8](repeating: 0x61, count: length)
      #expect(hex(SHA256.hash(message, portable: portable)) == digest)
    }
  }

  /// The SHA extensions' compression and the portable one agree on random messages of every
  /// length up to five blocks, and on long runs of blocks, at every alignment. Where the
  /// processor lacks the extensions both sides are the portable code and the test says so.
  /// Set HOSO_TEST_SEED to replay a failing seed.
  @Test func instructionsMatchPortableCode() {
    if !CPU.hasSHA256Instructions {
      print("SHA256Tests: this processor has no SHA extensions; only the portable code ran")
    }
    for seed in testSeeds(fixed: 0x5AA2_56) where !instructionsMatch(seed: seed) {
      Issue.record("SHA-256 of the SHA extensions and the portable code differ; seed \(seed)")
    }
  }

  private func instructionsMatch(seed: UInt64) -> Bool {
    var random = SplitMix64(seed: seed)
    let lengths = Array(0...320) + [4096, 65_536 + 17]
    for length in lengths {
      let start = Int(random.next() % 16)
      let storage = (0..<(length + 16)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let (fast, portable) = storage.withUnsafeBytes { all in
        let bytes = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
        return (SHA256.hash(bytes), SHA256.hash(bytes, portable: true))
      }
      guard fast == portable else { return false }
    }
    return true
  }

  /// Splitting the message anywhere, or feeding it in small chunks, gives the one-shot digest.
  @Test func streamingMatchesOneShot() {
    let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 151 &+ 7) }
    let expected = SHA256.hash(message)
    for split in 0...message.count {
      var hasher = SHA256()
      hasher.update(Array(message[..<split]))
      hasher.update(Array(message[split...]))
      #expect(hasher.finalize() == expected, "split at \(split)")
    }
    for chunk in [1, 3, 7, 63, 64, 65, 130] {
      var hasher = SHA256()
      var start = 0
      while start < message.count {
        let end = min(start + chunk, message.count)
        hasher.update(Array(message[start..<end]))
        start = end
      }
      #expect(hasher.finalize() == expected, "chunks of \(chunk)")
    }
  }

  /// Whole blocks are read in place from the caller's memory, which need not be aligned.
  @Test func unalignedInput() {
    let storage = (0..<(200 + 8)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    for start in 0..<8 {
      let message = Array(storage[start..<(start + 200)])
      let digest = storage.withUnsafeBytes {
        SHA256.hash(UnsafeRawBufferPointer(rebasing: $0[start..<(start + 200)]))
      }
      #expect(digest == SHA256.hash(message), "offset \(start)")
    }
  }
}

/// Lowercase hexadecimal, the form in which the test vectors are published.
private func hex(_ bytes: [UInt8]) -> String {
  let digits = Array("0123456789abcdef")
  return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}
