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

  /// The id of `p`'s string, or the empty slot where it would go.
  @inline(__always)
  private func probe(_ p: UnsafeRawBufferPointer, _ h: UInt64) -> (id: Int64?, slot: Int) {
    let tag = h & 0xFFFF_FFFF_0000_0000
    let mask = slotCount - 1
    var slot = Int(truncatingIfNeeded: h >> 32) & mask
    while true {
      let v = slots[slot]
      if v == 0 { return (nil, slot) }
      if v & 0xFFFF_FFFF_0000_0000 == tag {
        let id = Int(v & 0xFFFF_FFFF) - 1
        let from = start(id)
        if ends[id] - from == p.count
          && (p.count == 0 || memcmp(bytes + from, p.baseAddress!, p.count) == 0)
        {
          return (Int64(id), slot)
        }
      }
      slot = (slot + 1) & mask
    }
  }

  /// The id of `p`'s string if the pool holds it (nothing added).
  func find(_ p: UnsafeRawBufferPointer) -> Int64? {
    probe(p, Self.hash(p)).id
  }

  func intern(_ p: UnsafeRawBufferPointer) -> Int64 {
    let h = Self.hash(p)
    let tag = h & 0xFFFF_FFFF_0000_0000
    let (found, slot) = probe(p, h)
    if let found { return found }
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
