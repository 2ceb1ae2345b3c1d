/// The text of an expression as DuckDB names an unaliased result column (`count_star()`,
/// `sum(fine_vnd)`, `(a + b)`), and the key by which GROUP BY expressions are matched.
extension Expr {
  package var rendered: String {
    switch kind {
    case .column(let t, let n): return t.map { "\($0).\(n)" } ?? n
    case .star(let t): return t.map { "\($0).*" } ?? "*"
    case .integer(let v): return String(v)
    case .decimal(let v): return String(v)
    case .string(let s): return "'" + s.replacingAll("'", "''") + "'"
    case .null: return "NULL"
    case .boolean(let b): return b ? "true" : "false"
    case .typed(let t, let v): return "CAST('\(v)' AS \(t))"
    case .unary(let op, let e): return op == "NOT" ? "(NOT \(e.rendered))" : "-(\(e.rendered))"
    case .binary(let op, let l, let r): return "(\(l.rendered) \(op) \(r.rendered))"
    case .function(let c):
      if c.star && c.name.lowercased() == "count" && c.over == nil && c.filter == nil {
        return "count_star()"
      }
      var s = c.name.lowercased() + "(" + (c.distinct ? "DISTINCT " : "")
      s += c.star ? "*" : c.args.map(\.rendered).joinedText(", ")
      s += ")"
      if let f = c.filter { s += " FILTER (WHERE \(f.rendered))" }
      if let w = c.over {
        var parts: [String] = []
        if !w.partitionBy.isEmpty {
          parts.append("PARTITION BY " + w.partitionBy.map(\.rendered).joinedText(", "))
        }
        if !w.orderBy.isEmpty {
          parts.append(
            "ORDER BY "
              + w.orderBy.map {
                $0.expr.rendered + ($0.descending ? " DESC" : "")
                  + ($0.nullsFirst.map { $0 ? " NULLS FIRST" : " NULLS LAST" } ?? "")
              }.joinedText(", "))
        }
        s += " OVER (" + parts.joinedText(" ") + ")"
      }
      return s
    case .caseWhen(let o, let whens, let e):
      var s = "CASE " + (o.map { $0.rendered + " " } ?? "")
      for (w, t) in whens { s += "WHEN \(w.rendered) THEN \(t.rendered) " }
      if let e { s += "ELSE \(e.rendered) " }
      return s + "END"
    case .inList(let e, let l, let n):
      return "(\(e.rendered)\(n ? " NOT" : "") IN (\(l.map(\.rendered).joinedText(", "))))"
    case .inQuery(let e, _, let n): return "(\(e.rendered)\(n ? " NOT" : "") IN (SELECT ...))"
    case .between(let e, let lo, let hi, let n):
      return "(\(e.rendered)\(n ? " NOT" : "") BETWEEN \(lo.rendered) AND \(hi.rendered))"
    case .like(let e, let p, let n, let i):
      return "(\(e.rendered)\(n ? " NOT" : "") \(i ? "ILIKE" : "LIKE") \(p.rendered))"
    case .isNull(let e, let n): return "(\(e.rendered) IS \(n ? "NOT " : "")NULL)"
    case .cast(let e, let t): return "CAST(\(e.rendered) AS \(t))"
    case .subquery: return "(SELECT ...)"
    }
  }
}

extension Expr {
  /// The expressions directly inside this one (not inside subqueries, which bind on their
  /// own).
  package var children: [Expr] {
    switch kind {
    case .function(let c): return c.args
    case .unary(_, let x), .isNull(let x, _), .cast(let x, _), .inQuery(let x, _, _): return [x]
    case .binary(_, let l, let r), .like(let l, let r, _, _): return [l, r]
    case .between(let x, let lo, let hi, _): return [x, lo, hi]
    case .inList(let x, let l, _): return [x] + l
    case .caseWhen(let o, let whens, let e):
      return [o, e].compactMap { $0 } + whens.flatMap { [$0.0, $0.1] }
    default: return []
    }
  }
}

extension String {
  /// Every `a` (one Unicode scalar, such as a quote) replaced by `b`: by scalars, so that a
  /// quote followed by a combining mark (one Character with it) is replaced too.
  func replacingAll(_ a: String, _ b: String) -> String {
    let c = a.unicodeScalars.first!
    guard unicodeScalars.contains(c) else { return self }
    var out = String.UnicodeScalarView()
    for u in unicodeScalars {
      if u == c { out.append(contentsOf: b.unicodeScalars) } else { out.append(u) }
    }
    return String(out)
  }
}

extension Array where Element == String {
  /// `joined(separator:)` by concatenation: the standard library's generic one builds type
  /// metadata at its first use in a process (a tenth of a millisecond of a short query).
  func joinedText(_ separator: String) -> String {
    var out = ""
    for (i, s) in enumerated() {
      if i > 0 { out += separator }
      out += s
    }
    return out
  }
}
