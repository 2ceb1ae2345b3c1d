import Domain
import Foundation
import Projections

extension FastAggregate.Partial {
  // MARK: The values of the rows read, and the conditions on them

  /// The bytes of a VARCHAR column at `sel`, into `textRows` (patched values copied into
  /// `textStorage`); its NULLs.
  mutating func loadText(
    _ view: TableView, _ g: GroupReader, column: Int, base: Int, _ sel: [Int32]
  ) -> [Bool] {
    let reader = g.columns[column]
    if sel.count > 4096 { reader.populate() }
    var rows = [UnsafeRawBufferPointer](
      repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: sel.count)
    var nulls = [Bool](repeating: false, count: sel.count)
    sel.withUnsafeBufferPointer { s in
      rows.withUnsafeMutableBufferPointer { o in
        if reader.isDictionary {
          let entries = (0..<reader.dictionaryCount).map { reader.dictionaryEntry($0) }
          let codes = [Int64](unsafeUninitializedCapacity: s.count) { b, n in
            let identity = (0..<Int64(entries.count)).map { $0 } + [0]
            identity.withUnsafeBufferPointer {
              reader.gatherCodes(s, through: $0, into: b.baseAddress!)
            }
            n = s.count
          }
          if !entries.isEmpty {
            for i in 0..<s.count { o[i] = entries[Int(codes[i])] }
          }
        } else {
          reader.forEachString(s) { i, bytes in o[i] = bytes }
        }
      }
      nulls.withUnsafeMutableBufferPointer { reader.gatherNulls(s, into: $0.baseAddress!) }
    }
    if view.isPatched(column: column) {
      /// A patched value's bytes, copied where they outlive this call.
      func keep(_ text: String) -> UnsafeRawBufferPointer {
        let copy = UnsafeMutableRawBufferPointer.allocate(
          byteCount: text.utf8.count, alignment: 1)
        copy.copyBytes(from: text.utf8)
        textStorage.append(copy)
        return UnsafeRawBufferPointer(copy)
      }
      for (p, row) in view.patched(among: sel, base: base, count: g.rows) {
        switch view.patchedValue(row, column) {
        case nil: break
        case .null?: nulls[p] = true
        case .text(let text)?:
          nulls[p] = false
          rows[p] = keep(text)
        case .int(let x)?:
          nulls[p] = false
          rows[p] = keep(String(x))
        case .double?:
          preconditionFailure("a DOUBLE patch in a VARCHAR column")
        }
      }
    }
    textRows = rows
    return nulls
  }

  /// Whether column `column` is NULL at each of the rows `sel` of group `g`, as corrected.
  func loadNulls(_ g: GroupReader, _ column: Int, _ base: Int, _ sel: [Int32]) -> [Bool] {
    var nulls = [Bool](repeating: false, count: sel.count)
    sel.withUnsafeBufferPointer { s in
      nulls.withUnsafeMutableBufferPointer {
        g.columns[column].gatherNulls(s, into: $0.baseAddress!)
      }
    }
    let view = plan.view
    guard view.isPatched(column: column) else { return nulls }
    for (p, row) in view.patched(among: sel, base: base, count: g.rows) {
      switch view.patchedValue(row, column) {
      case nil: break
      case .null?: nulls[p] = true
      case .some: nulls[p] = false
      }
    }
    return nulls
  }

