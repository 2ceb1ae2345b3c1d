import Domain

/// Cell-key perturbation of the analyst role's counts and sums over person-level rows, as the
/// Australian Bureau of Statistics' TableBuilder and the UK's ONS publish tables about persons:
/// the same contributors always get the same small noise, so repeating a query gains nothing,
/// and two sets of contributors that differ get unrelated noise, so the difference of two
/// answers is noise, not the person who is in one and not the other (issue 17, finding 5).
///
/// - **Contributors.** A count of rows (`count(*)`, `count(x)`), a sum and an average are over
///   rows, each known by its `seq` (the event's place in the log: unique, never reused, kept by
///   corrections and by `forget`). `count(DISTINCT x)` is over the distinct values of `x`
///   (persons for `count(DISTINCT person)`).
/// - **Record key.** A contributor's 64-bit hash: of its `seq`'s eight bytes, or of the
///   value's bytes (`StringPool.hash`, which the vectorized distinct count computes anyway).
/// - **Cell key.** The sum of its contributors' record keys modulo 2^64, then SipHash-2-4 of
///   that sum and of the count under the store's secret (`CellKey.Secret`): the position
///   that picks the noise in the perturbation table. ABS adds random record keys modulo 256;
///   here the keyed hash is applied once per cell, to the whole sum, which costs nothing per
///   row and is as unpredictable without the secret. Two sets share a position only if they
///   have the same size and the same sum of record keys: for sets that differ by fewer than
///   the minimum cell, a chance of 2^-64.
/// - **Counts** (`countNoise`): a noise of -2…+2 from a fixed table, zero-mean, that never
///   moves a count out of its band: 0 stays 0, 1…minCell-1 stay within it (they are shown as
///   `<minCell` anyway; a sum over such counts is then not exact either), and minCell or more
///   stay at minCell or more. So suppression hides the same cells whether it reads the true
///   counts or these, and no count of 1…4 or below 1 is ever shown.
/// - **Sums** (`sumNoise`): ± 20–50 % of the largest contribution (by magnitude) in the cell,
///   sign and size from the cell key (ABS's perturbation of magnitudes by the top
///   contribution): removing one person's amount from a cell changes the sum by that amount
///   and the noise by an unrelated draw of up to half the largest amount. An average is the
///   perturbed sum over the perturbed count of its contributors (the `count(x)` shown beside
///   it), so that the three agree and the true count cannot be solved from them.
///
/// What it cannot stop: the average of many different queries over nearly the same persons
/// (each difference is a fresh draw; k of them narrow the noise by √k), linear combinations
/// of many answers, and knowing that a value is within ±2 (or half the largest amount) of the
/// truth. Totals no longer add up exactly to their parts. Anyone who can read the store's
/// files can compute the secret (and can read every row anyway); it protects answers that
/// leave the store, not the store.
package enum CellKey {
  /// The key of SipHash-2-4 for one store: derived from its key check (an HMAC under the
  /// auditor's pseudonym key, so that it cannot be computed without that key or the store's
  /// own files), or from its id for a store made before the check was recorded.
  package struct Secret: Sendable, Equatable {
    package var k0: UInt64
    package var k1: UInt64

    package init(k0: UInt64, k1: UInt64) {
      self.k0 = k0
      self.k1 = k1
    }

    /// The secret of the store at `path`; a fixed one when the store cannot be read (an
    /// engine over a folder of tables alone, as some tests make).
    package static func of(store path: String) -> Secret {
      guard let store = try? Store.open(at: path) else { return Secret(k0: 0, k1: 0) }
      return derived(from: store.keyCheck ?? store.id)
    }

    package static func derived(from text: String) -> Secret {
      let mac = HMACSHA256.authenticationCode(
        key: Array(text.utf8), message: Array("hoso cell key 1".utf8))
      func word(_ at: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(mac[at + $1]) << (8 * UInt64($1)) }
      }
      return Secret(k0: word(0), k1: word(8))
    }
  }

  /// The record key of a row: the hash of its `seq`, as `StringPool.hash` of its eight bytes.
  @inline(__always)
  package static func recordKey(_ x: Int64) -> UInt64 {
    var v = x
    return withUnsafeBytes(of: &v) { StringPool.hash($0) }
  }

  /// The record key of a value of `count(DISTINCT x)`, as the vectorized distinct count hashes
  /// it: a string's UTF-8 bytes, an integer's (a date's, a time's) eight, a double's bits (−0
  /// as 0).
  package static func recordKey(_ v: SQLValue) -> UInt64 {
    switch v {
    case .text(let s):
      var s = s
      return s.withUTF8 { StringPool.hash(UnsafeRawBufferPointer($0)) }
    case .int(let x), .date(let x), .timestamp(let x): return recordKey(x)
    case .bool(let b): return recordKey(b ? 1 : 0)
    case .double(let d): return recordKey(Int64(bitPattern: (d == 0 ? 0.0 : d).bitPattern))
    case .interval(let x): return recordKey(x.micros)
    case .null: return 0
    }
  }

  /// The most a count is moved by its noise.
  package static let maxCountNoise = 2

  /// Which draw a position is for: a count's and a sum's of the same cell are unrelated.
  enum Draw: UInt64 {
    case count = 0x636F_756E_7400_0001
    case sum = 0x7375_6D00_0000_0002
  }

  /// The cell's position for `draw`: SipHash-2-4 under `secret` of the sum of its record keys
  /// and its count.
  static func position(_ keySum: UInt64, count: Int64, _ draw: Draw, _ secret: Secret)
    -> UInt64
  {
    SipHash.hash(
      keySum ^ draw.rawValue, UInt64(bitPattern: count), k0: secret.k0, k1: secret.k1)
  }

  /// The perturbation table's row for a count: the noise values and their probabilities (in
  /// 1/1000), fixed. Base: −2…+2 with 10, 25, 30, 25 and 10 %; the values that would take the
  /// count out of its band are dropped, and the larger side scaled down (its share moved to 0)
  /// so that the mean stays 0; at a band's edge, where only one side is left, the noise is
  /// one-sided (as ABS's tables are at their smallest counts).
  package static func countRow(_ n: Int64, minCell: Int) -> [(noise: Int64, weight: Int)] {
    let m = Int64(minCell)
    let (low, high): (Int64, Int64) = n < m ? (1, m - 1) : (m, .max)
    let base: [(Int64, Int)] = [(-2, 100), (-1, 250), (0, 300), (1, 250), (2, 100)]
    var row = base.filter { n + $0.0 >= low && n + $0.0 <= high }
    let down = row.filter { $0.0 < 0 }.reduce(0) { $0 + Int(-$1.0) * $1.1 }
    let up = row.filter { $0.0 > 0 }.reduce(0) { $0 + Int($1.0) * $1.1 }
    if down > 0 && up > 0 && down != up {
      // Scale the heavier side to the lighter one's pull; what it loses goes to 0.
      let (heavy, light) = down > up ? (down, up) : (up, down)
      var moved = 0
      for i in row.indices where (row[i].0 < 0) == (down > up) && row[i].0 != 0 {
        let w = row[i].1 * light / heavy
        moved += row[i].1 - w
        row[i].1 = w
      }
      if let z = row.firstIndex(where: { $0.0 == 0 }) { row[z].1 += moved }
    }
    return row
  }

  /// The noise added to a count of `n` contributors whose record keys sum to `keySum`: 0 for
  /// 0; otherwise drawn from `countRow` at the cell's position, so that `n + noise` stays in
  /// 1…minCell-1 or at minCell and above, whichever `n` is in.
  package static func countNoise(_ n: Int64, keySum: UInt64, minCell: Int, secret: Secret)
    -> Int64
  {
    guard n > 0 else { return 0 }
    let row = countRow(n, minCell: minCell)
    let total = row.reduce(0) { $0 + $1.weight }
    let at = Int(position(keySum, count: n, .count, secret) % UInt64(total))
    var seen = 0
    for (noise, weight) in row {
      seen += weight
      if at < seen { return noise }
    }
    return 0
  }

  /// The noise added to a sum of `n` contributions whose record keys sum to `keySum` and whose
  /// largest magnitude is `largest`: ±(0.2…0.5) × `largest`, the sign and the size from the
  /// cell's position (zero-mean: either sign as often).
  package static func sumNoise(_ n: Int64, keySum: UInt64, largest: Double, secret: Secret)
    -> Double
  {
    guard n > 0 else { return 0 }
    let p = position(keySum, count: n, .sum, secret)
    let size = 0.2 + 0.3 * Double(p >> 11 & 0xF_FFFF_FFFF) / Double(1 << 36)
    return (p & 1 == 0 ? size : -size) * largest
  }
}

