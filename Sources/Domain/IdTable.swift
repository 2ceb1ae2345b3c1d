import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Every event id in the store with what duplicate detection and corrections need: its seq
/// and its type.
///
/// Ids live back to back in one byte arena and the table holds 32-bit positions, so a million
/// ids cost about 40 MB rather than a million strings.
package struct IdTable {
  private var arena: [UInt8] = []
  private var starts: [UInt32] = []
  private var lengths: [UInt8] = []
  /// Each id's hash, kept to rehash without reading the ids again.
  private var idHashes: [UInt64] = []
  package private(set) var seqs: [UInt64] = []
  package private(set) var typeCodes: [UInt8] = []
  /// Open addressing, at most half full. A slot holds the high 32 bits of its id's hash above
  /// the entry + 1 (0: empty), so a probe compares hashes inside the slot array and touches
  /// nothing else until they match: one cache miss for a new id rather than one per slot passed.
  private var slots = SlotArray(count: 1024)

  package init() {}

  package var count: Int { seqs.count }

  /// A 64-bit hash of an id, eight bytes at a time (ids are 1 to 64 bytes): a multiply and a
  /// rotate per word, then a final mix so that the low bits (the slot) depend on every byte.
  @inline(__always)
  package static func hash(_ id: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(id.count)
    var i = 0
    let n = id.count
    while i + 8 <= n {
      let w = id.loadUnaligned(fromByteOffset: i, as: UInt64.self)
      h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
      h = h << 31 | h >> 33
      i += 8
    }
    if i < n {
      // The last bytes without a call to copy them: the word ending at the last byte (it
      // overlaps the words before, shifted past them), or for an id under 8 bytes, its
      // bytes one by one.
      var w: UInt64 = 0
      if n >= 8 {
        w = id.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) >> UInt64(8 * (8 - (n - i)))
      } else {
        for k in 0..<n { w |= UInt64(id[k]) << UInt64(8 * k) }
      }
      h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
    }
    h ^= h >> 29
    h = h &* 0x94D0_49BB_1331_11EB
    return h ^ (h >> 32)
  }

  private func idEquals(_ i: Int, _ id: UnsafeRawBufferPointer) -> Bool {
    let n = Int(lengths[i])
    guard n == id.count else { return false }
    let s = Int(starts[i])
    return arena.withUnsafeBytes { a in memcmp(a.baseAddress! + s, id.baseAddress!, n) == 0 }
  }

  /// The entry of `id`, or nil.
  package func find(_ id: UnsafeRawBufferPointer) -> Int? {
    find(id, hash: Self.hash(id))
  }

  /// The entry of `id`, whose `hash(_:)` the caller already has.
  package func find(_ id: UnsafeRawBufferPointer, hash h: UInt64) -> Int? {
    let mask = slots.count - 1
    let tag = h & 0xFFFF_FFFF_0000_0000
    var slot = Int(truncatingIfNeeded: h) & mask
    let slots = self.slots.base
    while true {
      let s = slots[slot]
      if s == 0 { return nil }
      if s & 0xFFFF_FFFF_0000_0000 == tag {
        let e = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
        if idEquals(e, id) { return e }
      }
      slot = (slot + 1) & mask
    }
  }

  /// Sizes the slots for `count` ids in all, so that adding them never rehashes.
  package mutating func reserve(_ count: Int) {
    guard count > 0, count < Int(Int32.max) else { return }
    var n = slots.count
    while n < count * 2 { n *= 2 }
    if n > slots.count { rehash(to: n) }
  }

  /// Adds an id that is not in the table; returns its entry.
  @discardableResult
  package mutating func insert(
    _ id: UnsafeRawBufferPointer, seq: UInt64, type: UInt8
  ) -> Int {
    insert(id, hash: Self.hash(id), seq: seq, type: type)
  }

  /// Adds an id that is not in the table, with its `hash(_:)`; returns its entry.
  @discardableResult
  package mutating func insert(
    _ id: UnsafeRawBufferPointer, hash h: UInt64, seq: UInt64, type: UInt8
  ) -> Int {
    if (seqs.count + 1) * 2 > slots.count { rehash(to: slots.count * 2) }
    let entry = seqs.count
    starts.append(UInt32(arena.count))
    lengths.append(UInt8(id.count))
    arena.appendBytes(id)
    seqs.append(seq)
    typeCodes.append(type)
    idHashes.append(h)
    place(entry, hash: h)
    return entry
  }

  package mutating func setSeq(_ entry: Int, _ seq: UInt64) { seqs[entry] = seq }

  /// Every id, for "did you mean" hints (slow: for error messages only).
  package var allIds: [String] { (0..<count).map(id) }

  /// Adds `id` unless present (for string-keyed uses such as tests).
  package mutating func insert(_ id: String) {
    var bytes = Array(id.utf8)
    let n = bytes.count
    bytes.withUnsafeMutableBytes { b in
      let raw = UnsafeRawBufferPointer(start: b.baseAddress, count: n)
      if find(raw) == nil { insert(raw, seq: 0, type: 0) }
    }
  }

  /// The bytes of entry `entry`.
  package func bytes(_ entry: Int) -> ArraySlice<UInt8> {
    let s = Int(starts[entry])
    return arena[s..<(s + Int(lengths[entry]))]
  }

  package func id(_ entry: Int) -> String {
    let s = Int(starts[entry])
    return String(decoding: arena[s..<(s + Int(lengths[entry]))], as: UTF8.self)
  }

  private mutating func place(_ entry: Int, hash: UInt64) {
    let mask = slots.count - 1
    let value = hash & 0xFFFF_FFFF_0000_0000 | UInt64(entry + 1)
    var slot = Int(truncatingIfNeeded: hash) & mask
    if !isKnownUniquelyReferenced(&slots) { slots = slots.copy() }
    let slots = self.slots.base
    while slots[slot] != 0 { slot = (slot + 1) & mask }
    slots[slot] = value
  }

  private mutating func rehash(to size: Int) {
    slots = SlotArray(count: size)
    for e in 0..<seqs.count { place(e, hash: idHashes[e]) }
  }
}

/// The slots of an `IdTable`: zeroed memory of its own mapping, on huge pages where the system
/// allows (a million ids' slots span 16 MB: with 4 KB pages every lookup would also miss the
/// TLB). Copied before a write when shared, as an array would be.
private final class SlotArray {
  let base: UnsafeMutablePointer<UInt64>
  let count: Int
  private let bytes: Int
  private let mapped: Bool

  init(count: Int) {
    self.count = count
    bytes = count * MemoryLayout<UInt64>.stride
    if bytes < 2 << 20 {
      // Small tables from the heap: a mapping of their own would cost a TLB shootdown on
      // every munmap, which a projection making thousands of them feels.
      guard let p = calloc(count, MemoryLayout<UInt64>.stride) else {
        fatalError("out of memory for \(count) id slots")
      }
      base = p.bindMemory(to: UInt64.self, capacity: count)
      mapped = false
      return
    }
    // Anonymous mappings start zeroed: no fill pass.
    let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let p, p != MAP_FAILED else { fatalError("out of memory for \(count) id slots") }
    _ = madvise(p, bytes, MADV_HUGEPAGE)
    base = p.bindMemory(to: UInt64.self, capacity: count)
    mapped = true
  }

  func copy() -> SlotArray {
    let c = SlotArray(count: count)
    c.base.update(from: base, count: count)
    return c
  }

  deinit {
    if mapped { munmap(base, bytes) } else { free(base) }
  }
}
