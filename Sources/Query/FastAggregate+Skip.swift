import Domain
import Projections

extension FastAggregate {
  /// Whether a row of group `g` may meet `p`, judged by the group's zone map alone: the bounds
  /// of its fixed-width columns, and the dictionary of a VARCHAR column. `false` means no
  /// stored value of the group can: the scan then reads only the group's corrected rows, whose
  /// values live in the patches. `true` whenever the group does not say (no bounds recorded,
  /// an operand the map cannot judge), so a skip is never wrong.
  ///
  /// `strings`: the bytes of `constants`, as the table stores them (precomposed). `offset`:
  /// the plan's index of the group's first column (a join's right side follows the left's).
  func mayPass(_ p: Predicate, in g: GroupReader, strings: [[UInt8]], offset: Int = 0) -> Bool {
    switch p {
    case .never: return false
    case .and(let parts):
      return parts.allSatisfy { mayPass($0, in: g, strings: strings, offset: offset) }
    case .or(let parts):
      return parts.contains { mayPass($0, in: g, strings: strings, offset: offset) }
    case .isNull(let o, let negated):
      // A column with no NULLs in the group stores no validity.
      return negated || g.columns[o.column - offset].hasNulls
    case .int(let o, let op, let c):
      guard let b = bounds(o, in: g, offset: offset) else { return true }
      return Self.range(b, may: op, c)
    case .double(let o, let op, let c):
      let column = g.columns[o.column - offset]
      if types[o.column] == .double && o.transform == .none {
        guard let b = column.doubleBounds else { return true }
        return Self.range(b, may: op, c)
      }
      guard let b = bounds(o, in: g, offset: offset) else { return true }
      return Self.range(Double(b.lowerBound)...Double(b.upperBound), may: op, c)
    case .member(let o, let set, let indices, let negated):
      guard !negated else { return true }
      let column = g.columns[o.column - offset]
      if !indices.isEmpty {
        guard o.transform == .none, column.isDictionary else { return true }
        return indices.contains { i in
          strings[i].withUnsafeBytes { column.dictionaryContains($0) }
        }
      }
      guard let b = bounds(o, in: g, offset: offset) else { return true }
      return set.contains { b.contains($0) }
    }
  }

  /// The bounds of an operand's values in group `g`: a column's own, or its years (the only
  /// transform that keeps order); nil when the group does not record them.
  private func bounds(_ o: Operand, in g: GroupReader, offset: Int) -> ClosedRange<Int64>? {
    guard types[o.column] != .double, types[o.column] != .varchar,
      let b = g.columns[o.column - offset].intBounds
    else { return nil }
    switch o.transform {
    case .none: return b
    case .year:
      let micros = types[o.column] == .timestamp
      func year(_ v: Int64) -> Int64 {
        Timestamp.civilFromDays(micros ? floorDiv(v, 86_400_000_000) : v).0
      }
      return year(b.lowerBound)...year(b.upperBound)
    case .month, .quarter, .day, .planPeriod: return nil
    }
  }

  /// Whether some value in `b` may stand in relation `op` to `c`.
  private static func range<T: Comparable>(_ b: ClosedRange<T>, may op: Op, _ c: T) -> Bool {
    switch op {
    case .eq: b.contains(c)
    case .ne: !(b.lowerBound == c && b.upperBound == c)
    case .lt: b.lowerBound < c
    case .le: b.lowerBound <= c
    case .gt: b.upperBound > c
    case .ge: b.upperBound >= c
    }
  }
}
