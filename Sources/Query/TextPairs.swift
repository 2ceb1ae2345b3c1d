import Dispatch
import Domain

#if canImport(Glibc)
  import Glibc
#endif

/// `count(DISTINCT x)` of a VARCHAR `x` by group, exactly, as DuckDB's hash aggregate does it:
/// in two passes over radix partitions. The scan hashes each row's string and appends the
/// (group, string) pair to one of 256 partitions by the hash's top bits, a write in order;
/// the end deduplicates each partition (a few thousand pairs at 10 M rows) in a table that
/// stays in the cache. A set of every pair cost a probe of a table of megabytes per row: a
/// cache miss or two, most of such a query's time.
///
/// An entry is 40 bytes: the string's hash, the group, the length, and the string itself when
/// it has at most 24 bytes (ids, pseudonyms); a longer one keeps its first 16 bytes and the
/// offset of the rest, copied into its partition's `long` bytes. A partition that outgrows
/// its limit is deduplicated in place, the rest of its long strings too, so a column of few
/// values over many rows holds few entries and few bytes.
/// (Unchecked Sendable: the partitions are read by several threads only once filled.)
final class TextPairs: @unchecked Sendable {
  static let bits = 8
  static let partitions = 1 << bits
  static let entrySize = 40
  static let inline = 24

  private let bases: UnsafeMutablePointer<UnsafeMutableRawPointer>
  private let counts: UnsafeMutablePointer<Int>
  private let capacities: UnsafeMutablePointer<Int>
  /// The entries a partition may hold before it is deduplicated in place.
  private let limits: UnsafeMutablePointer<Int>
  /// By partition: the bytes past the first 16 of its strings longer than 24.
  private var long: [ByteBuffer]

  /// `limit`: the entries a partition holds before it is first deduplicated. `expected`:
  /// about how many rows will be added, for the partitions' first room (a few entries for
  /// a small table, at most 512: a large one grows them without copying them four times).
  init(limit: Int = 1 << 11, expected: Int = 0) {
    let n = Self.partitions
    bases = .allocate(capacity: n)
    counts = .allocate(capacity: n)
    capacities = .allocate(capacity: n)
    limits = .allocate(capacity: n)
    long = (0..<n).map { _ in ByteBuffer(capacity: 64) }
    var room = 4
    while room < 512 && room * n < expected { room *= 2 }
    for p in 0..<n {
      capacities[p] = room
      bases[p] = .allocate(byteCount: room * Self.entrySize, alignment: 8)
      counts[p] = 0
      limits[p] = max(limit, 1)
    }
  }

  deinit {
    for p in 0..<Self.partitions { bases[p].deallocate() }
    bases.deallocate()
    counts.deallocate()
    capacities.deallocate()
    limits.deallocate()
    for b in long { b.deallocate() }
  }

  /// About how many bytes the pairs hold.
  var memory: Int {
    (0..<Self.partitions).reduce(0) { $0 + capacities[$1] * Self.entrySize + long[$1].count }
  }

  /// Adds the pair (`group`, `s`); duplicates go when their partition is deduplicated.
  @inline(__always)
  func insert(_ group: Int, _ s: UnsafeRawBufferPointer) {
    let h = StringPool.hash(s)
    let p = Int(truncatingIfNeeded: h >> UInt64(64 - Self.bits))
    if counts[p] == capacities[p] { makeRoom(p) }
    let e = bases[p] + counts[p] * Self.entrySize
    counts[p] += 1
    e.storeBytes(of: h, as: UInt64.self)
    e.storeBytes(of: UInt32(truncatingIfNeeded: group), toByteOffset: 8, as: UInt32.self)
    e.storeBytes(of: UInt32(truncatingIfNeeded: s.count), toByteOffset: 12, as: UInt32.self)
    (e + 16).initializeMemory(as: UInt64.self, repeating: 0, count: 3)
    guard let from = s.baseAddress else { return }
    if s.count <= Self.inline {
      (e + 16).copyMemory(from: from, byteCount: s.count)
    } else {
      (e + 16).copyMemory(from: from, byteCount: 16)
      e.storeBytes(of: UInt64(long[p].count), toByteOffset: 32, as: UInt64.self)
      long[p].appendBytes(UnsafeRawBufferPointer(rebasing: s[16...]))
    }
  }

