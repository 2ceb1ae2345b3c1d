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

  private var minCell: Int { policy?.minCell ?? 5 }

  private func refuse(_ message: String, at: Int) -> SQLError {
    SQLError(.permission, message, at: at)
  }

  private func analyze(_ q: Select, ctes outer: [String: PrivacyRelation], top: Bool)
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

  private func analyze(
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

  /// Refuses counts of person-level rows whose FILTERs overlap without being the same: their
  /// sums and differences would count what no single one shows.
  private func checkFilteredCounts(_ aggregates: [Expr], _ from: PrivacyRelation)
    throws(SQLError)
  {
    guard from.personRows != nil else { return }
    // Each FILTER as the values it keeps of one column: `col = 'v'`, `col IN ('v', …)`.
    var sets: [(column: String, values: Set<String>, at: Int)] = []
    for a in aggregates {
      guard case .function(let c) = a.kind, c.name.lowercased() == "count", let f = c.filter,
        !onlyOtherTypes(f, from)
      else { continue }
      var column: String?
      var values = Set<String>()
      switch f.kind {
      case .binary("=", let l, let r):
        if case .column(_, let n) = l.kind, case .string(let v) = r.kind {
          column = n
          values = [v]
        }
      case .inList(let x, let list, negated: false):
        if case .column(_, let n) = x.kind {
          let literal = list.compactMap { v -> String? in
            if case .string(let s) = v.kind { return s }
            return nil
          }
          if literal.count == list.count {
            column = n
            values = Set(literal)
          }
        }
      default: break
      }
      guard let column else {
        if aggregates.filter({
          if case .function(let k) = $0.kind, k.name.lowercased() == "count", k.filter != nil {
            return true
          }
          return false
        }).count > 1 {
          throw refuse(
            "counts of person-level rows under FILTERs other than column = 'value' could be"
              + " combined into a small count: the analyst role counts by GROUP BY, or by one"
              + " column's values", at: f.at)
        }
        continue
      }
      sets.append((column, values, f.at))
    }
    for (k, a) in sets.enumerated() {
      for b in sets[(k + 1)...] {
        guard a.column == b.column, a.values == b.values || a.values.isDisjoint(with: b.values)
        else {
          throw refuse(
            "counts of person-level rows whose FILTERs overlap could be added and subtracted"
              + " into a small count: the analyst role counts values of one column apart",
            at: b.at)
        }
      }
    }
  }

  /// The output name of the count a sum or average of a person's amounts is shown beside:
  /// computed here (`sum(x)` beside `count(x)`), or passed through from below with its count.
  /// Refused when the count is not selected with it, or when the value is computed on.
  private func pairName(
    _ item: SelectItem, _ q: Select, _ from: PrivacyRelation, _ countOf: [String: String]
  ) throws(SQLError) -> String {
    func name(_ i: SelectItem) -> String { i.alias ?? Self.columnName(i.expr) }
    if let count = countOf[item.expr.rendered] {
      if let i = q.items.first(where: { $0.expr.rendered == count }) { return name(i) }
      throw refuse(
        "\(item.expr.rendered) is shown only beside \(count): select it too", at: item.expr.at)
    }
    if case .column(let t, let n) = item.expr.kind,
      let source = from.columns.last(where: { $0.name == n && (t == nil || $0.table == t) }),
      let count = source.pairedWith
    {
      let beside = q.items.first {
        guard case .column(let t2, let n2) = $0.expr.kind, n2 == count else { return false }
        return t2 == nil || t2 == source.table
      }
      if let beside { return name(beside) }
      throw refuse(
        "column \"\(n)\" sums a person's amounts or times: it is shown only beside its count,"
          + " \"\(count)\"; select that too", at: item.expr.at)
    }
    throw refuse(
      "\(item.expr.rendered) is computed on a sum of a person's amounts or times: the analyst role"
        + " sees such a sum as it is, beside its count", at: item.expr.at)
  }

  /// ORDER BY a count of persons: only by a count the statement shows (its hidden values are
  /// then sorted as one), never by a computation on one, and not to fetch the smallest
  /// (ascending with LIMIT, or with OFFSET).
  private func checkOrder(
    _ q: Select, _ out: [PrivacyRelation.Column], _ from: PrivacyRelation,
    ctes: [String: PrivacyRelation], grouped: Bool, byType: Bool, order: inout [Int]
  ) throws(SQLError) {
    for o in q.orderBy {
      var index: Int?
      if case .integer(let n) = o.expr.kind, n >= 1, Int(n) <= out.count {
        index = Int(n) - 1
      } else if case .column(nil, let name) = o.expr.kind,
        let i = out.firstIndex(where: { $0.name == name })
      {
        index = i
      } else if let i = q.items.firstIndex(where: { $0.expr.rendered == o.expr.rendered }),
        i < out.count
      {
        index = i
      }
      let l: Lineage
      if let index {
        l = out[index].lineage
      } else {
        l = try lineage(o.expr, from, ctes: ctes, grouped: grouped, byType: byType)
      }
      if l.contains(.derived) || l.contains(.person) || (l.isCount && index == nil) {
        throw refuse(
          "ORDER BY a computation on a count of persons (or a count not shown) would sort the"
            + " small ones by their values: order by the count column the statement shows",
          at: o.expr.at)
      }
      guard l.isCount, let index else { continue }
      if q.offset != nil || (!o.descending && q.limit != nil) {
        throw refuse(
          "ORDER BY a count of persons ascending with LIMIT, or with OFFSET, would fetch the"
            + " smallest counts: the analyst role may take the largest (DESC … LIMIT)",
          at: o.expr.at)
      }
      order.append(index)
    }
  }

  private func relation(_ item: FromItem, ctes: [String: PrivacyRelation]) throws(SQLError)
    -> PrivacyRelation
  {
    switch item {
    case .table(let name, let alias, let asOf, let at):
      let t = alias ?? name
      if var r = ctes[name] {
        for i in r.columns.indices { r.columns[i].table = t }
        if r.personRows != nil { r.personAlias = t }
        return r
      }
      if let spec = BuiltinTables.all.first(where: { $0.name == name }) {
        let personal = PrivacyPolicy.personTables.contains(name)
        if personal && asOf != nil {
          throw refuse(
            "FOR SYSTEM_TIME AS OF on \(name) would set two times of person-level rows side by"
              + " side, whose difference is a small count: the analyst role reads them as of"
              + " one time (AS OF at the end of the statement, or .asof)", at: at)
        }
        return PrivacyRelation(
          columns: spec.columns.map {
            var l: Lineage = []
            if ($0.name == "person" || $0.name == "data") && personal { l.insert(.person) }
            if $0.name == "type" && personal { l.insert(.eventType) }
            if personal && $0.type != .varchar && $0.name != "year" && $0.name != "seq" {
              l.insert(.measure)
            }
            if $0.type == .timestamp || $0.type == .date { l.insert(.storedTime) }
            if personal && ($0.type != .varchar || ["id", "target", "data"].contains($0.name))
              && $0.name != "year"
            {
              l.insert(.detail)
            }
            return .init(table: t, name: $0.name, lineage: l)
          }, personRows: personal ? name : nil, personAlias: personal ? t : nil)
      }
      guard let sql = storedViewDefinition(name) else {
        if materializedViewColumns(name).isEmpty { return PrivacyRelation(columns: []) }
        throw refuse(
          "view \(name) was built without its definition on record, so what its columns hold"
            + " cannot be checked: hoso rebuild \(name) records it", at: at)
      }
      guard case .select(let q)? = try? Parser.parse(sql).first else {
        throw refuse("the recorded definition of view \(name) does not parse", at: at)
      }
      // Offsets in the view's own text: remembered apart from the statement's.
      let saved = privacySource
      privacySource = "view " + name
      defer { privacySource = saved }
      var r = try analyze(q, ctes: [:], top: false)
      for i in r.columns.indices { r.columns[i].table = t }
      if r.personRows != nil { r.personAlias = t }
      return r
    case .subquery(let q, let alias, _):
      var r = try analyze(q, ctes: ctes, top: false)
      for i in r.columns.indices { r.columns[i].table = alias }
      if r.personRows != nil { r.personAlias = alias }
      return r
    case .join(let l, let r, _, let on, let at):
      let a = try relation(l, ctes: ctes)
      let b = try relation(r, ctes: ctes)
      if let table = a.personRows ?? b.personRows {
        throw refuse(
          "a join with the rows of \(table) pairs a person's records with other rows (its counts"
            + " count pairs, its conditions can test a pseudonym): the analyst role joins"
            + " aggregates, such as (SELECT unit, count(*) … GROUP BY unit)", at: at)
      }
      // Joined, a count is repeated for every row it meets (a sum of it is a multiple of it),
      // and is not the size of a group the other side's sums come from.
      var joined = PrivacyRelation(
        columns: (a.columns + b.columns).map {
          var c = $0
          c.lineage.remove(.groupSize)
          if c.lineage.isCount {
            c.lineage.remove([.personCount, .personCountByType])
            c.lineage.insert(.derived)
          }
          c.pairedWith = nil
          return c
        }, personRows: nil, personAlias: nil)
      joined.tables = a.tables + b.tables
      if let on {
        let l = try lineage(on, joined, ctes: ctes)
        if l.isCount || l.contains(.derived) || l.contains(.personValue) {
          throw refuse(
            "ON a count of persons would single out the small ones: the analyst role sees such"
              + " counts only as shown", at: on.at)
        }
      }
      return joined
    }
  }

  /// A filter may not test a count of persons (`WHERE n = 1` over counted groups would single
  /// out the small ones), nor a pseudonym (it would single out a person).
  private func checkFilter(
    _ e: Expr, _ r: PrivacyRelation, ctes: [String: PrivacyRelation], clause: String
  ) throws(SQLError) {
    let l = try lineage(e, r, ctes: ctes)
    if l.contains(.person) {
      throw refuse(
        "\(clause) on person singles out one person, which the analyst role may not do: count"
          + " persons by unit, kind or time instead", at: e.at)
    }
    guard l.isCount || l.contains(.derived) || l.contains(.personValue) else { return }
    throw refuse(
      "\(clause) on a count of persons (or a sum of a person's amounts) would single out the"
        + " small ones: the analyst role sees"
        + " such counts only as shown (under \(minCell) as <\(minCell))", at: e.at)
  }

  /// Whether `e` keeps only rows of event types that are not person-level
  /// (`type = 'tip.received'`, `type IN (…)`) of the person-level table itself, as one of its
  /// conjuncts.
  private func onlyOtherTypes(_ e: Expr, _ r: PrivacyRelation) -> Bool {
    guard let alias = r.personAlias, r.tables == 1 else { return false }
    func isType(_ x: Expr) -> Bool {
      guard case .column(let t, let n) = x.kind, n == "type", t == nil || t == alias else {
        return false
      }
      return r.columns.last { $0.name == "type" && (t == nil || $0.table == t) }?.lineage
        .contains(.eventType) ?? false
    }
    for c in Self.conjuncts(e) {
      switch c.kind {
      case .binary("=", let a, let b):
        for (x, y) in [(a, b), (b, a)] {
          if isType(x), case .string(let v) = y.kind, !PrivacyPolicy.personTypes.contains(v) {
            return true
          }
        }
      case .inList(let x, let list, negated: false) where isType(x):
        let values = list.compactMap { v -> String? in
          if case .string(let s) = v.kind { return s }
          return nil
        }
        if values.count == list.count
          && values.allSatisfy({ !PrivacyPolicy.personTypes.contains($0) })
        {
          return true
        }
      default: continue
      }
    }
    return false
  }

  private func withoutPersonRows(_ r: PrivacyRelation) -> PrivacyRelation {
    var r = r
    r.personRows = nil
    r.personAlias = nil
    for i in r.columns.indices {
      r.columns[i].lineage.remove([.person, .eventType, .measure, .detail])
    }
    return r
  }

  /// What an expression carries. In a grouped statement a count over person-level rows is a
  /// person count; a count by the events' type is one only in those rows whose type is.
  private func lineage(
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

  /// A window function: over the groups of a grouped statement, of what is not a person's
  /// (a rank of units by their tips). Over counts of persons or a person's values it would show
  /// them in another form (a running sum gives each count as a difference, `lag` a hidden
  /// neighbour, a rank by `count(*) = 2` which counts are 2); over a person's rows, each row.
  private func window(_ around: Lineage, _ r: PrivacyRelation, grouped: Bool, at: Int)
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
  private func derive(_ l: Lineage, keepDetail: Bool) -> Lineage {
    var out = l.intersection([.person, .derived, .aggregate, .personValue, .measure])
    if keepDetail { out.formUnion(l.intersection([.detail])) }
    if l.isCount { out.insert(.derived) }
    return out
  }

  private func derive(_ l: Lineage) -> Lineage { derive(l, keepDetail: true) }

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
    func stored(_ e: Expr?) -> Bool {
      switch e?.kind {
      case .column?: return true
      case .cast(let x, _)?: return stored(x)
      default: return false
      }
    }
    switch c.name.lowercased() {
    case "year", "quarter", "month", "plan_period": return stored(c.args.first)
    case "date_trunc", "date_part", "datepart", "datetrunc":
      guard case .string(let unit)? = c.args.first?.kind, c.args.count == 2 else { return false }
      return coarse.contains(unit.lowercased()) && stored(c.args[1])
    default: return false
    }
  }

  private func aggregateCalls(_ e: Expr, into out: inout [Expr]) {
    if case .function(let c) = e.kind, c.over == nil,
      Functions.aggregates.contains(c.name.lowercased())
    {
      out.append(e)
      return
    }
    for x in e.children { aggregateCalls(x, into: &out) }
  }
}
