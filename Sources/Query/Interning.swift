import Foundation

/// Strings interned to dense ids (0, 1, 2, …): equal bytes, equal id. The vectorized scan holds
/// VARCHAR values as these ids, so that grouping, `=`, `IN` and `count(DISTINCT …)` work on
/// integers and a string is decoded once per distinct value, not once per row.
///
/// One owner at a time (a worker of a scan). Its storage is managed by hand (no array's
/// reference count or uniqueness check per row): a slot holds the top 32 bits of a string's
/// hash beside its id, so a probe that meets another string rarely reads that string.
final class StringPool {
  private var bytes: UnsafeMutablePointer<UInt8>
  private var byteCount = 0
  private var byteCapacity = 4096
  /// `ends[id]`: where the bytes of `id` end (they start where those of `id - 1` end).
  private var ends: UnsafeMutablePointer<Int>
  private var idCapacity = 1024
  private(set) var count = 0
  /// The hash's top 32 bits, then `id + 1` in the low 32; 0 is empty.
  private var slots: UnsafeMutablePointer<UInt64>
  private var slotCount = 2048

  /// A pool sized for about `expected` strings (of some 16 bytes) before it first grows.
  init(expected: Int = 0) {
    while slotCount < expected * 2 { slotCount *= 2 }
    idCapacity = max(idCapacity, slotCount / 2)
    byteCapacity = max(byteCapacity, idCapacity * 16)
    bytes = .allocate(capacity: byteCapacity)
    ends = .allocate(capacity: idCapacity)
    slots = .allocate(capacity: slotCount)
    slots.initialize(repeating: 0, count: slotCount)
  }

  deinit {
    bytes.deallocate()
    ends.deallocate()
    slots.deallocate()
  }

  /// A pool holding the same strings under the same ids, which then grows apart from this one.
  func copy() -> StringPool {
    let c = StringPool()
    c.bytes.deallocate()
    c.ends.deallocate()
    c.slots.deallocate()
    c.byteCapacity = byteCapacity
    c.byteCount = byteCount
    c.idCapacity = idCapacity
    c.count = count
    c.slotCount = slotCount
    c.bytes = .allocate(capacity: byteCapacity)
    c.bytes.update(from: bytes, count: byteCount)
    c.ends = .allocate(capacity: idCapacity)
    c.ends.update(from: ends, count: count)
    c.slots = .allocate(capacity: slotCount)
    c.slots.update(from: slots, count: slotCount)
    return c
  }

  /// About how many bytes the pool holds.
  var memory: Int { byteCapacity + idCapacity * 8 + slotCount * 8 }

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

  @inline(__always)
  private func start(_ id: Int) -> Int { id == 0 ? 0 : ends[id - 1] }

  func intern(_ p: UnsafeRawBufferPointer) -> Int64 {
    let h = Self.hash(p)
    let tag = h & 0xFFFF_FFFF_0000_0000
    let mask = slotCount - 1
    var slot = Int(truncatingIfNeeded: h >> 32) & mask
    while true {
      let v = slots[slot]
      if v == 0 { break }
      if v & 0xFFFF_FFFF_0000_0000 == tag {
        let id = Int(v & 0xFFFF_FFFF) - 1
        let from = start(id)
        if ends[id] - from == p.count
          && (p.count == 0 || memcmp(bytes + from, p.baseAddress!, p.count) == 0)
        {
          return Int64(id)
        }
      }
      slot = (slot + 1) & mask
    }
    let id = count
    if byteCount + p.count > byteCapacity {
      var capacity = byteCapacity * 2
      while capacity < byteCount + p.count { capacity *= 2 }
      let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
      grown.update(from: bytes, count: byteCount)
      bytes.deallocate()
      bytes = grown
      byteCapacity = capacity
    }
    if p.count > 0 {
      (bytes + byteCount).update(from: p.bindMemory(to: UInt8.self).baseAddress!, count: p.count)
    }
    byteCount += p.count
    if count == idCapacity {
      let grown = UnsafeMutablePointer<Int>.allocate(capacity: idCapacity * 2)
      grown.update(from: ends, count: count)
      ends.deallocate()
      ends = grown
      idCapacity *= 2
    }
    ends[id] = byteCount
    count += 1
    slots[slot] = tag | UInt64(id + 1)
    if count * 2 > slotCount { grow() }
    return Int64(id)
  }

