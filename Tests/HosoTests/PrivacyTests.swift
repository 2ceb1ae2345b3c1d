import EventLog
import Foundation
import Query
import TestSupport
import Testing

/// Privacy and access (DESIGN.md): the analyst role's refusals and small-cell suppression,
/// checked by solving the suppressed table back from its totals; the access log; the key.
@Suite struct PrivacyTests {
  /// A demo store, read as an analyst unless told otherwise.
  static func demo() throws -> TestStore {
    let store = TestStore()
    let r = try store.run(["demo", "--count", "6000"])
    #expect(r.status == 0, "\(r.stderr)")
    return store
  }

  static func json(_ text: String) -> [[String: Any]] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [[String: Any]] ?? []
  }

  @Test func supportsByUnitAndYearAreSuppressedAndCannotBeSolvedBack() throws {
    let store = try Self.demo()
    let sql =
      "SELECT unit, year, count(*) AS n FROM supports GROUP BY unit, year ORDER BY unit, year"
    let analyst = try store.run(["--role", "analyst", "query", sql, "--format", "json"])
    let auditor = try store.run(["--role", "auditor", "query", sql, "--format", "json"])
    #expect(analyst.status == 0, "\(analyst.stderr)")
    #expect(
      analyst.stderr.contains("hidden for the analyst role"), "the output says cells were hidden")
    let shown = Self.json(analyst.stdout)
    let truth = Self.json(auditor.stdout)
    #expect(shown.count == truth.count && !truth.isEmpty)
    // The auditor sees every number; the analyst `<5` for each of 1–4, and the others within
    // 2 of the truth (cell-key noise), never under 5.
    var hidden: [(unit: String, year: Int)] = []
    var small = 0
    var value: [String: [Int: Int]] = [:]
    for (s, t) in zip(shown, truth) {
      let unit = t["unit"] as! String
      let year = t["year"] as! Int
      let n = t["n"] as! Int
      value[unit, default: [:]][year] = n
      if (1...4).contains(n) {
        small += 1
        #expect(s["n"] as? String == "<5", "\(unit) \(year): \(n) is shown")
      }
      if let text = s["n"] as? String {
        // A small count says so; a cell hidden beside it only that it is hidden.
        #expect(text == ((1...4).contains(n) ? "<5" : "*"), "\(unit) \(year): \(n) as \(text)")
        hidden.append((unit, year))
      } else {
        let shown = s["n"] as? Int ?? -1
        #expect(shown >= 5 && abs(shown - n) <= 2, "\(unit) \(year): \(n) shown as \(shown)")
      }
    }
    #expect(small > 0, "the demo has small cells to suppress")
    var units: [String: Int] = [:]
    var years: [Int: Int] = [:]
    for (unit, byYear) in value {
      for (year, n) in byYear {
        units[unit, default: 0] += n
        years[year, default: 0] += n
      }
    }
    let hiddenCells = hidden.map { HiddenCell(row: $0.unit, column: String($0.year)) }
    let columnTotals = Dictionary(uniqueKeysWithValues: years.map { (String($0.key), $0.value) })
    let disclosed = disclosedCells(
      hiddenCells, rowTotals: units, columnTotals: columnTotals, minCell: 5)
    // Beyond cell suppression: what the shown totals fix were every cell hidden.
    let everyCell = value.flatMap { unit, byYear in
      byYear.keys.map { HiddenCell(row: unit, column: String($0)) }
    }
    let structural = Set(
      disclosedCells(everyCell, rowTotals: units, columnTotals: columnTotals, minCell: 5))
    let avoidable = disclosed.filter { !structural.contains($0) }
    #expect(avoidable.isEmpty, "computed back from the totals: \(avoidable)")
  }

  /// Random two-way tables (seeded; the seed is printed on failure), dense and sparse: every
  /// count from 1 to 4 hidden, no shown number changed, and no hidden cell computable from the
  /// shown row and column totals.
  @Test(arguments: [11, 7_919])
  func suppressionHoldsOnRandomTables(seed: UInt64) {
    let seed = SeededRandom.testSeed(seed)
    var random = SeededRandom(seed: seed)
    for round in 0..<200 {
      let rows = Int.random(in: 2...9, using: &random)
      let columns = Int.random(in: 2...9, using: &random)
      let empty = Double.random(in: 0...0.6, using: &random)
      var unit = Vector(type: .varchar)
      var year = Vector(type: .bigint)
      var n = Vector(type: .bigint)
      for r in 0..<rows {
        for c in 0..<columns where Double.random(in: 0..<1, using: &random) >= empty {
          unit.append(.text("u\(r)"))
          year.append(.int(Int64(2011 + c)))
          let small = Bool.random(using: &random)
          n.append(.int(Int64.random(in: small ? 1...4 : 1...40, using: &random)))
        }
      }
      let result = QueryResult(
        names: ["unit", "year", "n"], types: [.varchar, .bigint, .bigint],
        rows: Batch(columns: [unit, year, n], count: n.count))
      let shape = PrivacyShape(
        names: result.names, lineage: [[], [], [.personCount, .aggregate]])
      let out = Suppression.apply(result, shape, PrivacyPolicy(minCell: 5))
      var hidden: [HiddenCell] = []
      var rowTotals: [String: Int] = [:]
      var columnTotals: [String: Int] = [:]
      for i in 0..<n.count {
        guard case .text(let u) = unit.value(i), case .int(let y) = year.value(i),
          case .int(let v) = n.value(i)
        else { continue }
        rowTotals[u, default: 0] += Int(v)
        columnTotals[String(y), default: 0] += Int(v)
        if out.isSuppressed(2, i) {
          hidden.append(HiddenCell(row: u, column: String(y)))
        } else {
          #expect(v >= 5, "seed \(seed) round \(round): \(u) \(y) = \(v) is shown")
        }
      }
      // What the totals give away whatever is hidden (a cell the shown totals fix even were
      // every cell hidden) is beyond cell suppression; nothing else may be computed back.
      let disclosed = disclosedCells(
        hidden, rowTotals: rowTotals, columnTotals: columnTotals, minCell: 5)
      let everyCell = (0..<n.count).compactMap { i -> HiddenCell? in
        guard case .text(let u) = unit.value(i), case .int(let y) = year.value(i) else {
          return nil
        }
        return HiddenCell(row: u, column: String(y))
      }
      let structural = Set(
        disclosedCells(
          everyCell, rowTotals: rowTotals, columnTotals: columnTotals, minCell: 5))
      let avoidable = disclosed.filter { !structural.contains($0) }
      #expect(
        avoidable.isEmpty,
        """
        seed \(seed) round \(round) (\(rows)×\(columns)): \(avoidable) computed back from
        \((0..<n.count).map { "\(unit.value($0)) \(year.value($0)) \(n.value($0))\(out.isSuppressed(2, $0) ? "*" : "")" })
        """)
      if !avoidable.isEmpty { return }
    }
  }

  @Test func theAnalystIsRefusedPersonLevelRowsAndCountsComputedOn() throws {
    let store = try Self.demo()
    let refused: [(String, String)] = [
      ("SELECT person FROM supports", "holds pseudonyms"),
      ("SELECT * FROM supports LIMIT 1", "holds pseudonyms"),
      ("SELECT unit, occurred_at, kind FROM supports", "person-level"),
      ("SELECT year, unit FROM events LIMIT 5", "person-level"),
      ("WITH t AS (SELECT unit, kind FROM supports) SELECT * FROM t", "person-level"),
      ("SELECT min(person) FROM supports", "holds pseudonyms"),
      ("SELECT unit, sum(amount_vnd) AS amount FROM supports GROUP BY unit", "beside the count"),
      ("SELECT unit, max(occurred_at) AS last FROM supports GROUP BY unit", "one record's value"),
      ("EXPLAIN ANALYZE SELECT count(*) FROM supports WHERE unit = 'VN-HN'", "EXPLAIN ANALYZE"),
      // What a hostile reader tried (the red team's list), each refused with its rule.
      (
        "SELECT (SELECT person FROM supports WHERE (SELECT count(*) FROM supports) > 0 LIMIT 1)"
          + " AS p", "Permission Error"
      ),
      (
        "WITH t AS (SELECT 'a' AS type) SELECT s.kind FROM supports s, t WHERE t.type = 'a'",
        "a join with the rows"
      ),
      ("SELECT DISTINCT id, kind FROM supports", "person-level"),
      ("SELECT occurred_at, count(*) FROM supports GROUP BY ALL", "detail"),
      ("SELECT unit, count(*)::VARCHAR AS n FROM supports GROUP BY unit", "computed from a count"),
      (
        "SELECT unit, sum(amount_vnd) AS a, (SELECT count(*) FROM supports) AS n FROM supports"
          + " GROUP BY unit", "beside the count"
      ),
      (
        "SELECT year, count(*) AS n, sum(count(*)) OVER (ORDER BY year) AS running FROM supports"
          + " GROUP BY year", "window function"
      ),
      (
        "SELECT year FROM tips WHERE year IN (SELECT year FROM supports GROUP BY year"
          + " HAVING count(*) = 1) GROUP BY year", "HAVING"
      ),
      (
        "SELECT unit, count(*) AS n FROM supports GROUP BY unit ORDER BY CASE WHEN count(*) = 1"
          + " THEN 0 ELSE 1 END", "ORDER BY a computation"
      ),
      ("SELECT unit, count(*) AS n FROM supports GROUP BY unit ORDER BY n LIMIT 3", "ascending"),
      (
        "SELECT a.year, count(*) AS n FROM supports a JOIN supports b ON a.unit = b.unit"
          + " GROUP BY a.year", "a join with the rows"
      ),
      (
        "SELECT count(*) FROM supports FOR SYSTEM_TIME AS OF TIMESTAMP '2020-01-01'",
        "FOR SYSTEM_TIME"
      ),
      (
        "SELECT n, count(*) AS groups FROM (SELECT unit, count(*) AS n FROM supports"
          + " GROUP BY unit) GROUP BY n", "GROUP BY a count"
      ),
      ("SELECT unit, count(*) AS n, max(amount_vnd) AS m FROM supports GROUP BY unit", "max()"),
      ("SELECT count(*) FROM supports WHERE person LIKE 'P-8%'", "WHERE on person"),
      (
        "SELECT year, count(*) AS n, lag(count(*)) OVER (ORDER BY year) AS before FROM supports"
          + " GROUP BY year", "window function"
      ),
      // The second reading's.
      ("SELECT data, count(*) AS n FROM events_raw GROUP BY data", "GROUP BY a detail"),
      ("SELECT max(data) AS d FROM events_raw", "holds pseudonyms"),
      ("SELECT max(id) AS i FROM supports GROUP BY unit", "one record's value"),
      ("SELECT unit, count(*) AS n FROM supports GROUP BY unit, seq", "GROUP BY a detail"),
      (
        "SELECT date_trunc('day', occurred_at) AS d, count(*) AS n FROM supports GROUP BY 1",
        "detail"
      ),
      ("SELECT unit, sum(1.0) AS n FROM supports GROUP BY unit", "a count in another form"),
      (
        "SELECT count(*) AS n, avg(CASE WHEN unit = 'VN-HN' THEN 1 ELSE 0 END) AS f"
          + " FROM supports", "a count in another form"
      ),
      (
        "SELECT count(*) AS n, sum(amount_vnd) FILTER (WHERE kind = 'loan') AS a FROM supports",
        "beside the count"
      ),
      (
        "SELECT unit, count(*) AS n, rank() OVER (ORDER BY count(*) = 2) AS r FROM supports"
          + " GROUP BY unit", "window function"
      ),
      (
        "SELECT a.n FROM (SELECT count(*) AS n FROM supports AS OF TIMESTAMP '2020-01-01') a",
        "AS OF inside"
      ),
      (
        "SELECT e.target FROM events_raw e WHERE e.type = 'event.corrected'", "person-level"
      ),
      // The third reading's.
      (
        "SELECT max(t) AS t FROM (SELECT DISTINCT id, occurred_at AS t FROM supports)",
        "one record's value"
      ),
      ("SELECT count(*) AS n FROM (SELECT person FROM supports GROUP BY 1)", "GROUP BY a detail"),
      (
        "SELECT DISTINCT year - 2010 AS k FROM tips WHERE year - 2010 IN (SELECT count(*)"
          + " FROM supports WHERE unit = 'VN-HN')", "WHERE on a count"
      ),
      (
        "SELECT year(CAST(CAST(1000 + amount_vnd / 100000 AS BIGINT) AS VARCHAR) || '-01-01')"
          + " AS y, count(*) AS n FROM supports GROUP BY 1", "GROUP BY a detail"
      ),
      (
        "SELECT unit, count(CASE WHEN n = 1 THEN 1 END) AS one FROM (SELECT unit, count(*) AS n"
          + " FROM supports GROUP BY unit) GROUP BY unit", "computed from a count"
      ),
      // The fifth reading's.
      (
        "SELECT unit, 0 AS c, sum(amount_vnd) AS s, count(amount_vnd) AS c FROM supports"
          + " GROUP BY unit", "two columns are named"
      ),
      (
        "SELECT unit, count(DISTINCT person || id) AS a FROM supports GROUP BY unit",
        "not computed on"
      ),
      (
        "SELECT DISTINCT unit, count(*) OVER (PARTITION BY unit) AS n FROM supports",
        "window function over the rows"
      ),
      (
        "SELECT x.c FROM (SELECT DISTINCT seq AS d FROM outreach) d JOIN (SELECT sum(amount_vnd)"
          + " AS s, count(amount_vnd) AS c FROM supports) x ON d.d = x.s", "ON a count"
      ),
      (
        "SELECT count(*) FILTER (WHERE kind IN ('allowance', 'health')) AS a, count(*) FILTER"
          + " (WHERE kind IN ('health', 'loan')) AS b FROM supports", "overlap"
      ),
      (
        "SELECT count(CASE WHEN person LIKE 'P-9%' THEN 1 END) AS p FROM supports",
        "not computed on"
      ),
      // The fourth reading's.
      (
        "SELECT max(amount_vnd) AS a FROM (SELECT id, amount_vnd FROM supports GROUP BY ALL)",
        "GROUP BY a detail"
      ),
      (
        "SELECT DISTINCT year(t) AS y FROM (SELECT CAST(CAST(CAST(1000 + amount_vnd / 100000"
          + " AS BIGINT) AS VARCHAR) || '-01-01' AS DATE) AS t FROM supports)", "Permission"
      ),
      (
        "SELECT sum(a.n) AS s FROM (SELECT count(*) AS n FROM supports) a,"
          + " (SELECT year FROM tips GROUP BY year) b", "computed from a count"
      ),
      ("SELECT unit AS id, count(*) AS n FROM supports GROUP BY id, unit", "GROUP BY a detail"),
      (
        "SELECT c, s2 FROM (SELECT unit, count(amount_vnd) AS c, sum(amount_vnd) AS s,"
          + " count(amount_vnd) FILTER (WHERE kind = 'loan') AS c2, sum(amount_vnd) FILTER"
          + " (WHERE kind = 'loan') AS s2 FROM supports GROUP BY unit)", "only beside its count"
      ),
      (
        "SELECT count(CASE WHEN unit = 'VN-HN' THEN amount_vnd ELSE 0 END) AS n,"
          + " sum(CASE WHEN unit = 'VN-HN' THEN amount_vnd ELSE 0 END) AS s FROM supports",
        "as it is stored"
      ),
      ("SELECT unit FROM supports GROUP BY unit HAVING count(*) = 1", "HAVING"),
      ("SELECT unit, count(*) + 0 AS n FROM supports GROUP BY unit", "computed from a count"),
      (
        "SELECT unit FROM (SELECT unit, count(*) AS n FROM supports GROUP BY unit) WHERE n = 1",
        "WHERE on a count"
      ),
      (
        "SELECT unit, count(*) = 1 AS alone FROM events WHERE type = 'support.provided'"
          + " GROUP BY unit", "computed from a count"
      ),
    ]
    for (sql, rule) in refused {
      let r = try store.run(["--role", "analyst", "query", sql])
      #expect(r.status == 1, "\(sql): \(r.stdout)")
      #expect(r.stderr.hasPrefix("Permission Error: "), "\(sql): \(r.stderr)")
      #expect(r.stderr.contains(rule), "\(sql): \(r.stderr)")
      #expect(r.stdout.isEmpty)
      let auditor = try store.run(["--role", "auditor", "query", sql])
      #expect(auditor.status == 0, "\(sql) as auditor: \(auditor.stderr)")
    }
    let allowed = [
      "SELECT year, unit FROM events WHERE type = 'inspection.done' LIMIT 5",
      "SELECT count(DISTINCT person) AS persons FROM supports",
      "SELECT DISTINCT unit FROM supports",
      "SELECT type, count(*) AS n FROM events GROUP BY type",
      "SELECT * FROM tips LIMIT 3",
    ]
    for sql in allowed {
      let r = try store.run(["--role", "analyst", "query", sql])
      #expect(r.status == 0, "\(sql): \(r.stderr)")
    }
    // A sum of ones is a count; a count beside a filtered count gives their difference.
    let small = try store.run([
      "--role", "auditor", "query",
      "SELECT unit FROM supports GROUP BY unit HAVING count(*) BETWEEN 1 AND 4 ORDER BY unit"
        + " LIMIT 1", "--format", "csv",
    ]).stdout.split(separator: "\r\n")[1]
    let ones = try store.run([
      "--role", "analyst", "query",
      "SELECT sum(CASE WHEN unit = '\(small)' THEN 1 ELSE 0 END) AS s FROM supports",
      "--format", "csv",
    ])
    #expect(ones.status == 1 && ones.stderr.contains("a count in another form"), "\(ones)")
    let difference = try store.run([
      "--role", "analyst", "query",
      "SELECT count(*) AS total, count(*) FILTER (WHERE unit <> '\(small)') AS rest"
        + " FROM supports", "--format", "csv",
    ])
    #expect(difference.stdout.contains("*"), "one of the two is hidden: \(difference.stdout)")
    // Two counts of distinct ids differ by a subset's count too; a DISTINCT of records is
    // still records.
    let distinctIds = try store.run([
      "--role", "analyst", "query",
      "SELECT count(DISTINCT id) AS total, count(DISTINCT id) FILTER (WHERE unit <> '\(small)')"
        + " AS rest FROM supports", "--format", "csv",
    ])
    #expect(distinctIds.stdout.contains("*"), "\(distinctIds)")
    let records =
      "SELECT unit, count(*) AS n FROM (SELECT DISTINCT id, unit FROM supports) GROUP BY unit"
    let shownRecords = try store.run(["--role", "analyst", "query", records, "--format", "csv"])
    #expect(shownRecords.stdout.contains("\(small),<5"), "\(shownRecords.stdout)")
    // Nested twenty deep, the check still answers (each subquery is read once).
    var nested = "SELECT 1 AS a"
    for _ in 0..<20 { nested = "SELECT avg((\(nested))) AS a FROM units" }
    #expect(try store.run(["--role", "analyst", "query", nested]).status == 0)
    // A value that does not convert is not quoted back to the analyst.
    let echo = try store.run([
      "--role", "analyst", "query",
      "SELECT count(*) FROM supports WHERE CAST(provider AS DATE) IS NULL",
    ])
    #expect(echo.status == 1 && echo.stderr.contains("not shown values"), "\(echo.stderr)")
    // Sorted by a count, the hidden ones come last, in the order of their other columns.
    let sorted = try store.run([
      "--role", "analyst", "query",
      "SELECT unit, count(*) AS n FROM supports GROUP BY unit ORDER BY n", "--format", "csv",
    ]).stdout.split(separator: "\r\n").dropFirst()
    let firstHidden = sorted.firstIndex { $0.hasSuffix(",<5") || $0.hasSuffix(",*") }
    if let firstHidden {
      let tail = Array(sorted[firstHidden...])
      #expect(tail.allSatisfy { $0.hasSuffix(",<5") || $0.hasSuffix(",*") }, "\(sorted)")
      #expect(tail == tail.sorted(), "\(tail)")
    }
    // An amount over a small group is hidden with the group's count.
    let amounts = Self.json(
      try store.run([
        "--role", "analyst", "query",
        "SELECT unit, count(amount_vnd) AS n, sum(amount_vnd) AS amount FROM supports"
          + " GROUP BY unit", "--format", "json",
      ]).stdout)
    #expect(amounts.contains { $0["n"] as? String == "<5" })
    for row in amounts {
      let small = row["n"] as? String == "<5"
      #expect(!small || row["amount"] as? String == "*", "\(row)")
    }
    // A count of event types is a count of persons only in the rows of support events.
    let byType = try store.run([
      "--role", "analyst", "--min-cell", "1000000", "query",
      "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type", "--format", "csv",
    ])
    for line in byType.stdout.split(separator: "\r\n").dropFirst() {
      let hidden = line.hasSuffix(",<1000000")
      #expect(hidden == line.hasPrefix("support.provided,"), "\(line)")
    }
  }

  @Test func singlingOutAPersonByFiltersIsSuppressedLikeAnyCell() throws {
    let store = try Self.demo()
    // The auditor finds one support; the analyst counts it by every filter that fits it.
    let one = Self.json(
      try store.run([
        "--role", "auditor", "query",
        "SELECT unit, kind, occurred_at FROM supports ORDER BY seq LIMIT 1", "--format", "json",
      ]).stdout)[0]
    let sql =
      "SELECT count(*) AS n FROM supports WHERE unit = '\(one["unit"]!)' AND kind ="
      + " '\(one["kind"]!)' AND occurred_at = TIMESTAMP '\(one["occurred_at"]!)'"
    let truth = try store.run(["--role", "auditor", "query", sql, "--format", "csv"])
    #expect(truth.stdout.hasSuffix("\r\n1\r\n"), "\(truth.stdout)")
    let r = try store.run(["--role", "analyst", "query", sql, "--format", "csv"])
    #expect(r.stdout == "n\r\n<5\r\n", "\(r.stdout)")
    // The same in the shell and in a report.
    let shell = try store.run(["--role", "analyst", "shell", "-csv", "-c", sql])
    #expect(shell.stdout == "n\r\n<5\r\n" && shell.stderr.contains("hidden"), "\(shell)")
    let report = try store.run(["--role", "analyst", "report", "annual", "--year", "2012"])
    #expect(report.status == 0 && report.stdout.contains("<5"), "\(report)")
    #expect(report.stdout.contains("hidden for the analyst role"))
    let auditorReport = try store.run(["--role", "auditor", "report", "annual", "--year", "2012"])
    #expect(!auditorReport.stdout.contains("<5"))
    // The threshold may be raised (CMS's 11), never lowered.
    let cms = try store.run([
      "--role", "analyst", "--min-cell", "11", "query",
      "SELECT kind, count(*) AS n FROM supports WHERE year = 2012 GROUP BY kind", "--format",
      "csv",
    ])
    #expect(cms.status == 0 && !cms.stdout.contains("<5"), "\(cms.stdout)")
    let lower = try store.run(["--min-cell", "3", "query", "SELECT 1"])
    #expect(lower.status == 1 && lower.stderr.contains("--min-cell is a count from 5 up"))
  }

  @Test func everyReadLeavesOneChainedAccessRecord() throws {
    let store = try Self.demo()
    let log = store.path + "/access.log"
    func records() -> Int {
      (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
    }
    let caseId = try store.run([
      "--role", "auditor", "query", "SELECT case_id FROM tips ORDER BY seq LIMIT 1", "--format",
      "csv",
    ]).stdout.split(separator: "\r\n")[1]
    let out = TemporaryDirectory("hoso-export")
    let commands: [[String]] = [
      ["--role", "analyst", "query", "SELECT count(*) FROM tips"],
      ["--role", "analyst", "report", "trend"],
      ["--role", "auditor", "audit", String(caseId)],
      ["--role", "analyst", "export", "--format", "csv", "--out", out.path + "/x"],
      ["--role", "auditor", "person", "079201001234"],
      ["--role", "analyst", "shell", "-c", "SELECT count(*) FROM closures"],
      ["--role", "auditor", "dump", "--from", "5", "--to", "6"],
      ["--role", "auditor", "access"],
    ]
    for c in commands {
      let before = records()
      let r = try store.run(c)
      #expect(r.status == 0, "\(c): \(r.stderr)")
      #expect(records() == before + 1, "\(c) left \(records() - before) records")
    }
    let text = try String(contentsOfFile: log, encoding: .utf8)
    #expect(!text.contains("079201001234"), "a raw identifier is not recorded")
    #expect(text.contains("\"command\":\"person\""))
    let listed = try store.run(["--role", "auditor", "access", "--since", "2000-01-01"])
    #expect(listed.stdout.contains("\tanalyst\tquery\t1 rows\tSELECT count(*) FROM tips"))
    #expect(
      try store.run(["--role", "analyst", "access"]).status == 1,
      "the analyst may not read the access log")
    let verify = try store.run(["verify"])
    #expect(verify.status == 0, "\(verify.stderr)")
    #expect(verify.stdout.contains("access log: \(records()) records, chain whole"))
    // A record changed afterwards breaks the chain.
    let changed = text.replacingOccurrences(
      of: "SELECT count(*) FROM tips", with: "SELECT count(*) FROM cases")
    try changed.write(toFile: log, atomically: true, encoding: .utf8)
    let damaged = try store.run(["verify"])
    #expect(damaged.status == 2 && damaged.stderr.contains("access.log line 2"), "\(damaged)")
  }

  @Test func theAuditorRoleNeedsTheKeyAndAnalystExportsLeavePersonsOut() throws {
    let store = try Self.demo()
    let noKey = try runHoso([
      "--store", store.path, "--key", "/nonexistent/key", "--role", "auditor", "person", "1",
    ])
    #expect(noKey.status == 1 && noKey.stderr.contains("holds the pseudonym key"), "\(noKey)")
    // Every command of the auditor needs the store's own key, not any key.
    let fake = TemporaryDirectory("hoso-key")
    writeBytes(Array((String(repeating: "0", count: 64) + "\n").utf8), to: fake.file("key"))
    chmod(fake.file("key"), 0o600)
    for command in [
      ["query", "SELECT count(*) FROM supports"], ["access"], ["shell", "-c", "SELECT 1"],
    ] {
      let r = try runHoso(
        ["--store", store.path, "--key", fake.file("key"), "--role", "auditor"] + command)
      #expect(r.status == 1 && r.stderr.contains("is not this store's key"), "\(command): \(r)")
    }
    #expect(try store.run(["--role", "analyst", "audit", "C-1"]).status == 1)
    #expect(try store.run(["rebuild"]).status == 0)
    let out = TemporaryDirectory("hoso-export")
    let r = try store.run(["--role", "analyst", "export", "--format", "csv", "--out", out.path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.contains("left out, person-level: events, events_raw, supports"), "\(r)")
    let files = try FileManager.default.contentsOfDirectory(atPath: out.path)
    #expect(!files.contains("supports.csv") && files.contains("tips.csv"))
    let access = try String(contentsOfFile: out.path + "/support_access.csv", encoding: .utf8)
    #expect(access.contains("<5"), "small counts of the view are suppressed")
    #expect(!access.contains("P-"))
    let schema = try String(contentsOfFile: out.path + "/schema.sql", encoding: .utf8)
    #expect(schema.contains("\"persons\" VARCHAR"), "a suppressed column is text: \(schema)")
    // A view whose definition is not on record is not read unchecked.
    try FileManager.default.removeItem(
      atPath: store.path + "/matviews/support_access/DEFINITION.sql")
    let unknown = try store.run(["--role", "analyst", "query", "SELECT * FROM support_access"])
    #expect(unknown.status == 1 && unknown.stderr.contains("without its definition"), "\(unknown)")
    var st = stat()
    #expect(stat(out.path + "/tips.csv", &st) == 0 && st.st_mode & 0o077 == 0)
  }

  @Test func verifySaysWhenTheStoreIsOpenToOthers() throws {
    let store = TestStore()
    let created = try store.run(["init"])
    #expect(!created.stdout.contains("others"), "\(created.stdout)")
    #expect(!(try store.run(["verify"]).stdout.contains("others")))
    chmod(store.path + "/STORE", 0o644)
    let r = try store.run(["verify"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("can be read or written by others"), "\(r.stdout)")
    #expect(r.stdout.contains("STORE (644)"))
  }
}

/// A suppressed cell of a two-way table.
struct HiddenCell: Hashable, CustomStringConvertible {
  var row: String
  var column: String
  var description: String { "\(row) × \(column)" }
}

/// The hidden cells that an analyst can compute back from the row and column totals, as far
/// as those are shown (a total under `minCell` is suppressed too): a cell is disclosed when its
/// unit vector lies in the span of the totals' equations over the hidden cells.
func disclosedCells(
  _ hidden: [HiddenCell], rowTotals: [String: Int], columnTotals: [String: Int], minCell: Int
) -> [HiddenCell] {
  var equations: [[Double]] = []
  for (row, total) in rowTotals where total >= minCell {
    equations.append(hidden.map { $0.row == row ? 1 : 0 })
  }
  for (column, total) in columnTotals where total >= minCell {
    equations.append(hidden.map { $0.column == column ? 1 : 0 })
  }
  let base = rank(equations)
  return hidden.indices.filter { i in
    var unit = [Double](repeating: 0, count: hidden.count)
    unit[i] = 1
    return rank(equations + [unit]) == base
  }.map { hidden[$0] }
}

/// The rank of a matrix, by Gaussian elimination with partial pivoting.
func rank(_ m: [[Double]]) -> Int {
  var a = m
  var r = 0
  let columns = a.first?.count ?? 0
  for c in 0..<columns where r < a.count {
    guard let p = (r..<a.count).max(by: { abs(a[$0][c]) < abs(a[$1][c]) }), abs(a[p][c]) > 1e-9
    else { continue }
    a.swapAt(r, p)
    for i in 0..<a.count where i != r {
      let f = a[i][c] / a[r][c]
      if f != 0 { for j in c..<columns { a[i][j] -= f * a[r][j] } }
    }
    r += 1
  }
  return r
}
