/// A recursive-descent parser for DESIGN.md's SQL subset, with Postgres's (and DuckDB's)
/// operator precedence. Errors say what was expected and point at the token where it was not.
package struct Parser {
  private let tokens: [Token]
  private var i = 0
  private var depth = 0
  /// Deeper nesting than this is refused: a hostile statement cannot exhaust the stack.
  static let maxDepth = 200

  /// Words that end an expression or a clause: never taken as an alias.
  /// Whether `word` (upper-cased) is reserved: a switch, not a `Set<String>`, whose first
  /// use in a process builds its type at run time (a tenth of a millisecond of every query).
  static func isReserved(_ word: String) -> Bool {
    switch word {
    case "SELECT", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "JOIN", "LEFT",
      "INNER", "CROSS", "ON", "AS", "AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "LIKE",
      "ILIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "DISTINCT", "BY", "ASC", "DESC", "NULLS",
      "WITH", "UNION", "FILTER", "OVER", "PARTITION", "FOR", "OUTER", "USING", "WINDOW":
      true
    default: false
    }
  }

  package init(_ text: String) throws(SQLError) { tokens = try Lexer.tokens(text) }

  /// Parses `text`: one or more statements separated by `;`.
  package static func parse(_ text: String) throws(SQLError) -> [Statement] {
    var p = try Parser(text)
    var out: [Statement] = []
    while true {
      while p.accept(symbol: ";") {}
      if p.current.kind == .end { break }
      out.append(try p.statement())
      if p.current.kind != .end && !p.current.isSymbol(";") { throw p.unexpected() }
    }
    if out.isEmpty { throw SQLError(.parser, "no statement to run", at: 0) }
    return out
  }

  // MARK: - Tokens

  private var current: Token { tokens[i] }

  private mutating func advance() -> Token {
    let t = tokens[i]
    if i < tokens.count - 1 { i += 1 }
    return t
  }

  private func isAt(keyword k: String) -> Bool { current.keyword == k }

  private mutating func accept(keyword k: String) -> Bool {
    guard isAt(keyword: k) else { return false }
    _ = advance()
    return true
  }

  private mutating func accept(symbol s: String) -> Bool {
    guard current.isSymbol(s) else { return false }
    _ = advance()
    return true
  }

  private mutating func expect(keyword k: String) throws(SQLError) {
    guard accept(keyword: k) else { throw unexpected(expecting: k) }
  }

  private mutating func expect(symbol s: String) throws(SQLError) {
    guard accept(symbol: s) else { throw unexpected(expecting: "\"\(s)\"") }
  }

  /// DuckDB's wording: `syntax error at or near "X"` (or `at end of input`).
  private func unexpected(expecting: String? = nil) -> SQLError {
    let t = current
    let near: String
    switch t.kind {
    case .end: near = "syntax error at end of input"
    case .word(let w): near = "syntax error at or near \"\(w)\""
    case .quotedIdentifier(let w): near = "syntax error at or near \"\"\(w)\"\""
    case .string(let s): near = "syntax error at or near \"'\(s)'\""
    case .integer(let s), .decimal(let s), .symbol(let s): near = "syntax error at or near \"\(s)\""
    }
    return SQLError(
      .parser, near + (expecting.map { " (expected \($0))" } ?? ""), at: t.start)
  }

  private mutating func link(_ links: inout Int) throws(SQLError) {
    links += 1
    try nest()
  }

  private mutating func nest() throws(SQLError) {
    depth += 1
    if depth > Self.maxDepth {
      throw SQLError(
        .parser, "the statement nests deeper than \(Self.maxDepth) levels", at: current.start)
    }
  }

  private mutating func identifier(_ what: String) throws(SQLError) -> String {
    switch current.kind {
    case .word(let w) where !Self.isReserved(w.uppercased()):
      _ = advance()
      return w.lowercased()
    case .quotedIdentifier(let w):
      _ = advance()
      return w
    default:
      throw unexpected(expecting: what)
    }
  }

  // MARK: - Statements

  private mutating func statement() throws(SQLError) -> Statement {
    if accept(keyword: "EXPLAIN") {
      let analyze = accept(keyword: "ANALYZE")
      return .explain(try query(), analyze: analyze)
    }
    return .select(try query())
  }

  /// `[WITH …] SELECT … [AS OF TIMESTAMP '…']`.
  private mutating func query() throws(SQLError) -> Select {
    try nest()
    defer { depth -= 1 }
    let start = current.start
    var ctes: [(String, Select, Int)] = []
    if accept(keyword: "WITH") {
      repeat {
        let at = current.start
        let name = try identifier("a name for the WITH query")
        try expect(keyword: "AS")
        try expect(symbol: "(")
        let q = try query()
        try expect(symbol: ")")
        ctes.append((name, q, at))
      } while accept(symbol: ",")
    }
    var s = try select()
    s.with = ctes
    s.at = start
    if isAt(keyword: "AS"), tokens[i + 1].keyword == "OF" {
      _ = advance()
      _ = advance()
      s.asOf = try expression()
    }
    return s
  }

  private mutating func select() throws(SQLError) -> Select {
    var s = Select()
    s.at = current.start
    try expect(keyword: "SELECT")
    if accept(keyword: "DISTINCT") {
      s.distinct = true
    } else {
      _ = accept(keyword: "ALL")
    }
    repeat {
      s.items.append(try selectItem())
    } while accept(symbol: ",")
    if accept(keyword: "FROM") { s.from = try fromClause() }
    if accept(keyword: "WHERE") { s.whereClause = try expression() }
    if accept(keyword: "GROUP") {
      try expect(keyword: "BY")
      if accept(keyword: "ALL") {
        s.groupByAll = true
      } else {
        repeat { s.groupBy.append(try expression()) } while accept(symbol: ",")
      }
    }
    if accept(keyword: "HAVING") { s.having = try expression() }
    if accept(keyword: "ORDER") {
      try expect(keyword: "BY")
      s.orderBy = try orderItems()
    }
    if accept(keyword: "LIMIT") { s.limit = try expression() }
    if accept(keyword: "OFFSET") { s.offset = try expression() }
    return s
  }

  private mutating func selectItem() throws(SQLError) -> SelectItem {
    let start = current.start
    if accept(symbol: "*") { return SelectItem(expr: Expr(.star(table: nil), at: start)) }
    // t.*
    if case .word = current.kind, tokens[i + 1].isSymbol("."), tokens[i + 2].isSymbol("*") {
      let t = try identifier("a table name")
      _ = advance()
      _ = advance()
      return SelectItem(expr: Expr(.star(table: t), at: start))
    }
    let e = try expression()
    return SelectItem(expr: e, alias: try alias())
  }

  /// `[AS] name`, or nil.
  private mutating func alias() throws(SQLError) -> String? {
    // `AS OF TIMESTAMP …` ends the statement: not an alias.
    if isAt(keyword: "AS") && tokens[i + 1].keyword == "OF" { return nil }
    if accept(keyword: "AS") { return try identifier("an alias") }
    switch current.kind {
    case .word(let w) where !Self.isReserved(w.uppercased()):
      return try identifier("an alias")
    case .quotedIdentifier:
      return try identifier("an alias")
    default:
      return nil
    }
  }

  private mutating func orderItems() throws(SQLError) -> [OrderItem] {
    var out: [OrderItem] = []
    repeat {
      let at = current.start
      // DuckDB's `ORDER BY ALL`: every column of the select list, left to right (the
      // executor expands it once `*` is).
      let all = out.isEmpty && isAt(keyword: "ALL") && !tokens[i + 1].isSymbol("(")
      if all { _ = advance() }
      var o = OrderItem(expr: all ? Expr(.star(table: nil), at: at) : try expression())
      if accept(keyword: "DESC") {
        o.descending = true
      } else {
        _ = accept(keyword: "ASC")
      }
      if accept(keyword: "NULLS") {
        if accept(keyword: "FIRST") {
          o.nullsFirst = true
        } else {
          try expect(keyword: "LAST")
          o.nullsFirst = false
        }
      }
      out.append(o)
      if all { return out }
    } while accept(symbol: ",")
    return out
  }

  // MARK: - FROM

  private mutating func fromClause() throws(SQLError) -> FromItem {
    var left = try tableReference()
    while true {
      let at = current.start
      if accept(symbol: ",") {
        left = .join(left, try tableReference(), kind: .cross, on: nil, at: at)
        continue
      }
      var kind = JoinKind.inner
      if accept(keyword: "LEFT") {
        _ = accept(keyword: "OUTER")
        kind = .left
      } else if accept(keyword: "CROSS") {
        kind = .cross
      } else {
        _ = accept(keyword: "INNER")
      }
      guard accept(keyword: "JOIN") else {
        if kind != .inner || tokens[i - 1].keyword == "INNER" {
          throw unexpected(expecting: "JOIN")
        }
        return left
      }
      let right = try tableReference()
      var on: Expr?
      if kind != .cross {
        try expect(keyword: "ON")
        on = try expression()
      }
      left = .join(left, right, kind: kind, on: on, at: at)
    }
  }

  private mutating func tableReference() throws(SQLError) -> FromItem {
    let at = current.start
    if accept(symbol: "(") {
      try nest()
      defer { depth -= 1 }
      if isAt(keyword: "SELECT") || isAt(keyword: "WITH") {
        let q = try query()
        try expect(symbol: ")")
        return .subquery(q, alias: try alias(), at: at)
      }
      let inner = try fromClause()
      try expect(symbol: ")")
      return inner
    }
    let name = try identifier("a table name")
    var asOf: Expr?
    if accept(keyword: "FOR") {
      try expect(keyword: "SYSTEM_TIME")
      try expect(keyword: "AS")
      try expect(keyword: "OF")
      asOf = try expression()
    }
    return .table(name: name, alias: try alias(), asOf: asOf, at: at)
  }

  // MARK: - Expressions, by precedence

  package mutating func expression() throws(SQLError) -> Expr {
    try nest()
    defer { depth -= 1 }
    return try or()
  }

  private mutating func or() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try and()
    while isAt(keyword: "OR") {
      let at = advance().start
      try link(&links)
      e = Expr(.binary(op: "OR", e, try and()), at: at)
    }
    return e
  }

  private mutating func and() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try not()
    while isAt(keyword: "AND") {
      let at = advance().start
      try link(&links)
      e = Expr(.binary(op: "AND", e, try not()), at: at)
    }
    return e
  }

  private mutating func not() throws(SQLError) -> Expr {
    if isAt(keyword: "NOT") {
      let at = advance().start
      try nest()
      defer { depth -= 1 }
      return Expr(.unary(op: "NOT", try not()), at: at)
    }
    return try isTest()
  }

  private mutating func isTest() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try comparison()
    while isAt(keyword: "IS") {
      let at = advance().start
      let negated = accept(keyword: "NOT")
      if accept(keyword: "NULL") {
        try link(&links)
        e = Expr(.isNull(e, negated: negated), at: at)
      } else if accept(keyword: "DISTINCT") {
        try expect(keyword: "FROM")
        let r = try comparison()
        try link(&links)
        e = Expr(.binary(op: negated ? "IS NOT DISTINCT FROM" : "IS DISTINCT FROM", e, r), at: at)
      } else if isAt(keyword: "TRUE") || isAt(keyword: "FALSE") {
        let value = advance().keyword == "TRUE"
        let test = Expr(
          .binary(op: "IS NOT DISTINCT FROM", e, Expr(.boolean(value), at: at)), at: at)
        e = negated ? Expr(.unary(op: "NOT", test), at: at) : test
      } else {
        throw unexpected(expecting: "NULL")
      }
    }
    return e
  }

  private mutating func comparison() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try predicate()
    while case .symbol(let s) = current.kind, ["=", "<>", "<", "<=", ">", ">="].contains(s) {
      let at = advance().start
      try link(&links)
      e = Expr(.binary(op: s, e, try predicate()), at: at)
    }
    return e
  }

  /// `[NOT] BETWEEN`, `[NOT] IN`, `[NOT] LIKE`/`ILIKE`.
  private mutating func predicate() throws(SQLError) -> Expr {
    let e = try concat()
    let at = current.start
    var negated = false
    if isAt(keyword: "NOT"),
      let next = tokens[i + 1].keyword, ["BETWEEN", "IN", "LIKE", "ILIKE"].contains(next)
    {
      _ = advance()
      negated = true
    }
    if accept(keyword: "BETWEEN") {
      let low = try concat()
      try expect(keyword: "AND")
      let high = try concat()
      return Expr(.between(e, low: low, high: high, negated: negated), at: at)
    }
    if accept(keyword: "IN") {
      try expect(symbol: "(")
      if isAt(keyword: "SELECT") || isAt(keyword: "WITH") {
        let q = try query()
        try expect(symbol: ")")
        return Expr(.inQuery(e, q, negated: negated), at: at)
      }
      var list: [Expr] = []
      repeat { list.append(try expression()) } while accept(symbol: ",")
      try expect(symbol: ")")
      return Expr(.inList(e, list, negated: negated), at: at)
    }
    if isAt(keyword: "LIKE") || isAt(keyword: "ILIKE") {
      let insensitive = advance().keyword == "ILIKE"
      return Expr(
        .like(e, pattern: try concat(), negated: negated, caseInsensitive: insensitive), at: at)
    }
    if negated { throw unexpected(expecting: "BETWEEN, IN or LIKE") }
    return e
  }

  private mutating func concat() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try additive()
    while current.isSymbol("||") {
      let at = advance().start
      try link(&links)
      e = Expr(.binary(op: "||", e, try additive()), at: at)
    }
    return e
  }

  private mutating func additive() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try multiplicative()
    while case .symbol(let s) = current.kind, s == "+" || s == "-" {
      let at = advance().start
      try link(&links)
      e = Expr(.binary(op: s, e, try multiplicative()), at: at)
    }
    return e
  }

  private mutating func multiplicative() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try unary()
    while case .symbol(let s) = current.kind, ["*", "/", "//", "%"].contains(s) {
      let at = advance().start
      try link(&links)
      e = Expr(.binary(op: s, e, try unary()), at: at)
    }
    return e
  }

  private mutating func unary() throws(SQLError) -> Expr {
    if case .symbol(let s) = current.kind, s == "-" || s == "+" {
      let at = advance().start
      try nest()
      defer { depth -= 1 }
      let operand = try unary()
      // A negative literal stays a literal (so that -9223372036854775808 fits).
      if s == "-", case .integer(let v) = operand.kind {
        return Expr(.integer(0 &- v), at: at)
      }
      if s == "-", case .decimal(let v) = operand.kind { return Expr(.decimal(-v), at: at) }
      return s == "-" ? Expr(.unary(op: "-", operand), at: at) : operand
    }
    return try postfix()
  }

  /// `expr::TYPE`.
  private mutating func postfix() throws(SQLError) -> Expr {
    // Each link of a chain (`a + b + c`, `a AND b AND c`) is a level of the tree.
    var links = 0
    defer { depth -= links }
    var e = try primary()
    while current.isSymbol("::") {
      let at = advance().start
      try link(&links)
      e = Expr(.cast(e, type: try typeName()), at: at)
    }
    return e
  }

  private mutating func typeName() throws(SQLError) -> String {
    guard case .word(let w) = current.kind else { throw unexpected(expecting: "a type name") }
    _ = advance()
    var name = w.uppercased()
    // DOUBLE PRECISION, and a (precision, scale) that is read and dropped: DECIMAL(18,3).
    if name == "DOUBLE" && accept(keyword: "PRECISION") { name = "DOUBLE" }
    if accept(symbol: "(") {
      while !current.isSymbol(")") && current.kind != .end { _ = advance() }
      try expect(symbol: ")")
    }
    return name
  }

  private mutating func primary() throws(SQLError) -> Expr {
    let t = current
    switch t.kind {
    case .integer(let s):
      _ = advance()
      if let v = Int64(s) { return Expr(.integer(v), at: t.start) }
      // Beyond BIGINT: DuckDB makes it a HUGEINT; here a DOUBLE.
      return Expr(.decimal(Double(s) ?? .infinity), at: t.start)
    case .decimal(let s):
      _ = advance()
      return Expr(.decimal(Double(s) ?? 0), at: t.start)
    case .string(let s):
      _ = advance()
      return Expr(.string(s), at: t.start)
    case .symbol("("):
      _ = advance()
      try nest()
      defer { depth -= 1 }
      if isAt(keyword: "SELECT") || isAt(keyword: "WITH") {
        let q = try query()
        try expect(symbol: ")")
        return Expr(.subquery(q), at: t.start)
      }
      let e = try expression()
      try expect(symbol: ")")
      return e
    case .quotedIdentifier:
      return try columnOrFunction()
    case .word(let w):
      switch w.uppercased() {
      case "NULL":
        _ = advance()
        return Expr(.null, at: t.start)
      case "TRUE", "FALSE":
        _ = advance()
        return Expr(.boolean(w.uppercased() == "TRUE"), at: t.start)
      case "CASE": return try caseExpression()
      case "CAST":
        _ = advance()
        try expect(symbol: "(")
        let e = try expression()
        try expect(keyword: "AS")
        let type = try typeName()
        try expect(symbol: ")")
        return Expr(.cast(e, type: type), at: t.start)
      case "TIMESTAMP", "DATE", "INTERVAL":
        if case .string(let s) = tokens[i + 1].kind {
          _ = advance()
          _ = advance()
          return Expr(.typed(type: w.uppercased(), value: s), at: t.start)
        }
        // DuckDB's `INTERVAL 20 DAY`, `INTERVAL 3 MONTHS`.
        if w.uppercased() == "INTERVAL", case .integer(let n) = tokens[i + 1].kind,
          case .word(let unit) = tokens[i + 2].kind,
          Interval.parse("1 \(unit)") != nil
        {
          _ = advance()
          _ = advance()
          _ = advance()
          return Expr(.typed(type: "INTERVAL", value: "\(n) \(unit)"), at: t.start)
        }
        return try columnOrFunction()
      default:
        if Self.isReserved(w.uppercased()) { throw unexpected() }
        return try columnOrFunction()
      }
    default:
      throw unexpected()
    }
  }

  private mutating func caseExpression() throws(SQLError) -> Expr {
    let at = advance().start
    var operand: Expr?
    if !isAt(keyword: "WHEN") { operand = try expression() }
    var whens: [(Expr, Expr)] = []
    while accept(keyword: "WHEN") {
      let w = try expression()
      try expect(keyword: "THEN")
      whens.append((w, try expression()))
    }
    if whens.isEmpty { throw unexpected(expecting: "WHEN") }
    var otherwise: Expr?
    if accept(keyword: "ELSE") { otherwise = try expression() }
    try expect(keyword: "END")
    return Expr(.caseWhen(operand: operand, whens: whens, otherwise: otherwise), at: at)
  }

  private mutating func columnOrFunction() throws(SQLError) -> Expr {
    let at = current.start
    let first = try identifier("a column or function name")
    if accept(symbol: ".") {
      let name = try identifier("a column name")
      return Expr(.column(table: first, name: name), at: at)
    }
    guard accept(symbol: "(") else { return Expr(.column(table: nil, name: first), at: at) }
    var call = Expr.Call(name: first, args: [])
    if accept(symbol: "*") {
      call.star = true
    } else if !current.isSymbol(")") {
      call.distinct = accept(keyword: "DISTINCT")
      repeat { call.args.append(try expression()) } while accept(symbol: ",")
    }
    try expect(symbol: ")")
    if accept(keyword: "FILTER") {
      try expect(symbol: "(")
      try expect(keyword: "WHERE")
      call.filter = try expression()
      try expect(symbol: ")")
    }
    if accept(keyword: "OVER") {
      try expect(symbol: "(")
      var w = Expr.Window()
      if accept(keyword: "PARTITION") {
        try expect(keyword: "BY")
        repeat { w.partitionBy.append(try expression()) } while accept(symbol: ",")
      }
      if accept(keyword: "ORDER") {
        try expect(keyword: "BY")
        w.orderBy = try orderItems()
      }
      try expect(symbol: ")")
      call.over = w
    }
    return Expr(.function(call), at: at)
  }
}
