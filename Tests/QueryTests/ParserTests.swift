import Query
import TestSupport
import Testing

/// The parser: the subset of DESIGN.md parses, and every kind of mistake is one message that
/// points at the right place, as DuckDB prints it.
@Suite struct ParserTests {
  static func parse(_ sql: String) throws -> [Statement] { try Parser.parse(sql) }

  static func error(_ sql: String) -> SQLError? {
    do {
      _ = try Parser.parse(sql)
      return nil
    } catch { return error }
  }

  @Test func anAnalystsQueryParses() throws {
    let sql = """
      -- inspections against the target, by province now and plan period
      WITH insp AS (
        SELECT province_now, plan_period(occurred_at) AS period, count(*) AS n,
               count(*) FILTER (WHERE result = 'violation') AS violations
        FROM inspections FOR SYSTEM_TIME AS OF TIMESTAMP '2023-06-10 23:59:59'
        WHERE occurred_at BETWEEN DATE '2016-01-01' AND DATE '2025-12-31'
          AND unit NOT IN (SELECT unit FROM units WHERE level = 'ward')
          AND strip_accents(province) ILIKE '%bac%'
        GROUP BY ALL
      )
      SELECT i.*, n::DOUBLE / nullif(e.n, 0) AS share,
             lag(n) OVER (PARTITION BY province_now ORDER BY period) AS previous,
             CASE WHEN n > 100 THEN 'many' ELSE 'few' END AS size
      FROM insp i LEFT JOIN (SELECT province_now, count(DISTINCT establishment) AS n
                             FROM establishments GROUP BY 1) e ON e.province_now = i.province_now
      WHERE "period" IS NOT NULL
      ORDER BY share DESC NULLS LAST, 1
      LIMIT 20 OFFSET 0
      AS OF TIMESTAMP '2024-01-01 00:00:00';
      SELECT 'Hà Nội' || ' – ' || "Quảng Ngãi" FROM t;
      """
    let statements = try Self.parse(sql)
    #expect(statements.count == 2)
    guard case .select(let s) = statements[0] else {
      Issue.record("not a select")
      return
    }
    #expect(s.with.count == 1 && s.with[0].name == "insp")
    #expect(s.items.count == 4)
    #expect(s.orderBy.count == 2 && s.orderBy[0].descending && s.orderBy[0].nullsFirst == false)
    #expect(s.asOf != nil)
    guard case .join(_, _, kind: .left, on: .some, _)? = s.from else {
      Issue.record("no left join")
      return
    }
  }

  @Test(arguments: [
    ("SELECT a, FROM t", "syntax error at or near \"FROM\"", 10),
    ("SELECT a FROM", "syntax error at end of input (expected a table name)", 13),
    ("SELECT 'Hà Nội FROM t", "unterminated string literal", 7),
    ("SELECT \"a FROM t", "unterminated quoted identifier", 7),
    ("SELECT a FROM t WHERE", "syntax error at end of input", 21),
    ("SELECT a FROM t GROUP a", "syntax error at or near \"a\" (expected BY)", 22),
    ("SELECT 1 2", "syntax error at or near \"2\"", 9),
    ("SELECT a FROM t /* never closed", "unterminated /* comment */", 16),
    ("SELECT 12abc", "syntax error at or near \"12abc\"", 7),
    ("SELECT CASE END", "syntax error at or near \"END\"", 12),
    ("SELECT a NOT 5", "syntax error at or near \"NOT\"", 9),
    ("SELECT ?", "syntax error at or near \"?\"", 7),
    ("SELECT a FROM t ORDER BY ALL, a", "syntax error at or near \",\"", 28),
    ("", "no statement to run", 0),
  ])
  func mistakesAreNamedWhereTheyAre(sql: String, message: String, offset: Int) {
    let e = Self.error(sql)
    #expect(e?.kind == .parser, "\(sql)")
    #expect(e?.message == message, "\(sql)")
    #expect(e?.offset == offset, "\(sql)")
  }

  @Test func theCaretStandsUnderTheCharacterNotTheByte() {
    let sql = "SELECT 1;\nSELECT 'Đắk Lắk' AS tên FROM FROM units"
    let e = Self.error(sql)
    let before = "SELECT 'Đắk Lắk' AS tên FROM "
    #expect(e?.offset == "SELECT 1;\n".utf8.count + before.utf8.count)
    #expect(
      e?.rendered(in: sql)
        == "Parser Error: syntax error at or near \"FROM\" (expected a table name)\n\nLINE 2: "
        + "SELECT 'Đắk Lắk' AS tên FROM FROM units\n"
        + String(repeating: " ", count: "LINE 2: ".count + before.count) + "^")
  }

  @Test func hostileStatementsGetAnErrorNotACrash() throws {
    // Deep nesting: refused with a message, not a stack overflow.
    let deep =
      "SELECT " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
    #expect(Self.error(deep)?.message.contains("nests deeper") == true)
    let nots = "SELECT " + String(repeating: "NOT ", count: 5000) + "TRUE"
    #expect(Self.error(nots)?.message.contains("nests deeper") == true)
    // A statement of a megabyte (a long IN list) parses.
    let list = (0..<100_000).map(String.init).joined(separator: ",")
    let big = "SELECT count(*) FROM events WHERE seq IN (\(list))"
    #expect(big.utf8.count > 500_000)
    #expect(try Self.parse(big).count == 1)
  }

  @Test func orderByAllExpandsToEveryColumn() throws {
    guard case .select(let s) = try Self.parse("SELECT a, b AS c, 3 FROM t ORDER BY ALL DESC")[0]
    else { return }
    let items = s.orderItems(columns: 3)
    #expect(items.count == 3)
    for (k, o) in items.enumerated() {
      if case .integer(let v) = o.expr.kind { #expect(v == k + 1) } else { Issue.record("\(k)") }
      #expect(o.descending)
    }
    // all(…) is a function, not ORDER BY ALL.
    guard case .select(let f) = try Self.parse("SELECT a FROM t ORDER BY all(a)")[0] else {
      return
    }
    #expect(f.orderItems(columns: 1).count == 1)
    if case .function = f.orderBy[0].expr.kind {} else { Issue.record("all(a)") }
  }

  @Test func literalsAndOperators() throws {
    guard
      case .select(let s) = try Self.parse("SELECT -5, 1.5e3, 7 // 2, 'it''s', x::BIGINT, NULL")[0]
    else { return }
    let kinds = s.items.map(\.expr.kind)
    if case .integer(let v) = kinds[0] { #expect(v == -5) } else { Issue.record("-5") }
    if case .decimal(let v) = kinds[1] { #expect(v == 1500) } else { Issue.record("1.5e3") }
    if case .binary(let op, _, _) = kinds[2] { #expect(op == "//") } else { Issue.record("//") }
    if case .string(let v) = kinds[3] { #expect(v == "it's") } else { Issue.record("''") }
    if case .cast(_, let t) = kinds[4] { #expect(t == "BIGINT") } else { Issue.record("::") }
    if case .null = kinds[5] {} else { Issue.record("NULL") }
  }
}