  /// Room for one more entry in partition `p`: the partition deduplicated when it has
  /// reached its limit (and the limit doubled when that left most of it), else grown.
  private func makeRoom(_ p: Int) {
    if counts[p] >= limits[p] {
      var table = Dedup()
      let kept = table.compact(self, p)
      counts[p] = kept
      keepLongTails(p)
      if kept * 2 > limits[p] { limits[p] *= 2 }
      if kept < capacities[p] { return }
    }
    let grown = UnsafeMutableRawPointer.allocate(
      byteCount: 2 * capacities[p] * Self.entrySize, alignment: 8)
    grown.copyMemory(from: bases[p], byteCount: counts[p] * Self.entrySize)
    bases[p].deallocate()
    bases[p] = grown
    capacities[p] *= 2
  }

  /// The distinct pairs of every set in `sets`, counted by group into `counts`: a set's
  /// groups renumbered by its map (nil: as they are). The partitions in two threads.
  static func count(_ sets: [(TextPairs, [Int]?)], into counts: inout [Int64]) {
    var keys = [Int64](repeating: 0, count: counts.count)
    count(sets, into: &counts, keys: &keys)
  }

  /// The same, and by group the sum modulo 2^64 of the distinct strings' hashes
  /// (`StringPool.hash`), added to `keys`: the record keys of a cell-key perturbed count
  /// (`CellKey`), at one addition a pair.
  static func count(
    _ sets: [(TextPairs, [Int]?)], into counts: inout [Int64], keys: inout [Int64]
  ) {
    let n = counts.count
    let found = UnsafeMutablePointer<Int64>.allocate(capacity: 4 * n)
    found.initialize(repeating: 0, count: 4 * n)
    defer { found.deallocate() }
    let out = SharedCounts(found)
    DispatchQueue.concurrentPerform(iterations: 2) { k in
      var table = Dedup()
      var p = k
      while p < partitions {
        table.count(sets, p, into: out.base + k * n, keys: out.base + (2 + k) * n)
        p += 2
      }
    }
    for g in 0..<n {
      counts[g] += found[g] + found[n + g]
      keys[g] = keys[g] &+ found[2 * n + g] &+ found[3 * n + g]
    }
  }

  @inline(__always)
  fileprivate func entry(_ p: Int, _ i: Int) -> UnsafeMutableRawPointer {
    bases[p] + i * Self.entrySize
  }

  @inline(__always)
  fileprivate func count(_ p: Int) -> Int { counts[p] }

  /// Whether the strings of entries `a` (of `self`) and `b` (of `other`), both of partition
  /// `p`, are equal, their hashes, lengths and first bytes known to be.
  fileprivate func sameLongTail(
    _ a: UnsafeRawPointer, _ other: TextPairs, _ b: UnsafeRawPointer, partition p: Int
  ) -> Bool {
    let length = Int(a.load(fromByteOffset: 12, as: UInt32.self))
    guard length > Self.inline else { return true }
    let x = Int(a.load(fromByteOffset: 32, as: UInt64.self))
    let y = Int(b.load(fromByteOffset: 32, as: UInt64.self))
    return long[p].withUnsafeBytes { l in
      other.long[p].withUnsafeBytes { r in
        memcmp(l.baseAddress! + x, r.baseAddress! + y, length - 16) == 0
      }
    }
  }

  /// After partition `p` was deduplicated: the long strings' bytes of its entries alone.
  private func keepLongTails(_ p: Int) {
    var kept = ByteBuffer(capacity: 64)
    long[p].withUnsafeBytes { old in
      for i in 0..<counts[p] {
        let e = entry(p, i)
        let length = Int(e.load(fromByteOffset: 12, as: UInt32.self))
        guard length > Self.inline else { continue }
        let at = Int(e.load(fromByteOffset: 32, as: UInt64.self))
        e.storeBytes(of: UInt64(kept.count), toByteOffset: 32, as: UInt64.self)
        kept.appendBytes(UnsafeRawBufferPointer(rebasing: old[at..<(at + length - 16)]))
      }
    }
    long[p].deallocate()
    long[p] = kept
  }
}

