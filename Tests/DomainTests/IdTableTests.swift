import TestSupport
import Testing

@testable import Domain

@Suite struct IdTableTests {
  /// Random ids of every length 1–64, through several growths of the table: every inserted id
  /// is found with its entry, and ids never inserted are not.
  @Test func findsWhatWasInsertedAndNothingElse() {
    let seed = SeededRandom.testSeed(5)
    var rng = SeededRandom(seed: seed)
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-".utf8)
    func randomId() -> [UInt8] {
      (0..<Int.random(in: 1...64, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
    }
    var table = IdTable()
    var inserted: [[UInt8]: Int] = [:]
    while inserted.count < 50_000 {
      let id = randomId()
      if inserted[id] != nil { continue }
      inserted[id] = id.withUnsafeBytes {
        table.insert($0, seq: UInt64(inserted.count + 1), type: 3)
      }
    }
    for (id, entry) in inserted {
      #expect(id.withUnsafeBytes { table.find($0) } == entry, "seed \(seed)")
      #expect(table.id(entry) == String(decoding: id, as: UTF8.self))
    }
    for _ in 0..<20_000 {
      let id = randomId()
      if inserted[id] == nil {
        #expect(id.withUnsafeBytes { table.find($0) } == nil, "seed \(seed)")
      }
    }
  }
}