  func intern(_ s: String) -> Int64 {
    var s = s
    return s.withUTF8 { intern(UnsafeRawBufferPointer($0)) }
  }

  /// The id here of `other`'s string `id`.
  func intern(_ id: Int64, of other: StringPool) -> Int64 {
    intern(other.bytes(id))
  }

  /// Whether string `a` sorts before string `b`, byte by byte.
  func less(_ a: Int64, _ b: Int64) -> Bool {
    let (i, j) = (Int(a), Int(b))
    let (fa, fb) = (start(i), start(j))
    let (na, nb) = (ends[i] - fa, ends[j] - fb)
    let c = memcmp(bytes + fa, bytes + fb, min(na, nb))
    return c != 0 ? c < 0 : na < nb
  }

  /// The bytes of string `id`, valid until the next `intern`.
  func bytes(_ id: Int64) -> UnsafeRawBufferPointer {
    let i = Int(id)
    let from = start(i)
    return UnsafeRawBufferPointer(start: bytes + from, count: ends[i] - from)
  }

  func string(_ id: Int64) -> String {
    let i = Int(id)
    let from = start(i)
    return String(
      decoding: UnsafeBufferPointer(start: bytes + from, count: ends[i] - from), as: UTF8.self)
  }

  private func grow() {
    let old = slots
    let oldCount = slotCount
    slotCount *= 2
    slots = .allocate(capacity: slotCount)
    slots.initialize(repeating: 0, count: slotCount)
    let mask = slotCount - 1
    // A slot's place comes from the hash's top 32 bits, which the slot keeps: no string is
    // hashed again.
    for i in 0..<oldCount where old[i] != 0 {
      var slot = Int(truncatingIfNeeded: old[i] >> 32) & mask
      while slots[slot] != 0 { slot = (slot + 1) & mask }
      slots[slot] = old[i]
    }
    old.deallocate()
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

/// A set of (group, string) pairs: `count(DISTINCT x)` of a VARCHAR `x`, every group in one
/// pool of the group's eight bytes followed by the string's. A row is one probe, where
/// interning the string and then looking up the pair of ids was two (two cache misses on
/// tables of a few hundred thousand entries).
///
/// The pairs are split in two parts by their string, so that two workers' sets merge in two
/// threads at once, each part into its own (`absorb`): a string is in the same part in every
/// worker's set. (Unchecked Sendable: in `absorb` each thread touches one part of each set.)
final class PairStrings: @unchecked Sendable {
  private let parts: [Part]
  /// The two parts again, out of the array: no retain and release per row.
  private let first: Part
  private let second: Part

  /// One part: its pool, and the buffer a pair is put together in.
  private final class Part: @unchecked Sendable {
    let pool: StringPool
    var scratch: UnsafeMutableRawPointer
    var scratchCapacity = 256

    init(expected: Int) {
      pool = StringPool(expected: expected)
      scratch = .allocate(byteCount: scratchCapacity, alignment: 8)
    }

    deinit { scratch.deallocate() }

    @inline(__always)
    func insert(_ group: Int64, _ s: UnsafeRawBufferPointer) -> Bool {
      if 8 + s.count > scratchCapacity {
        while 8 + s.count > scratchCapacity { scratchCapacity *= 2 }
        scratch.deallocate()
        scratch = .allocate(byteCount: scratchCapacity, alignment: 8)
      }
      scratch.storeBytes(of: group, as: Int64.self)
      if let base = s.baseAddress { (scratch + 8).copyMemory(from: base, byteCount: s.count) }
      let before = pool.count
      _ = pool.intern(UnsafeRawBufferPointer(start: scratch, count: 8 + s.count))
      return pool.count > before
    }
  }

  init(expected: Int) {
    first = Part(expected: expected / 2)
    second = Part(expected: expected / 2)
    parts = [first, second]
  }

  /// About how many bytes the set holds.
  var memory: Int { parts.reduce(0) { $0 + $1.pool.memory } }

  /// The part of a string: a function of its bytes alone (its last eight, mixed).
  @inline(__always)
  private static func part(of s: UnsafeRawBufferPointer) -> Int {
    guard let base = s.baseAddress else { return 0 }
    var w: UInt64 = 0
    if s.count >= 8 {
      w = base.loadUnaligned(fromByteOffset: s.count - 8, as: UInt64.self)
    } else {
      for i in 0..<s.count { w = w << 8 | UInt64(s[i]) }
    }
    return Int(StringPool.mix(w ^ UInt64(s.count)) >> 63)
  }

  /// Whether the pair was new.
  @inline(__always)
  func insert(_ group: Int64, _ s: UnsafeRawBufferPointer) -> Bool {
    Self.part(of: s) == 0 ? first.insert(group, s) : second.insert(group, s)
  }

  /// Adds the pairs of `other` (another worker's set over the same strings), its groups
  /// renumbered by `mapped`, and adds one to `counts[group]` for each pair new here: the two
  /// parts in two threads.
  func absorb(_ other: PairStrings, mapped: [Int], into counts: inout [Int64]) {
    let n = counts.count
    let found = UnsafeMutablePointer<Int64>.allocate(capacity: 2 * n)
    found.initialize(repeating: 0, count: 2 * n)
    defer { found.deallocate() }
    let pointer = UncheckedPointer(found)
    DispatchQueue.concurrentPerform(iterations: 2) { k in
      let (mine, theirs) = (parts[k], other.parts[k])
      let out = pointer.base + k * n
      for id in 0..<Int64(theirs.pool.count) {
        let b = theirs.pool.bytes(id)
        let g = mapped[Int(b.loadUnaligned(as: Int64.self))]
        if mine.insert(Int64(g), UnsafeRawBufferPointer(rebasing: b[8...])) { out[g] += 1 }
      }
    }
    for g in 0..<n { counts[g] += found[g] + found[n + g] }
  }
}

/// A pointer handed to the threads of `concurrentPerform`, each of which writes its own part.
private struct UncheckedPointer: @unchecked Sendable {
  let base: UnsafeMutablePointer<Int64>
  init(_ base: UnsafeMutablePointer<Int64>) { self.base = base }
}

/// A set of (group, value) pairs: `count(DISTINCT …)` of every group in one table. Storage
/// managed by hand, as `StringPool`'s; a group is never negative, so `Int64.min` marks an
/// empty slot.
final class PairSet {
  /// The pairs side by side, `x` at `2 * slot` and `y` after it: a probe reads one cache line.
  private var slots: UnsafeMutablePointer<Int64>
  private var capacity: Int
  private var count = 0

  /// A set sized for about `expected` pairs before it first grows.
  init(expected: Int = 512) {
    var capacity = 1024
    while capacity < expected * 2 { capacity *= 2 }
    self.capacity = capacity
    slots = .allocate(capacity: 2 * capacity)
    for slot in 0..<capacity { slots[2 * slot] = .min }
  }

  deinit {
    slots.deallocate()
  }

  /// Whether the pair was new.
  @inline(__always)
  func insert(_ x: Int64, _ y: Int64) -> Bool {
    let h = StringPool.mix(
      UInt64(bitPattern: x) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: y))
    let mask = capacity - 1
    var slot = Int(truncatingIfNeeded: h) & mask
    while slots[2 * slot] != .min {
      if slots[2 * slot] == x && slots[2 * slot + 1] == y { return false }
      slot = (slot + 1) & mask
    }
    slots[2 * slot] = x
    slots[2 * slot + 1] = y
    count += 1
    if count * 2 > capacity { grow() }
    return true
  }

  /// About how many bytes the set holds.
  var memory: Int { capacity * 16 }

  /// Every pair held.
  var pairs: [(Int64, Int64)] {
    (0..<capacity).filter { slots[2 * $0] != .min }.map { (slots[2 * $0], slots[2 * $0 + 1]) }
  }

  private func grow() {
    let (old, oldCapacity) = (slots, capacity)
    capacity *= 2
    slots = .allocate(capacity: 2 * capacity)
    for slot in 0..<capacity { slots[2 * slot] = .min }
    count = 0
    for i in 0..<oldCapacity where old[2 * i] != .min { _ = insert(old[2 * i], old[2 * i + 1]) }
    old.deallocate()
  }
}