  /// A column's values at `sel`: integers, a DOUBLE's bits, or a VARCHAR's id in `pool`.
  /// Column `column` of `view`'s row group `g` (of SQL type `type`) at the rows `sel`.
  mutating func load(
    _ view: TableView, _ g: GroupReader, column: Int, type: SQLType, base: Int, _ sel: [Int32]
  ) -> ([Int64], [Bool]) {
    let reader = g.columns[column]
    if sel.count > 4096 { reader.populate() }
    var out = [Int64](repeating: 0, count: sel.count)
    var nulls = [Bool](repeating: false, count: sel.count)
    sel.withUnsafeBufferPointer { s in
      out.withUnsafeMutableBufferPointer { o in
        if type != .varchar {
          reader.gatherInt64(s, into: o.baseAddress!)
        } else if reader.isDictionary {
          let ids =
            (0..<reader.dictionaryCount).map { pool.intern(reader.dictionaryEntry($0)) } + [0]
          ids.withUnsafeBufferPointer { reader.gatherCodes(s, through: $0, into: o.baseAddress!) }
        } else {
          let pool = self.pool
          let out = o.baseAddress.unsafelyUnwrapped
          reader.forEachString(s) { i, bytes in out[i] = pool.intern(bytes) }
        }
      }
      nulls.withUnsafeMutableBufferPointer { reader.gatherNulls(s, into: $0.baseAddress!) }
    }
    // Rows a correction changed.
    guard view.isPatched(column: column) else { return (out, nulls) }
    for (p, row) in view.patched(among: sel, base: base, count: g.rows) {
      switch view.patchedValue(row, column) {
      case nil: break
      case .null?: nulls[p] = true
      case .int(let x)?:
        nulls[p] = false
        // A number set in a VARCHAR column is its text (ids of the pool, not numbers).
        out[p] = type == .varchar ? pool.intern(String(x)) : x
      case .double(let d)?:
        nulls[p] = false
        out[p] = Int64(bitPattern: d.bitPattern)
      case .text(let s)?:
        nulls[p] = false
        out[p] = pool.intern(s)
      }
    }
    return (out, nulls)
  }

  /// The id in `pool` of year `y`'s plan period, interned once per year.
  mutating func periodID(ofYear y: Int64) -> Int64 {
    if let id = periodIDs[y] { return id }
    let id = pool.intern(PlanPeriods.period(ofYear: y))
    periodIDs[y] = id
    return id
  }

  mutating func transform(_ v: ([Int64], [Bool]), _ o: FastAggregate.Operand) -> ([Int64], [Bool]) {
    let t = o.transform
    if t == .none { return v }
    var (out, nulls) = v
    if plan.types[o.column] == .bigint {
      // A year as a view holds it: `plan_period(year)`, the only transform of an integer.
      var last: (year: Int64, id: Int64)?
      for i in out.indices where !nulls[i] {
        if last?.year != out[i] { last = (out[i], periodID(ofYear: out[i])) }
        out[i] = last!.id
      }
      return (out, nulls)
    }
    // Days from the column's values: timestamps are microseconds, dates days.
    let micros = plan.types[o.column] == .timestamp
    if let table = transformedDays(&out, nulls, micros: micros, t) {
      // The days span a few years: each day's value from a table made by stepping through
      // the calendar, where the calendar per row was most of a query by plan period.
      out.withUnsafeMutableBufferPointer { out in
        table.values.withUnsafeBufferPointer { values in
          for i in 0..<out.count where !nulls[i] { out[i] = values[Int(out[i] - table.first)] }
        }
      }
      return (out, nulls)
    }
    var lastDays = Int64.min
    var last: Int64 = 0
    for i in out.indices where !nulls[i] {
      let days = micros ? floorDiv(out[i], 86_400_000_000) : out[i]
      if days != lastDays {
        lastDays = days
        let (y, m, d) = Timestamp.civilFromDays(days)
        switch t {
        case .year: last = y
        case .month: last = m
        case .quarter: last = (m - 1) / 3 + 1
        case .day: last = d
        case .planPeriod: last = periodID(ofYear: y)
        case .none: break
        }
      }
      out[i] = last
    }
    nulls = v.1
    return (out, nulls)
  }

