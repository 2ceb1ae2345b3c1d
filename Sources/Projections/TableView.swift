import EventLog

/// A value read from a table.
package enum Value: Equatable, Sendable, CustomStringConvertible {
  case null
  case int(Int64)
  case double(Double)
  case text(String)

  package var description: String {
    switch self {
    case .null: "NULL"
    case .int(let v): String(v)
    case .double(let v): String(v)
    case .text(let s): s
    }
  }
}

/// A table as it stands at a seq: rows recorded after it left out, and the patches recorded up
/// to it applied (corrections change values, voids drop rows, closings fill in columns).
package struct TableView {
  package let table: Table
  package let asOf: UInt64
  /// The columns this view shows: the leading ones of `table` (fewer for `events`, which is
  /// `events_raw`'s rows).
  package let columnCount: Int
  /// Rows of these types are not rows of this view (`events` leaves out corrections and voids).
  private let excludedTypes: Set<String>
  /// The rows that patches up to `asOf` touch, ascending: what a vectorized scan must read
  /// through `value`.
  package private(set) var patchedRows: [Int] = []
  /// The patches of `patchedRows[i]` are `starts[i]..<starts[i + 1]` of the arrays below, in
  /// seq order. Flat arrays: a table with 300,000 patched rows (the closings of
  /// establishments) opens without a dictionary entry and an array per row.
  private var starts: [Int32] = [0]
  /// The column index, or -1 for a void.
  private var patchColumns: [Int16] = []
  /// Where each patch's value is: its row in the patches table (counted across its groups),
  /// decoded when asked for. Most patches are never read by a statement (a scan reads only
  /// the columns it needs), so opening a view decodes none.
  private var patchRefs: [UInt32] = []
  /// The patches table's first row of each group.
  private var patchGroupStarts: [Int] = []
  private var patchTable: Table?
  /// Whether any patch up to `asOf` sets column i: a scan reads the others' stored values
  /// without looking at the patched rows.
  private var columnPatched: [Bool] = []

  package init(
    table: Table, patches patchTable: Table?, asOf: UInt64 = .max, columnCount: Int? = nil,
    excludedTypes: Set<String> = []
  ) {
    self.table = table
    self.asOf = asOf
    self.columnCount = columnCount ?? table.schema.count
    self.excludedTypes = excludedTypes
    columnPatched = Array(repeating: false, count: table.schema.count)
    guard let patchTable else { return }
    self.patchTable = patchTable
    // (row << 32 | index) of every patch up to `asOf`, in the patches table's (seq) order,
    // with its column and where its value is; then sorted by row, stably (a radix sort of
    // the words: 300,000 closings of establishments open in a few milliseconds, where arrays
    // of each field and a sort of indices took 17).
    var total = 0
    for g in patchTable.groups {
      patchGroupStarts.append(total)
      total += g.rows
    }
    guard total < 1 << 32 else { preconditionFailure("a patches table of 2^32 rows") }
    // Uninitialized: every element up to `n` is written below.
    var keys = [UInt64](unsafeUninitializedCapacity: total) { _, count in count = total }
    var columns = [Int16](unsafeUninitializedCapacity: total) { _, count in count = total }
    var n = 0
    var largest = 0
    var ordered = true
    // The projector appends patches in seq order, which the sort by row keeps; checked.
    var bySeq = true
    var lastSeq = Int64.min
    keys.withUnsafeMutableBufferPointer { keys in
      columns.withUnsafeMutableBufferPointer { columns in
        for (k, g) in patchTable.groups.enumerated() {
          let (target, seq, name) = (g.columns[0], g.columns[1], g.columns[2])
          // The column names of a dictionary-encoded `column`, as indices of this table
          // (-2: a column this table lacks).
          let named: [Int16] =
            name.isDictionary
            ? (0..<name.dictionaryCount).map {
              table.columnIndex(String(decoding: name.dictionaryEntry($0), as: UTF8.self)).map {
                Int16($0)
              } ?? -2
            } : []
          // A group recorded wholly up to `asOf` needs no look at each seq.
          let allKnown =
            seq.intBounds.map { $0.upperBound >= 0 && UInt64($0.upperBound) <= asOf } ?? false
          let first = patchGroupStarts[k]
          var last = n > 0 ? Int(keys[n - 1] >> 32) : 0
          for r in 0..<g.rows {
            let s = seq.int64(r)
            if s < lastSeq { bySeq = false }
            lastSeq = s
            if !allKnown {
              guard s >= 0, UInt64(s) <= asOf else { continue }
            }
            let column: Int16
            if !name.isValid(r) {
              column = -1
            } else if name.isDictionary {
              column = named.isEmpty ? -2 : named[min(name.code(r), named.count - 1)]
            } else {
              column = name.string(r).flatMap { table.columnIndex($0) }.map { Int16($0) } ?? -2
            }
            let row = Int(target.int64(r))
            // A column this table lacks; a row no table has (a damaged patch).
            guard column != -2, row >= 0, row < 1 << 32 else { continue }
            let index = first + r
            keys[n] = UInt64(row) << 32 | UInt64(index)
            columns[index] = column
            if row < last { ordered = false }
            last = row
            largest = max(largest, row)
            n += 1
          }
        }
      }
    }
    keys.removeLast(total - n)
    if !bySeq {
      // Not in seq order (no projector writes that): sorted by row, then seq.
      let groups = patchTable.groups
      let starts = patchGroupStarts
      func seq(_ key: UInt64) -> Int64 {
        let (k, r) = Self.locate(Int(key & 0xFFFF_FFFF), starts)
        return groups[k].columns[1].int64(r)
      }
      keys.sort { ($0 >> 32, seq($0)) < ($1 >> 32, seq($1)) }
    } else if !ordered {
      Self.sortByRow(&keys, largest: largest)
    }
    patchColumns = [Int16](unsafeUninitializedCapacity: n) { _, count in count = n }
    patchRefs = [UInt32](unsafeUninitializedCapacity: n) { _, count in count = n }
    starts.reserveCapacity(n + 1)
    patchedRows.reserveCapacity(n)
    var lastRow = -1
    keys.withUnsafeBufferPointer { keys in
      columns.withUnsafeBufferPointer { columns in
        patchColumns.withUnsafeMutableBufferPointer { patchColumns in
          patchRefs.withUnsafeMutableBufferPointer { patchRefs in
            for k in 0..<n {
              let row = Int(keys[k] >> 32)
              let index = Int(keys[k] & 0xFFFF_FFFF)
              if row != lastRow {
                if k > 0 { starts.append(Int32(k)) }
                patchedRows.append(row)
                lastRow = row
              }
              patchColumns[k] = columns[index]
              patchRefs[k] = UInt32(index)
            }
          }
        }
      }
    }
    starts.append(Int32(n))
    for c in patchColumns where c >= 0 && Int(c) < columnPatched.count {
      columnPatched[Int(c)] = true
    }
  }

  /// The group and row of the patches table where patch `p` is.
  private func patchLocation(_ p: Int) -> (group: GroupReader, row: Int) {
    let (k, r) = Self.locate(Int(patchRefs[p]), patchGroupStarts)
    return (patchTable!.groups[k], r)
  }

  /// The group and row of row `index` of a table whose groups start at `starts`.
  private static func locate(_ index: Int, _ starts: [Int]) -> (group: Int, row: Int) {
    let k = max(firstIndex(starts, atLeast: index + 1) - 1, 0)
    return (k, index - starts[k])
  }

  /// Whether a patch up to `asOf` sets `column` in some row (when not, its stored values are
  /// the view's).
  package func isPatched(column: Int) -> Bool { columnPatched[column] }

  /// The range of `row`'s patches in the flat arrays; nil when none touches it.
  private func patchRange(_ row: Int) -> Range<Int>? {
    let i = Self.firstIndex(patchedRows, atLeast: row)
    guard i < patchedRows.count, patchedRows[i] == row else { return nil }
    return Int(starts[i])..<Int(starts[i + 1])
  }

  /// Opens `name` in the store's views as of `asOf`.
  package static func open(store: String, spec: TableSpec, asOf: UInt64 = .max) throws
    -> TableView?
  {
    let views = Projection.folder(store: store)
    let folder = views + "/" + spec.name
    let p = try Table.open(
      name: "patches", schema: BuiltinTables.patches, folder: folder + "/patches")
    if let backing = spec.backing, let b = BuiltinTables.all.first(where: { $0.name == backing }) {
      guard p != nil,
        let t = try Table.open(name: b.name, schema: b.columns, folder: views + "/" + b.name)
      else { return nil }
      return TableView(
        table: t, patches: p, asOf: asOf, columnCount: spec.columns.count,
        excludedTypes: BuiltinTables.amendmentTypes)
    }
    guard let t = try Table.open(name: spec.name, schema: spec.columns, folder: folder) else {
      return nil
    }
    return TableView(table: t, patches: p, asOf: asOf)
  }

  /// The rows (table-wide, in order) whose indexed VARCHAR `column` holds exactly `value`:
  /// a binary search in each group's index, no scan. nil when the column has no index.
  package func rows(where column: Int, equals value: String) -> [Int]? {
    guard table.groups.allSatisfy({ $0.hasIndex(column) }) else { return nil }
    var bytes = Array(value.utf8)
    return bytes.withUnsafeMutableBytes { b in
      var out: [Int] = []
      var base = 0
      for g in table.groups {
        for r in g.rows(where: column, equals: UnsafeRawBufferPointer(b)) ?? [] {
          out.append(base + r)
        }
        base += g.rows
      }
      return out
    }
  }

  /// The stored value, before patches.
  package func base(_ row: Int, _ column: Int) -> Value {
    let (g, r) = table.locate(row)
    let c = table.groups[g].columns[column]
    guard c.isValid(r) else { return .null }
    switch c.type {
    case .bigint, .timestamp, .boolean, .date: return .int(c.int64(r))
    case .double: return .double(c.double(r))
    case .varchar: return .text(c.string(r)!)
    }
  }

  /// Whether a row is visible: recorded up to `asOf` and not voided by then.
  package func isVisible(_ row: Int) -> Bool {
    if table.schema.first?.name == "seq", case .int(let s) = base(row, 0), UInt64(s) > asOf {
      return false
    }
    if !excludedTypes.isEmpty, case .text(let type) = base(row, 2), excludedTypes.contains(type) {
      return false
    }
    return !isVoided(row)
  }

  /// The value with the patches up to `asOf` applied; a `data` patch merges its changes into
  /// the JSON object.
  package func value(_ row: Int, _ column: Int) -> Value {
    var v = base(row, column)
    guard let range = patchRange(row) else { return v }
    for p in range where patchColumns[p] == column {
      let new = patchValue(p)
      if table.schema[column].name == "data", case .text(let old) = v,
        case .text(let changes) = new
      {
        v = .text(JSONMerge.merge(old, changes))
      } else {
        v = new
      }
    }
    return v
  }

  /// The seq of the record that made patch `p`.
  private func patchSeq(_ p: Int) -> UInt64 {
    let (g, r) = patchLocation(p)
    return UInt64(bitPattern: g.columns[1].int64(r))
  }

  /// The value patch `p` sets (a void's: NULL).
  private func patchValue(_ p: Int) -> Value {
    guard patchTable != nil else { return .null }
    let (g, r) = patchLocation(p)
    let (int, double, text) = (g.columns[3], g.columns[4], g.columns[5])
    if int.isValid(r) { return .int(int.int64(r)) }
    if double.isValid(r) { return .double(double.double(r)) }
    return text.string(r).map { .text($0) } ?? .null
  }

  /// The value of a patched column (corrections applied), nil when no patch up to `asOf`
  /// touches `column` of `row` (its stored value stands).
  package func patchedValue(_ row: Int, _ column: Int) -> Value? {
    guard let range = patchRange(row), range.contains(where: { patchColumns[$0] == column })
    else { return nil }
    return value(row, column)
  }

  /// Whether any patch up to `asOf` touches `row` (then `value` must be used for it).
  @inline(__always)
  package func isPatched(_ row: Int) -> Bool { patchRange(row) != nil }

  /// Whether the view leaves some rows of its table out by type (`events`).
  package var filtersTypes: Bool { !excludedTypes.isEmpty }

  /// The record types this view leaves out (column `type`, index 2).
  package var excludedRecordTypes: Set<String> { excludedTypes }

  /// Whether a void recorded up to `asOf` drops `row`.
  package func isVoided(_ row: Int) -> Bool {
    patchRange(row)?.contains { patchColumns[$0] < 0 } ?? false
  }

  /// The patches of a row up to `asOf` (for the audit: what changed it, when).
  package func patches(of row: Int) -> [(seq: UInt64, column: String?, value: Value)] {
    (patchRange(row) ?? 0..<0).map {
      (
        patchSeq($0), patchColumns[$0] < 0 ? nil : table.schema[Int(patchColumns[$0])].name,
        patchValue($0)
      )
    }
  }

  /// The rows of `g` (a row group of `table` whose first row is `base`; indices inside it)
  /// visible in the view, ascending; only those of `only` (table-wide rows, ascending) when
  /// given. Whole vectors at a time: what a scan reads.
  /// Which rows of a row group are visible, when that needs no selection vector.
  package enum GroupVisibility {
    /// Every row.
    case all
    /// None (a group recorded after the AS OF time).
    case none
    /// Every row but those whose code in the dictionary-encoded `types` column `drop` flags
    /// (the view's excluded event types).
    case droppingTypes(ColumnReader, [Bool])
  }

  /// The visible rows of the row group `g` (which starts at table row `base`) as one of the
  /// simple cases of `GroupVisibility`, as the stored vectors say (the rows with patches,
  /// `patchedRows(from:count:)`, are the caller's to read the general way), or nil when
  /// `visibleRows` must work them out: an AS OF time inside the group, or excluded types not
  /// dictionary-encoded.
  package func simpleVisibility(_ g: GroupReader, base: Int) -> GroupVisibility? {
    if asOf != .max && table.schema.first?.name == "seq" {
      guard let b = g.columns[0].intBounds else { return nil }
      let asOf = Int64(clamping: self.asOf)
      if b.lowerBound > asOf { return GroupVisibility.none }
      if b.upperBound > asOf { return nil }
    }
    let excluded = excludedTypes
    guard !excluded.isEmpty else { return .all }
    let c = g.columns[2]
    guard c.isDictionary else { return nil }
    let drop = (0..<c.dictionaryCount).map {
      excluded.contains(String(decoding: c.dictionaryEntry($0), as: UTF8.self))
    }
    return drop.contains(true) ? .droppingTypes(c, drop) : .all
  }

  package func visibleRows(_ g: GroupReader, base: Int, only: [Int]?) -> [Int32] {
    let excluded = excludedTypes
    let checkSeq = asOf != .max && table.schema.first?.name == "seq"
    var sel: [Int32]
    if let only = only {
      sel = []
      var i = Self.firstIndex(only, atLeast: base)
      while i < only.count && only[i] < base + g.rows {
        sel.append(Int32(only[i] - base))
        i += 1
      }
    } else {
      sel = [Int32](unsafeUninitializedCapacity: g.rows) { b, n in
        for i in 0..<g.rows { b[i] = Int32(i) }
        n = g.rows
      }
    }
    /// Keeps the rows for which `keep` holds, in place.
    func filter(_ keep: (Int) -> Bool) {
      let n = sel.withUnsafeMutableBufferPointer { s in
        var n = 0
        for i in 0..<s.count where keep(Int(s[i])) {
          s[n] = s[i]
          n += 1
        }
        return n
      }
      sel.removeLast(sel.count - n)
    }
    if checkSeq {
      // The group's bounds say at once whether all or none of its rows are visible.
      let c = g.columns[0]
      let asOf = Int64(clamping: self.asOf)
      if let b = c.intBounds, b.lowerBound > asOf { return [] }
      if c.intBounds.map({ $0.upperBound > asOf }) ?? true {
        filter { c.int64($0) <= asOf }
      }
    }
    if !excluded.isEmpty {
      let c = g.columns[2]
      if c.isDictionary {
        let drop = (0..<c.dictionaryCount).map {
          excluded.contains(String(decoding: c.dictionaryEntry($0), as: UTF8.self))
        }
        // Most groups hold none of the excluded types, or few: one pass over the codes.
        if drop.contains(true) {
          let n = sel.withUnsafeMutableBufferPointer { c.keepRows($0, droppingCodes: drop) }
          sel.removeLast(sel.count - n)
        }
      } else {
        filter { r in !excluded.contains(c.string(r) ?? "") }
      }
    }
    // Voided rows: `patchedRows` is sorted, and so is `sel`.
    let patched = patchedRows
    var i = Self.firstIndex(patched, atLeast: base)
    var voided: [Int32] = []
    while i < patched.count && patched[i] < base + g.rows {
      if (Int(starts[i])..<Int(starts[i + 1])).contains(where: { patchColumns[$0] < 0 }) {
        voided.append(Int32(patched[i] - base))
      }
      i += 1
    }
    if !voided.isEmpty {
      var v = 0
      filter { r in
        while v < voided.count && Int(voided[v]) < r { v += 1 }
        return !(v < voided.count && Int(voided[v]) == r)
      }
    }
    return sel
  }

  /// The rows with patches among `rows` (ascending indices inside the row group that starts
  /// at table row `base` and holds `count` rows): each one's position in `rows` and its table
  /// row. What a scan reads through `value` after reading the stored vectors.
  package func patched(among rows: [Int32], base: Int, count: Int) -> [(position: Int, row: Int)] {
    var out: [(Int, Int)] = []
    var i = Self.firstIndex(patchedRows, atLeast: base)
    var p = 0
    while i < patchedRows.count && patchedRows[i] < base + count {
      let r = Int32(patchedRows[i] - base)
      while p < rows.count && rows[p] < r { p += 1 }
      if p < rows.count && rows[p] == r { out.append((p, patchedRows[i])) }
      i += 1
    }
    return out
  }

  /// The rows with patches in the row group that starts at table row `base` and holds
  /// `count` rows (table-wide, ascending): where a value may differ from the stored one.
  package func patchedRows(from base: Int, count: Int) -> ArraySlice<Int> {
    let i = Self.firstIndex(patchedRows, atLeast: base)
    let j = Self.firstIndex(patchedRows, atLeast: base + count)
    return patchedRows[i..<j]
  }

  /// The rows with patches in the row group that starts at table row `base` and holds
  /// `count` rows that set one of the columns `touching` flags: where a condition on those
  /// columns may hold though the stored values say it cannot.
  package func patchedRows(from base: Int, count: Int, touching: [Bool]) -> [Int] {
    let touched = touching.indices.filter { touching[$0] && $0 < columnPatched.count }
    guard touched.contains(where: { columnPatched[$0] }) else { return [] }
    var out: [Int] = []
    var i = Self.firstIndex(patchedRows, atLeast: base)
    while i < patchedRows.count && patchedRows[i] < base + count {
      let sets = (Int(starts[i])..<Int(starts[i + 1])).contains {
        let c = Int(patchColumns[$0])
        return c >= 0 && c < touching.count && touching[c]
      }
      if sets { out.append(patchedRows[i]) }
      i += 1
    }
    return out
  }

  /// The indices of `rows` (each in 0..<2^32) ordered by row, equal rows in index order.
  package static func radixOrder(_ rows: [Int]) -> [Int] {
    var keys = rows.enumerated().map { UInt64($0.element) << 32 | UInt64($0.offset) }
    sortByRow(&keys, largest: rows.max() ?? 0)
    return keys.map { Int($0 & 0xFFFF_FFFF) }
  }

  /// Sorts words of (row << 32 | index) by row, stably: a least-significant-digit radix
  /// sort of the row's bits, 11 a pass, as many passes as `largest` needs (two for a table of
  /// up to 4 M rows).
  static func sortByRow(_ keys: inout [UInt64], largest: Int) {
    guard keys.count > 1 else { return }
    var scratch = [UInt64](repeating: 0, count: keys.count)
    var shift: UInt64 = 32
    let counts = UnsafeMutablePointer<Int>.allocate(capacity: 2049)
    defer { counts.deallocate() }
    while shift == 32 || UInt64(largest) >> (shift - 32) != 0 {
      counts.initialize(repeating: 0, count: 2049)
      keys.withUnsafeMutableBufferPointer { keys in
        scratch.withUnsafeMutableBufferPointer { scratch in
          for k in keys { counts[Int((k >> shift) & 2047) + 1] += 1 }
          for d in 1..<2049 { counts[d] += counts[d - 1] }
          for k in keys {
            let d = Int((k >> shift) & 2047)
            scratch[counts[d]] = k
            counts[d] += 1
          }
        }
      }
      swap(&keys, &scratch)
      shift += 11
    }
  }

  /// Whether `a` (ascending) holds `x`.
  package static func contains(_ a: [Int], _ x: Int) -> Bool {
    let i = firstIndex(a, atLeast: x)
    return i < a.count && a[i] == x
  }

  /// The index of the first element of `a` (ascending) at least `x`.
  package static func firstIndex(_ a: [Int], atLeast x: Int) -> Int {
    var lo = 0
    var hi = a.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if a[mid] < x { lo = mid + 1 } else { hi = mid }
    }
    return lo
  }

  /// Every visible row's values, patched, in row order.
  package func rows() -> [[Value]] {
    (0..<table.rowCount).filter(isVisible).map { r in
      (0..<columnCount).map { value(r, $0) }
    }
  }
}

