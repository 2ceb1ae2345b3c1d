import Domain
import Foundation
import Projections

extension FastAggregate.Partial {
  // MARK: Which rows and values a scan reads

  /// In a join whose left key is VARCHAR and read by no operand but `textOnly`: the probe
  /// reads the key's bytes and finds them in the pool, adding none (the left table's ids,
  /// mostly of keys with no match, were most of a join's time).
  var joinTextKey: Bool {
    guard let j = plan.join, plan.types[j.leftKey] == .varchar,
      plan.types[j.leftColumns + j.rightKey] == .varchar
    else { return false }
    return plan.operands.allSatisfy { $0.column != j.leftKey || $0 == textOnly }
  }

  /// The operand of `count(DISTINCT x)` that can skip the string pool: a VARCHAR column
  /// read with no transform, by no key, other aggregate, or condition or FILTER but for
  /// `IS [NOT] NULL`, in a plan without a join (whose rows carry interned ids).
  ///
  /// In a join, the left table's join key may be that operand: the probe then looks each
  /// row's key up in the pool without adding it (see `joinTextKey`).
  static func textOnlyOperand(of plan: FastAggregate) -> FastAggregate.Operand? {
    let distinct = Set(plan.aggregates.filter(\.distinct).compactMap(\.operand)).filter { o in
      plan.join.map { o.column == $0.leftKey } ?? true
    }
    guard distinct.count == 1, let o = distinct.first, o.transform == .none,
      plan.types[o.column] == .varchar, !plan.keys.contains(where: { $0.column == o.column })
    else { return nil }
    // Conditions may test it for NULL only (its values are then indices, not ids).
    guard testsOnlyNulls(of: o.column, in: plan) else { return nil }
    for a in plan.aggregates where a.operand?.column == o.column {
      guard a.distinct, a.function == .count || a.function == .keySum, a.operand == o else {
        return nil
      }
    }
    guard plan.operands.filter({ $0.column == o.column }).count == 1 else { return nil }
    return o
  }

  /// The rows of group `g` (table rows) that may meet the WHERE clause, found from its
  /// conjuncts that compare a column with constants (a dictionary code, an integer range)
  /// or require a value (`x IS NOT NULL`), in one pass over the stored values each: the rows whose stored values meet them and
  /// the rows with patches of those columns (the clause is still tested on every row
  /// returned). Nil when no conjunct is of the kind.
  func prefiltered(_ g: GroupReader, base: Int) -> [Int]? {
    guard let c = plan.condition else { return nil }
    let parts: [FastAggregate.Predicate]
    if case .and(let p) = c { parts = p } else { parts = [c] }
    var rows: [Int32]?
    var flags = [Bool](repeating: false, count: plan.types.count)
    for p in parts {
      switch p {
      case .member(let o, let set, let strings, negated: false)
      where o.transform == .none && plan.types[o.column] == .varchar && set.isEmpty:
        let column = g.columns[o.column]
        guard column.isDictionary else { continue }
        var keep = [Bool](repeating: false, count: column.dictionaryCount)
        for i in strings {
          if let k = constantBytes[i].withUnsafeBytes({ column.dictionaryCode(of: $0) }) {
            keep[k] = true
          }
        }
        column.select(&rows, codes: keep)
        flags[o.column] = true
      case .int(let o, let op, let x)
      where o.transform == .none && plan.types[o.column] != .varchar
        && plan.types[o.column] != .double:
        let range: (Int64, Int64)
        switch op {
        case .eq: range = (x, x)
        case .lt: range = x == .min ? (1, 0) : (.min, x - 1)
        case .le: range = (.min, x)
        case .gt: range = x == .max ? (1, 0) : (x + 1, .max)
        case .ge: range = (x, .max)
        case .ne: continue
        }
        g.columns[o.column].select(&rows, low: range.0, high: range.1)
        flags[o.column] = true
      case .isNull(let o, negated: true) where o.transform == .none:
        // Only the rows with a value (a case id is on one event in nine) can pass.
        g.columns[o.column].selectValid(&rows)
        flags[o.column] = true
      default: continue
      }
    }
    guard let rows else { return nil }
    var out = rows.map { base + Int($0) }
    let patched = plan.view.patchedRows(from: base, count: g.rows, touching: flags)
    if !patched.isEmpty { out = Array(Set(out).union(patched)).sorted() }
    return out
  }

  /// The operands read for their NULLs alone: a column with no transform, in no key, that
  /// aggregates only as `count(x)` (not DISTINCT) and conditions only test for NULL, in a
  /// plan without a join.
  static func nullOnlyOperands(of plan: FastAggregate) -> Set<FastAggregate.Operand> {
    guard plan.join == nil else { return [] }
    var out: Set<FastAggregate.Operand> = []
    for o in Set(plan.operands) where o.transform == .none {
      guard plan.operands.filter({ $0.column == o.column }).count == 1,
        !plan.keys.contains(where: { $0.column == o.column }),
        plan.aggregates.allSatisfy({
          $0.operand?.column != o.column || ($0.function == .count && !$0.distinct)
        })
      else { continue }
      if testsOnlyNulls(of: o.column, in: plan) { out.insert(o) }
    }
    return out
  }

  /// Whether the plan's WHERE clause and FILTERs test `column` for NULL and nothing else.
  static func testsOnlyNulls(of column: Int, in plan: FastAggregate) -> Bool {
    func only(_ p: FastAggregate.Predicate) -> Bool {
      switch p {
      case .isNull, .never: return true
      case .int(let x, _, _), .double(let x, _, _), .member(let x, _, _, _):
        return x.column != column
      case .and(let parts), .or(let parts): return parts.allSatisfy(only)
      }
    }
    let conditions = [plan.condition].compactMap { $0 } + plan.aggregates.compactMap(\.filter)
    return conditions.allSatisfy(only)
  }

  /// The rows of group `g` a scan reads (table-wide, as `plan.only`; nil: all): all of
  /// `plan.only`, unless the group's zone map says that no stored value meets the
  /// condition, when only its corrected rows may (and `skip` when it has none).
  func rowsToRead(_ g: GroupReader, base: Int) -> (skip: Bool, only: [Int]?) {
    guard let c = plan.condition, !plan.mayPass(c, in: g, strings: constantBytes) else {
      return (false, plan.only)
    }
    var rows = plan.view.patchedRows(from: base, count: g.rows, touching: conditionColumns)
    if let only = plan.only { rows = rows.filter { TableView.contains(only, $0) } }
    return (rows.isEmpty, rows)
  }
}
