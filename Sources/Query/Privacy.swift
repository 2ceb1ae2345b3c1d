import Projections

/// The rules the analyst role works under (DESIGN.md, "Privacy and access"): aggregates only,
/// never a pseudonym, and counts of persons between 1 and the threshold suppressed.
package struct PrivacyPolicy: Sendable {
  /// Counts of person-level data from 1 to `minCell - 1` are shown as `<minCell`.
  package var minCell: Int

  package init(minCell: Int = 5) { self.minCell = minCell }

  /// The tables whose rows are person-level: one row per support given to a person (the
  /// `events` tables hold those rows too).
  package static let personTables: Set<String> = ["supports", "events", "events_raw"]
  /// The event types whose rows are person-level (an amendment may amend a person's record).
  package static let personTypes: Set<String> = [
    "support.provided", "person.forgotten", "event.corrected", "event.voided",
  ]
}

/// What a column of a result carries, as far as the analyst role's rules go.
package struct Lineage: OptionSet, Sendable, Hashable {
  package let rawValue: UInt16
  package init(rawValue: UInt16) { self.rawValue = rawValue }

  /// Pseudonyms (the `person` column, or `min(person)`).
  package static let person = Lineage(rawValue: 1)
  /// A count of person-level rows or of persons: suppressed when small.
  package static let personCount = Lineage(rawValue: 2)
  /// A count of events grouped by their type: person-level only in the rows whose `eventType`
  /// column is a person-level type.
  package static let personCountByType = Lineage(rawValue: 4)
  /// Computed from a person count (`count(*) + 0`, `count(*) = 1`): it would carry a small
  /// count past suppression.
  package static let derived = Lineage(rawValue: 8)
  /// The `type` column of the events tables, passed through unchanged.
  package static let eventType = Lineage(rawValue: 16)
  /// An aggregate (a measure, not a dimension of the table).
  package static let aggregate = Lineage(rawValue: 32)
  /// A sum, average, least or greatest of a column over person-level rows: over a group of
  /// one it is that person's value (an amount, a date), so it is hidden where the group is.
  package static let personValue = Lineage(rawValue: 64)
  /// `count(*)` over person-level rows, unfiltered: the size of the group a `personValue`
  /// beside it was computed over.
  package static let groupSize = Lineage(rawValue: 128)
  /// A number, an amount or a time of a person-level record (not its year or seq): what a
  /// `personValue` is computed from. A category (a kind, a place) over a group of one says no
  /// more than grouping by it does.
  package static let measure = Lineage(rawValue: 256)
  /// A detail of one person-level record, as it is: its id, seq, amount or time. Shown, even
  /// as a group's key, it is that record; `year()` or `date_trunc` make it a category.
  package static let detail = Lineage(rawValue: 512)
  /// `count(DISTINCT person)`: persons, not rows; beside a count of rows, their difference is
  /// no subset's count.
  package static let distinct = Lineage(rawValue: 1024)
  /// A time or date as a table stores it (not computed): what `year()` makes a category of.
  package static let storedTime = Lineage(rawValue: 2048)
  /// A person-level table's `seq`, `id` or `person` as stored: what tells its rows (or their
  /// persons) apart, so the cell keys of counts and sums over them (`CellKey`) are keyed by it.
  package static let rowKey = Lineage(rawValue: 4096)

  var isCount: Bool { !intersection([.personCount, .personCountByType]).isEmpty }
}

extension SQLError {
  /// The error without the value it was about, for the analyst role: `Could not convert string
  /// '…' to DATE` (or a number out of range) could otherwise print any value of a person's
  /// row.
  var withoutValues: SQLError {
    let what: String
    switch kind {
    case .conversion: what = "a value could not be converted"
    case .outOfRange: what = "a value is out of range"
    case .invalidInput: what = "a value is not valid here"
    default: return self
    }
    return SQLError(
      kind, what + " (the analyst role is not shown values from the data)", at: offset)
  }
}

/// The analyst role's view of a statement's answer: what each column carries, and which
/// columns its ORDER BY sorts by.
package struct PrivacyShape: Sendable {
  package var names: [String]
  package var lineage: [Lineage]
  /// Output columns the statement is sorted by, first key first.
  package var orderColumns: [Int] = []
  /// For each sum of a person's amounts, the column of its count.
  package var pairs: [Int: Int] = [:]

  package init(
    names: [String], lineage: [Lineage], orderColumns: [Int] = [], pairs: [Int: Int] = [:]
  ) {
    self.names = names
    self.lineage = lineage
    self.orderColumns = orderColumns
    self.pairs = pairs
  }
}

/// The columns a FROM clause offers with what each carries, whether its rows are person-level
/// (the table, and its name in this FROM), and how many tables it joins.
struct PrivacyRelation {
  struct Column {
    var table: String?
    var name: String
    var lineage: Lineage
    /// For a sum of a person's amounts: the name of its count in the same relation.
    var pairedWith: String?
  }
  var columns: [Column]
  var personRows: String?
  var personAlias: String?
  var tables = 1
}