/// The table a partition is deduplicated in: the distinct entries seen so far (where, and
/// their group as renumbered), found by a probe of slots that stay in the cache.
private struct Dedup {
  /// The partition being deduplicated.
  var partition = 0
  var slots: [Int32] = []
  var entries: [UnsafeRawPointer] = []
  var owners: [Int32] = []
  var groups: [Int32] = []

  mutating func reset(for n: Int) {
    var size = 64
    while size < 2 * n { size *= 2 }
    if slots.count < size {
      slots = [Int32](repeating: 0, count: size)
    } else {
      slots.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
      if slots.count > size { slots.removeLast(slots.count - size) }
    }
    entries.removeAll(keepingCapacity: true)
    owners.removeAll(keepingCapacity: true)
    groups.removeAll(keepingCapacity: true)
  }

  /// Whether the entry `e` of `sets[owner]`, of group `group`, is new (and then kept).
  @inline(__always)
  mutating func insert(
    _ e: UnsafeRawPointer, group: Int32, owner: Int, _ sets: [(TextPairs, [Int]?)]
  ) -> Bool {
    let h = e.load(as: UInt64.self)
    let mask = slots.count - 1
    var slot = Int(truncatingIfNeeded: StringPool.mix(h ^ UInt64(UInt32(bitPattern: group)))) & mask
    while true {
      let k = Int(slots[slot]) - 1
      if k < 0 { break }
      let f = entries[k]
      if groups[k] == group && f.load(as: UInt64.self) == h
        && f.load(fromByteOffset: 12, as: UInt32.self)
          == e.load(fromByteOffset: 12, as: UInt32.self)
        && f.load(fromByteOffset: 16, as: UInt64.self)
          == e.load(fromByteOffset: 16, as: UInt64.self)
        && f.load(fromByteOffset: 24, as: UInt64.self)
          == e.load(fromByteOffset: 24, as: UInt64.self)
        && (f.load(fromByteOffset: 12, as: UInt32.self) > UInt32(TextPairs.inline)
          ? sets[Int(owners[k])].0.sameLongTail(f, sets[owner].0, e, partition: partition)
          : f.load(fromByteOffset: 32, as: UInt64.self)
            == e.load(fromByteOffset: 32, as: UInt64.self))
      {
        return false
      }
      slot = (slot + 1) & mask
    }
    entries.append(e)
    owners.append(Int32(owner))
    groups.append(group)
    slots[slot] = Int32(entries.count)
    return true
  }

  /// Counts partition `p` of every set: one for each distinct pair, by its group, and its
  /// string's hash into `keys`.
  mutating func count(
    _ sets: [(TextPairs, [Int]?)], _ p: Int, into out: UnsafeMutablePointer<Int64>,
    keys: UnsafeMutablePointer<Int64>
  ) {
    reset(for: sets.reduce(0) { $0 + $1.0.count(p) })
    partition = p
    for (owner, (set, map)) in sets.enumerated() {
      for i in 0..<set.count(p) {
        let e = set.entry(p, i)
        var g = Int(e.load(fromByteOffset: 8, as: UInt32.self))
        if let map { g = map[g] }
        if insert(e, group: Int32(g), owner: owner, sets) {
          out[g] += 1
          keys[g] = keys[g] &+ Int64(bitPattern: e.load(as: UInt64.self))
        }
      }
    }
  }

  /// Keeps the first of each pair in partition `p` of `set`, in place; how many.
  mutating func compact(_ set: TextPairs, _ p: Int) -> Int {
    let n = set.count(p)
    reset(for: n)
    partition = p
    let sets = [(set, [Int]?.none)]
    var kept = 0
    for i in 0..<n {
      let e = set.entry(p, i)
      // A kept entry moves down; the table must point at where it will be.
      let to = set.entry(p, kept)
      let group = Int32(bitPattern: e.load(fromByteOffset: 8, as: UInt32.self))
      if insert(e, group: group, owner: 0, sets) {
        if to != e { to.copyMemory(from: e, byteCount: TextPairs.entrySize) }
        entries[entries.count - 1] = UnsafeRawPointer(to)
        kept += 1
      }
    }
    return kept
  }
}

/// The per-thread counts `TextPairs.count` fills, each thread its own half.
private struct SharedCounts: @unchecked Sendable {
  let base: UnsafeMutablePointer<Int64>
  init(_ base: UnsafeMutablePointer<Int64>) { self.base = base }
}
