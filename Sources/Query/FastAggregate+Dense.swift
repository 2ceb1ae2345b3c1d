import Domain
import Projections

extension FastAggregate.Partial {
  /// Counts of rows by keys of a few values each (a type, a unit, a year), straight from the
  /// stored vectors: one pass over the visible rows adds one to a cell of a histogram indexed
  /// by the keys' dictionary codes and offsets from their least value (the zone map's), then
  /// each cell that was met is one lookup of its group. The columns a WHERE clause or a
  /// FILTER reads are dimensions of the histogram too, and their conditions are decided once
  /// per cell. The common question (`count(*) … GROUP BY year, type`, `count(*) FILTER (WHERE
  /// result = 'violation')`) reads each row once instead of through the general path.
  ///
  /// Counts, sums, averages, least and greatest values of integer columns are kept per cell
  /// too, in a second pass over the rows for each.
  ///
  /// Returns false, having done nothing, when the group or the plan is not of that shape: a
  /// DISTINCT, an aggregate of a DOUBLE or VARCHAR, a column read with a transform, NULLs in a
  /// key or condition, values without recorded bounds or over too wide a range, or a sum past
  /// 64 bits in a cell. `sel` holds no row a patch changes (the caller reads those).
  mutating func addDenseCounts(_ g: GroupReader, base: Int, _ sel: [Int32]) throws(SQLError)
    -> Bool
  {
    try addDenseCounts(g, base: base, .selected(sel))
  }

  /// The rows a histogram counts: those of a selection vector, or every row of the group but
  /// those of some event types (no vector built: the passes read the columns in order).
  enum DenseRows {
    case selected([Int32])
    /// Every row of the group but those `dropping` flags by type, and but `except`.
    case all(count: Int, dropping: (ColumnReader, [Bool])?, except: [Int32])
  }

  /// The histogram over every visible row of a group (see `simpleVisibility`) but the rows
  /// `except` (those with patches, which the caller reads the general way): false, having
  /// done nothing, when the plan is not of the shape, or needs each row's cell again
  /// (aggregates of values).
  mutating func addDenseCounts(
    _ g: GroupReader, base: Int, visibility: TableView.GroupVisibility, except: [Int32]
  ) throws(SQLError) -> Bool {
    switch visibility {
    case .none: return true
    case .all:
      return try addDenseCounts(g, base: base, .all(count: g.rows, dropping: nil, except: except))
    case .droppingTypes(let types, let drop):
      return try addDenseCounts(
        g, base: base, .all(count: g.rows, dropping: (types, drop), except: except))
    }
  }

