/// The loops of `ColumnReader` over a column's stored integers (and dictionary codes), each
/// written once as a generic `run` and compiled for every width the integers are stored in.

/// A loop over the stored integers of a column, written once for every width they are
/// stored in (`ColumnReader.run`): value `r` is `frame &+ Int64(stored[r])`.
protocol StoredIntegerLoop {
  associatedtype Result
  func run<T: FixedWidthInteger & UnsignedInteger>(_ stored: UnsafePointer<T>, frame: Int64)
    -> Result
}

/// Stored integer `x` of a column whose values add to `frame` (a 64-bit one is the value's
/// bit pattern, with frame 0).
@inline(__always)
func storedValue<T: FixedWidthInteger & UnsignedInteger>(_ x: T, _ frame: Int64) -> Int64 {
  frame &+ Int64(truncatingIfNeeded: T(littleEndian: x))
}

/// `out[i]` = the value of row `rows[i]`.
struct Gather: StoredIntegerLoop {
  let rows: UnsafeBufferPointer<Int32>
  let out: UnsafeMutablePointer<Int64>

  @inline(__always)
  func run<T: FixedWidthInteger & UnsignedInteger>(_ stored: UnsafePointer<T>, frame: Int64) {
    for i in 0..<rows.count { out[i] = storedValue(stored[Int(rows[i])], frame) }
  }
}

/// `cells[i] += min(value(row) - low, last) * stride`, for the rows `rows` (or `0..<count`,
/// when nil): a key's part of a histogram cell. `last` is `.max` for integers, whose loop
/// then has no clamp in it (and is vectorized).
struct AddCells: StoredIntegerLoop {
  let rows: UnsafePointer<Int32>?
  let count: Int
  let low: Int64
  let last: Int64
  let stride: Int32
  let cells: UnsafeMutablePointer<Int32>

  @inline(__always)
  func run<T: FixedWidthInteger & UnsignedInteger>(_ stored: UnsafePointer<T>, frame: Int64) {
    let shift = frame &- low
    switch (rows, last == .max) {
    case (let rows?, true):
      for i in 0..<count {
        cells[i] &+= Int32(truncatingIfNeeded: storedValue(stored[Int(rows[i])], shift)) &* stride
      }
    case (let rows?, false):
      for i in 0..<count {
        let v = min(storedValue(stored[Int(rows[i])], shift), last)
        cells[i] &+= Int32(truncatingIfNeeded: v) &* stride
      }
    case (nil, true):
      for r in 0..<count {
        cells[r] &+= Int32(truncatingIfNeeded: storedValue(stored[r], shift)) &* stride
      }
    case (nil, false):
      for r in 0..<count {
        cells[r] &+= Int32(truncatingIfNeeded: min(storedValue(stored[r], shift), last)) &* stride
      }
    }
  }
}

/// `ColumnReader.countCells(allOf:…)`'s loop: lane `r % 4` of `counts` (4 × `cellCount`)
/// adds `keepOf[types[r]]` (1 without types) at row `r`'s cell.
struct CountAll: StoredIntegerLoop {
  let count: Int
  let low: Int64
  let last: Int64
  let stride: Int32
  let cells: UnsafePointer<Int32>?
  let types: UnsafePointer<UInt16>?
  let typeValidity: UnsafePointer<UInt8>?
  let keepOf: UnsafeBufferPointer<Int>
  let counts: UnsafeMutablePointer<Int>
  let cellCount: Int

  @inline(__always)
  func run<T: FixedWidthInteger & UnsignedInteger>(_ stored: UnsafePointer<T>, frame: Int64) {
    let n = cellCount
    let lanes = (counts, counts + n, counts + 2 * n, counts + 3 * n)
    let shift = frame &- low
    let s = Int(stride)
    let lastDrop = keepOf.count - 1
    // The common shapes in loops of their own, with nothing to decide per row: one key
    // (no cells), and every row kept, or NULL-free type codes choosing which.
    if cells == nil && (types == nil || typeValidity == nil) {
      if let types {
        countInLanes(lanes) { r in
          keepOf[min(Int(UInt16(littleEndian: types[r])), lastDrop)]
        } cell: { r in
          Self.part(storedValue(stored[r], shift), last, s, n - 1)
        }
      } else {
        countInLanes(lanes) { _ in
          1
        } cell: { r in
          Self.part(storedValue(stored[r], shift), last, s, n - 1)
        }
      }
      return
    }
    @inline(__always) func kept(_ r: Int) -> Int {
      guard let types else { return 1 }
      if let typeValidity, typeValidity[r >> 3] & (1 << UInt8(r & 7)) == 0 { return 1 }
      return keepOf[min(Int(UInt16(littleEndian: types[r])), lastDrop)]
    }
    countInLanes(lanes, kept) { r in
      let part = Int32(truncatingIfNeeded: min(storedValue(stored[r], shift), last)) &* stride
      return ColumnReader.within(Int((cells?[r] ?? 0) &+ part), n - 1)
    }
  }

