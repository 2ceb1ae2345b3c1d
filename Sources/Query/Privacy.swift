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
  /// The event types whose rows are person-level.
  package static let personTypes: Set<String> = ["support.provided", "person.forgotten"]
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

  var isCount: Bool { !intersection([.personCount, .personCountByType]).isEmpty }
}

/// The analyst role's view of a statement's answer: what each column carries.
package struct PrivacyShape: Sendable {
  package var names: [String]
  package var lineage: [Lineage]

  package init(names: [String], lineage: [Lineage]) {
    self.names = names
    self.lineage = lineage
  }
}

/// The columns a FROM clause offers with what each carries, and whether its rows are
/// person-level (and from which table).
struct PrivacyRelation {
  struct Column {
    var table: String?
    var name: String
    var lineage: Lineage
  }
  var columns: [Column]
  var personRows: String?
}

extension Engine {
  /// Checks `q` against the analyst role's rules and says what each output column carries;
  /// throws a permission error naming the rule a statement breaks.
  package func privacyShape(_ q: Select) throws(SQLError) -> PrivacyShape {
    let r = try analyze(q, ctes: [:], top: true)
    return PrivacyShape(names: r.columns.map(\.name), lineage: r.columns.map(\.lineage))
  }

  private func analyze(_ q: Select, ctes outer: [String: PrivacyRelation], top: Bool)
    throws(SQLError) -> PrivacyRelation
  {
    var ctes = outer
    for (name, query, _) in q.with {
      var r = try analyze(query, ctes: ctes, top: false)
      for i in r.columns.indices { r.columns[i].table = name }
      ctes[name] = r
    }
    var from = PrivacyRelation(columns: [], personRows: nil)
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
    let byType = q.groupBy.contains { lineage($0, from, ctes: ctes).contains(.eventType) }
    var out: [PrivacyRelation.Column] = []
    for item in q.items {
      if case .star(let t) = item.expr.kind {
        out += from.columns.filter { t == nil || $0.table == t }
        continue
      }
      var l = lineage(item.expr, from, ctes: ctes, grouped: grouped, byType: byType)
      if l.contains(.personCountByType) && !byType {
        l.remove(.personCountByType)
        l.insert(.personCount)
      }
      out.append(.init(table: nil, name: item.alias ?? Self.columnName(item.expr), lineage: l))
    }
    if let h = q.having {
      let l = lineage(h, from, ctes: ctes, grouped: grouped, byType: byType)
      if l.isCount || l.contains(.derived) {
        throw SQLError(
          .permission,
          "HAVING on a count of persons would list groups by their small counts: the analyst"
            + " role sees person counts only as shown (under \(policy?.minCell ?? 5) as"
            + " <\(policy?.minCell ?? 5)); filter on the grouping columns instead",
          at: h.at)
      }
    }
    let result = PrivacyRelation(columns: out, personRows: grouped ? nil : from.personRows)
    guard top else { return result }
    if let c = out.first(where: { $0.lineage.contains(.person) }) {
      throw SQLError(
        .permission,
        "column \"\(c.name)\" holds pseudonyms of persons, which the analyst role may not see"
          + " (DESIGN.md, Privacy and access: analysts get aggregates); count(DISTINCT person)"
          + " counts them, or ask an auditor (--role auditor)",
        at: q.items.first { Self.columnName($0.expr) == c.name || $0.alias == c.name }?.expr
          .at ?? q.at)
    }
    if let table = result.personRows {
      throw SQLError(
        .permission,
        "rows of \(table) are person-level (one per support given to a person), which the"
          + " analyst role may not see: aggregate them (count(*), count(DISTINCT person) …"
          + " GROUP BY …), or ask an auditor (--role auditor)",
        at: q.at)
    }
    if let c = out.first(where: { $0.lineage.contains(.personValue) }),
      !out.contains(where: { $0.lineage.contains(.groupSize) })
    {
      throw SQLError(
        .permission,
        "column \"\(c.name)\" is computed over person-level rows: over a group of one it would"
          + " be that person's value, so the analyst role sees it only beside count(*) of the"
          + " same rows (and not where that count is under \(policy?.minCell ?? 5)); add"
          + " count(*) to the SELECT",
        at: q.items.first { Self.columnName($0.expr) == c.name || $0.alias == c.name }?.expr
          .at ?? q.at)
    }
    if let c = out.first(where: { $0.lineage.contains(.derived) }) {
      throw SQLError(
        .permission,
        "column \"\(c.name)\" is computed from a count of persons: the analyst role sees such"
          + " counts only as they are (under \(policy?.minCell ?? 5) as <\(policy?.minCell ?? 5)),"
          + " so that no small count passes in another form; show the count itself",
        at: q.items.first { Self.columnName($0.expr) == c.name || $0.alias == c.name }?.expr
          .at ?? q.at)
    }
    return result
  }