extension Engine {
  /// Checks `q` against the analyst role's rules and says what each output column carries;
  /// throws a permission error naming the rule a statement breaks.
  package func privacyShape(_ q: Select) throws(SQLError) -> PrivacyShape {
    privacyMemo = [:]
    privacySource = ""
    // Kept after the analysis: the executor perturbs the calls and views it names.
    cellKeyRules = [:]
    viewCellKeys = [:]
    defer { privacyMemo = [:] }
    var order: [Int] = []
    let r = try analyze(q, ctes: [:], top: true, order: &order)
    var pairs: [Int: Int] = [:]
    for (i, c) in r.columns.enumerated() {
      if let p = c.pairedWith, let j = r.columns.firstIndex(where: { $0.name == p }) {
        pairs[i] = j
      }
    }
    return PrivacyShape(
      names: r.columns.map(\.name), lineage: r.columns.map(\.lineage), orderColumns: order,
      pairs: pairs)
  }

  var minCell: Int { policy?.minCell ?? 5 }

  func refuse(_ message: String, at: Int) -> SQLError {
    SQLError(.permission, message, at: at)
  }

  func analyze(_ q: Select, ctes outer: [String: PrivacyRelation], top: Bool)
    throws(SQLError) -> PrivacyRelation
  {
    // Each subquery once: an expression and the pairing of sums both ask for it, and at every
    // level of nesting that would double the work.
    let key = "\(privacySource)|\(q.at)|\(top)"
    if let known = privacyMemo[key] { return known }
    var order: [Int] = []
    let r = try analyze(q, ctes: outer, top: top, order: &order)
    privacyMemo[key] = r
    return r
  }

