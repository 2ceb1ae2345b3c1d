import Foundation
import TestSupport
import Testing

/// `hoso query` over the fixture store: answers, formats, as-of, and errors as DuckDB prints
/// them. (The DuckDB oracle over the demo store comes with the rest of the engine.)
@Suite struct QueryCommandTests {
  static func store() throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    #expect(try store.run(["append", packageRoot + "/events/fixtures/valid.ndjson"]).status == 0)
    return store
  }

  static func csv(_ store: TestStore, _ sql: String) throws -> String {
    let r = try store.run(["query", sql, "--format", "csv"])
    #expect(r.status == 0, "\(sql): \(r.stderr)")
    return r.stdout.replacingOccurrences(of: "\r\n", with: "\n")
  }

  /// An answer that cannot be written (standard output a full device) is a failure, exit
  /// status 2 with a line that says so; and a quoted CSV field is quoted by its bytes: a
  /// CRLF (one Character in Swift) and a quote before a combining mark included.
  @Test func anAnswerThatCannotBeWrittenFailsAndCSVQuotesByBytes() throws {
    let s = try Self.store()
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = [
      "-c", "exec \"$0\" --store \"$1\" --key \"$2\" query 'SELECT 1' > /dev/full",
      hosoBinary(), s.path, s.keyPath,
    ]
    let err = Pipe()
    p.standardError = err
    try p.run()
    p.waitUntilExit()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(p.terminationStatus == 2, "\(message)")
    #expect(message.contains("cannot write the answer to standard output"), "\(message)")
    let quoted = try s.run(["query", "SELECT 'a\r\nb' AS x, '\"\u{301}' AS y", "--format", "csv"])
    #expect(
      quoted.stdout == "x,y\r\n\"a\r\nb\",\"\"\"\u{301}\"\r\n",
      "\(quoted.stdout.debugDescription) \(quoted.stderr)")
  }

  @Test func answersCorrectionsVoidsAndProvinces() throws {
    let s = try Self.store()
    // The voided outreach is gone, the corrected fine is in.
    #expect(try Self.csv(s, "SELECT count(*) AS n FROM outreach") == "n\n1\n")
    #expect(try Self.csv(s, "SELECT fine_vnd FROM inspections") == "fine_vnd\n12000000\n")
    #expect(
      try Self.csv(
        s,
        "SELECT province, province_now, count(*) AS n FROM events WHERE case_id IS NOT NULL GROUP BY ALL"
      )
        == "province,province_now,n\nBắc Kạn,Thái Nguyên,5\n")
    // As of before the void (seq 19, recorded 2013-09-02 09:00) both outreach rows count.
    #expect(
      try Self.csv(s, "SELECT count(*) AS n FROM outreach AS OF TIMESTAMP '2013-09-02 08:00:00'")
        == "n\n2\n")
    #expect(
      try Self.csv(
        s,
        "SELECT year, sum(reached) AS reached FROM outreach FOR SYSTEM_TIME AS OF TIMESTAMP '2013-09-02 08:00:00' GROUP BY year ORDER BY year DESC"
      ) == "year,reached\n2013,300\n2012,120\n")
  }

  @Test func semanticsOfDuckDB() throws {
    let s = try Self.store()
    #expect(
      try Self.csv(
        s, "SELECT 7 // 2 AS a, 7 / 2 AS b, 1 / 0 AS c, NULL = NULL AS d, 'a' || NULL AS e")
        == "a,b,c,d,e\n3,3.5,inf,,\n")
    // As DuckDB 2.0: // and % by zero are errors, / by zero is infinity.
    let zero = try s.run(["query", "SELECT 7 // 0"])
    #expect(zero.status == 1 && zero.stderr.contains("Division by zero"))
    // NULLS LAST by default, whatever the direction.
    #expect(
      try Self.csv(
        s,
        "SELECT person FROM events WHERE type LIKE 's%' OR type = 'person.forgotten' ORDER BY person DESC"
      )
      .hasPrefix("person\nP-3f9a1c0b7d2e4a61\nP-3f9a1c0b7d2e4a61\n"))
    #expect(
      try Self.csv(s, "SELECT count(person) AS n, count(*) AS m FROM events") == "n,m\n2,20\n")
  }

  @Test func joinsAndWindows() throws {
    let s = try Self.store()
    // The case's events joined to its tip's source; LEFT JOIN keeps events without one.
    #expect(
      try Self.csv(
        s,
        """
        SELECT e.type, t.source FROM events e LEFT JOIN tips t ON t.case_id = e.case_id
        WHERE e.case_id IS NOT NULL OR e.type = 'support.provided' ORDER BY e.seq
        """)
          == """
          type,source
          tip.received,hotline
          tip.verified,hotline
          inspection.done,hotline
          case.referred,hotline
          support.provided,
          case.closed,hotline

          """)
    #expect(
      try Self.csv(
        s,
        """
        SELECT type, row_number() OVER (ORDER BY seq) AS k, lag(type) OVER (ORDER BY seq) AS before,
               count(*) OVER () AS all_rows, sum(seq) OVER (ORDER BY seq) AS running
        FROM events WHERE case_id IS NOT NULL ORDER BY k DESC LIMIT 2
        """)
        == "type,k,before,all_rows,running\ncase.closed,5,case.referred,5,66\n"
        + "case.referred,4,inspection.done,5,50\n")
    let cross = try s.run([
      "query",
      "SELECT count(*) FROM events a, events b, events c, events d, events e, events f, events g",
    ])
    #expect(
      cross.status == 1 && cross.stderr.contains("the join would make more than"), "\(cross.stderr)"
    )
  }

  @Test func formats() throws {
    let s = try Self.store()
    let json = try s.run([
      "query", "SELECT unit, count(*) AS n FROM events GROUP BY unit ORDER BY n DESC LIMIT 1",
      "--format", "json",
    ])
    #expect(json.stdout == "[{\"unit\":\"VN-BK-CM\",\"n\":9}]\n")
    let md = try s.run(["query", "SELECT 1 AS x", "--format", "markdown"])
    #expect(md.stdout == "| x |\n|---:|\n| 1 |\n")
    let table = try s.run(["query", "SELECT 'Đắk Lắk' AS tên, NULL AS n", "--timing"])
    #expect(table.stdout.contains("│ Đắk Lắk │ NULL │"))
    #expect(table.stderr.hasPrefix("Run Time (s): real "))
  }

  @Test func exportWritesEveryTableWithItsSchema() throws {
    let s = try Self.store()
    let out = s.root.path + "/export"
    let r = try s.run(["export", "--format", "csv", "--out", out])
    #expect(r.status == 0, "\(r.stderr)")
    let outreach = try String(contentsOfFile: out + "/outreach.csv", encoding: .utf8)
    #expect(outreach.split(separator: "\r\n").count == 2)  // the header and one row
    let schema = try String(contentsOfFile: out + "/schema.sql", encoding: .utf8)
    #expect(schema.contains("CREATE TABLE inspections (") && schema.contains("\"fine_vnd\" BIGINT"))
    let n = try s.run(["export", "--format", "ndjson", "--out", out + "-json"])
    #expect(n.status == 0)
    let lines = try String(contentsOfFile: out + "-json/events.ndjson", encoding: .utf8)
      .split(separator: "\n")
    #expect(lines.count == 20)
    #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
  }

  /// EXPLAIN prints the plan; EXPLAIN ANALYZE runs it and says which operators ran: the index,
  /// the vectorized group-by, the join, the filter in the scan, the top-k.
  @Test func explainSaysWhatRuns() throws {
    let s = try Self.store()
    let plan = try Self.csv(s, "EXPLAIN SELECT type, count(*) FROM events GROUP BY type")
    #expect(plan.contains("HASH_GROUP_BY type") && plan.contains("SEQ_SCAN events"), "\(plan)")
    #expect(!plan.contains("run ("))
    let grouped = try Self.csv(
      s, "EXPLAIN ANALYZE SELECT type, count(*) FROM events WHERE year >= 2012 GROUP BY type")
    #expect(grouped.contains("VECTORIZED_HASH_GROUP_BY: 1 keys, 1 aggregates"), "\(grouped)")
    let lookup = try Self.csv(
      s, "EXPLAIN ANALYZE SELECT seq FROM events WHERE case_id = 'C-BK-2012-0001' ORDER BY seq")
    #expect(lookup.contains("INDEX_SCAN events.case_id = 'C-BK-2012-0001'"), "\(lookup)")
    let joined = try Self.csv(
      s,
      "EXPLAIN ANALYZE SELECT t.year, count(*) FROM tips t LEFT JOIN closures c ON c.case_id = t.case_id GROUP BY 1"
    )
    #expect(joined.contains("VECTORIZED_HASH_JOIN (LEFT"), "\(joined)")
    let general = try Self.csv(
      s, "EXPLAIN ANALYZE SELECT type, count(*) FROM events WHERE type LIKE 'case.%' GROUP BY type")
    #expect(general.contains("HASH_GROUP_BY, row at a time"), "\(general)")
  }

  @Test func errorsPointAtTheMistake() throws {
    let s = try Self.store()
    let r = try s.run(["query", "SELECT provnce FROM events"])
    #expect(r.status == 1)
    #expect(
      r.stderr == """
        Binder Error: Referenced column "provnce" not found in FROM clause!
        Candidate bindings: "province"

        LINE 1: SELECT provnce FROM events
                       ^

        """)
    let t = try s.run(["query", "SELECT * FROM provinces_now"])
    #expect(t.status == 1 && t.stderr.contains("Table with name provinces_now does not exist"))
    let g = try s.run(["query", "SELECT unit, count(*) FROM events GROUP BY year"])
    #expect(g.stderr.contains("must appear in the GROUP BY clause"))
    let z = try s.run(["query", "SELECT 9223372036854775807 + 1"])
    #expect(z.status == 1 && z.stderr.contains("Overflow in addition of INT64"))
    let f = try s.run(["query", "SELECT nosuch(1)"])
    #expect(f.stderr.contains("Scalar Function with name nosuch does not exist"))
    let i = try s.run(["query", "SELECT occurred_at + INTERVAL 'soon' FROM events"])
    #expect(
      i.status == 1
        && i.stderr.hasPrefix(
          "Conversion Error: could not convert string 'soon' to INTERVAL\n\nLINE 1: SELECT occurred_at + INTERVAL 'soon' FROM events\n                             ^"
        ), "\(i.stderr)")
    let d = try s.run(["query", "SELECT occurred_at + occurred_at FROM events"])
    #expect(d.status == 1 && d.stderr.contains("No function matches"))
  }
}