  private func relation(_ item: FromItem, ctes: [String: PrivacyRelation]) throws(SQLError)
    -> PrivacyRelation
  {
    switch item {
    case .table(let name, let alias, _, _):
      let t = alias ?? name
      if var r = ctes[name] {
        for i in r.columns.indices { r.columns[i].table = t }
        return r
      }
      if let spec = BuiltinTables.all.first(where: { $0.name == name }) {
        let personal = PrivacyPolicy.personTables.contains(name)
        return PrivacyRelation(
          columns: spec.columns.map {
            var l: Lineage = []
            if $0.name == "person" && personal { l.insert(.person) }
            if $0.name == "type" && personal { l.insert(.eventType) }
            if personal && $0.type != .varchar && $0.name != "year" && $0.name != "seq" {
              l.insert(.measure)
            }
            return .init(table: t, name: $0.name, lineage: l)
          }, personRows: personal ? name : nil)
      }
      if let sql = viewDefinitions[name], case .select(let q)? = try? Parser.parse(sql).first {
        var r = try analyze(q, ctes: [:], top: false)
        for i in r.columns.indices { r.columns[i].table = t }
        return r
      }
      // A view this engine has no definition of: its columns as they are stored.
      let names = materializedViewColumns(name)
      return PrivacyRelation(
        columns: names.map { .init(table: t, name: $0, lineage: []) }, personRows: nil)
    case .subquery(let q, let alias, _):
      var r = try analyze(q, ctes: ctes, top: false)
      for i in r.columns.indices { r.columns[i].table = alias }
      return r
    case .join(let l, let r, _, let on, _):
      let a = try relation(l, ctes: ctes)
      let b = try relation(r, ctes: ctes)
      let joined = PrivacyRelation(
        columns: a.columns + b.columns, personRows: a.personRows ?? b.personRows)
      if let on { try checkFilter(on, joined, ctes: ctes, clause: "ON") }
      return joined
    }
  }

  /// A filter may not test a person count: `WHERE n = 1` over counted groups would single
  /// out the small ones.
  private func checkFilter(
    _ e: Expr, _ r: PrivacyRelation, ctes: [String: PrivacyRelation], clause: String
  ) throws(SQLError) {
    let l = lineage(e, r, ctes: ctes)
    guard l.isCount || l.contains(.derived) else { return }
    throw SQLError(
      .permission,
      "\(clause) on a count of persons would single out the small ones: the analyst role sees"
        + " such counts only as shown (under \(policy?.minCell ?? 5) as <\(policy?.minCell ?? 5))",
      at: e.at)
  }

  /// Whether `e` keeps only rows of event types that are not person-level
  /// (`type = 'tip.received'`, `type IN (…)`), as one of its conjuncts.
  private func onlyOtherTypes(_ e: Expr, _ r: PrivacyRelation) -> Bool {
    func isType(_ x: Expr) -> Bool {
      guard case .column(let t, let n) = x.kind, n == "type" else { return false }
      return r.columns.contains { $0.name == "type" && (t == nil || $0.table == t) }
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
    for i in r.columns.indices { r.columns[i].lineage.remove([.person, .eventType, .measure]) }
    return r
  }

  /// What an expression carries. In a grouped statement a count over person-level rows is a
  /// person count; a count by the events' type is one only in those rows whose type is.
  private func lineage(
    _ e: Expr, _ r: PrivacyRelation, ctes: [String: PrivacyRelation], grouped: Bool = false,
    byType: Bool = false
  ) -> Lineage {
    switch e.kind {
    case .column(let t, let n):
      return r.columns.last { $0.name == n && (t == nil || $0.table == t) }?.lineage ?? []
    case .cast(let x, _):
      return lineage(x, r, ctes: ctes, grouped: grouped, byType: byType)
    case .subquery(let q):
      return (try? analyze(q, ctes: ctes, top: false))?.columns.first?.lineage ?? []
    case .inQuery(let x, _, _):
      return derive(lineage(x, r, ctes: ctes, grouped: grouped, byType: byType))
    case .function(let c):
      let name = c.name.lowercased()
      let args = c.args.reduce(into: Lineage()) {
        $0.formUnion(lineage($1, r, ctes: ctes, grouped: grouped, byType: byType))
      }
      guard Functions.aggregates.contains(name) || c.over != nil else { return derive(args) }
      var l: Lineage = [.aggregate]
      if name == "count" || name == "row_number" || name == "rank" || name == "dense_rank" {
        var rows = r
        if let f = c.filter, onlyOtherTypes(f, r) { rows = withoutPersonRows(r) }
        if rows.personRows != nil || args.contains(.person) {
          l.insert(
            c.over == nil && byType && !args.contains(.person) ? .personCountByType : .personCount)
          if name == "count" && c.star && c.filter == nil && c.over == nil && !c.distinct {
            l.insert(.groupSize)
          }
        } else if args.isCount {
          l.insert(.derived)
        }
        return l
      }
      if args.contains(.person) { l.insert(.person) }
      if r.personRows != nil && c.over == nil && args.contains(.measure) && !args.isCount
        && !args.contains(.person)
      {
        var rows = r
        if let f = c.filter, onlyOtherTypes(f, r) { rows = withoutPersonRows(r) }
        if rows.personRows != nil { l.insert(.personValue) }
      }
      l.formUnion(args.intersection([.personValue]))
      if args.isCount {
        // A sum, least or greatest of person counts is itself one; an average is not a count.
        l.formUnion(
          name == "avg" ? .derived : args.intersection([.personCount, .personCountByType]))
      }
      if args.contains(.derived) { l.insert(.derived) }
      if name == "lag" || name == "lead" || name == "min" || name == "max" {
        l.formUnion(args.intersection([.eventType]))
      }
      return l
    default:
      let parts = e.children.reduce(into: Lineage()) {
        $0.formUnion(lineage($1, r, ctes: ctes, grouped: grouped, byType: byType))
      }
      return derive(parts)
    }
  }

  /// A computation on a person count is no count any more, but carries it.
  private func derive(_ l: Lineage) -> Lineage {
    var out = l.intersection([.person, .derived, .aggregate, .personValue, .measure])
    if l.isCount { out.insert(.derived) }
    return out
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
