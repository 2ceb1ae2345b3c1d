import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#endif

/// A row group on disk: the columns of up to `ColumnGroup.rows` rows of one table, in one file.
///
/// ```
/// "HOSOGRP2" u32 crc32c (of everything after it) u16 columns u16 indexes u64 rows
/// per column: u8 type u8 encoding u8 has-nulls u8 has-bounds u32 0  u64 offset  u64 length
///             then 16 bytes: VARCHAR u32 dictionary entries u32 their bytes (dictionary) or
///             u64 the bytes (plain), u64 0; fixed-width columns with bounds the least and the
///             greatest value (i64, or f64 for DOUBLE); else zeros
/// per index:  u8 0 u8 column u16 0 u32 0  u64 offset  u64 length  u32 entries u32 blocks  u64 0
/// sections, each at an 8-byte boundary:
///   validity   (rows + 7) / 8 bytes, bit set = value (only when has-nulls)
///   plain      BIGINT/TIMESTAMP/BOOLEAN/DATE: i64 × rows; DOUBLE: f64 × rows;
///              (encodings 3, 4, 5, a frame of reference: u8, u16 or u32 × rows, each the
///              value less the least bound, or less 0 if that is less and the column has
///              NULLs; a NULL is stored as the value 0)
///              VARCHAR: u32 ends × rows, then (at an 8-byte boundary) the bytes
///              (encoding 2: u64 ends, for a group of 4 GiB of text or more)
///   dictionary VARCHAR: u32 entries, u32 ends × entries, the bytes (entries sorted by bytes),
///              then u16 codes × rows
///   index      u64 entries u64 blocks, (u64 hash u32 row u32 0) × entries, the Bloom filter
/// ```
/// Sizes and bounds are in the directory, so that opening a group reads its first page alone
/// (a table opened with a page fault in each VARCHAR column and in each group's bounds cost
/// more than a selective query's scan; BENCHMARKS.md has the figures).
/// The bounds are a zone map: a scan whose condition no stored value of a group can meet
/// skips the group (reading only its corrected rows, whose values live elsewhere).
/// A VARCHAR column is dictionary-encoded when its distinct values are at most a quarter of the
/// rows (units, types, kinds), plain otherwise (ids, summaries). All integers little-endian.
package enum ColumnGroup {
  /// Rows per group: a table of 10 M rows is 153 files; an append rewrites only the last.
  package static let rows = 65_536
  static let magic: [UInt8] = Array("HOSOGRP2".utf8)
  static let headerSize = 24
  static let entrySize = 40

  enum Encoding: UInt8 {
    /// Fixed-width values; VARCHAR: u32 ends, then the bytes.
    case plain = 0
    /// VARCHAR: a sorted dictionary and a u16 code per row.
    case dictionary = 1
    /// VARCHAR of 4 GiB or more in one group: u64 ends.
    case plain64 = 2
    /// BIGINT, TIMESTAMP, DATE or BOOLEAN, as a frame of reference: each value less the
    /// frame (the least value, or 0 if less and the column has NULLs: a NULL is stored as
    /// 0), unsigned in 1, 2 or 4 bytes. Needs the column's bounds in its entry.
    case frame8 = 3
    case frame16 = 4
    case frame32 = 5
    /// Every row NULL: nothing stored. `events` has every type's fields, and in most groups
    /// most of them hold no value at all; stored plainly they would be most of its bytes.
    case null = 6

    /// The bytes of a stored fixed-width value.
    var width: Int {
      switch self {
      case .frame8: 1
      case .frame16: 2
      case .frame32: 4
      default: 8
      }
    }

    /// What the stored integers of a column with `bounds` (its least and greatest value)
    /// add to: the least, or 0 when the column has NULLs (stored as 0) and 0 is less.
    static func frame(_ bounds: (Int64, Int64), hasNulls: Bool) -> (low: Int64, high: Int64) {
      hasNulls ? (min(bounds.0, 0), max(bounds.1, 0)) : bounds
    }

    /// The narrowest frame-of-reference encoding for values in `frame`, if any.
    static func narrowest(_ frame: (low: Int64, high: Int64)) -> Encoding? {
      let (span, overflow) = frame.high.subtractingReportingOverflow(frame.low)
      guard !overflow, span >= 0 else { return nil }
      if span <= Int64(UInt8.max) { return .frame8 }
      if span <= Int64(UInt16.max) { return .frame16 }
      if span <= Int64(UInt32.max) { return .frame32 }
      return nil
    }
  }

  /// The file's bytes for `columns` (all of the same count), with a hash index of each VARCHAR
  /// column in `indexed`: its non-NULL values' hashes and rows, sorted, after the columns (the
  /// directory's entries past the columns, type 0, encoding = the column's index).
  package static func encode(_ columns: [ColumnBuilder], indexed: [Int] = []) -> [UInt8] {
    let rows = columns.first?.count ?? 0
    let entries = columns.count + indexed.count
    var out = [UInt8](repeating: 0, count: headerSize + entrySize * entries)
    // One allocation: every column's room, rounded up, and the indexes'.
    out.reserveCapacity(
      out.count + 16 * rows * indexed.count
        + columns.reduce(0) { $0 + $1.validity.count + 8 * rows + $1.bytes.count + 32 })
    out.replaceSubrange(0..<8, with: magic)
    store(UInt16(columns.count), at: 12, in: &out)
    store(UInt16(indexed.count), at: 14, in: &out)
    store(UInt64(rows), at: 16, in: &out)
    let allBounds = columns.map(bounds)
    for (i, c) in columns.enumerated() {
      precondition(c.count == rows, "columns of a group differ in length")
      align(&out)
      let start = out.count
      let hasNulls = c.nullCount > 0
      var encoding = Encoding.plain
      var sizes: UInt64 = 0
      if rows > 0 && c.nullCount == rows {
        encoding = .null
      } else if hasNulls {
        out += c.validity
      }
      align(&out)
      switch encoding == .null ? nil : c.type {
      case nil: break
      case .bigint, .timestamp, .boolean, .date:
        let b = allBounds[i].map { (Int64(bitPattern: $0.0), Int64(bitPattern: $0.1)) }
        let frame = b.map { Encoding.frame($0, hasNulls: hasNulls) }
        if let frame, let narrow = Encoding.narrowest(frame) {
          encoding = narrow
          pack(c.ints, less: frame.low, width: narrow.width, into: &out)
        } else {
          c.ints.withUnsafeBytes { out += $0 }
        }
      case .double:
        c.doubles.withUnsafeBytes { out += $0 }
      case .varchar:
        if let (dictionary, entries, bytes) = dictionaryEncoding(c) {
          encoding = .dictionary
          out += dictionary
          sizes = UInt64(entries) | UInt64(bytes) << 32
        } else if c.bytes.count <= Int(UInt32.max) {
          c.ends.withUnsafeBufferPointer { ends in
            appendStored(ends.count, as: UInt32.self, to: &out) { UInt32(ends[$0]) }
          }
          align(&out)
          out += c.bytes
          sizes = UInt64(c.bytes.count)
        } else {
          encoding = .plain64
          c.ends.withUnsafeBytes { out += $0 }
          out += c.bytes
          sizes = UInt64(c.bytes.count)
        }
      }
      let e = headerSize + i * entrySize
      out[e] = c.type.rawValue
      out[e + 1] = encoding.rawValue
      out[e + 2] = hasNulls ? 1 : 0
      store(UInt64(start), at: e + 8, in: &out)
      store(UInt64(out.count - start), at: e + 16, in: &out)
      store(sizes, at: e + 24, in: &out)
    }
    for (k, i) in indexed.enumerated() {
      let c = columns[i]
      precondition(c.type == .varchar, "only VARCHAR columns are indexed")
      var pairs: [(UInt64, UInt32)] = []
      pairs.reserveCapacity(rows)
      c.bytes.withUnsafeBytes { b in
        var start = 0
        for r in 0..<rows {
          let end = Int(c.ends[r])
          if isSet(c.validity, r) {
            pairs.append((valueHash(UnsafeRawBufferPointer(rebasing: b[start..<end])), UInt32(r)))
          }
          start = end
        }
      }
      radixSort(&pairs)
      align(&out)
      let start = out.count
      let blocks = bloomBlocks(pairs.count)
      append(UInt64(pairs.count), to: &out)
      append(UInt64(blocks), to: &out)
      for (h, r) in pairs {
        append(h, to: &out)
        append(r, to: &out)
        append(UInt32(0), to: &out)
      }
      // A blocked Bloom filter: a look-up for a value the group lacks (nearly every group,
      // for a case id) reads one cache line instead of searching the sorted hashes.
      var bloom = [UInt64](repeating: 0, count: blocks * 8)
      for (h, _) in pairs {
        let (block, bits) = bloomBits(h, blocks: blocks)
        for k in 0..<4 {
          let b = bloomBit(bits, k)
          bloom[block * 8 + b >> 6] |= 1 << UInt64(b & 63)
        }
      }
      bloom.withUnsafeBytes { out += $0 }
      let e = headerSize + (columns.count + k) * entrySize
      out[e + 1] = UInt8(i)
      store(UInt64(start), at: e + 8, in: &out)
      store(UInt64(out.count - start), at: e + 16, in: &out)
      store(UInt32(pairs.count), at: e + 24, in: &out)
      store(UInt32(blocks), at: e + 28, in: &out)
    }
    // The bounds of each fixed-width column, in its entry.
    for i in columns.indices {
      guard let (lo, hi) = allBounds[i] else { continue }
      let e = headerSize + i * entrySize
      out[e + 3] = 1
      store(lo, at: e + 24, in: &out)
      store(hi, at: e + 32, in: &out)
    }
    align(&out)
    let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[12...])) }
    store(crc, at: 8, in: &out)
    return out
  }

  /// Appends each of `ints` less `frame`, in `width` bytes (little-endian).
  private static func pack(_ ints: [Int64], less frame: Int64, width: Int, into out: inout [UInt8])
  {
    switch width {
    case 1: pack(ints, less: frame, as: UInt8.self, into: &out)
    case 2: pack(ints, less: frame, as: UInt16.self, into: &out)
    default: pack(ints, less: frame, as: UInt32.self, into: &out)
    }
  }

  /// `pack` in `T`s: one loop a width, nothing decided per value.
  private static func pack<T: FixedWidthInteger & UnsignedInteger>(
    _ ints: [Int64], less frame: Int64, as: T.Type, into out: inout [UInt8]
  ) {
    ints.withUnsafeBufferPointer { ints in
      appendStored(ints.count, as: T.self, to: &out) {
        T(truncatingIfNeeded: UInt64(bitPattern: ints[$0] &- frame))
      }
    }
  }

  /// Appends `count` values of `T` (little-endian), the i-th `value(i)`, stored in place: an
  /// append of a value at a time costs a hundred instructions, a store one.
  private static func appendStored<T: FixedWidthInteger>(
    _ count: Int, as: T.Type, to out: inout [UInt8], _ value: (Int) -> T
  ) {
    let start = out.count
    out += repeatElement(0, count: MemoryLayout<T>.size * count)
    out.withUnsafeMutableBytes { b in
      let p = b.baseAddress! + start
      for i in 0..<count {
        p.storeBytes(of: value(i).littleEndian, toByteOffset: i * MemoryLayout<T>.size, as: T.self)
      }
    }
  }

  /// The least and the greatest value of a fixed-width column (bit patterns of DOUBLEs; nil
  /// for VARCHAR, a column of NULLs only, or a DOUBLE holding a NaN).
  private static func bounds(_ c: ColumnBuilder) -> (UInt64, UInt64)? {
    let hasNulls = c.nullCount > 0
    switch c.type {
    case .varchar: return nil
    case .double:
      var lo = Double.infinity
      var hi = -Double.infinity
      var any = false
      for (r, v) in c.doubles.enumerated() where !hasNulls || isSet(c.validity, r) {
        if v.isNaN { return nil }
        lo = min(lo, v)
        hi = max(hi, v)
        any = true
      }
      return any ? (lo.bitPattern, hi.bitPattern) : nil
    default:
      var lo = Int64.max
      var hi = Int64.min
      var any = false
      for (r, v) in c.ints.enumerated() where !hasNulls || isSet(c.validity, r) {
        lo = min(lo, v)
        hi = max(hi, v)
        any = true
      }
      return any ? (UInt64(bitPattern: lo), UInt64(bitPattern: hi)) : nil
    }
  }

  /// The dictionary section of a VARCHAR column of few distinct values, its entries, and
  /// the bytes of its entries; nil when the column is better plain.
  private static func dictionaryEncoding(_ c: ColumnBuilder) -> ([UInt8], Int, Int)? {
    let rows = c.count
    guard rows > 0 else { return nil }
    var entryOfRow = [Int32](repeating: -1, count: rows)
    // Distinct values in first-seen order, as ranges of the column's own bytes (nothing is
    // copied), found through an open-addressing table of their hashes: a slot holds a hash's
    // high 32 bits above the entry + 1 (0: empty), at most half full. `IdTable`'s scheme, not
    // an `IdTable`: one of those per column of every group (its slots a mapping of their own,
    // the values copied into its arena) cost a tenth of an append's instructions more.
    var starts: [Int] = []
    var ends: [Int] = []
    var hashes: [UInt64] = []
    var slots = [UInt64](repeating: 0, count: 256)
    let tooMany = c.bytes.withUnsafeBytes { b -> Bool in
      c.ends.withUnsafeBufferPointer { rowEnds in
        c.validity.withUnsafeBufferPointer { validity in
          entryOfRow.withUnsafeMutableBufferPointer { entryOfRow in
            let base = b.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            var start = 0
            // The previous value and its entry: a run of one value (a type table's `type`, a
            // session's audience) is found without hashing.
            var lastStart = 0
            var lastCount = 0
            var lastEntry: Int32 = -1
            for r in 0..<rows {
              let end = Int(rowEnds[r])
              defer { start = end }
              guard validity[r >> 3] & (1 << UInt8(r & 7)) != 0 else { continue }
              let count = end - start
              if lastEntry >= 0 && count == lastCount
                && (count == 0 || memcmp(base + start, base + lastStart, count) == 0)
              {
                entryOfRow[r] = lastEntry
                continue
              }
              let v = UnsafeRawBufferPointer(start: base + start, count: count)
              let h = IdTable.hash(v)
              let tag = h & 0xFFFF_FFFF_0000_0000
              var mask = slots.count - 1
              var slot = Int(truncatingIfNeeded: h) & mask
              var found: Int32 = -1
              while slots[slot] != 0 {
                let s = slots[slot]
                if s & 0xFFFF_FFFF_0000_0000 == tag {
                  let e = Int(truncatingIfNeeded: s & 0xFFFF_FFFF) - 1
                  if ends[e] - starts[e] == count
                    && (count == 0 || memcmp(base + starts[e], base + start, count) == 0)
                  {
                    found = Int32(e)
                    break
                  }
                }
                slot = (slot + 1) & mask
              }
              if found < 0 {
                guard (starts.count + 1) * 4 <= rows, count <= 255 else { return true }
                // Mostly distinct so far (ids, summaries): plain, without hashing the rest.
                if r >= 2048 && starts.count * 2 > r { return true }
                found = Int32(starts.count)
                starts.append(start)
                ends.append(end)
                hashes.append(h)
                if starts.count * 2 > slots.count {
                  slots = [UInt64](repeating: 0, count: slots.count * 2)
                  mask = slots.count - 1
                  for (e, eh) in hashes.enumerated() {
                    var s = Int(truncatingIfNeeded: eh) & mask
                    while slots[s] != 0 { s = (s + 1) & mask }
                    slots[s] = eh & 0xFFFF_FFFF_0000_0000 | UInt64(e + 1)
                  }
                } else {
                  slots[slot] = tag | UInt64(found + 1)
                }
              }
              entryOfRow[r] = found
              lastStart = start
              lastCount = count
              lastEntry = found
            }
            return false
          }
        }
      }
    }
    if tooMany { return nil }
    let values = c.bytes.withUnsafeBytes { b in
      starts.indices.map { Array(UnsafeRawBufferPointer(rebasing: b[starts[$0]..<ends[$0]])) }
    }
    // By bytes, as `memcmp` orders them (what the generic comparison of arrays gives, at a
    // fraction of its cost: a group sorts thousands of entries).
    let order = values.indices.sorted { a, b in
      values[a].withUnsafeBytes { x in
        values[b].withUnsafeBytes { y in
          let n = min(x.count, y.count)
          let c = n == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, n)
          return c != 0 ? c < 0 : x.count < y.count
        }
      }
    }
    var code = [UInt32](repeating: 0, count: values.count)
    for (k, e) in order.enumerated() { code[e] = UInt32(k) }
    var out: [UInt8] = []
    append(UInt32(values.count), to: &out)
    var end: UInt32 = 0
    for e in order {
      end += UInt32(values[e].count)
      append(end, to: &out)
    }
    for e in order { out += values[e] }
    let bytes = Int(end)
    align(&out)
    // At most rows / 4 = 16,384 entries: a code fits in 16 bits (a NULL's is 0).
    appendStored(rows, as: UInt16.self, to: &out) { r in
      entryOfRow[r] >= 0 ? UInt16(code[Int(entryOfRow[r])]) : 0
    }
    return (out, values.count, bytes)
  }

  /// Sorts an index's (hash, row) pairs by hash, then row: a stable radix sort on the hash
  /// (four passes of 16 bits), the rows arriving in order. The comparison sort it replaces
  /// was a tenth of a group's encoding.
  static func radixSort(_ pairs: inout [(UInt64, UInt32)]) {
    let n = pairs.count
    guard n > 1 else { return }
    var other = pairs
    var counts = [Int](repeating: 0, count: 65_537)
    for shift in stride(from: UInt64(0), to: 64, by: 16) {
      pairs.withUnsafeBufferPointer { from in
        other.withUnsafeMutableBufferPointer { to in
          counts.withUnsafeMutableBufferPointer { c in
            for i in 0..<c.count { c[i] = 0 }
            for p in from { c[Int((p.0 >> shift) & 0xFFFF) + 1] += 1 }
            for i in 1..<c.count { c[i] += c[i - 1] }
            for p in from {
              let d = Int((p.0 >> shift) & 0xFFFF)
              to[c[d]] = p
              c[d] += 1
            }
          }
        }
      }
      swap(&pairs, &other)
    }
  }

  /// 64-byte blocks of a group index's Bloom filter: about 16 bits a value (4 bits set in
  /// one block per value: about 0.25 % false positives).
  static func bloomBlocks(_ n: Int) -> Int {
    var b = 1
    while b * 32 < n { b *= 2 }
    return b
  }

  /// The block of a value's hash, and the mixed hash whose 4 × 9 low bits are the bits (of
  /// the block's 512) it sets.
  @inline(__always)
  static func bloomBits(_ h: UInt64, blocks: Int) -> (block: Int, bits: UInt64) {
    let g = (h ^ (h >> 31)) &* 0x9E37_79B9_7F4A_7C15
    return (Int(truncatingIfNeeded: g >> 40) & (blocks - 1), g)
  }

  @inline(__always)
  static func bloomBit(_ bits: UInt64, _ k: Int) -> Int {
    Int(truncatingIfNeeded: bits >> (9 * k)) & 511
  }

  /// The hash of an indexed value (FNV-1a, 64 bits: stable across runs and machines).
  @inline(__always)
  package static func valueHash(_ v: UnsafeRawBufferPointer) -> UInt64 {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in v { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return h
  }

  static func isSet(_ bits: [UInt8], _ i: Int) -> Bool { bits[i >> 3] & (1 << UInt8(i & 7)) != 0 }

  private static func align(_ out: inout [UInt8]) {
    while out.count & 7 != 0 { out.append(0) }
  }

  private static func store<T: FixedWidthInteger>(_ v: T, at offset: Int, in out: inout [UInt8]) {
    withUnsafeBytes(of: v.littleEndian) {
      out.replaceSubrange(offset..<(offset + $0.count), with: $0)
    }
  }

  private static func append<T: FixedWidthInteger>(_ v: T, to out: inout [UInt8]) {
    withUnsafeBytes(of: v.littleEndian) { out += $0 }
  }
}

/// A problem with a table's files: a projection to rebuild, never the log's damage.
package struct ProjectionError: Error, CustomStringConvertible {
  package var description: String
  package init(_ description: String) { self.description = description }
}
