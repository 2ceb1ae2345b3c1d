#if canImport(Glibc)
  import Glibc
#endif

/// One column of a stored row group.
package struct ColumnReader {
  package let type: ColumnType
  package let rows: Int
  /// nil when the column has no NULLs.
  private let validity: UnsafePointer<UInt8>?
  /// Fixed-width values (as stored: see `width`), or the dictionary codes.
  private let values: UnsafeRawPointer
  /// The bytes of a stored BIGINT, TIMESTAMP, DATE or BOOLEAN: 8 plain, or 1, 2 or 4 for a
  /// frame of reference (the value less `frame`, unsigned: a year in a byte, a date in two).
  private let width: Int
  /// What a stored integer of a narrow column adds to: 0 for a plain one.
  private let frame: Int64
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
  /// `frame` is what a frame-of-reference column's stored integers add to (else unused).
  init?(
    _ b: UnsafeRawBufferPointer, type: ColumnType, encoding: ColumnGroup.Encoding, hasNulls: Bool,
    rows: Int, sizes: UInt64, frame: Int64 = 0
  ) {
    self.type = type
    self.rows = rows
    region = b
    width = encoding.width
    self.frame = encoding.width == 8 ? 0 : frame
    var at = 0
    if encoding == .null {
      // Groups hold at most `ColumnGroup.rows`: a file that claims more is damaged.
      guard rows <= ColumnGroup.rows else { return nil }
      // Nothing stored: every part reads zeros (validity: no value; a VARCHAR, codes of an
      // empty dictionary, the shape a column of NULLs had before it had an encoding).
      let zeros = ColumnReader.zeros(8 * rows + 8)
      validity = zeros.assumingMemoryBound(to: UInt8.self)
      values = zeros
      ends = nil
      endWidth = 0
      if type == .varchar {
        dictionaryCount = 0
        dictionaryEnds = zeros
        data = zeros.assumingMemoryBound(to: UInt8.self)
      } else {
        dictionaryCount = 0
        dictionaryEnds = nil
        data = nil
      }
      textBytes = 0
      return
    }
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
    case (.varchar, _), (.double, .frame8), (.double, .frame16), (.double, .frame32):
      return nil
    case (_, .plain), (_, .frame8), (_, .frame16), (_, .frame32):
      guard b.count >= at + width * rows else { return nil }
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

  /// At least `count` bytes of zeros that stay mapped for the whole run, for columns with
  /// nothing stored. Read-only anonymous memory: untouched pages cost nothing.
  private static func zeros(_ count: Int) -> UnsafeRawPointer {
    if count <= sharedZerosSize { return sharedZeros }
    guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED
    else { fatalError("cannot map \(count) bytes of zeros: \(String(cString: strerror(errno)))") }
    return UnsafeRawPointer(p)
  }

  private static let sharedZerosSize = 8 * ColumnGroup.rows + 4096
  nonisolated(unsafe) private static let sharedZeros: UnsafeRawPointer = {
    guard
      let p = mmap(nil, sharedZerosSize, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      p != MAP_FAILED
    else { fatalError("cannot map the zero page: \(String(cString: strerror(errno)))") }
    return UnsafeRawPointer(p)
  }()

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

  /// The bytes a stored value takes (fixed-width columns): 8, or 1, 2, 4 in a frame of
  /// reference.
  package var bytesPerValue: Int { width }

  package var hasNulls: Bool { validity != nil }
  package var isDictionary: Bool { type == .varchar && ends == nil }

  @inline(__always)
  package func isValid(_ row: Int) -> Bool {
    guard let validity else { return true }
    return validity[row >> 3] & (1 << UInt8(row & 7)) != 0
  }

  @inline(__always)
  package func int64(_ row: Int) -> Int64 {
    switch width {
    case 1: frame &+ Int64(values.load(fromByteOffset: row, as: UInt8.self))
    case 2:
      frame
        &+ Int64(
          UInt16(littleEndian: values.loadUnaligned(fromByteOffset: row * 2, as: UInt16.self)))
    case 4:
      frame
        &+ Int64(
          UInt32(littleEndian: values.loadUnaligned(fromByteOffset: row * 4, as: UInt32.self)))
    default: values.loadUnaligned(fromByteOffset: row * 8, as: Int64.self).littleEndian
    }
  }

  /// Runs `loop` over the stored integers of a BIGINT, TIMESTAMP, DATE or BOOLEAN column,
  /// typed by the width they are stored in: each loop is compiled once a width, with nothing
  /// to decide per row.
  @inline(__always)
  func run<L: StoredIntegerLoop>(_ loop: L) -> L.Result {
    switch width {
    case 1: loop.run(values.assumingMemoryBound(to: UInt8.self), frame: frame)
    case 2: loop.run(values.assumingMemoryBound(to: UInt16.self), frame: frame)
    case 4: loop.run(values.assumingMemoryBound(to: UInt32.self), frame: frame)
    default: loop.run(values.assumingMemoryBound(to: UInt64.self), frame: 0)
    }
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
    runOverKeys(Gather(rows: rows, out: out))
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

  /// Runs `loop` over what a key of a histogram reads: the dictionary codes (frame 0) of a
  /// dictionary-encoded VARCHAR, else the stored integers.
  @inline(__always)
  private func runOverKeys<L: StoredIntegerLoop>(_ loop: L) -> L.Result {
    isDictionary ? loop.run(values.assumingMemoryBound(to: UInt16.self), frame: 0) : run(loop)
  }

  /// The greatest part of a key's cell: a code past the dictionary reads its last entry;
  /// integers are not clamped (their cells are, where counted).
  private var lastKey: Int64 { isDictionary ? Int64(max(dictionaryCount, 1) - 1) : .max }

  /// `cells[i] += code(rows[i]) * stride` (dictionary-encoded VARCHAR; a code past the
  /// dictionary reads its last entry), or `(int64(rows[i]) - low) * stride` for fixed-width
  /// columns: a key's part of a histogram cell.
  package func addCells(
    _ rows: UnsafeBufferPointer<Int32>, low: Int64, stride: Int32,
    into cells: UnsafeMutablePointer<Int32>
  ) {
    runOverKeys(
      AddCells(
        rows: rows.baseAddress, count: rows.count, low: isDictionary ? 0 : low, last: lastKey,
        stride: stride, cells: cells))
  }

  /// `addCells` over every row of the group, `0..<count`, with `cells` indexed by row: no
  /// selection vector to build or follow when every row is read.
  package func addCells(
    allOf count: Int, low: Int64, stride: Int32, into cells: UnsafeMutablePointer<Int32>
  ) {
    runOverKeys(
      AddCells(
        rows: nil, count: count, low: isDictionary ? 0 : low, last: lastKey, stride: stride,
        cells: cells))
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
    keepOf.withUnsafeBufferPointer { keepOf in
      runOverKeys(
        CountAll(
          count: count, low: isDictionary ? 0 : low, last: lastKey, stride: stride, cells: cells,
          types: keepOf.isEmpty ? nil : types?.values.assumingMemoryBound(to: UInt16.self),
          typeValidity: types?.validity, keepOf: keepOf, counts: counts, cellCount: n))
    }
    for c in 0..<n {
      histogram[c] += counts[c] + counts[n + c] + counts[2 * n + c] + counts[3 * n + c]
    }
  }

  /// `histogram[cells[i] + part(rows[i])] += 1`, where `part` is what `addCells` adds (and
  /// `cells` nil is all zeros): the last key's pass, counting each row's cell.
  package func countCells(
    _ rows: UnsafeBufferPointer<Int32>, low: Int64, stride: Int32,
    adding cells: UnsafePointer<Int32>?, into histogram: UnsafeMutablePointer<Int>,
    cellCount: Int
  ) {
    runOverKeys(
      CountSelected(
        rows: rows, low: isDictionary ? 0 : low, last: lastKey, stride: stride, cells: cells,
        histogram: histogram, lastCell: cellCount - 1))
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
    let n = rows?.count ?? self.rows
    let flags = keep.map { UInt8($0 ? 1 : 0) }
    /// The rows kept of `given` (all when nil), written to `out`; how many.
    func kept(_ given: UnsafePointer<Int32>?, _ out: UnsafeMutablePointer<Int32>) -> Int {
      guard isDictionary else {
        return run(SelectRange(rows: given, count: n, low: low, high: high, out: out))
      }
      if flags.isEmpty { return 0 }
      return flags.withUnsafeBufferPointer {
        SelectCodes(rows: given, count: n, keep: $0, out: out)
          .run(values.assumingMemoryBound(to: UInt16.self))
      }
    }
    var out = [Int32](unsafeUninitializedCapacity: n) { b, count in
      if let given = rows {
        count = given.withUnsafeBufferPointer { kept($0.baseAddress, b.baseAddress!) }
      } else {
        count = kept(nil, b.baseAddress!)
      }
      // A NULL row's stored value is a zero: dropped here, from the fewer rows kept.
      if validity != nil {
        var k = 0
        for i in 0..<count where isValid(Int(b[i])) {
          b[k] = b[i]
          k += 1
        }
        count = k
      }
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