  func analyze(
    _ q: Select, ctes outer: [String: PrivacyRelation], top: Bool, order: inout [Int]
  ) throws(SQLError) -> PrivacyRelation {
    if !top, let asOf = q.asOf {
      throw refuse(
        "AS OF inside a statement would set two times side by side, whose difference is a"
          + " small count: the analyst role reads one time a statement (AS OF at its end)",
        at: asOf.at)
    }
    var ctes = outer
    for (name, query, _) in q.with {
      var r = try analyze(query, ctes: ctes, top: false)
      for i in r.columns.indices { r.columns[i].table = name }
      r.personAlias = r.personRows == nil ? nil : name
      ctes[name] = r
    }
    var from = PrivacyRelation(columns: [], personRows: nil, tables: 0)
    if let item = q.from { from = try relation(item, ctes: ctes) }
    // `WHERE type = 'inspection.done'` on the events tables: no person-level row is left.
    if let w = q.whereClause {
      try checkFilter(w, from, ctes: ctes, clause: "WHERE")
      if onlyOtherTypes(w, from) { from = withoutPersonRows(from) }
    }
    var aggregates: [Expr] = []
    for item in q.items { aggregateCalls(item.expr, into: &aggregates) }
    if let h = q.having { aggregateCalls(h, into: &aggregates) }
    let grouped = !q.groupBy.isEmpty || q.groupByAll || !aggregates.isEmpty || q.distinct
    // Windows run before DISTINCT: over its rows, not its groups.
    let aggregated = !q.groupBy.isEmpty || q.groupByAll || !aggregates.isEmpty
    var byType = false
    // GROUP BY 1 or an alias is the item it names.
    // GROUP BY ALL groups by every item that is no aggregate. A name is a column of the FROM
    // clause first, as the engine binds it, and an alias only when there is no such column.
    var keys = q.groupBy.map { g -> Expr in
      if case .integer(let n) = g.kind, n >= 1, Int(n) <= q.items.count {
        return q.items[Int(n) - 1].expr
      }
      if case .column(nil, let name) = g.kind,
        !from.columns.contains(where: { $0.name == name }),
        let item = q.items.first(where: { $0.alias == name })
      {
        return item.expr
      }
      return g
    }
    if q.groupByAll {
      for item in q.items {
        var inner: [Expr] = []
        aggregateCalls(item.expr, into: &inner)
        if inner.isEmpty { keys.append(item.expr) }
      }
    }
    for g in keys {
      let l = try lineage(g, from, ctes: ctes)
      if l.isCount || l.contains(.derived) || l.contains(.personValue) {
        throw refuse(
          "GROUP BY a count of persons would sort the small ones into groups of their own"
            + " values: the analyst role sees such counts only as shown", at: g.at)
      }
      if l.contains(.detail) || l.contains(.person) {
        throw refuse(
          "GROUP BY a detail of person-level records (an id, a time, an amount, a pseudonym)"
            + " makes a group of each record: group by categories, such as year(…)", at: g.at)
      }
      if case .column = g.kind, l.contains(.eventType) { byType = true }
    }
    // A sum or average of a person's amounts or times is shown beside the count of what it
    // adds up (count(x) with the same FILTER): where that count is small, both are hidden.
    var pairs: Set<String> = []
    var countOf: [String: String] = [:]
    for call in aggregates {
      guard case .function(let c) = call.kind, ["sum", "avg"].contains(c.name.lowercased()),
        try lineage(call, from, ctes: ctes, grouped: grouped, byType: byType)
          .contains(.personValue)
      else { continue }
      let count = aggregates.first {
        guard case .function(let k) = $0.kind, k.name.lowercased() == "count", !k.distinct,
          k.args.map(\.rendered) == c.args.map(\.rendered),
          k.filter?.rendered == c.filter?.rendered
        else { return false }
        return true
      }
      guard let count else {
        throw refuse(
          "\(call.rendered) is computed over person-level rows: over one record it would be"
            + " that person's value, so the analyst role sees it only beside the count of what"
            + " it adds up: add count(\(c.args.map(\.rendered).joined(separator: ", ")))"
            + (c.filter.map { " FILTER (WHERE \($0.rendered))" } ?? "") + " to the SELECT",
          at: call.at)
      }
      pairs.insert(count.rendered)
      countOf[call.rendered] = count.rendered
    }
    var out: [PrivacyRelation.Column] = []
    for item in q.items {
      if case .star(let t) = item.expr.kind {
        out += from.columns.filter { t == nil || $0.table == t }
        continue
      }
      var l = try lineage(item.expr, from, ctes: ctes, grouped: aggregated, byType: byType)
      if pairs.contains(item.expr.rendered) { l.insert(.groupSize) }
      if l.contains(.personCountByType) && !byType {
        l.remove(.personCountByType)
        l.insert(.personCount)
      }
      var column = PrivacyRelation.Column(
        table: nil, name: item.alias ?? Self.columnName(item.expr), lineage: l)
      if l.contains(.personValue) {
        column.pairedWith = try pairName(item, q, from, countOf)
      }
      out.append(column)
    }
    // A sum finds its count by name: two columns of one name could pair it with the wrong one.
    var names = Set<String>()
    for c in out where !names.insert(c.name).inserted {
      throw refuse(
        "two columns are named \"\(c.name)\": name them apart (AS …), so that each count and"
          + " sum is known by its name", at: q.at)
    }
    // Several counts of person-level rows with FILTERs can be added and taken from one another
    // (a − b + c): their filters must pick apart values of one column (kind = 'loan', kind =
    // 'health', …), as GROUP BY would, or be the same.
    try checkFilteredCounts(aggregates, from)
    if let h = q.having {
      let l = try lineage(h, from, ctes: ctes, grouped: grouped, byType: byType)
      if l.isCount || l.contains(.derived) || l.contains(.person) || l.contains(.personValue) {
        throw refuse(
          "HAVING on a count of persons would list groups by their small counts: the analyst"
            + " role sees person counts only as shown (under \(minCell) as <\(minCell));"
            + " filter on the grouping columns instead", at: h.at)
      }
    }
    try checkOrder(q, out, from, ctes: ctes, grouped: grouped, byType: byType, order: &order)
    // DISTINCT on a record's details keeps a row a record: still person-level.
    let perRecord =
      q.distinct && out.contains { !$0.lineage.intersection([.detail, .person]).isEmpty }
    var result = PrivacyRelation(
      columns: out, personRows: grouped && !perRecord ? nil : from.personRows,
      personAlias: grouped && !perRecord ? nil : from.personAlias)
    result.tables = 1
    guard top else { return result }
    func at(_ c: PrivacyRelation.Column) -> Int {
      q.items.first { Self.columnName($0.expr) == c.name || $0.alias == c.name }?.expr.at ?? q.at
    }
    if let c = out.first(where: { $0.lineage.contains(.person) }) {
      throw refuse(
        "column \"\(c.name)\" holds pseudonyms of persons, which the analyst role may not see"
          + " (DESIGN.md, Privacy and access: analysts get aggregates); count(DISTINCT person)"
          + " counts them, or ask an auditor (--role auditor)", at: at(c))
    }
    if let table = result.personRows {
      throw refuse(
        "rows of \(table) are person-level (one per support given to a person), which the"
          + " analyst role may not see: aggregate them (count(*), count(DISTINCT person) …"
          + " GROUP BY …), or ask an auditor (--role auditor)", at: q.at)
    }
    if let c = out.first(where: { $0.lineage.contains(.detail) }) {
      throw refuse(
        "column \"\(c.name)\" is a detail of one person-level record (an id, an amount, a time):"
          + " the analyst role sees categories, such as year(\(c.name)) or"
          + " date_trunc('month', \(c.name))", at: at(c))
    }
    if let c = out.first(where: { $0.lineage.contains(.personValue) }),
      !out.contains(where: { $0.lineage.contains(.groupSize) })
    {
      throw refuse(
        "column \"\(c.name)\" is computed over person-level rows: over one record it would be"
          + " that person's value, so the analyst role sees it only beside the count of what it"
          + " adds up (count(x) beside sum(x)), and not where that count is under \(minCell)",
        at: at(c))
    }
    if let c = out.first(where: { $0.lineage.contains(.derived) }) {
      throw refuse(
        "column \"\(c.name)\" is computed from a count of persons: the analyst role sees such"
          + " counts only as they are (under \(minCell) as <\(minCell)), so that no small count"
          + " passes in another form; show the count itself", at: at(c))
    }
    return result
  }
}
