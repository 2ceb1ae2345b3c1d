import Projections
import TestSupport
import Testing

/// Row groups: what goes in comes out, column by column, NULLs and Vietnamese text included.
@Suite struct ColumnGroupTests {
  static let schema = [
    ColumnSchema("n", .bigint), ColumnSchema("x", .double), ColumnSchema("b", .boolean),
    ColumnSchema("t", .timestamp), ColumnSchema("d", .date), ColumnSchema("low", .varchar),
    ColumnSchema("high", .varchar),
  ]

  enum Value: Equatable {
    case null
    case int(Int64)
    case double(Double)
    case string(String)
  }

  @Test(arguments: testSeeds(fixed: 11))
  func randomGroupsRoundTrip(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let rows = Int.random(in: 0...3000, using: &rng)
    var builders = Self.schema.map { ColumnBuilder($0.type) }
    var expected: [[Value]] = Array(repeating: [], count: Self.schema.count)
    let words = ["Hà Nội", "Lạng Sơn", "Bắc Kạn", "karaoke", "", "Đắk Lắk"]
    // Per column: a tenth NULL; or NULL in every row (stored as nothing); or sparse, a value
    // in a tenth of the rows with the NULLs between padded in runs, as `events`' fields are.
    enum Mode { case dense, null, sparse }
    let modes: [Mode] = Self.schema.map { _ in
      [Mode.dense, .dense, .null, .sparse].randomElement(using: &rng)!
    }
    for r in 0..<rows {
      for (c, s) in Self.schema.enumerated() {
        let skip =
          switch modes[c] {
          case .dense: Int.random(in: 0..<10, using: &rng) == 0
          case .null: true
          case .sparse: Int.random(in: 0..<10, using: &rng) != 0
          }
        if skip {
          if modes[c] == .dense { builders[c].appendNull() }
          expected[c].append(.null)
          continue
        }
        builders[c].padNulls(to: r)
        switch s.type {
        case .bigint, .timestamp, .date:
          let v = Int64.random(in: .min ... .max, using: &rng)
          builders[c].append(v)
          expected[c].append(.int(v))
        case .boolean:
          let v = Bool.random(using: &rng)
          builders[c].append(v)
          expected[c].append(.int(v ? 1 : 0))
        case .double:
          let v = Double.random(in: -1e9...1e9, using: &rng)
          builders[c].append(v)
          expected[c].append(.double(v))
        case .varchar:
          let v =
            s.name == "low"
            ? words.randomElement(using: &rng)!
            : "P-\(UInt64.random(in: 0 ... .max, using: &rng))-\(words.randomElement(using: &rng)!)"
          builders[c].append(v)
          expected[c].append(.string(v))
        }
      }
    }
    for c in builders.indices { builders[c].padNulls(to: rows) }
    let bytes = ColumnGroup.encode(builders)
    try bytes.withUnsafeBytes { b in
      let g = try GroupReader(b, schema: Self.schema, path: "test")
      #expect(g.rows == rows, "seed \(seed)")
      if rows > 100 && modes[5] == .dense && modes[6] == .dense {
        #expect(g.columns[5].isDictionary, "seed \(seed): few distinct values: a dictionary")
        #expect(!g.columns[6].isDictionary, "seed \(seed)")
      }
      for (c, s) in Self.schema.enumerated() {
        let col = g.columns[c]
        for r in 0..<rows {
          let got: Value
          if !col.isValid(r) {
            got = .null
          } else {
            switch s.type {
            case .bigint, .timestamp, .boolean, .date: got = .int(col.int64(r))
            case .double: got = .double(col.double(r))
            case .varchar: got = .string(col.string(r)!)
            }
          }
          #expect(got == expected[c][r], "seed \(seed): column \(s.name) row \(r)")
          if got != expected[c][r] { return }
        }
      }
      // The zone map: each fixed-width column's least and greatest value; a dictionary
      // holds exactly the values that occur.
      for (c, s) in Self.schema.enumerated() where s.type != .varchar {
        let values = expected[c].compactMap { v -> Double? in
          switch v {
          case .int(let i): Double(i)
          case .double(let d): d
          default: nil
          }
        }
        let col = g.columns[c]
        let bounds =
          s.type == .double
          ? col.doubleBounds.map { $0.lowerBound...$0.upperBound }
          : col.intBounds.map { Double($0.lowerBound)...Double($0.upperBound) }
        #expect(
          bounds == values.min().map { $0...values.max()! }, "seed \(seed): bounds of \(s.name)")
      }
      if g.columns[5].isDictionary && modes[5] != .null {
        for w in words + ["Huế"] {
          let present = expected[5].contains(.string(w))
          let said = Array(w.utf8).withUnsafeBytes { g.columns[5].dictionaryContains($0) }
          #expect(said == present, "seed \(seed): dictionary holds \(w)")
        }
      }
      // Decoding into builders and encoding again gives the same bytes.
      var again = Self.schema.map { ColumnBuilder($0.type) }
      for r in 0..<rows { for c in 0..<again.count { again[c].append(from: g.columns[c], row: r) } }
      #expect(ColumnGroup.encode(again) == bytes, "seed \(seed)")
    }
  }

  /// The rows whose dictionary code a scan's condition flags, from all rows (a few codes
  /// compared sixteen rows at a time) and from some: those a row-by-row reading keeps, NULLs
  /// left out, whichever codes and how many are flagged.
  @Test(arguments: testSeeds(fixed: 13))
  func rowsSelectedByTheirCodes(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let words = (0..<Int.random(in: 1...40, using: &rng)).map { "tỉnh \($0)" }
    let rows = Int.random(in: 1...3000, using: &rng)
    var b = ColumnBuilder(.varchar)
    var stored: [String?] = []
    for _ in 0..<rows {
      if Int.random(in: 0..<9, using: &rng) == 0 {
        b.appendNull()
        stored.append(nil)
      } else {
        let w = words.randomElement(using: &rng)!
        b.append(w)
        stored.append(w)
      }
    }
    let bytes = ColumnGroup.encode([b])
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: [ColumnSchema("p", .varchar)], path: "g")
      let c = g.columns[0]
      guard c.isDictionary else { return }
      for _ in 0..<20 {
        let wanted = Set(words.shuffled(using: &rng).prefix(Int.random(in: 1...6, using: &rng)))
        let keep = (0..<c.dictionaryCount).map {
          wanted.contains(String(decoding: c.dictionaryEntry($0), as: UTF8.self))
        }
        let expected = (0..<rows).filter { stored[$0].map(wanted.contains) ?? false }
        var all: [Int32]? = nil
        c.select(&all, codes: keep)
        #expect(all == expected.map { Int32($0) }, "seed \(seed): \(wanted.sorted())")
        let some = (0..<rows).filter { _ in Bool.random(using: &rng) }
        var from: [Int32]? = some.map { Int32($0) }
        c.select(&from, codes: keep)
        #expect(
          from == some.filter { stored[$0].map(wanted.contains) ?? false }.map { Int32($0) },
          "seed \(seed): \(wanted.sorted()) from some rows")
      }
    }
  }

  /// A view's patches are put in row order by a radix sort: the same order as a sort by
  /// (row, index), for rows of every width.
  @Test(arguments: testSeeds(fixed: 5))
  func patchesInRowOrder(seed: UInt64) {
    var rng = SplitMix64(seed: seed)
    let n = Int.random(in: 0...5000, using: &rng)
    let largest = [1, 100, 1 << 11, 1 << 22, 1 << 31].randomElement(using: &rng)!
    let rows = (0..<n).map { _ in Int.random(in: 0..<largest, using: &rng) }
    let expected = rows.indices.sorted { (rows[$0], $0) < (rows[$1], $1) }
    #expect(TableView.radixOrder(rows) == expected, "seed \(seed), \(n) rows below \(largest)")
  }

  @Test func aGroupWithoutBoundsHasNone() throws {
    // A column whose entry does not flag bounds (a column of NULLs only, a DOUBLE with a
    // NaN) is read as before, with nothing to skip by. (Values too far apart for a frame of
    // reference: stored plain.)
    var b = ColumnBuilder(.bigint)
    for i in 0..<100 { b.append(Int64(i) * 3_000_000_000) }
    var bytes = ColumnGroup.encode([b])
    let schema = [ColumnSchema("n", .bigint)]
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: schema, path: "g")
      #expect(g.columns[0].intBounds == 0...297_000_000_000)
      #expect(g.columns[0].bytesPerValue == 8)
    }
    bytes[24 + 3] = 0  // the first entry's has-bounds flag
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: schema, path: "g")
      #expect(g.columns[0].intBounds == nil)
      #expect(g.columns[0].int64(99) == 297_000_000_000)
    }
    // A frame of reference is read from the bounds: without them the column is refused.
    var narrow = ColumnBuilder(.bigint)
    for i in 0..<100 { narrow.append(Int64(i * 3)) }
    var packed = ColumnGroup.encode([narrow])
    packed[24 + 3] = 0
    _ = packed.withUnsafeBytes { raw in
      #expect(throws: ProjectionError.self) { try GroupReader(raw, schema: schema, path: "g") }
    }
  }

  /// Integers of a small range are stored in 1, 2 or 4 bytes (a frame of reference: the
  /// value less the least, or less 0 when the column has NULLs and 0 is less), and every way
  /// of reading them gives the values stored: one at a time, gathered, selected by a range,
  /// and counted into a histogram. Ranges at each width's edges, near Int64's ends too.
  @Test(arguments: testSeeds(fixed: 12))
  func narrowIntegersReadAsStored(seed: UInt64) throws {
    var rng = SplitMix64(seed: seed)
    let spans: [UInt64] = [
      0, 1, 255, 256, 65_535, 65_536, 4_294_967_295, 4_294_967_296, .max,
    ]
    let span = spans.randomElement(using: &rng)!
    let start: Int64 =
      span == .max
      ? .min
      : [Int64.min, -70_000, -1, 0, 2011, 1_700_000_000_000_000, .max - Int64(span)]
        .randomElement(using: &rng)!
    let nulls = Bool.random(using: &rng)
    let rows = Int.random(in: 1...5000, using: &rng)
    var b = ColumnBuilder(.bigint)
    var expected: [Int64?] = []
    for r in 0..<rows {
      if nulls && r % 7 == 3 {
        b.appendNull()
        expected.append(nil)
        continue
      }
      // The range's two ends at least once, so that its span is the one chosen.
      let offset: UInt64 =
        r == 0 ? 0 : r == 1 ? span : UInt64.random(in: 0...span, using: &rng)
      let v = start &+ Int64(bitPattern: offset)
      b.append(v)
      expected.append(v)
    }
    let values = expected.compactMap { $0 }
    let (lo, hi) = (values.min()!, values.max()!)
    let frame = nulls ? (min(lo, 0), max(hi, 0)) : (lo, hi)
    let (frameSpan, overflow) = frame.1.subtractingReportingOverflow(frame.0)
    let width =
      overflow
      ? 8 : frameSpan <= 255 ? 1 : frameSpan <= 65_535 ? 2 : frameSpan <= 4_294_967_295 ? 4 : 8
    let bytes = ColumnGroup.encode([b])
    let what = "seed \(seed): \(rows) rows from \(start), span \(span), NULLs \(nulls)"
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: [ColumnSchema("n", .bigint)], path: "g")
      let c = g.columns[0]
      #expect(c.bytesPerValue == width, "\(what)")
      #expect(c.intBounds == lo...hi, "\(what)")
      for r in 0..<rows
      where c.isValid(r) != (expected[r] != nil)
        || (expected[r] != nil && c.int64(r) != expected[r])
      {
        Issue.record(
          "\(what): row \(r) reads \(c.int64(r)), not \(String(describing: expected[r]))")
        return
      }
      // Gathered at every other row, backwards.
      let picked = stride(from: rows - 1, through: 0, by: -2).map { Int32($0) }
      var out = [Int64](repeating: 0, count: picked.count)
      picked.withUnsafeBufferPointer { c.gatherInt64($0, into: &out) }
      let want = picked.map { expected[Int($0)] ?? 0 }
      #expect(out == want, "\(what): gathered")
      // Selected by a range between two stored values, from all rows and from some.
      let a = values.randomElement(using: &rng)!
      let z = values.randomElement(using: &rng)!
      let (low, high) = (min(a, z), max(a, z))
      var all: [Int32]? = nil
      c.select(&all, low: low, high: high)
      let inRange = (0..<rows).filter { expected[$0].map { low <= $0 && $0 <= high } ?? false }
      #expect(all == inRange.map { Int32($0) }, "\(what): selected \(low)...\(high)")
      var some: [Int32]? = picked.reversed()
      c.select(&some, low: low, high: high)
      #expect(
        some == picked.reversed().filter { inRange.contains(Int($0)) },
        "\(what): selected from some rows")
      // Counted into cells when the range is small: each value's offset from the least.
      guard hi.subtractingReportingOverflow(lo).partialValue <= 1000, !overflow,
        hi.subtractingReportingOverflow(lo).overflow == false
      else { return }
      let cellCount = Int(hi - lo) + 1
      var naive = [Int](repeating: 0, count: cellCount)
      for v in values { naive[Int(v - lo)] += 1 }
      let valid = (0..<rows).filter { expected[$0] != nil }.map { Int32($0) }
      var histogram = [Int](repeating: 0, count: cellCount)
      valid.withUnsafeBufferPointer {
        c.countCells($0, low: lo, stride: 1, adding: nil, into: &histogram, cellCount: cellCount)
      }
      #expect(histogram == naive, "\(what): counted from rows")
      var cells = [Int32](repeating: 0, count: valid.count)
      valid.withUnsafeBufferPointer { c.addCells($0, low: lo, stride: 1, into: &cells) }
      #expect(cells == valid.map { Int32(expected[Int($0)]! - lo) }, "\(what): cells")
      if !nulls {
        var whole = [Int](repeating: 0, count: cellCount)
        c.countCells(
          allOf: rows, low: lo, stride: 1, adding: nil, dropping: nil, [], into: &whole,
          cellCount: cellCount)
        #expect(whole == naive, "\(what): counted from every row")
        var allCells = [Int32](repeating: 0, count: rows)
        c.addCells(allOf: rows, low: lo, stride: 1, into: &allCells)
        #expect(allCells == values.map { Int32($0 - lo) }, "\(what): cells of every row")
      }
    }
  }

  /// Text columns, plain and dictionary-encoded, whose sizes in the directory or ends in the
  /// data are damaged: sizes past the file are refused at open; an end or a code past the
  /// text reads bytes of the column, never past it (no crash, no read of another file).
  @Test func damagedTextSizesAreRefusedAndEndsStayInTheFile() throws {
    var plain = ColumnBuilder(.varchar)
    var coded = ColumnBuilder(.varchar)
    for i in 0..<400 {
      plain.append("value \(i)")
      coded.append(["Hà Nội", "Lạng Sơn", "Huế"][i % 3])
    }
    let schema = [ColumnSchema("p", .varchar), ColumnSchema("c", .varchar)]
    let good = ColumnGroup.encode([plain, coded])
    func entry(_ i: Int) -> Int { 24 + 40 * i }
    func u64(_ b: [UInt8], _ at: Int) -> Int {
      (0..<8).reduce(0) { $0 | Int(b[at + $1]) << (8 * $1) }
    }
    // Sizes beyond the column: refused.
    for (column, at) in [(0, 24), (1, 24), (1, 28)] {
      var bytes = good
      bytes[entry(column) + at + 2] = 0x7F
      #expect(throws: ProjectionError.self, "column \(column), byte \(at)") {
        try bytes.withUnsafeBytes { _ = try GroupReader($0, schema: schema, path: "g") }
      }
    }
    // Every end of the plain column and of the dictionary, and every code, set past the end.
    var bytes = good
    let plainAt = u64(good, entry(0) + 8)
    for r in 0..<400 {
      bytes.replaceSubrange(plainAt + 4 * r..<plainAt + 4 * r + 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
    }
    let codedAt = u64(good, entry(1) + 8)
    let codedLength = u64(good, entry(1) + 16)
    for k in 0..<3 {
      let at = codedAt + 4 + 4 * k
      bytes.replaceSubrange(at..<at + 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
    }
    let codes = codedAt + codedLength - 2 * 400
    for r in 0..<400 {
      bytes.replaceSubrange(codes + 2 * r..<codes + 2 * r + 2, with: [0xFF, 0xFF])
    }
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: schema, path: "g")
      let lo = Int(bitPattern: raw.baseAddress!)
      let hi = lo + raw.count
      for r in 0..<400 {
        for c in 0..<2 {
          let v = g.columns[c].bytes(r)
          if let p = v.baseAddress {
            #expect(Int(bitPattern: p) >= lo && Int(bitPattern: p) + v.count <= hi, "row \(r)")
          }
        }
      }
    }
  }

  @Test func aDamagedGroupIsRefusedNotMisread() throws {
    var b = ColumnBuilder(.bigint)
    for i in 0..<100 { b.append(Int64(i)) }
    var bytes = ColumnGroup.encode([b])
    bytes[bytes.count - 40] ^= 0x10  // in the values
    _ = bytes.withUnsafeBytes { raw in
      #expect(throws: ProjectionError.self) {
        _ = try GroupReader(raw, schema: [ColumnSchema("n", .bigint)], path: "g", verify: true)
      }
    }
  }
}