  /// A one-key cell: the value's offset from the key's least, kept within the histogram.
  @inline(__always)
  private static func part(_ v: Int64, _ last: Int64, _ stride: Int, _ lastCell: Int) -> Int {
    ColumnReader.within(Int(Int32(truncatingIfNeeded: min(v, last))) &* stride, lastCell)
  }

  /// Lane `r % 4` of `cell(r)` adds `kept(r)`, for each row `r` below `count`.
  @inline(__always)
  private func countInLanes(
    _ lanes: (
      UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>,
      UnsafeMutablePointer<Int>
    ), _ kept: (Int) -> Int, cell: (Int) -> Int
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
}

/// `histogram[cells[i] + part(rows[i])] += 1` (`ColumnReader.countCells(_:…)`).
struct CountSelected: StoredIntegerLoop {
  let rows: UnsafeBufferPointer<Int32>
  let low: Int64
  let last: Int64
  let stride: Int32
  let cells: UnsafePointer<Int32>?
  let histogram: UnsafeMutablePointer<Int>
  let lastCell: Int

  @inline(__always)
  func run<T: FixedWidthInteger & UnsignedInteger>(_ stored: UnsafePointer<T>, frame: Int64) {
    let shift = frame &- low
    for i in 0..<rows.count {
      let part =
        Int32(truncatingIfNeeded: min(storedValue(stored[Int(rows[i])], shift), last)) &* stride
      histogram[ColumnReader.within(Int((cells?[i] ?? 0) &+ part), lastCell)] += 1
    }
  }
}

/// Writes to `out` the rows (of `rows`, or `0..<count` when nil) whose value lies in
/// `low...high`; how many. Branch-free: each row is written, and the count moves past it
/// only if it passes.
struct SelectRange: StoredIntegerLoop {
  let rows: UnsafePointer<Int32>?
  let count: Int
  let low: Int64
  let high: Int64
  let out: UnsafeMutablePointer<Int32>

  @inline(__always)
  func run<T: FixedWidthInteger & UnsignedInteger>(_ stored: UnsafePointer<T>, frame: Int64)
    -> Int
  {
    var k = 0
    if let rows {
      for i in 0..<count {
        let r = rows[i]
        let v = storedValue(stored[Int(r)], frame)
        out[k] = r
        k &+= v >= low && v <= high ? 1 : 0
      }
    } else {
      for r in 0..<count {
        let v = storedValue(stored[r], frame)
        out[k] = Int32(truncatingIfNeeded: r)
        k &+= v >= low && v <= high ? 1 : 0
      }
    }
    return k
  }
}

/// `SelectRange` for dictionary codes: the rows whose code `keep` flags (a code past its end
/// reads its last flag).
struct SelectCodes {
  let rows: UnsafePointer<Int32>?
  let count: Int
  let keep: UnsafeBufferPointer<UInt8>
  let out: UnsafeMutablePointer<Int32>

  @inline(__always)
  func run(_ codes: UnsafePointer<UInt16>) -> Int {
    let last = keep.count - 1
    // One code flagged (`column = 'value'`), or a few: sixteen rows' codes compared at once,
    // and only a block that holds one looked at row by row. (Not when the last code is
    // flagged: a damaged code past the dictionary reads it too.)
    let flagged = (0..<keep.count).filter { keep[$0] != 0 }
    if rows == nil, !flagged.isEmpty, flagged.count <= 4, flagged.last! < last {
      return findCodes(codes, flagged.map { UInt16($0) })
    }
    var k = 0
    if let rows {
      for i in 0..<count {
        let r = rows[i]
        out[k] = r
        k &+= Int(keep[min(Int(UInt16(littleEndian: codes[Int(r)])), last)])
      }
    } else {
      for r in 0..<count {
        out[k] = Int32(truncatingIfNeeded: r)
        k &+= Int(keep[min(Int(UInt16(littleEndian: codes[r])), last)])
      }
    }
    return k
  }

  /// The rows `0..<count` whose code is one of `targets` (one to four of them).
  @inline(__always)
  private func findCodes(_ codes: UnsafePointer<UInt16>, _ targets: [UInt16]) -> Int {
    let t = targets.map { SIMD16<UInt16>(repeating: $0.littleEndian) }
    let (t0, t1, t2, t3) = (t[0], t[min(1, t.count - 1)], t[min(2, t.count - 1)], t[t.count - 1])
    var k = 0
    var r = 0
    let raw = UnsafeRawPointer(codes)
    while r + 16 <= count {
      let v = raw.loadUnaligned(fromByteOffset: 2 * r, as: SIMD16<UInt16>.self)
      let m = (v .== t0) .| (v .== t1) .| (v .== t2) .| (v .== t3)
      if any(m) {
        for j in 0..<16 {
          out[k] = Int32(truncatingIfNeeded: r + j)
          k &+= m[j] ? 1 : 0
        }
      }
      r += 16
    }
    while r < count {
      out[k] = Int32(truncatingIfNeeded: r)
      k &+= targets.contains(UInt16(littleEndian: codes[r])) ? 1 : 0
      r += 1
    }
    return k
  }
}
