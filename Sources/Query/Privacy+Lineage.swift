/// What an expression carries under the analyst role's rules (its lineage), and the
/// window functions, categories and derivations it may go through.
extension Engine {
  /// What an expression carries. In a grouped statement a count over person-level rows is a
  /// person count; a count by the events' type is one only in those rows whose type is.
  func lineage(
    _ e: Expr, _ r: PrivacyRelation, ctes: [String: PrivacyRelation], grouped: Bool = false,
    byType: Bool = false
  ) throws(SQLError) -> Lineage {
    func sub(_ x: Expr) throws(SQLError) -> Lineage {
      try lineage(x, r, ctes: ctes, grouped: grouped, byType: byType)
    }
    switch e.kind {
    case .column(let t, let n):
      return r.columns.last { $0.name == n && (t == nil || $0.table == t) }?.lineage ?? []
    case .cast(let x, _):
      // A count cast to text is no longer an integer to suppress; a stored time cast to a date
      // is still a stored time.
      let inner = try sub(x)
      return derive(inner, keepDetail: true).union(inner.intersection(.storedTime))
    case .subquery(let q):
      // One value, checked as a statement of its own.
      var l = try analyze(q, ctes: ctes, top: true).columns.first?.lineage ?? []
      l.remove(.groupSize)
      return l
    case .inQuery(let x, let q, _):
      // What the subquery returns is compared with: it is checked as a statement of its own,
      // and its column's lineage is the comparison's too.
      let inner = try analyze(q, ctes: ctes, top: true).columns.first?.lineage ?? []
      return derive(try sub(x).union(inner))
    case .function(let c):
      var args = Lineage()
      for a in c.args { args.formUnion(try sub(a)) }
      if let f = c.filter {
        try checkFilter(f, r, ctes: ctes, clause: "FILTER")
      }
      let name = c.name.lowercased()
      if let w = c.over {
        var around = args
        for x in w.partitionBy + w.orderBy.map(\.expr) { around.formUnion(try sub(x)) }
        return try window(around, r, grouped: grouped, at: e.at)
      }
      guard Functions.aggregates.contains(name) else {
        // A category only of a time as stored: `year(<an amount made into a date>)` would
        // tell the amount.
        let time = Self.coarsens(c) ? c.args.last : nil
        let stored =
          try time.map { (x: Expr) throws(SQLError) -> Bool in
            try sub(x).contains(.storedTime)
          } ?? false
        return derive(args, keepDetail: !stored)
      }
      var rows = r
      if let f = c.filter, onlyOtherTypes(f, r) { rows = withoutPersonRows(r) }
      let personal = rows.personRows != nil
      var l: Lineage = [.aggregate]
      switch name {
      case "count":
        if personal || args.contains(.person) {
          if rows.tables > 1 && !c.distinct {
            throw refuse(
              "count over a join with \(rows.personRows ?? "a person-level table") counts pairs"
                + " of rows, not persons: count(DISTINCT …) of that table's id or person",
              at: e.at)
          }
          l.insert(byType && !args.contains(.person) ? .personCountByType : .personCount)
          if args.contains(.person) {
            // A pseudonym is counted as it is, and nothing else: `count(CASE WHEN person
            // LIKE 'P-9%' …)` would read it a character at a time.
            guard c.args.count == 1, Self.isStoredColumn(c.args.first) else {
              throw refuse(
                "person may be counted (count(DISTINCT person)), not computed on: the analyst"
                  + " role may not read a pseudonym in any form", at: e.at)
            }
            if c.distinct { l.insert(.distinct) }
          }
          try noteCellKey(
            e.at, .count, distinct: c.distinct, byType: l.contains(.personCountByType), rows)
        }
        // A count of what is computed from counts (`count(CASE WHEN n = 1 …)`) tells them.
        if args.isCount || !args.intersection([.derived, .personValue]).isEmpty {
          l.insert(.derived)
        }
      default:
        if args.contains(.person) {
          l.insert(.person)
        } else if args.isCount {
          // A sum, least or greatest of person counts is itself one; an average is not.
          l.formUnion(
            name == "avg" ? .derived : args.intersection([.personCount, .personCountByType]))
        } else if personal && (name == "min" || name == "max")
          && !args.intersection([.measure, .detail]).isEmpty
        {
          throw refuse(
            "\(name)() of a person-level id, amount or time is one record's value, whatever the"
              + " group: the analyst role sees sums and averages beside their count", at: e.at)
        } else if personal && args.contains(.measure) {
          if !Self.isStoredColumn(c.args.first) || c.distinct {
            throw refuse(
              "\(name)() of an expression over person-level rows can pick out one record (a CASE"
                + " that is zero elsewhere): the analyst role sums an amount as it is stored,"
                + " with the selection in FILTER (WHERE …)", at: e.at)
          }
          if rows.tables > 1 {
            throw refuse(
              "\(name)() over a join with \(rows.personRows ?? "a person-level table") adds up"
                + " rows more than once: aggregate that table on its own", at: e.at)
          }
          l.insert(.personValue)
          if name == "sum" || name == "avg" {
            try noteCellKey(e.at, name == "sum" ? .sum : .avg, distinct: false, byType: false, rows)
          }
        } else if personal && (name == "sum" || name == "avg") {
          // `sum(1)`, `sum(10)`, `avg(CASE … THEN 1 ELSE 0 END)`: counts by other names.
          throw refuse(
            "\(name)() of what is not an amount over person-level rows is a count in another"
              + " form: count(*) FILTER (WHERE …) counts, and small counts are then hidden",
            at: e.at)
        }
        l.formUnion(args.intersection([.personValue, .derived]))
      }
      return l
    default:
      var parts = Lineage()
      for x in e.children { parts.formUnion(try sub(x)) }
      return derive(parts, keepDetail: true)
    }
  }