  private mutating func addDenseCounts(_ g: GroupReader, base: Int, _ rows: DenseRows)
    throws(SQLError) -> Bool
  {
    var sel: [Int32] = []
    var everyRow: (count: Int, dropping: (ColumnReader, [Bool])?, except: [Int32])?
    switch rows {
    case .selected(let s): sel = s
    case .all(let count, let dropping, let except): everyRow = (count, dropping, except)
    }
    // Every row counted straight from the columns: counts, and the analyst's hidden sums of
    // the rows' keys (below), no other aggregate of values.
    let keyed = plan.aggregates.contains { $0.function == .keySum }
    if everyRow != nil
      && plan.aggregates.contains(where: { $0.operand != nil && $0.function != .keySum })
    {
      return false
    }
    for a in plan.aggregates {
      guard !a.distinct else { return false }
      guard let o = a.operand else { continue }
      guard o.transform == .none, [.bigint, .timestamp, .date].contains(plan.types[o.column])
      else { return false }
    }
    let valued = plan.aggregates.contains { $0.operand != nil }
    // The keys, then the other columns the conditions read.
    var dimensions = plan.keys
    let conditions = [plan.condition].compactMap { $0 } + plan.aggregates.compactMap(\.filter)
    for p in conditions {
      for o in FastAggregate.operands(of: p).sorted(by: { $0.column < $1.column })
      where !dimensions.contains(o) {
        dimensions.append(o)
      }
    }
    var lows: [Int64] = []
    var strides: [Int] = []
    var total = 1
    for o in dimensions {
      let c = g.columns[o.column]
      guard o.transform == .none, !c.hasNulls else { return false }
      let span: Int
      if plan.types[o.column] == .varchar {
        guard c.isDictionary, c.dictionaryCount > 0 else { return false }
        lows.append(0)
        span = max(c.dictionaryCount, 1)
      } else {
        guard plan.types[o.column] != .double, let b = c.intBounds,
          case (let width, let overflow) = b.upperBound.subtractingReportingOverflow(b.lowerBound),
          !overflow, width < 1 << 16
        else { return false }
        lows.append(b.lowerBound)
        span = Int(width) + 1
      }
      strides.append(total)
      total *= span
      guard total <= 1 << 16 else { return false }
    }
    // The histogram: one pass over the rows, a column at a time into the cells.
    // All but the last column add their part to each row's cell; the last adds its own and
    // counts the cell (one column: no cells at all).
    var histogram = [Int](repeating: 0, count: total)
    if let everyRow {
      // No aggregate of values here (see above), so no cell is needed after its count.
      if dimensions.isEmpty && everyRow.dropping != nil { return false }
      var cells = [Int32](repeating: 0, count: dimensions.count > 1 ? everyRow.count : 0)
      for (k, o) in dimensions.enumerated() {
        let column = g.columns[o.column]
        cells.withUnsafeMutableBufferPointer { cells in
          if k < dimensions.count - 1 {
            column.addCells(
              allOf: everyRow.count, low: lows[k], stride: Int32(strides[k]),
              into: cells.baseAddress!)
          } else {
            histogram.withUnsafeMutableBufferPointer { h in
              column.countCells(
                allOf: everyRow.count, low: lows[k], stride: Int32(strides[k]),
                adding: k > 0 ? UnsafePointer(cells.baseAddress!) : nil,
                dropping: everyRow.dropping?.0, everyRow.dropping?.1 ?? [],
                into: h.baseAddress!, cellCount: h.count)
            }
          }
        }
      }
      if dimensions.isEmpty { histogram[0] = everyRow.count }
      // The rows left to the caller leave their cells, as the stored vectors counted them.
      for r32 in everyRow.except {
        let r = Int(r32)
        if let (types, drop) = everyRow.dropping, types.isValid(r),
          drop[min(types.code(r), drop.count - 1)]
        {
          continue
        }
        var cell = 0
        for (k, o) in dimensions.enumerated() {
          let c = g.columns[o.column]
          let part =
            plan.types[o.column] == .varchar
            ? min(c.code(r), max(c.dictionaryCount, 1) - 1) : Int(c.int64(r) &- lows[k])
          cell = cell &+ part &* strides[k]
        }
        histogram[ColumnReader.within(cell, histogram.count - 1)] -= 1
      }
      guard keyed else {
        return try addCounts(histogram, g, dimensions, conditions, lows, strides, [], [])
      }
      if dimensions.isEmpty { return false }
      let (valueCounts, valueStates) = keySums(g, everyRow, dimensions, lows, strides, histogram)
      return try addCounts(
        histogram, g, dimensions, conditions, lows, strides, valueCounts, valueStates)
    }
    // (Aggregates of values read each row's cell again: then every column adds to it.)
    var cells = [Int32](repeating: 0, count: dimensions.count > 1 || valued ? sel.count : 0)
    for (k, o) in dimensions.enumerated() {
      let column = g.columns[o.column]
      cells.withUnsafeMutableBufferPointer { cells in
        sel.withUnsafeBufferPointer { sel in
          if k < dimensions.count - 1 || valued {
            column.addCells(sel, low: lows[k], stride: Int32(strides[k]), into: cells.baseAddress!)
          } else {
            histogram.withUnsafeMutableBufferPointer { h in
              column.countCells(
                sel, low: lows[k], stride: Int32(strides[k]),
                adding: k > 0 ? UnsafePointer(cells.baseAddress!) : nil, into: h.baseAddress!,
                cellCount: h.count)
            }
          }
        }
      }
    }
    if valued {
      histogram.withUnsafeMutableBufferPointer { h in
        for cell in cells { h[ColumnReader.within(Int(cell), h.count - 1)] += 1 }
      }
    } else if dimensions.isEmpty {
      histogram[0] = sel.count
    }
    // Per aggregate of a column: its values' count, and their sum (or least, or greatest),
    // by cell.
    var valueCounts: [[Int64]] = plan.aggregates.map { _ in [] }
    var valueStates: [[Int64]] = plan.aggregates.map { _ in [] }
    for (j, a) in plan.aggregates.enumerated() {
      guard let o = a.operand else { continue }
      let column = g.columns[o.column]
      if a.function == .keySum {
        // The analyst's hidden sum of the rows' keys: their seqs read at once, and hashed only
        // in the cells its FILTER keeps (a count of events by type needs the keys of the
        // person-level types' rows alone, a tenth of them).
        var rows = sel
        var rowCells = cells.map { ColumnReader.within(Int($0), total - 1) }
        if let f = a.filter {
          let keep = cellsPassing(f, histogram, g, dimensions, lows, strides)
          let kept = rowCells.indices.filter { keep[rowCells[$0]] }
          if kept.count < rows.count {
            rows = kept.map { sel[$0] }
            rowCells = kept.map { rowCells[$0] }
          }
        }
        var xs = [Int64](repeating: 0, count: rows.count)
        rows.withUnsafeBufferPointer { s in
          xs.withUnsafeMutableBufferPointer { column.gatherInt64(s, into: $0.baseAddress!) }
        }
        var n = [Int64](repeating: 0, count: total)
        var state = [Int64](repeating: 0, count: total)
        for i in 0..<rows.count {
          let cell = rowCells[i]
          guard column.isValid(Int(rows[i])) else { continue }
          n[cell] += 1
          state[cell] = state[cell] &+ Int64(bitPattern: CellKey.recordKey(xs[i]))
        }
        valueCounts[j] = n
        valueStates[j] = state
        continue
      }
      var n = [Int64](repeating: 0, count: total)
      var state = [Int64](
        repeating: a.function == .min ? .max : a.function == .max ? .min : 0, count: total)
      var overflow = false
      for (i, r32) in sel.enumerated() {
        let r = Int(r32)
        guard column.isValid(r) else { continue }
        let cell = ColumnReader.within(Int(cells[i]), total - 1)
        let x = column.int64(r)
        n[cell] += 1
        switch a.function {
        case .min: state[cell] = min(state[cell], x)
        case .max: state[cell] = max(state[cell], x)
        case .sum, .avg:
          let (sum, o) = state[cell].addingReportingOverflow(x)
          state[cell] = sum
          overflow = overflow || o
        case .count: break
        case .keySum:
          state[cell] = Int64(bitPattern: UInt64(bitPattern: state[cell]) &+ CellKey.recordKey(x))
        }
      }
      if overflow { return false }
      valueCounts[j] = n
      valueStates[j] = state
    }
    return try addCounts(
      histogram, g, dimensions, conditions, lows, strides, valueCounts, valueStates)
  }

