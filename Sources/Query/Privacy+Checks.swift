import Projections

/// The checks of the analyst role's rules on a statement's parts: its FROM clause, its
/// filters, its counts and sums, its ORDER BY.
extension Engine {
  /// Refuses counts of person-level rows whose FILTERs overlap without being the same: their
  /// sums and differences would count what no single one shows.
  func checkFilteredCounts(_ aggregates: [Expr], _ from: PrivacyRelation)
    throws(SQLError)
  {
    guard from.personRows != nil else { return }
    // Each FILTER as the values it keeps of one column: `col = 'v'`, `col IN ('v', …)`.
    var sets: [(column: String, values: Set<String>, at: Int)] = []
    for a in aggregates {
      guard case .function(let c) = a.kind, c.name.lowercased() == "count", let f = c.filter,
        !onlyOtherTypes(f, from)
      else { continue }
      let kept = Self.keptValues(f)
      var column: String?
      if let kept, case .column(_, let n) = kept.column.kind { column = n }
      guard let column, let values = kept?.values else {
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
  func pairName(
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
  func checkOrder(
    _ q: Select, _ out: [PrivacyRelation.Column], _ from: PrivacyRelation,
    ctes: [String: PrivacyRelation], grouped: Bool, byType: Bool, order: inout [Int]
  ) throws(SQLError) {
    for o in q.orderItems(columns: out.count) {
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

  func relation(_ item: FromItem, ctes: [String: PrivacyRelation]) throws(SQLError)
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
        // A view as of a time is its definition with each table as of then: the same rule.
        if personal, let v = privacyViewAsOf {
          throw refuse(
            "FOR SYSTEM_TIME AS OF on view \(v.view) reads the person-level rows of \(name) as"
              + " of then, which could be set beside them as of another time, whose difference"
              + " is a small count: the analyst role reads them as of one time (AS OF at the"
              + " end of the statement, or .asof)", at: v.at)
        }
        return PrivacyRelation(
          columns: spec.columns.map {
            var l: Lineage = []
            if ($0.name == "person" || $0.name == "data") && personal { l.insert(.person) }
            if $0.name == "type" && personal { l.insert(.eventType) }
            // A year (`budget_year` too) is a time, not a measure of the persons counted.
            let isYear = $0.name == "year" || $0.name == "budget_year"
            if personal && $0.type != .varchar && !isYear && $0.name != "seq" {
              l.insert(.measure)
            }
            if $0.type == .timestamp || $0.type == .date { l.insert(.storedTime) }
            if personal && ["seq", "id", "person"].contains($0.name) { l.insert(.rowKey) }
            if personal && ($0.type != .varchar || ["id", "target", "data"].contains($0.name))
              && !isYear
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
      if privacyViews.contains(name) {
        throw refuse(
          "views read each other in a cycle, as their builds recorded them: "
            + (privacyViews.drop { $0 != name } + [name]).joined(separator: " -> ")
            + "; hoso rebuild puts them in order", at: at)
      }
      // Offsets in the view's own text: remembered apart from the statement's (and apart
      // from its reading as of a time, which is checked further).
      let saved = (privacySource, privacyViewAsOf)
      if asOf != nil && privacyViewAsOf == nil { privacyViewAsOf = (name, at) }
      privacySource = "view " + name + (privacyViewAsOf == nil ? "" : " as of")
      privacyViews.append(name)
      defer {
        (privacySource, privacyViewAsOf) = saved
        privacyViews.removeLast()
      }
      var r = try analyze(q, ctes: [:], top: false)
      for i in r.columns.indices { r.columns[i].table = t }
      if r.personRows != nil { r.personAlias = t }
      // A view read by the statement itself: its counts of persons perturbed as it is read.
      if saved.0.isEmpty { viewCellKeys[name] = ViewCellKeys(r) }
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
  func checkFilter(
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
  func onlyOtherTypes(_ e: Expr, _ r: PrivacyRelation) -> Bool {
    guard let alias = r.personAlias, r.tables == 1 else { return false }
    func isType(_ x: Expr) -> Bool {
      guard case .column(let t, let n) = x.kind, n == "type", t == nil || t == alias else {
        return false
      }
      return r.columns.last { $0.name == "type" && (t == nil || $0.table == t) }?.lineage
        .contains(.eventType) ?? false
    }
    return Self.conjuncts(e).contains { c in
      guard let kept = Self.keptValues(c), isType(kept.column) else { return false }
      return kept.values.isDisjoint(with: PrivacyPolicy.personTypes)
    }
  }

  /// The values a condition keeps of one expression: `x = 'v'` (either way round) or
  /// `x IN ('v', …)`; nil for any other condition.
  static func keptValues(_ e: Expr) -> (column: Expr, values: Set<String>)? {
    switch e.kind {
    case .binary("=", let a, let b):
      if case .string(let v) = b.kind { return (a, [v]) }
      if case .string(let v) = a.kind { return (b, [v]) }
      return nil
    case .inList(let x, let list, negated: false):
      var values = Set<String>()
      for v in list {
        guard case .string(let s) = v.kind else { return nil }
        values.insert(s)
      }
      return (x, values)
    default: return nil
    }
  }

  func withoutPersonRows(_ r: PrivacyRelation) -> PrivacyRelation {
    var r = r
    r.personRows = nil
    r.personAlias = nil
    for i in r.columns.indices {
      r.columns[i].lineage.remove([.person, .eventType, .measure, .detail])
    }
    return r
  }
}
