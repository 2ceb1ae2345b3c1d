/// The executor's part of cell-key perturbation (`CellKey`): the hidden aggregates a grouped
/// statement computes beside the analyst's counts and sums of persons, and the noise they
/// draw, applied where those aggregates are computed, before HAVING, windows, ORDER BY and any
/// statement above reads them. So a count summed over a subquery is a sum of perturbed counts,
/// a sort by a count sorts what is shown, and small-cell suppression, which runs on the answer,
/// hides exactly the cells it would hide on the true counts (the noise never moves a count
/// across 0, 1…minCell-1 and minCell…).
struct CellKeyRule {
  enum Kind { case count, sum, avg }
  var kind: Kind
  /// `count(DISTINCT x)`: the contributors are the distinct values of `x`; otherwise the
  /// rows, keyed by their `seq`.
  var distinct: Bool
  /// A count of `events` by their type: perturbed only in the groups of person-level types
  /// (the others are counts of inspections, tips …, not of persons).
  var byType: Bool
  /// The column that keys the rows of a count of rows, a sum or an average: `seq`, else `id`,
  /// else `person`, as the rows' relation has them (nil for a DISTINCT count).
  var keyColumn: String?
}

/// What one grouped statement adds to its aggregates, and which of them it perturbs.
struct CellKeyPlan {
  struct Target {
    /// The perturbed aggregate, among the statement's own.
    var aggregate: Int
    var rule: CellKeyRule
    /// Among `hidden`: the sum of the contributors' record keys; for a sum or an average,
    /// the count of its contributors and their largest and smallest values.
    var keySum: Int
    var count: Int?
    var largest: Int?
    var smallest: Int?
  }
  var hidden: [Expr.Call] = []
  var targets: [Target] = []
  /// For each hidden aggregate that sums the record keys of distinct values: the statement's
  /// `count(DISTINCT …)` of the same values and FILTER, whose deduplication it shares.
  var twins: [Int: Int] = [:]
  /// The group key that is the events' type, for counts by type.
  var typeKey: Int?
}

extension Engine {
  /// The name of the hidden aggregate that sums record keys: no statement can spell it.
  static let cellKeyAggregate = "cell key"

  /// The rule for a grouped statement's aggregate call: its own, or that of a call of the
  /// same text (`ORDER BY count(*)` beside `count(*) AS n`), so that what is sorted or
  /// filtered on is what is shown.
  func cellKeyRule(_ call: Expr, among calls: [Expr]) -> CellKeyRule? {
    if let r = cellKeyRules[call.at] { return r }
    let text = call.rendered
    for c in calls where c.rendered == text {
      if let r = cellKeyRules[c.at] { return r }
    }
    return nil
  }

  /// The hidden aggregates a grouped statement needs for the calls the analysis marked, or
  /// nil when it perturbs nothing (the auditor's statements, and those over no person).
  func cellKeyPlan(_ calls: [Expr], keys: [Expr]) -> CellKeyPlan? {
    guard policy != nil, !cellKeyRules.isEmpty else { return nil }
    var plan = CellKeyPlan()
    var seen: [String: Int] = [:]
    func hidden(_ c: Expr.Call) -> Int {
      let text = "\(c.name)|\(c.distinct)|\(c.args.map(\.rendered))|\(c.filter?.rendered ?? "")"
      if let i = seen[text] { return i }
      plan.hidden.append(c)
      seen[text] = plan.hidden.count - 1
      return plan.hidden.count - 1
    }
    for (j, e) in calls.enumerated() {
      guard let rule = cellKeyRule(e, among: calls), case .function(let c) = e.kind else {
        continue
      }
      let at = e.at
      let seq = Expr(.column(table: nil, name: rule.keyColumn ?? "seq"), at: at)
      // The rows a count of x or a sum of x adds up: its FILTER's, where x is not NULL.
      var rows = c.filter
      if let x = c.args.first, !c.star {
        let valued = Expr(.isNull(x, negated: true), at: at)
        rows = rows.map { Expr(.binary(op: "AND", $0, valued), at: at) } ?? valued
      }
      // By type, only the person-level types' cells are perturbed: only their rows' keys are
      // summed (the vectorized path hashes no other row).
      if rule.byType {
        let types = PrivacyPolicy.personTypes.sorted().map { Expr(.string($0), at: at) }
        let personal = Expr(
          .inList(Expr(.column(table: nil, name: "type"), at: at), types, negated: false), at: at)
        rows = rows.map { Expr(.binary(op: "AND", $0, personal), at: at) } ?? personal
      }
      var target = CellKeyPlan.Target(aggregate: j, rule: rule, keySum: 0)
      if rule.distinct {
        target.keySum = hidden(
          Expr.Call(
            name: Self.cellKeyAggregate, args: c.args, distinct: true, filter: c.filter))
        plan.twins[target.keySum] = j
      } else {
        target.keySum = hidden(
          Expr.Call(name: Self.cellKeyAggregate, args: [seq], filter: rows))
      }
      if rule.kind != .count, let x = c.args.first {
        target.count = hidden(Expr.Call(name: "count", args: [x], filter: c.filter))
        target.largest = hidden(Expr.Call(name: "max", args: [x], filter: c.filter))
        target.smallest = hidden(Expr.Call(name: "min", args: [x], filter: c.filter))
      }
      plan.targets.append(target)
    }
    guard !plan.targets.isEmpty else { return nil }
    plan.typeKey = keys.firstIndex {
      if case .column(_, "type") = $0.kind { return true }
      return false
    }
    return plan
  }

