import EventLog
import TestSupport
import Testing

/// Known-answer and property tests for `CRC32C`.
struct CRC32CTests {
  /// The iSCSI SCSI Read(10) command PDU of RFC 3720 appendix B.4.
  private static let readCommandPDU: [UInt8] = [
    0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
    0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
  ]

  /// Both implementations: the `crc32` instruction where the processor has it, and the tables.
  @Test(arguments: [false, true]) func rfc3720Vectors(portable: Bool) {
    let crc = { (bytes: [UInt8]) in CRC32C.checksum(bytes, portable: portable) }
    #expect(crc([UInt8](repeating: 0x00, count: 32)) == 0x8A91_36AA)
    #expect(crc([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
    #expect(crc((0..<32).map { UInt8($0) }) == 0x46DD_794E)
    #expect(crc((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
    #expect(Self.readCommandPDU.count == 48)
    #expect(crc(Self.readCommandPDU) == 0xD996_3A56)
  }

  @Test(arguments: [false, true]) func checkValue(portable: Bool) {
    #expect(CRC32C.checksum(Array("123456789".utf8), portable: portable) == 0xE306_9283)
  }

  @Test func emptyInputLeavesTheChecksumUnchanged() {
    #expect(CRC32C.checksum([]) == 0)
    #expect(CRC32C.checksum([], continuing: 0xE306_9283) == 0xE306_9283)
    #expect(CRC32C.checksum(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
  }

  /// Every split of random buffers, at every alignment, agrees with the one-shot checksum and
  /// with the bit-at-a-time definition. Set HOSO_TEST_SEED to replay a failing seed.
  @Test func continuingMatchesOneShotAndReference() {
    if !CPU.hasCRC32CInstruction {
      print("CRC32CTests: this processor has no crc32 instruction; only the tables ran")
    }
    for seed in testSeeds(fixed: 0xC3C_32C) {
      checkSplits(seed: seed)
    }
  }

  private func checkSplits(seed: UInt64) {
    var random = SplitMix64(seed: seed)
    // Lengths straddle the 8-byte stride of the fast loop, plus a few longer buffers.
    let lengths = Array(0...40) + [63, 64, 65, 127, 128, 129, 255, 256, 1000]
    for length in lengths {
      // Extra leading bytes let the same data sit at every offset modulo 8.
      let storage = (0..<(length + 8)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
      let start = Int(random.next() % 8)
      let bytes = Array(storage[start..<(start + length)])
      let expected = referenceCRC32C(bytes)
      let oneShot = storage.withUnsafeBytes {
        CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)]))
      }
      #expect(oneShot == expected, "length \(length), seed \(seed)")
      #expect(CRC32C.checksum(bytes) == expected, "length \(length), seed \(seed)")
      #expect(CRC32C.checksum(bytes, portable: true) == expected, "length \(length), seed \(seed)")
      for split in 0...length {
        // The tables continue what the instruction began, and the other way round.
        let portable = split % 2 == 1
        let head = CRC32C.checksum(Array(bytes[..<split]), portable: portable)
        let whole = CRC32C.checksum(Array(bytes[split...]), continuing: head, portable: !portable)
        guard whole == expected else {
          Issue.record("length \(length), split \(split): \(whole) != \(expected), seed \(seed)")
          return
        }
      }
    }
  }
}

/// CRC-32C straight from its definition, one bit at a time, to check the table-driven version.
private func referenceCRC32C(_ bytes: [UInt8]) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1
    }
  }
  return ~crc
}