  /// Notes that the aggregate call at `at` of the statement's text counts persons or sums
  /// their amounts over the rows of `rows`, for the executor to perturb (`CellKey`). A count
  /// of rows, a sum and an average are keyed by each row's `seq` (or `id`, or its person's
  /// pseudonym, as a subquery passes them on): a subquery of person-level rows that leaves
  /// them all out leaves nothing that tells its rows apart, and a key shared by many rows (a
  /// unit) would let `LIMIT k` subqueries of known size learn the noise of each count; no
  /// answer is better than one that can be solved back.
  func noteCellKey(
    _ at: Int, _ kind: CellKeyRule.Kind, distinct: Bool, byType: Bool, _ rows: PrivacyRelation
  ) throws(SQLError) {
    // A view's definition is read for its columns' lineage; its rows are read as built.
    guard privacySource.isEmpty else { return }
    var key: String?
    if !distinct {
      let keys = rows.columns.filter { $0.lineage.contains(.rowKey) }.map(\.name)
      key = ["seq", "id", "person"].first { keys.contains($0) }
      guard key != nil else {
        throw refuse(
          "counts and sums over rows of \(rows.personRows ?? "a person-level table") carry"
            + " noise keyed by each row's seq, which this subquery leaves out: select seq in it"
            + " too (it is not shown)", at: at)
      }
    }
    cellKeyRules[at] = CellKeyRule(
      kind: kind, distinct: distinct, byType: byType, keyColumn: key)
  }

  /// A window function: over the groups of a grouped statement, of what is not a person's
  /// (a rank of units by their tips). Over counts of persons or a person's values it would show
  /// them in another form (a running sum gives each count as a difference, `lag` a hidden
  /// neighbour, a rank by `count(*) = 2` which counts are 2); over a person's rows, each row.
  func window(_ around: Lineage, _ r: PrivacyRelation, grouped: Bool, at: Int)
    throws(SQLError) -> Lineage
  {
    if !grouped && r.personRows != nil {
      throw refuse(
        "a window function over the rows of \(r.personRows!) works on each person's record: the"
          + " analyst role uses windows over grouped results", at: at)
    }
    let sensitive: Lineage = [
      .person, .personCount, .personCountByType, .personValue, .measure, .detail, .derived,
    ]
    if !around.intersection(sensitive).isEmpty {
      throw refuse(
        "a window function over counts of persons (or a person's values) would show them in"
          + " another form (a running sum, a neighbour, a rank): the analyst role sees such"
          + " counts only as shown", at: at)
    }
    return [.aggregate]
  }

  /// A computation on a person count is no count any more, but carries it. A function of a
  /// detail (`year(occurred_at)`) makes it a category.
  func derive(_ l: Lineage, keepDetail: Bool) -> Lineage {
    var out = l.intersection([.person, .derived, .aggregate, .personValue, .measure])
    if keepDetail { out.formUnion(l.intersection([.detail])) }
    if l.isCount { out.insert(.derived) }
    return out
  }

  func derive(_ l: Lineage) -> Lineage { derive(l, keepDetail: true) }

  /// Whether `e` is a column as stored (or a cast of one).
  static func isStoredColumn(_ e: Expr?) -> Bool {
    switch e?.kind {
    case .column?: return true
    case .cast(let x, _)?: return isStoredColumn(x)
    default: return false
    }
  }

  /// Whether a function makes a time a category (a year, a quarter, a month), not a finer
  /// one that would still tell one record's time (`date_trunc('day', …)`).
  static func coarsens(_ c: Expr.Call) -> Bool {
    let coarse: Set<String> = ["year", "quarter", "month", "decade", "century", "millennium"]
    // Of a time as it is stored: `year(<an amount made into a date>)` tells the amount.
    switch c.name.lowercased() {
    case "year", "quarter", "month", "plan_period": return isStoredColumn(c.args.first)
    case "date_trunc", "date_part", "datepart", "datetrunc":
      guard case .string(let unit)? = c.args.first?.kind, c.args.count == 2 else { return false }
      return coarse.contains(unit.lowercased()) && isStoredColumn(c.args[1])
    default: return false
    }
  }

  func aggregateCalls(_ e: Expr, into out: inout [Expr]) {
    if case .function(let c) = e.kind, c.over == nil,
      Functions.aggregates.contains(c.name.lowercased())
    {
      out.append(e)
      return
    }
    for x in e.children { aggregateCalls(x, into: &out) }
  }
}