  /// Adds the noise of `plan` to the aggregates of `b` (the statement's `keyCount` keys, then
  /// its `aggregateCount` aggregates, then the hidden ones), and drops the hidden columns.
  func perturb(_ b: inout Batch, _ plan: CellKeyPlan, keyCount: Int, aggregateCount: Int) {
    let secret = cellKeySecret
    let minCell = self.minCell
    let hiddenAt = keyCount + aggregateCount
    func int(_ column: Int, _ g: Int) -> Int64 {
      if case .int(let x) = b.columns[column].value(g) { return x }
      return 0
    }
    func magnitude(_ column: Int?, _ g: Int) -> Double {
      guard let column else { return 0 }
      return Cast.double(b.columns[hiddenAt + column].value(g)).map(abs) ?? 0
    }
    for t in plan.targets {
      let column = keyCount + t.aggregate
      for g in 0..<b.count {
        if t.rule.byType, let k = plan.typeKey, case .text(let type) = b.columns[k].value(g),
          !PrivacyPolicy.personTypes.contains(type)
        {
          continue
        }
        let keySum = UInt64(bitPattern: int(hiddenAt + t.keySum, g))
        let value = b.columns[column].value(g)
        switch t.rule.kind {
        case .count:
          guard case .int(let n) = value else { continue }
          let d = CellKey.countNoise(n, keySum: keySum, minCell: minCell, secret: secret)
          b.columns[column].ints[g] = n + d
        case .sum, .avg:
          let n = t.count.map { int(hiddenAt + $0, g) } ?? 0
          let largest = max(magnitude(t.largest, g), magnitude(t.smallest, g))
          let e = CellKey.sumNoise(n, keySum: keySum, largest: largest, secret: secret)
          switch (t.rule.kind, value) {
          case (.sum, .int(let s)):
            let (x, overflow) = s.addingReportingOverflow(Int64(e.rounded()))
            b.columns[column].ints[g] = overflow ? s : x
          case (.sum, .double(let s)):
            b.columns[column].doubles[g] = s + e
          case (.avg, .double(let a)):
            // Over the perturbed count of the same rows, the count(x) shown beside it: the
            // three agree, and the true count is not their quotient.
            let d = CellKey.countNoise(n, keySum: keySum, minCell: minCell, secret: secret)
            b.columns[column].doubles[g] = (a * Double(n) + e) / Double(max(1, n + d))
          default: continue
          }
        }
        perturbedCells += 1
      }
    }
    b.columns.removeLast(plan.hidden.count)
  }
}

/// The columns of a materialized view that count persons or sum their amounts, found from its
/// recorded definition. A view is built exact (the auditor reads it as it is); the analyst's
/// reads perturb these cells as they come, each keyed by the view, the column and the values
/// of the row's other columns (its province, its year): the same cell always gets the same
/// noise, two cells unrelated noise, so that sums over a view's rows (with and without one
/// province) no longer give a small cell by subtraction. A sum has no record of its largest
/// amount here: it is perturbed by 20–50 % of its mean (its value over its count; cellKey's
/// "mean" magnifier), an average by that over its count.
struct ViewCellKeys {
  enum Kind { case count, countByType, value }
  var names: [String]
  var targets: [(column: Int, kind: Kind, count: Int?)] = []
  /// The columns that say which cell a row is.
  var dimensions: [Int] = []
  var typeColumn: Int?

  init(_ r: PrivacyRelation) {
    names = r.columns.map(\.name)
    for (i, c) in r.columns.enumerated() {
      let l = c.lineage
      if l.contains(.eventType) { typeColumn = i }
      if l.contains(.personCount) {
        targets.append((i, .count, nil))
      } else if l.contains(.personCountByType) {
        targets.append((i, .countByType, nil))
      } else if l.contains(.personValue) {
        let pair = c.pairedWith.flatMap { p in r.columns.firstIndex { $0.name == p } }
        targets.append((i, .value, pair))
      } else if !l.contains(.aggregate) && !l.contains(.derived) {
        dimensions.append(i)
      }
    }
  }

  /// Whether the view as stored has the columns its definition names.
  func matches(_ stored: [String]) -> Bool { !targets.isEmpty && stored == names }

}

extension Engine {
  /// Adds the noise of `keys` to a batch of view `view`'s rows, every column of them (each
  /// cell's key needs its row's dimensions).
  func perturb(_ b: inout Batch, _ keys: ViewCellKeys, view: String) {
    let secret = cellKeySecret
    let minCell = self.minCell
    for (column, kind, pair) in keys.targets {
      let base = CellKey.recordKey(.text("view \(view).\(keys.names[column])"))
      for i in 0..<b.count {
        if kind == .countByType, let t = keys.typeColumn,
          case .text(let type) = b.columns[t].value(i),
          !PrivacyPolicy.personTypes.contains(type)
        {
          continue
        }
        var key = base
        for d in keys.dimensions {
          key =
            key
            &+ StringPool.mix(
              CellKey.recordKey(b.columns[d].value(i)) &+ UInt64(d + 1) &* 0x9E37_79B9_7F4A_7C15)
        }
        switch (kind, b.columns[column].value(i)) {
        case (.count, .int(let n)), (.countByType, .int(let n)):
          b.columns[column].ints[i] =
            n + CellKey.countNoise(n, keySum: key, minCell: minCell, secret: secret)
        case (.value, let v) where !v.isNull:
          var n: Int64 = 1
          if let pair, case .int(let c) = b.columns[pair].value(i) { n = max(1, c) }
          let x = Cast.double(v) ?? 0
          let e = CellKey.sumNoise(n, keySum: key, largest: abs(x) / Double(n), secret: secret)
          if case .int(let s) = v {
            let (y, overflow) = s.addingReportingOverflow(Int64(e.rounded()))
            b.columns[column].ints[i] = overflow ? s : y
          } else {
            b.columns[column].doubles[i] = x + e
          }
        default: continue
        }
        perturbedCells += 1
      }
    }
  }
}
