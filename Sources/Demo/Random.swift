/// The generator's random numbers: xoshiro256** seeded through SplitMix64, so that a seed gives
/// the same stream on every machine and every Swift version (the standard library's generator
/// promises neither).
struct Random {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
  }

  mutating func next() -> UInt64 {
    let result = (s1 &* 5).rotatedLeft(7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3.rotatedLeft(45)
    return result
  }

  /// Uniform in [0, 1).
  mutating func double() -> Double { Double(next() >> 11) * 0x1p-53 }

  /// Uniform in `range` (Lemire's multiply-shift; the bias is below 2^-40 for these ranges).
  mutating func int(_ range: ClosedRange<Int>) -> Int {
    let span = UInt64(range.upperBound - range.lowerBound) + 1
    return range.lowerBound + Int(next().multipliedFullWidth(by: span).high)
  }

  mutating func int64(_ range: ClosedRange<Int64>) -> Int64 {
    let span = UInt64(range.upperBound - range.lowerBound) + 1
    return range.lowerBound + Int64(next().multipliedFullWidth(by: span).high)
  }

  mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * double() }

  mutating func chance(_ p: Double) -> Bool { double() < p }

  mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

  /// An index drawn with the given weights.
  mutating func weighted(_ weights: [Double]) -> Int {
    var x = double() * weights.reduce(0, +)
    for (i, w) in weights.enumerated() {
      x -= w
      if x < 0 { return i }
    }
    return weights.count - 1
  }

  /// `k` distinct indices of `0..<n`, in random order (a partial Fisher–Yates shuffle).
  mutating func sample(_ k: Int, of n: Int) -> [Int] {
    let k = min(k, n)
    guard k > 0 else { return [] }
    var idx = Array(0..<n)
    for i in 0..<k {
      let j = int(i...(n - 1))
      idx.swapAt(i, j)
    }
    return Array(idx[0..<k])
  }

  /// Rounds `x` up or down at random so that the expected value is `x`: small provinces in a
  /// small sample still get their events on average.
  mutating func round(_ x: Double) -> Int {
    let f = x.rounded(.down)
    return Int(f) + (chance(x - f) ? 1 : 0)
  }
}

extension UInt64 {
  @inline(__always)
  fileprivate func rotatedLeft(_ k: UInt64) -> UInt64 { self << k | self >> (64 - k) }
}
