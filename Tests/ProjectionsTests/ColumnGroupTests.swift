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
    for _ in 0..<rows {
      for (c, s) in Self.schema.enumerated() {
        if Int.random(in: 0..<10, using: &rng) == 0 {
          builders[c].appendNull()
          expected[c].append(.null)
          continue
        }
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
    let bytes = ColumnGroup.encode(builders)
    try bytes.withUnsafeBytes { b in
      let g = try GroupReader(b, schema: Self.schema, path: "test")
      #expect(g.rows == rows, "seed \(seed)")
      if rows > 100 {
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
      if g.columns[5].isDictionary {
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
    // NaN) is read as before, with nothing to skip by.
    var b = ColumnBuilder(.bigint)
    for i in 0..<100 { b.append(Int64(i * 3)) }
    var bytes = ColumnGroup.encode([b])
    let schema = [ColumnSchema("n", .bigint)]
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: schema, path: "g")
      #expect(g.columns[0].intBounds == 0...297)
    }
    bytes[24 + 3] = 0  // the first entry's has-bounds flag
    try bytes.withUnsafeBytes { raw in
      let g = try GroupReader(raw, schema: schema, path: "g")
      #expect(g.columns[0].intBounds == nil)
      #expect(g.columns[0].int64(99) == 297)
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
    bytes[200] ^= 0x10
    _ = bytes.withUnsafeBytes { raw in
      #expect(throws: ProjectionError.self) {
        _ = try GroupReader(raw, schema: [ColumnSchema("n", .bigint)], path: "g", verify: true)
      }
    }
  }
}
