import TestSupport
import Testing

@testable import Query

/// `count(DISTINCT x)` of strings by group: the partitioned pairs against a set of pairs,
/// with partitions deduplicated as they fill (a limit of a few entries, so it happens all the
/// time), strings short and long (past the 24 bytes held in an entry), and several workers'
/// sets counted together through maps of their groups.
@Suite struct TextPairsTests {
  @Test(arguments: testSeeds(fixed: 11))
  func countsEveryDistinctPairOnce(seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    let groups = Int.random(in: 1...40, using: &rng)
    // A vocabulary with near misses: strings that share 24 bytes, or differ in length only.
    let stem = String(repeating: "x", count: 24)
    var words = (0..<Int.random(in: 1...300, using: &rng)).map { i -> String in
      switch i % 4 {
      case 0: "C-QN-\(i)"
      case 1: stem + "\(i)"
      case 2: String(repeating: "a", count: i % 40)
      default: "Lạng Sơn \(i)"
      }
    }
    words.append("")
    let workers = Int.random(in: 1...3, using: &rng)
    let limit = [1, 3, 64, 1 << 11].randomElement(using: &rng)!
    var expected = Set<String>()
    var sets: [(TextPairs, [Int]?)] = []
    for w in 0..<workers {
      let set = TextPairs(limit: limit)
      // Worker w's group k is group (k + w) % groups of the result.
      let map = w == 0 ? nil : (0..<groups).map { ($0 + w) % groups }
      for _ in 0..<Int.random(in: 0...20_000, using: &rng) {
        let g = Int.random(in: 0..<groups, using: &rng)
        var s = words.randomElement(using: &rng)!
        s.withUTF8 { set.insert(g, UnsafeRawBufferPointer($0)) }
        expected.insert("\(map?[g] ?? g)|\(s)")
      }
      sets.append((set, map))
    }
    var counts = [Int64](repeating: 0, count: groups)
    TextPairs.count(sets, into: &counts)
    var want = [Int64](repeating: 0, count: groups)
    for e in expected { want[Int(e.prefix { $0 != "|" })!] += 1 }
    #expect(counts == want, "seed \(seed), \(workers) workers, limit \(limit)")
  }

  /// The pairs hold what is distinct, not every row: a long string (past the 24 bytes of an
  /// entry) repeated over a million rows keeps one copy of its bytes.
  @Test func repeatedLongStringsAreKeptOnce() {
    let set = TextPairs()
    let before = set.memory
    var s = "Sở Y tế thành phố Hồ Chí Minh"
    #expect(s.utf8.count > TextPairs.inline)
    for _ in 0..<1_000_000 { s.withUTF8 { set.insert(0, UnsafeRawBufferPointer($0)) } }
    #expect(set.memory < before + (1 << 20), "\(set.memory) bytes held")
    var counts: [Int64] = [0]
    TextPairs.count([(set, nil)], into: &counts)
    #expect(counts == [1])
  }
}
