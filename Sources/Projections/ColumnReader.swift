#if canImport(Glibc)
  import Glibc
#endif

/// One column of a stored row group.
package struct ColumnReader {
  package let type: ColumnType
  package let rows: Int
  /// nil when the column has no NULLs.
  private let validity: UnsafePointer<UInt8>?
  /// Plain fixed-width values, or the dictionary codes.
  private let values: UnsafeRawPointer
  private let ends: UnsafeRawPointer?
  /// 4 or 8: the width of a plain VARCHAR's ends.
  private let endWidth: Int
  private let data: UnsafePointer<UInt8>?
  /// Dictionary-encoded VARCHAR: the entries.
  package let dictionaryCount: Int
  private let dictionaryEnds: UnsafeRawPointer?
  /// VARCHAR: the bytes at `data` (the entries', or every value's). Each read of a value is
  /// kept within them, so a damaged end or code reads wrong bytes of this file, never past it.
  private let textBytes: Int
  /// The whole column's bytes in the mapped file.
  private let region: UnsafeRawBufferPointer
  /// The least and the greatest value (bit patterns), when the file records them.
  var bounds: (UInt64, UInt64)?

  /// The least and the greatest value of a BIGINT, TIMESTAMP, DATE or BOOLEAN column (nil:
  /// not recorded, or no value).
  package var intBounds: ClosedRange<Int64>? {
    guard let (lo, hi) = bounds, type != .double, type != .varchar else { return nil }
    let (a, b) = (Int64(bitPattern: lo), Int64(bitPattern: hi))
    return a <= b ? a...b : nil
  }

  /// The least and the greatest value of a DOUBLE column.
  package var doubleBounds: ClosedRange<Double>? {
    guard let (lo, hi) = bounds, type == .double else { return nil }
    let (a, b) = (Double(bitPattern: lo), Double(bitPattern: hi))
    return a <= b ? a...b : nil
  }

  /// Whether the dictionary holds `value` (dictionary-encoded VARCHAR only; its entries are
  /// sorted by bytes, so a binary search).
  package func dictionaryContains(_ value: UnsafeRawBufferPointer) -> Bool {
    dictionaryCode(of: value) != nil
  }

  /// The column in `b`, whose VARCHAR sizes `sizes` (from the group's directory: dictionary
  /// entries in the low 32 bits and their bytes in the high; a plain column's bytes) say
  /// where each part lies: nothing of the column itself is read, so an open touches none of
  /// its pages. nil when a part would lie outside `b`.
  init?(
    _ b: UnsafeRawBufferPointer, type: ColumnType, encoding: ColumnGroup.Encoding, hasNulls: Bool,
    rows: Int, sizes: UInt64
  ) {
    self.type = type
    self.rows = rows
    region = b
    var at = 0
    let base = b.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!
    if hasNulls {
      let n = (rows + 7) / 8
      guard b.count >= n else { return nil }
      validity = base.assumingMemoryBound(to: UInt8.self)
      at = (n + 7) & ~7
    } else {
      validity = nil
    }
    switch (type, encoding) {
    case (.varchar, .dictionary):
      let n = Int(sizes & 0xFFFF_FFFF)
      let total = Int(sizes >> 32)
      guard n <= 65_536 else { return nil }
      dictionaryCount = n
      dictionaryEnds = base + at + 4
      let bytesStart = at + 4 + 4 * n
      data = (base + bytesStart).assumingMemoryBound(to: UInt8.self)
      textBytes = total
      let codes = (bytesStart + total + 7) & ~7
      guard b.count >= codes + 2 * rows else { return nil }
      values = base + codes
      ends = nil
      endWidth = 0
    case (.varchar, .plain):
      ends = base + at
      values = base + at
      endWidth = 4
      let start = (at + 4 * rows + 7) & ~7
      guard sizes <= UInt32.max, b.count >= start + Int(sizes) else { return nil }
      textBytes = Int(sizes)
      data = (base + start).assumingMemoryBound(to: UInt8.self)
      dictionaryCount = 0
      dictionaryEnds = nil
    case (.varchar, .plain64):
      endWidth = 8
      ends = base + at
      values = base + at
      guard sizes <= UInt64(Int.max / 2), b.count >= at + 8 * rows + Int(sizes) else {
        return nil
      }
      textBytes = Int(sizes)
      data = (base + at + 8 * rows).assumingMemoryBound(to: UInt8.self)
      dictionaryCount = 0
      dictionaryEnds = nil
    case (_, .plain):
      guard b.count >= at + 8 * rows else { return nil }
      values = base + at
      ends = nil
      endWidth = 0
      data = nil
      textBytes = 0
      dictionaryCount = 0
      dictionaryEnds = nil
    default:
      return nil
    }
  }

  /// A cell index kept within `0...last`: cells are counted in arrays sized by the zone
  /// map's bounds, and a damaged file whose values lie outside them must not write past
  /// those (its counts are wrong, as everything read from it; `hoso verify` names it).
  @inline(__always)
  package static func within(_ cell: Int, _ last: Int) -> Int {
    Int(bitPattern: min(UInt(bitPattern: cell), UInt(bitPattern: last)))
  }

  /// Maps the column's pages into this process at once (`MADV_POPULATE_READ`, Linux 5.14),
  /// rather than a page fault every few pages as a scan reads it: the file is in the page
  /// cache, and what a scan of a warm table waits for is the faults. A kernel without it
  /// says EINVAL and the faults happen as before.
  package func populate() {
    guard let base = region.baseAddress, region.count > 0 else { return }
    let page = 4096
    let start = Int(bitPattern: base) & ~(page - 1)
    let end = Int(bitPattern: base) + region.count
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, 22)
  }

  package var hasNulls: Bool { validity != nil }
  package var isDictionary: Bool { type == .varchar && ends == nil }

  @inline(__always)
  package func isValid(_ row: Int) -> Bool {
    guard let validity else { return true }
    return validity[row >> 3] & (1 << UInt8(row & 7)) != 0
  }

  @inline(__always)
  package func int64(_ row: Int) -> Int64 {
    values.loadUnaligned(fromByteOffset: row * 8, as: Int64.self).littleEndian
  }

  @inline(__always)
  package func double(_ row: Int) -> Double {
    Double(bitPattern: values.loadUnaligned(fromByteOffset: row * 8, as: UInt64.self).littleEndian)
  }

  /// The dictionary code of `row` (dictionary-encoded VARCHAR only).
  @inline(__always)
  package func code(_ row: Int) -> Int {
    Int(values.loadUnaligned(fromByteOffset: row * 2, as: UInt16.self).littleEndian)
  }

  /// Entry `k` of the dictionary (a code past its end reads the last entry; an empty
  /// dictionary, nothing).
  package func dictionaryEntry(_ k: Int) -> UnsafeRawBufferPointer {
    guard let dictionaryEnds, let data, dictionaryCount > 0 else {
      return UnsafeRawBufferPointer(start: nil, count: 0)
    }
    let k = min(k, dictionaryCount - 1)
    let end = min(
      Int(dictionaryEnds.loadUnaligned(fromByteOffset: 4 * k, as: UInt32.self).littleEndian),
      textBytes)
    let start =
      k == 0
      ? 0
      : min(
        Int(
          dictionaryEnds.loadUnaligned(fromByteOffset: 4 * (k - 1), as: UInt32.self).littleEndian),
        end)
    return UnsafeRawBufferPointer(start: data + start, count: end - start)
  }

  /// The bytes `start..<end` of a plain column's text, kept within it.
  @inline(__always)
  private func text(_ data: UnsafePointer<UInt8>, _ start: Int, _ end: Int)
    -> UnsafeRawBufferPointer
  {
    let end = min(max(end, 0), textBytes)
    let start = min(max(start, 0), end)
    return UnsafeRawBufferPointer(start: data + start, count: end - start)
  }

  /// The bytes of a VARCHAR value (empty for NULL).
  package func bytes(_ row: Int) -> UnsafeRawBufferPointer {
    guard isValid(row) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
    if let ends {
      func end(_ r: Int) -> Int {
        endWidth == 4
          ? Int(ends.loadUnaligned(fromByteOffset: r * 4, as: UInt32.self).littleEndian)
          : Int(
            truncatingIfNeeded: ends.loadUnaligned(fromByteOffset: r * 8, as: UInt64.self)
              .littleEndian)
      }
      return text(data!, row == 0 ? 0 : end(row - 1), end(row))
    }
    return dictionaryEntry(code(row))
  }

  package func string(_ row: Int) -> String? {
    guard isValid(row) else { return nil }
    return String(decoding: bytes(row), as: UTF8.self)
  }

  // MARK: Whole-vector reads (the query engine's scan): one call per row group and column

  /// Calls `body(i, bytes)` for each valid row `rows[i]` of a plain (not dictionary) VARCHAR
  /// column, in order: one call into this module per vector rather than two per row.
  package func forEachString(
    _ rows: UnsafeBufferPointer<Int32>, _ body: (Int, UnsafeRawBufferPointer) -> Void
  ) {
    guard let ends, let data else {
      for i in 0..<rows.count where isValid(Int(rows[i])) { body(i, bytes(Int(rows[i]))) }
      return
    }
    let wide = endWidth != 4
    for i in 0..<rows.count {
      let row = Int(rows[i])
      if let validity, validity[row >> 3] & (1 << UInt8(row & 7)) == 0 { continue }
      let start: Int
      let end: Int
      if wide {
        start =
          row == 0
          ? 0
          : Int(
            truncatingIfNeeded: ends.loadUnaligned(fromByteOffset: (row - 1) * 8, as: UInt64.self)
              .littleEndian)
        end = Int(
          truncatingIfNeeded: ends.loadUnaligned(fromByteOffset: row * 8, as: UInt64.self)
            .littleEndian)
      } else {
        start =
          row == 0
          ? 0 : Int(ends.loadUnaligned(fromByteOffset: (row - 1) * 4, as: UInt32.self).littleEndian)
        end = Int(ends.loadUnaligned(fromByteOffset: row * 4, as: UInt32.self).littleEndian)
      }
      body(i, text(data, start, end))
    }
  }

  /// `out[i] = int64(rows[i])` (fixed-width columns; a DOUBLE's bit pattern).
  package func gatherInt64(
    _ rows: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<Int64>
  ) {
    for i in 0..<rows.count {
      out[i] = values.loadUnaligned(fromByteOffset: Int(rows[i]) &* 8, as: Int64.self).littleEndian
    }
  }

  /// `out[i] = table[code(rows[i])]` (dictionary-encoded VARCHAR; a NULL row's code is 0, and
  /// a code past the table's end reads its last entry, so `table` must not be empty).
  package func gatherCodes(
    _ rows: UnsafeBufferPointer<Int32>, through table: UnsafeBufferPointer<Int64>,
    into out: UnsafeMutablePointer<Int64>
  ) {
    let last = table.count - 1
    for i in 0..<rows.count {
      let c = values.loadUnaligned(fromByteOffset: Int(rows[i]) &* 2, as: UInt16.self).littleEndian
      out[i] = table[min(Int(c), last)]
    }
  }

  /// `cells[i] += code(rows[i]) * stride` (dictionary-encoded VARCHAR; a code past the
  /// dictionary reads its last entry), or `(int64(rows[i]) - low) * stride` for fixed-width
  /// columns: a key's part of a histogram cell.
  package func addCells(
    _ rows: UnsafeBufferPointer<Int32>, low: Int64, stride: Int32,
    into cells: UnsafeMutablePointer<Int32>
  ) {
    if isDictionary {
      let last = max(dictionaryCount, 1) - 1
      for i in 0..<rows.count {
        let c = values.loadUnaligned(fromByteOffset: Int(rows[i]) &* 2, as: UInt16.self)
        cells[i] &+= Int32(min(Int(UInt16(littleEndian: c)), last)) &* stride
      }
    } else {
      for i in 0..<rows.count {
        let v = values.loadUnaligned(fromByteOffset: Int(rows[i]) &* 8, as: Int64.self)
        cells[i] &+= Int32(truncatingIfNeeded: Int64(littleEndian: v) &- low) &* stride
      }
    }
  }

  /// `addCells` over every row of the group, `0..<count`, with `cells` indexed by row: no
  /// selection vector to build or follow when every row is read.
  package func addCells(
    allOf count: Int, low: Int64, stride: Int32, into cells: UnsafeMutablePointer<Int32>
  ) {
    if isDictionary {
      let last = max(dictionaryCount, 1) - 1
      for r in 0..<count {
        let c = values.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self)
        cells[r] &+= Int32(min(Int(UInt16(littleEndian: c)), last)) &* stride
      }
    } else {
      for r in 0..<count {
        let v = values.loadUnaligned(fromByteOffset: r &* 8, as: Int64.self)
        cells[r] &+= Int32(truncatingIfNeeded: Int64(littleEndian: v) &- low) &* stride
      }
    }
  }

  /// `countCells` over every row of the group, `0..<count` (`cells` indexed by row), but the
  /// rows whose code in the dictionary-encoded column `types` `drop` flags: the visible rows
  /// of a group without patches, read and counted in one pass. `histogram` holds `cellCount`
  /// cells.
  ///
  /// Branch-free: a row adds 1 if its type is kept, 0 if not. Four rows in a row go to four
  /// copies of the histogram, summed at the end: rows of one cell one after another (a unit's
  /// events, a year's) would otherwise wait on each other's increment.
  package func countCells(
    allOf count: Int, low: Int64, stride: Int32, adding cells: UnsafePointer<Int32>?,
    dropping types: ColumnReader?, _ drop: [Bool], into histogram: UnsafeMutablePointer<Int>,
    cellCount: Int
  ) {
    let n = cellCount
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 4 * n)
    counts.initialize(repeating: 0, count: 4 * n)
    defer { counts.deallocate() }
    let keepOf = drop.map { $0 ? 0 : 1 }
    let lastDrop = keepOf.count - 1
    let typeCodes = types?.values
    let typeValidity = types?.validity
    let dictionary = isDictionary
    let lastCode = max(dictionaryCount, 1) - 1
    // The common shapes in loops of their own, with nothing to decide per row: one key
    // (no cells), and every row kept, or NULL-free type codes choosing which.
    if cells == nil && (typeCodes == nil || lastDrop < 0 || typeValidity == nil) {
      let lanes = (counts, counts + n, counts + 2 * n, counts + 3 * n)
      keepOf.withUnsafeBufferPointer { keepOf in
        if dictionary {
          let codes = values.assumingMemoryBound(to: UInt16.self)
          if let typeCodes, lastDrop >= 0 {
            let types = typeCodes.assumingMemoryBound(to: UInt16.self)
            Self.countCodes(count, codes, lastCode, stride, lanes) { r in
              keepOf[min(Int(UInt16(littleEndian: types[r])), lastDrop)]
            }
          } else {
            Self.countCodes(count, codes, lastCode, stride, lanes) { _ in 1 }
          }
        } else {
          let ints = values.assumingMemoryBound(to: Int64.self)
          if let typeCodes, lastDrop >= 0 {
            let types = typeCodes.assumingMemoryBound(to: UInt16.self)
            Self.countInts(count, ints, low, stride, n - 1, lanes) { r in
              keepOf[min(Int(UInt16(littleEndian: types[r])), lastDrop)]
            }
          } else {
            Self.countInts(count, ints, low, stride, n - 1, lanes) { _ in 1 }
          }
        }
      }
      for c in 0..<n {
        histogram[c] += counts[c] + counts[n + c] + counts[2 * n + c] + counts[3 * n + c]
      }
      return
    }
    keepOf.withUnsafeBufferPointer { keepOf in
      @inline(__always) func kept(_ r: Int) -> Int {
        guard let typeCodes, lastDrop >= 0 else { return 1 }
        if let typeValidity, typeValidity[r >> 3] & (1 << UInt8(r & 7)) == 0 { return 1 }
        let c = UInt16(
          littleEndian: typeCodes.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self))
        return keepOf[min(Int(c), lastDrop)]
      }
      @inline(__always) func cell(_ r: Int) -> Int {
        let part: Int32
        if dictionary {
          let c = UInt16(
            littleEndian: values.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self))
          part = Int32(min(Int(c), lastCode)) &* stride
        } else {
          let v = Int64(littleEndian: values.loadUnaligned(fromByteOffset: r &* 8, as: Int64.self))
          part = Int32(truncatingIfNeeded: v &- low) &* stride
        }
        return Self.within(Int((cells?[r] ?? 0) &+ part), n - 1)
      }
      var r = 0
      while r + 4 <= count {
        counts[cell(r)] &+= kept(r)
        counts[n + cell(r + 1)] &+= kept(r + 1)
        counts[2 * n + cell(r + 2)] &+= kept(r + 2)
        counts[3 * n + cell(r + 3)] &+= kept(r + 3)
        r += 4
      }
      while r < count {
        counts[cell(r)] &+= kept(r)
        r += 1
      }
    }
    for c in 0..<n {
      histogram[c] += counts[c] + counts[n + c] + counts[2 * n + c] + counts[3 * n + c]
    }
  }

  private typealias Lanes = (
    UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>,
    UnsafeMutablePointer<Int>
  )

  /// `countCells(allOf:…)` of dictionary codes, with no cells: lane `r % 4` of the cell of
  /// code `codes[r]` adds `kept(r)`.
  @inline(__always)
  private static func countCodes(
    _ count: Int, _ codes: UnsafePointer<UInt16>, _ lastCode: Int, _ stride: Int32,
    _ lanes: Lanes, _ kept: (Int) -> Int
  ) {
    let s = Int(stride)
    countInLanes(count, lanes, kept) { r in
      min(Int(UInt16(littleEndian: codes[r])), lastCode) &* s
    }
  }

  /// `countCells(allOf:…)` of integers, with no cells: lane `r % 4` of the cell of
  /// `ints[r] - low` adds `kept(r)`.
  @inline(__always)
  private static func countInts(
    _ count: Int, _ ints: UnsafePointer<Int64>, _ low: Int64, _ stride: Int32, _ last: Int,
    _ lanes: Lanes, _ kept: (Int) -> Int
  ) {
    countInLanes(count, lanes, kept) { r in
      within(Int(Int32(truncatingIfNeeded: Int64(littleEndian: ints[r]) &- low) &* stride), last)
    }
  }

  /// Lane `r % 4` of `cell(r)` adds `kept(r)`, for each row `r` below `count`.
  @inline(__always)
  private static func countInLanes(
    _ count: Int, _ lanes: Lanes, _ kept: (Int) -> Int, cell: (Int) -> Int
  ) {
    var r = 0
    while r + 4 <= count {
      lanes.0[cell(r)] &+= kept(r)
      lanes.1[cell(r + 1)] &+= kept(r + 1)
      lanes.2[cell(r + 2)] &+= kept(r + 2)
      lanes.3[cell(r + 3)] &+= kept(r + 3)
      r += 4
    }
    while r < count {
      lanes.0[cell(r)] &+= kept(r)
      r += 1
    }
  }

  /// `histogram[cells[i] + part(rows[i])] += 1`, where `part` is what `addCells` adds (and
  /// `cells` nil is all zeros): the last key's pass, counting each row's cell.
  package func countCells(
    _ rows: UnsafeBufferPointer<Int32>, low: Int64, stride: Int32,
    adding cells: UnsafePointer<Int32>?, into histogram: UnsafeMutablePointer<Int>,
    cellCount: Int
  ) {
    let lastCell = cellCount - 1
    if isDictionary {
      let last = max(dictionaryCount, 1) - 1
      for i in 0..<rows.count {
        let c = values.loadUnaligned(fromByteOffset: Int(rows[i]) &* 2, as: UInt16.self)
        let part = Int32(min(Int(UInt16(littleEndian: c)), last)) &* stride
        histogram[Self.within(Int((cells?[i] ?? 0) &+ part), lastCell)] += 1
      }
    } else {
      for i in 0..<rows.count {
        let v = values.loadUnaligned(fromByteOffset: Int(rows[i]) &* 8, as: Int64.self)
        let part = Int32(truncatingIfNeeded: Int64(littleEndian: v) &- low) &* stride
        histogram[Self.within(Int((cells?[i] ?? 0) &+ part), lastCell)] += 1
      }
    }
  }

  /// Keeps, in place, the rows of `rows` whose dictionary code `drop` does not flag (a NULL
  /// row is kept); the count kept. Dictionary-encoded VARCHAR only.
  package func keepRows(_ rows: UnsafeMutableBufferPointer<Int32>, droppingCodes drop: [Bool])
    -> Int
  {
    guard !drop.isEmpty else { return rows.count }
    let last = drop.count - 1
    var n = 0
    drop.withUnsafeBufferPointer { d in
      for i in 0..<rows.count {
        let r = Int(rows[i])
        let c = Int(
          UInt16(littleEndian: values.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self)))
        let valid = validity.map { $0[r >> 3] & (1 << UInt8(r & 7)) != 0 } ?? true
        if !(valid && d[min(c, last)]) {
          rows[n] = rows[i]
          n += 1
        }
      }
    }
    return n
  }

  /// The code of `value` in the dictionary (dictionary-encoded VARCHAR only), nil when absent.
  package func dictionaryCode(of value: UnsafeRawBufferPointer) -> Int? {
    var lo = 0
    var hi = dictionaryCount
    while lo < hi {
      let mid = (lo + hi) / 2
      let e = dictionaryEntry(mid)
      if e.elementsEqual(value) { return mid }
      if e.lexicographicallyPrecedes(value) { lo = mid + 1 } else { hi = mid }
    }
    return nil
  }

  /// Keeps the rows of `rows` (all of the group's when nil) whose value is stored as one
  /// `keep` flags: a dictionary code (VARCHAR), else an integer in `low...high`. A NULL row
  /// is dropped. One pass over the stored values, the condition of a selective scan met
  /// before anything is read or decoded.
  package func select(
    _ rows: inout [Int32]?, codes keep: [Bool] = [], low: Int64 = .min, high: Int64 = .max
  ) {
    let input = rows
    let n = input?.count ?? self.rows
    let lastKeep = keep.count - 1
    let dictionary = isDictionary
    var out = [Int32](unsafeUninitializedCapacity: n) { b, count in
      var k = 0
      for i in 0..<n {
        let r = input.map { Int($0[i]) } ?? i
        let pass: Bool
        if dictionary {
          let c = Int(
            UInt16(littleEndian: values.loadUnaligned(fromByteOffset: r &* 2, as: UInt16.self)))
          pass = lastKeep >= 0 && keep[min(c, lastKeep)]
        } else {
          let v = Int64(littleEndian: values.loadUnaligned(fromByteOffset: r &* 8, as: Int64.self))
          pass = v >= low && v <= high
        }
        b[k] = Int32(truncatingIfNeeded: r)
        k &+= pass && isValid(r) ? 1 : 0
      }
      count = k
    }
    if out.count * 2 < out.capacity { out = Array(out) }
    rows = out
  }

  /// Keeps the rows of `rows` (all of the group's when nil) that hold a value; leaves them
  /// be when the column has no NULLs. From all rows, a word of 64 NULLs is passed over at
  /// once: a sparse column (a case id on one event in nine) is found without looking at
  /// each row.
  package func selectValid(_ rows: inout [Int32]?) {
    guard let validity else { return }
    if let given = rows {
      rows = given.filter { isValid(Int($0)) }
      return
    }
    var out: [Int32] = []
    let words = self.rows / 64
    for w in 0..<words {
      var bits = UInt64(
        littleEndian: UnsafeRawPointer(validity).loadUnaligned(
          fromByteOffset: 8 * w, as: UInt64.self))
      while bits != 0 {
        out.append(Int32(64 * w + bits.trailingZeroBitCount))
        bits &= bits - 1
      }
    }
    for r in (64 * words)..<self.rows where isValid(r) { out.append(Int32(r)) }
    rows = out
  }

  /// `out[i] = !isValid(rows[i])`; false when the column has no NULLs.
  package func gatherNulls(_ rows: UnsafeBufferPointer<Int32>, into out: UnsafeMutablePointer<Bool>)
  {
    guard let validity else {
      out.initialize(repeating: false, count: rows.count)
      return
    }
    for i in 0..<rows.count {
      let r = Int(rows[i])
      out[i] = validity[r >> 3] & (1 << UInt8(r & 7)) == 0
    }
  }
}
