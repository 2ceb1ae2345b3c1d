import Domain
import TestSupport
import Testing

/// Random documents in random spellings: parse, canonical write, parse again, write again.
/// Replay a failure with `HOSO_TEST_SEED=<seed> swift test --filter JSONPropertyTests`.
@Suite struct JSONPropertyTests {
  @Test(arguments: testSeeds(fixed: 0x6A50_4E5F_686F_736F))
  func canonicalFormIsAFixedPoint(seed: UInt64) throws {
    var generator = RandomJSON(seed: seed)
    var document = JSONDocument()
    var writer = CanonicalJSONWriter(capacity: 1024)
    for iteration in 0..<600 {
      let value = generator.value()
      let text = generator.text(value)
      let sortKeys = generator.chance(70)
      let context = "seed \(seed) case \(iteration): \(String(decoding: text, as: UTF8.self))"

      let first = try withGuardedBytes(text) { bytes -> [UInt8] in
        do throws(JSONSyntaxError) {
          try document.parse(bytes)
        } catch {
          Issue.record("\(error) in \(context)")
          throw error
        }
        #expect(value.matches(document, 0, bytes, ordered: true), "\(context)")
        writer.bytes.removeAll(keepingCapacity: true)
        writer.writeValue(0, of: document, in: bytes, sortKeys: sortKeys)
        return writer.bytes
      }
      let expected = value.canonicalText(sortKeys: sortKeys)
      #expect(first == expected, "\(context)\n got \(String(decoding: first, as: UTF8.self))")

      let second = try withGuardedBytes(first) { bytes -> [UInt8] in
        try document.parse(bytes)
        #expect(value.matches(document, 0, bytes, ordered: !sortKeys), "\(context)")
        writer.bytes.removeAll(keepingCapacity: true)
        writer.writeValue(0, of: document, in: bytes, sortKeys: sortKeys)
        return writer.bytes
      }
      #expect(second == first, "\(context)")
      if first != expected || second != first { return }
    }
  }

  /// Random damage to valid documents: the parser must never crash or read out of bounds, and
  /// whatever it accepts must still have a canonical form that is a fixed point.
  @Test(arguments: testSeeds(fixed: 0x6D75_7461_7465_6421))
  func damagedDocumentsFailCleanly(seed: UInt64) throws {
    var generator = RandomJSON(seed: seed)
    var document = JSONDocument()
    for iteration in 0..<1500 {
      var text = generator.text(generator.value())
      for _ in 0..<Int.random(in: 1...3, using: &generator.random) where !text.isEmpty {
        let position = Int.random(in: 0..<text.count, using: &generator.random)
        let byte: UInt8 = [0x22, 0x5C, 0x2C, 0x3A, 0x5D, 0x7D, 0x80, 0xC3, 0xED, 0xF4, 0x00, 0x75]
          .randomElement(using: &generator.random)!
        switch Int.random(in: 0..<3, using: &generator.random) {
        case 0: text.remove(at: position)
        case 1: text.insert(byte, at: position)
        default: text[position] = byte
        }
      }
      let context = "seed \(seed) case \(iteration): \(text)"
      let accepted = withGuardedBytes(text) { bytes -> Bool in
        do throws(JSONSyntaxError) {
          try document.parse(bytes)
          return true
        } catch {
          #expect(error.offset >= 0 && error.offset <= text.count, "\(context)")
          #expect(!error.message.isEmpty, "\(context)")
          return false
        }
      }
      if accepted {
        let first = try canonical(text)
        #expect(try canonical(first) == first, "\(context)")
        #expect(String(validating: text, as: UTF8.self) != nil, "\(context)")
      }
    }
  }
}