/// SipHash-2-4 (Aumasson and Bernstein) of two 64-bit words: a keyed hash designed as a
/// pseudo-random function of short inputs, so the noise of a cell cannot be computed without
/// the key.
package enum SipHash {
  @inline(__always)
  static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }

  package static func hash(_ m0: UInt64, _ m1: UInt64, k0: UInt64, k1: UInt64) -> UInt64 {
    var v0 = k0 ^ 0x736F_6D65_7073_6575
    var v1 = k1 ^ 0x646F_7261_6E64_6F6D
    var v2 = k0 ^ 0x6C79_6765_6E65_7261
    var v3 = k1 ^ 0x7465_6462_7974_6573
    @inline(__always) func round() {
      v0 &+= v1
      v1 = rotl(v1, 13)
      v1 ^= v0
      v0 = rotl(v0, 32)
      v2 &+= v3
      v3 = rotl(v3, 16)
      v3 ^= v2
      v0 &+= v3
      v3 = rotl(v3, 21)
      v3 ^= v0
      v2 &+= v1
      v1 = rotl(v1, 17)
      v1 ^= v2
      v2 = rotl(v2, 32)
    }
    // Two message words of eight bytes, then the final block holding the length (16).
    for m in [m0, m1, UInt64(16) << 56] {
      v3 ^= m
      round()
      round()
      v0 ^= m
    }
    v2 ^= 0xFF
    round()
    round()
    round()
    round()
    return v0 ^ v1 ^ v2 ^ v3
  }
}
