import Domain
import Projections

extension FastAggregate.Partial {
  /// Counts of rows by keys of a few values each (a type, a unit, a year), straight from the
  /// stored vectors: one pass over the visible rows adds one to a cell of a histogram indexed
  /// by the keys' dictionary codes and offsets from their least value (the zone map's), then
  /// each cell that was met is one lookup of its group. The common question (`count(*) …
  /// GROUP BY year, type`) reads each row once instead of through the general path's vectors.
  ///
  /// Returns false, having done nothing, when the group or the plan is not of that shape: a
  /// WHERE clause, an aggregate other than `count(*)`, a key with a transform, NULLs, values
  /// without recorded bounds or over too wide a range, or corrected rows in a key column.
  mutating func addDenseCounts(_ g: GroupReader, base: Int, _ sel: [Int32]) -> Bool {
    guard plan.condition == nil, !plan.keys.isEmpty,
      plan.aggregates.allSatisfy({
        $0.function == .count && $0.operand == nil && $0.filter == nil && !$0.distinct
      })
    else { return false }
    var lows: [Int64] = []
    var strides: [Int] = []
    var total = 1
    for o in plan.keys {
      let c = g.columns[o.column]
      guard o.transform == .none, !c.hasNulls else { return false }
      if plan.view.isPatched(column: o.column)
        && !plan.view.patchedRows(from: base, count: g.rows).isEmpty
      {
        return false
      }
      let span: Int
      if plan.types[o.column] == .varchar {
        guard c.isDictionary else { return false }
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
    // The histogram: one pass over the rows, a key column at a time into the cells.
    var cells = [Int32](repeating: 0, count: sel.count)
    for (k, o) in plan.keys.enumerated() {
      cells.withUnsafeMutableBufferPointer { cells in
        sel.withUnsafeBufferPointer { sel in
          g.columns[o.column].addCells(
            sel, low: lows[k], stride: Int32(strides[k]), into: cells.baseAddress!)
        }
      }
    }
    var histogram = [Int](repeating: 0, count: total)
    histogram.withUnsafeMutableBufferPointer { h in
      for cell in cells { h[Int(cell)] += 1 }
    }
    // Each cell met: its keys (a VARCHAR's id in the pool), its group, its count.
    var key = [Int64](repeating: 0, count: plan.keys.count + 1)
    var ids: [[Int64]?] = plan.keys.map { _ in nil }
    for (cell, n) in histogram.enumerated() where n > 0 {
      var rest = cell
      for (k, o) in plan.keys.enumerated().reversed() {
        let digit = rest / strides[k]
        rest %= strides[k]
        if plan.types[o.column] == .varchar {
          if ids[k] == nil {
            let c = g.columns[o.column]
            ids[k] = (0..<c.dictionaryCount).map { pool.intern(c.dictionaryEntry($0)) }
          }
          key[k] = ids[k]![digit]
        } else {
          key[k] = lows[k] + Int64(digit)
        }
      }
      let group = key.withUnsafeBufferPointer { table.group($0.baseAddress!) }
      growStates()
      for j in plan.aggregates.indices { counts[j][group] += Int64(n) }
    }
    return true
  }
}