  /// Beside the histogram of every row of a group (but `except`, and the types dropped): by
  /// cell, the rows and the sum of their keys of each of the plan's `keySum` aggregates (the
  /// analyst's perturbed counts, `CellKey`). A key whose FILTER keeps some values of a
  /// dictionary column (a count of events by type: the person-level types') reads only the
  /// rows of those codes, found sixteen at a time; another reads every row, its cell made
  /// whole first. The counts themselves stay the passes over the columns the auditor's take.
  private mutating func keySums(
    _ g: GroupReader, _ everyRow: (count: Int, dropping: (ColumnReader, [Bool])?, except: [Int32]),
    _ dimensions: [FastAggregate.Operand], _ lows: [Int64], _ strides: [Int], _ histogram: [Int]
  ) -> ([[Int64]], [[Int64]]) {
    let total = histogram.count
    let count = everyRow.count
    // The rows the caller reads itself (patched); those of a dropped type are found as each
    // row is visited, not in a pass over the group.
    var skipped = [Bool](repeating: false, count: count)
    for r in everyRow.except { skipped[Int(r)] = true }
    let dropping = everyRow.dropping
    var valueCounts: [[Int64]] = plan.aggregates.map { _ in [] }
    var valueStates: [[Int64]] = plan.aggregates.map { _ in [] }
    for (j, a) in plan.aggregates.enumerated() where a.function == .keySum {
      guard let o = a.operand else { continue }
      let column = g.columns[o.column]
      var rows: [Int32]?
      var keep: [Bool]?
      if let f = a.filter {
        if case .member(let t, let set, let strings, negated: false) = f, set.isEmpty,
          t.transform == .none, plan.types[t.column] == .varchar, g.columns[t.column].isDictionary
        {
          let c = g.columns[t.column]
          let wanted = Set(strings.map { constantBytes[$0] })
          let flags = (0..<c.dictionaryCount).map { wanted.contains(Array(c.dictionaryEntry($0))) }
          c.select(&rows, codes: flags)
        } else {
          keep = cellsPassing(f, histogram, g, dimensions, lows, strides)
        }
      }
      let n = rows?.count ?? count
      var cells = [Int32](repeating: 0, count: n)
      var xs = [Int64](repeating: 0, count: n)
      cells.withUnsafeMutableBufferPointer { cells in
        for (k, d) in dimensions.enumerated() {
          let c = g.columns[d.column]
          if let rows {
            rows.withUnsafeBufferPointer {
              c.addCells($0, low: lows[k], stride: Int32(strides[k]), into: cells.baseAddress!)
            }
          } else {
            c.addCells(
              allOf: count, low: lows[k], stride: Int32(strides[k]), into: cells.baseAddress!)
          }
        }
      }
      let all = rows ?? Array(0..<Int32(count))
      all.withUnsafeBufferPointer { r in
        xs.withUnsafeMutableBufferPointer { column.gatherInt64(r, into: $0.baseAddress!) }
      }
      var rowsIn = [Int64](repeating: 0, count: total)
      var sums = [Int64](repeating: 0, count: total)
      for i in 0..<n {
        let r = Int(all[i])
        if skipped[r] || !column.isValid(r) { continue }
        if let (types, drop) = dropping, types.isValid(r),
          drop[min(types.code(r), drop.count - 1)]
        {
          continue
        }
        let cell = ColumnReader.within(Int(cells[i]), total - 1)
        if let keep, !keep[cell] { continue }
        rowsIn[cell] += 1
        sums[cell] = sums[cell] &+ Int64(bitPattern: CellKey.recordKey(xs[i]))
      }
      valueCounts[j] = rowsIn
      valueStates[j] = sums
    }
    return (valueCounts, valueStates)
  }