  /// When the values not NULL span at most 4,096 days: `out` holds each one's day, and
  /// the table of the transform of each day of the span, the first day first. Nil (and
  /// `out` as it was) otherwise.
  mutating func transformedDays(
    _ out: inout [Int64], _ nulls: [Bool], micros: Bool, _ t: FastAggregate.Operand.Transform
  ) -> (first: Int64, values: [Int64])? {
    var lo = Int64.max
    var hi = Int64.min
    for i in out.indices where !nulls[i] {
      lo = min(lo, out[i])
      hi = max(hi, out[i])
    }
    if micros {
      (lo, hi) = (floorDiv(lo, 86_400_000_000), floorDiv(hi, 86_400_000_000))
    }
    guard lo <= hi, case (let span, false) = hi.subtractingReportingOverflow(lo), span < 4096
    else { return nil }
    if micros {
      for i in out.indices where !nulls[i] { out[i] = floorDiv(out[i], 86_400_000_000) }
    }
    var (y, m, d) = Timestamp.civilFromDays(lo)
    var values: [Int64] = []
    values.reserveCapacity(Int(hi - lo) + 1)
    var lastYear = Int64.min
    var period: Int64 = 0
    for _ in lo...hi {
      switch t {
      case .year: values.append(y)
      case .month: values.append(m)
      case .quarter: values.append((m - 1) / 3 + 1)
      case .day: values.append(d)
      case .planPeriod:
        if y != lastYear {
          lastYear = y
          period = periodID(ofYear: y)
        }
        values.append(period)
      case .none: values.append(0)
      }
      d += 1
      if d > Timestamp.daysInMonth(y, m) {
        d = 1
        m += 1
        if m > 12 {
          m = 1
          y += 1
        }
      }
    }
    return (lo, values)
  }

  /// Whether `p` is true at each position.
  func evaluate(
    _ p: FastAggregate.Predicate, _ values: [FastAggregate.Operand: ([Int64], [Bool])], count n: Int
  ) -> [Bool] {
    switch p {
    case .never: return [Bool](repeating: false, count: n)
    case .and(let parts):
      var out = [Bool](repeating: true, count: n)
      for q in parts {
        let m = evaluate(q, values, count: n)
        for i in 0..<n where !m[i] { out[i] = false }
      }
      return out
    case .or(let parts):
      var out = [Bool](repeating: false, count: n)
      for q in parts {
        let m = evaluate(q, values, count: n)
        for i in 0..<n where m[i] { out[i] = true }
      }
      return out
    case .isNull(let o, let negated):
      let nulls = values[o]!.1
      return negated ? nulls.map { !$0 } : nulls
    case .member(let o, let set, let strings, let negated):
      let (v, nulls) = values[o]!
      let ids = set.union(strings.map { constantIDs[$0] })
      var out = [Bool](repeating: false, count: n)
      if ids.count == 1, let only = ids.first {
        for i in 0..<n where !nulls[i] { out[i] = (v[i] == only) != negated }
      } else {
        for i in 0..<n where !nulls[i] { out[i] = ids.contains(v[i]) != negated }
      }
      return out
    case .int(let o, let op, let c):
      let (v, nulls) = values[o]!
      var out = [Bool](repeating: false, count: n)
      for i in 0..<n where !nulls[i] { out[i] = Self.test(v[i], op, c) }
      return out
    case .double(let o, let op, let c):
      let (v, nulls) = values[o]!
      let isDouble = plan.types[o.column] == .double && o.transform == .none
      var out = [Bool](repeating: false, count: n)
      for i in 0..<n where !nulls[i] {
        let x = isDouble ? Double(bitPattern: UInt64(bitPattern: v[i])) : Double(v[i])
        out[i] = Self.test(x, op, c)
      }
      return out
    }
  }

  static func test<T: Comparable>(_ x: T, _ op: FastAggregate.Op, _ c: T) -> Bool {
    switch op {
    case .eq: x == c
    case .ne: x != c
    case .lt: x < c
    case .le: x <= c
    case .gt: x > c
    case .ge: x >= c
    }
  }
}
