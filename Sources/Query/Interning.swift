import Foundation

/// Strings interned to dense ids (0, 1, 2, …): equal bytes, equal id. The vectorized scan holds
/// VARCHAR values as these ids, so that grouping, `=`, `IN` and `count(DISTINCT …)` work on
/// integers and a string is decoded once per distinct value, not once per row.
///
/// One owner at a time (a worker of a scan): the run-time exclusivity checks are off for its
/// properties, which are touched for every row.
final class StringPool {
  @exclusivity(unchecked) private var bytes: [UInt8] = []
  /// `ends[id]`: where the bytes of `id` end (they start where those of `id - 1` end).
  @exclusivity(unchecked) private var ends: [Int] = []
  @exclusivity(unchecked) private var hashes: [UInt64] = []
  @exclusivity(unchecked) private var slots = [Int32](repeating: -1, count: 1024)

  var count: Int { ends.count }

  /// About how many bytes the pool holds.
  var memory: Int { bytes.count + ends.count * 16 + slots.count * 4 }

  /// A 64-bit hash of a short byte string, a word at a time.
  static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: p.count)
    let n = p.count
    var i = 0
    while i + 8 <= n {
      h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 29
      i += 8
    }
    if i < n {
      var w: UInt64 = 0
      var shift: UInt64 = 0
      while i < n {
        w |= UInt64(p[i]) << shift
        shift += 8
        i += 1
      }
      h = (h ^ w) &* 0x94D0_49BB_1331_11EB
    }
    return mix(h)
  }

  @inline(__always)
  static func mix(_ x: UInt64) -> UInt64 {
    var h = x
    h ^= h >> 31
    h = h &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 32
    return h
  }

  func intern(_ p: UnsafeRawBufferPointer) -> Int64 {
    let h = Self.hash(p)
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let id = Int(slots[slot])
      if id < 0 { break }
      if hashes[id] == h && equal(id, p) { return Int64(id) }
      slot = (slot + 1) & mask
    }
    let id = ends.count
    hashes.append(h)
    bytes.append(contentsOf: p)
    ends.append(bytes.count)
    slots[slot] = Int32(id)
    if ends.count * 2 > slots.count { grow() }
    return Int64(id)
  }

  func intern(_ s: String) -> Int64 {
    var s = s
    return s.withUTF8 { intern(UnsafeRawBufferPointer($0)) }
  }

  /// The id here of `other`'s string `id`.
  func intern(_ id: Int64, of other: StringPool) -> Int64 {
    let i = Int(id)
    let start = i == 0 ? 0 : other.ends[i - 1]
    return other.bytes.withUnsafeBytes {
      intern(UnsafeRawBufferPointer(rebasing: $0[start..<other.ends[i]]))
    }
  }

  func string(_ id: Int64) -> String {
    let i = Int(id)
    let start = i == 0 ? 0 : ends[i - 1]
    return String(decoding: bytes[start..<ends[i]], as: UTF8.self)
  }

  private func equal(_ id: Int, _ p: UnsafeRawBufferPointer) -> Bool {
    let start = id == 0 ? 0 : ends[id - 1]
    let n = ends[id] - start
    guard n == p.count else { return false }
    if n == 0 { return true }
    return bytes.withUnsafeBytes { memcmp($0.baseAddress! + start, p.baseAddress!, n) == 0 }
  }

  private func grow() {
    slots = [Int32](repeating: -1, count: slots.count * 2)
    let mask = slots.count - 1
    for (id, h) in hashes.enumerated() {
      var slot = Int(truncatingIfNeeded: h) & mask
      while slots[slot] >= 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(id)
    }
  }
}

/// Fixed-width keys of `width` words to dense group numbers, in the order first seen: the
/// hash table of a grouped query (open addressing, linear probing).
struct GroupTable {
  let width: Int
  /// The keys, `width` words each, by group number.
  private(set) var keys: [Int64] = []
  private var hashes: [UInt64] = []
  private var slots = [Int32](repeating: -1, count: 256)
  private(set) var count = 0

  init(width: Int) { self.width = width }

