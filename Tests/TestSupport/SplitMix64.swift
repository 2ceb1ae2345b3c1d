import Foundation

/// A small, fast, seedable random number generator (Steele, Lea and Flood's SplitMix64), so
/// that a randomized test can be replayed exactly from the seed it prints on failure.
package struct SplitMix64: RandomNumberGenerator, Sendable {
  package private(set) var state: UInt64

  package init(seed: UInt64) {
    state = seed
  }

  package mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// The seeds a randomized test runs with: only `HOSO_TEST_SEED` when it is set (to replay a
/// failure), else `fixed` (the same cases on every run, so a regression shows at once) and one
/// from the clock (new cases each run, to find what the fixed seed misses).
package func testSeeds(fixed: UInt64) -> [UInt64] {
  if let text = ProcessInfo.processInfo.environment["HOSO_TEST_SEED"] {
    let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
    if let seed = UInt64(digits, radix: text.hasPrefix("0x") ? 16 : 10) { return [seed] }
    preconditionFailure("HOSO_TEST_SEED is not a number: \(text)")
  }
  return [fixed, UInt64(truncatingIfNeeded: DispatchTime.now().uptimeNanoseconds) ^ fixed]
}
