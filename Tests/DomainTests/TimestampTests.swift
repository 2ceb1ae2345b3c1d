import TestSupport
import Testing

@testable import Domain

@Suite struct TimestampTests {
  @Test func parsesOffsetsAndFractions() throws {
    let a = try Timestamp.parse("2024-03-01T09:30:00+07:00".utf8).get()
    let b = try Timestamp.parse("2024-03-01T02:30:00Z".utf8).get()
    let c = try Timestamp.parse("2024-03-01T02:30:00.000000+00:00".utf8).get()
    #expect(a == b && b == c)
    #expect(a == 1_709_260_200_000_000)
    let f = try Timestamp.parse("2024-03-01T09:30:00.25+07:00".utf8).get()
    #expect(f - a == 250_000)
    #expect(Timestamp.format(a) == "2024-03-01T09:30:00+07:00")
    #expect(Timestamp.format(f) == "2024-03-01T09:30:00.250000+07:00")
    #expect(
      Timestamp.format(try Timestamp.parse("1999-12-31T23:59:59-05:00".utf8).get())
        == "2000-01-01T11:59:59+07:00")
  }

  @Test(arguments: [
    ("2024-03-01T09:30:00", "no offset"),
    ("2024-02-30T09:30:00+07:00", "impossible day"),
    ("2023-02-29T09:30:00+07:00", "impossible day"),
    ("2024-13-01T09:30:00+07:00", "impossible month"),
    ("2024-03-01T24:00:00+07:00", "impossible hour"),
    ("2024-03-01T09:60:00+07:00", "impossible minute"),
    ("2024-03-01T09:30:60+07:00", "impossible second"),
    ("2024-03-01 09:30:00+07:00", "not an ISO 8601"),
    ("2024-3-1T09:30:00+07:00", "not an ISO 8601"),
    ("2024-03-01T09:30:00+0700", "not an ISO 8601"),
    ("2024-03-01T09:30:00.+07:00", "not an ISO 8601"),
    ("2024-03-01T09:30:00.1234567+07:00", "more than 6"),
    ("2024-03-01T09:30:00+15:00", "impossible offset"),
    ("", "not an ISO 8601"),
  ])
  func rejects(_ text: String, _ words: String) {
    guard case .failure(let p) = Timestamp.parse(text.utf8) else {
      Issue.record("\(text) parsed")
      return
    }
    #expect(p.text.contains(words), "\(text): \(p.text)")
  }

  @Test func leapYearsAndDates() {
    #expect(Timestamp.parseDate("2024-02-29".utf8) != nil)
    #expect(Timestamp.parseDate("2100-02-29".utf8) == nil)
    #expect(Timestamp.parseDate("2000-02-29".utf8) != nil)
    #expect(Timestamp.parseDate("2021-9-28".utf8) == nil)
  }

  @Test func formatRoundTripsEveryDayOverThirtyYears() throws {
    let seed = SeededRandom.testSeed(2026)
    var rng = SeededRandom(seed: seed)
    for _ in 0..<20_000 {
      let t = Int64.random(in: 946_684_800_000_000...1_900_000_000_000_000, using: &rng)
      let text = Timestamp.format(t)
      #expect(try Timestamp.parse(text.utf8).get() == t, "\(text), seed \(seed)")
    }
  }

  /// The canonical form's fast path gives what the general parser gives, on canonical times
  /// and on every one-byte change of them (digits out of range, other separators, bytes from
  /// 0x00 to 0xFF). Replay with HOSO_TEST_SEED.
  @Test func canonicalFastPathAgreesWithTheGeneralParser() {
    for seed in testSeeds(fixed: 0x7_1AE) {
      var random = SplitMix64(seed: seed)
      for round in 0..<3000 {
        let micros = Int64(random.next() % 4_000_000_000) * 1_000_000
        var text = Array(Timestamp.format(micros).utf8)
        if round % 3 != 0 {
          text[Int(random.next() % 25)] = UInt8(truncatingIfNeeded: random.next())
        }
        let (fast, general) = text.withUnsafeBytes {
          (Timestamp.parse($0), Timestamp.parseAny($0))
        }
        guard fast == general else {
          let shown = String(decoding: text, as: UTF8.self)
          Issue.record("\(shown): \(fast) against \(general); seed \(seed)")
          return
        }
      }
    }
  }
}