/// Merging a correction's `changes` into an event's `data`: flat objects of scalars, as the
/// catalog has them (a `targets` list is replaced whole). Writes canonical JSON: keys sorted.
enum JSONMerge {
  static func merge(_ base: String, _ changes: String) -> String {
    var members = split(base)
    for (k, v) in split(changes) {
      if let i = members.firstIndex(where: { $0.0 == k }) {
        members[i].1 = v
      } else {
        members.append((k, v))
      }
    }
    members.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
    return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
  }

  /// The members of a canonical JSON object: (key, raw value text).
  static func split(_ s: String) -> [(String, String)] {
    let b = Array(s.utf8)
    var out: [(String, String)] = []
    var i = 1
    while i < b.count - 1 {
      guard b[i] == 0x22 else {
        i += 1
        continue
      }
      var j = i + 1
      while j < b.count && b[j] != 0x22 { j += b[j] == 0x5C ? 2 : 1 }
      let key = String(decoding: b[(i + 1)..<j], as: UTF8.self)
      var k = j + 2  // past `":`
      let start = k
      var depth = 0
      var inString = false
      while k < b.count {
        let c = b[k]
        if inString {
          if c == 0x5C {
            k += 2
            continue
          }
          if c == 0x22 { inString = false }
        } else if c == 0x22 {
          inString = true
        } else if c == 0x7B || c == 0x5B {
          depth += 1
        } else if c == 0x7D || c == 0x5D {
          if depth == 0 { break }
          depth -= 1
        } else if c == 0x2C && depth == 0 {
          break
        }
        k += 1
      }
      out.append((key, String(decoding: b[start..<k], as: UTF8.self)))
      i = k + 1
    }
    return out
  }
}