  /// About how many bytes the table holds.
  var memory: Int { keys.count * 8 + hashes.count * 8 + slots.count * 4 }

  @inline(__always)
  static func hash(_ key: UnsafePointer<Int64>, _ width: Int) -> UInt64 {
    var h: UInt64 = 0x243F_6A88_85A3_08D3
    for i in 0..<width {
      h = StringPool.mix(h ^ UInt64(bitPattern: key[i]) &* 0x9E37_79B9_7F4A_7C15)
    }
    return h
  }

  /// The group of `key`, nil when there is none.
  func find(_ key: UnsafePointer<Int64>) -> Int? {
    let h = Self.hash(key, width)
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: h) & mask
    while true {
      let g = Int(slots[slot])
      if g < 0 { return nil }
      if hashes[g] == h && (0..<width).allSatisfy({ keys[g * width + $0] == key[$0] }) { return g }
      slot = (slot + 1) & mask
    }
  }

  /// The group of `key`, made when new.
  mutating func group(_ key: UnsafePointer<Int64>) -> Int {
    let h = Self.hash(key, width)
    let w = width
    var slot = Int(truncatingIfNeeded: h) & (slots.count - 1)
    let found: Int? = slots.withUnsafeBufferPointer { s in
      keys.withUnsafeBufferPointer { k in
        hashes.withUnsafeBufferPointer { hs in
          let mask = s.count - 1
          while true {
            let g = Int(s[slot])
            if g < 0 { return nil }
            if hs[g] == h {
              var same = true
              for i in 0..<w where k[g * w + i] != key[i] {
                same = false
                break
              }
              if same { return g }
            }
            slot = (slot + 1) & mask
          }
        }
      }
    }
    if let found { return found }
    let g = count
    count += 1
    for i in 0..<w { keys.append(key[i]) }
    hashes.append(h)
    slots[slot] = Int32(g)
    if count * 2 > slots.count { grow() }
    return g
  }

  private mutating func grow() {
    slots = [Int32](repeating: -1, count: slots.count * 2)
    let mask = slots.count - 1
    for (g, h) in hashes.enumerated() {
      var slot = Int(truncatingIfNeeded: h) & mask
      while slots[slot] >= 0 { slot = (slot + 1) & mask }
      slots[slot] = Int32(g)
    }
  }
}

/// A set of (group, value) pairs: `count(DISTINCT …)` of every group in one table.
struct PairSet {
  private var a: [Int64] = []
  private var b: [Int64] = []
  private var used: [Bool] = []
  private var count = 0

  init() {
    a = Array(repeating: 0, count: 1024)
    b = a
    used = Array(repeating: false, count: 1024)
  }

  /// Whether the pair was new.
  mutating func insert(_ x: Int64, _ y: Int64) -> Bool {
    var inserted = false
    let h = StringPool.mix(
      UInt64(bitPattern: x) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: y))
    a.withUnsafeMutableBufferPointer { a in
      b.withUnsafeMutableBufferPointer { b in
        used.withUnsafeMutableBufferPointer { used in
          let mask = used.count - 1
          var slot = Int(truncatingIfNeeded: h) & mask
          while used[slot] {
            if a[slot] == x && b[slot] == y { return }
            slot = (slot + 1) & mask
          }
          used[slot] = true
          a[slot] = x
          b[slot] = y
          inserted = true
        }
      }
    }
    if inserted {
      count += 1
      if count * 2 > used.count { grow() }
    }
    return inserted
  }

  /// About how many bytes the set holds.
  var memory: Int { used.count * 17 }

  /// Every pair held.
  var pairs: [(Int64, Int64)] {
    (0..<used.count).filter { used[$0] }.map { (a[$0], b[$0]) }
  }

  private mutating func grow() {
    let (oa, ob, ou) = (a, b, used)
    let n = used.count * 2
    a = Array(repeating: 0, count: n)
    b = a
    used = Array(repeating: false, count: n)
    count = 0
    for i in 0..<ou.count where ou[i] { _ = insert(oa[i], ob[i]) }
  }
}