  /// Whether each cell of a histogram (those with rows) meets `filter`, which reads only the
  /// histogram's dimensions.
  private mutating func cellsPassing(
    _ filter: FastAggregate.Predicate, _ histogram: [Int], _ g: GroupReader,
    _ dimensions: [FastAggregate.Operand], _ lows: [Int64], _ strides: [Int]
  ) -> [Bool] {
    var keep = [Bool](repeating: false, count: histogram.count)
    var ids: [[Int64]?] = dimensions.map { _ in nil }
    var values: [FastAggregate.Operand: ([Int64], [Bool])] = [:]
    for (cell, n) in histogram.enumerated() where n > 0 {
      var rest = cell
      for (k, o) in dimensions.enumerated().reversed() {
        let digit = rest / strides[k]
        rest %= strides[k]
        if plan.types[o.column] == .varchar {
          if ids[k] == nil {
            let c = g.columns[o.column]
            ids[k] = (0..<c.dictionaryCount).map { pool.intern(c.dictionaryEntry($0)) }
          }
          values[o] = ([ids[k]![digit]], [false])
        } else {
          values[o] = ([lows[k] + Int64(digit)], [false])
        }
      }
      keep[cell] = evaluate(filter, values, count: 1)[0]
    }
    return keep
  }

  /// Folds a histogram into the groups: `valueCounts` and `valueStates` by aggregate of a
  /// column, and by cell (empty when there is none).
  private mutating func addCounts(
    _ histogram: [Int], _ g: GroupReader, _ dimensions: [FastAggregate.Operand],
    _ conditions: [FastAggregate.Predicate], _ lows: [Int64], _ strides: [Int],
    _ valueCounts: [[Int64]], _ valueStates: [[Int64]]
  ) throws(SQLError) -> Bool {
    // Each cell met: its values (a VARCHAR's id in the pool), the conditions on them, its
    // group, its counts.
    var ids: [[Int64]?] = dimensions.map { _ in nil }
    var values: [FastAggregate.Operand: ([Int64], [Bool])] = [:]
    var key = [Int64](repeating: 0, count: plan.keys.count + 1)
    for (cell, n) in histogram.enumerated() where n > 0 {
      var rest = cell
      for (k, o) in dimensions.enumerated().reversed() {
        let digit = rest / strides[k]
        rest %= strides[k]
        let value: Int64
        if plan.types[o.column] == .varchar {
          if ids[k] == nil {
            let c = g.columns[o.column]
            ids[k] = (0..<c.dictionaryCount).map { pool.intern(c.dictionaryEntry($0)) }
          }
          value = ids[k]![digit]
        } else {
          value = lows[k] + Int64(digit)
        }
        if k < plan.keys.count { key[k] = value }
        if !conditions.isEmpty { values[o] = ([value], [false]) }
      }
      if let c = plan.condition, !evaluate(c, values, count: 1)[0] { continue }
      let group = key.withUnsafeBufferPointer { table.group($0.baseAddress!) }
      growStates()
      for (j, a) in plan.aggregates.enumerated() {
        if let f = a.filter, !evaluate(f, values, count: 1)[0] { continue }
        guard a.operand != nil else {
          counts[j][group] += Int64(n)
          continue
        }
        let (m, x) = (valueCounts[j][cell], valueStates[j][cell])
        if m == 0 { continue }
        let first = counts[j][group] == 0
        counts[j][group] += m
        switch a.function {
        case .count: break
        case .sum:
          let (sum, o) = ints[j][group].addingReportingOverflow(x)
          if o { throw SQLError.sumOverflow }
          ints[j][group] = sum
        case .avg: doubles[j][group] += Double(x)
        case .min: if first || x < ints[j][group] { ints[j][group] = x }
        case .max: if first || x > ints[j][group] { ints[j][group] = x }
        case .keySum: ints[j][group] = ints[j][group] &+ x
        }
      }
    }
    return true
  }
}
