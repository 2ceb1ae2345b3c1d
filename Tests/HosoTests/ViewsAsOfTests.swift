import Foundation
import TestSupport
import Testing

/// Views and reports as known at a past system time (issue 18, finding 5b): a view as of a
/// time is its definition over the built-in tables as of then, views over views too; as of
/// now it is its materialized copy; the analyst role's rules hold for it as for the copy.
@Suite struct ViewsAsOfTests {
  typealias Setup = ViewsTests.Setup

  /// A demo store with every view built, and two times of its history: a deadline in its
  /// middle, four years before its last record (so that the plans of 2021–2025 have measures
  /// on both sides of it), and the last record's time.
  static func built(count: Int = 10_000) throws -> (Setup, middle: String, last: String) {
    let s = try Setup(count: count)
    let rebuilt = try s.run(["rebuild"])
    #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
    let span = try s.csv("SELECT year(max(recorded_at)), max(recorded_at) FROM events_raw")
    return (s, "\(Int(span[0][0])! - 4)-06-10 23:59:59", span[0][1])
  }

  /// The SQL of view `name`, as a user would write it out by hand to read it as of `time`:
  /// every built-in table it reads `FOR SYSTEM_TIME AS OF` that time, every view it reads
  /// replaced by its own SQL so written.
  static func byHand(_ s: Setup, _ name: String, asOf time: String) throws -> String {
    let text = try String(contentsOfFile: s.views + "/" + name + ".sql", encoding: .utf8)
    var sql = text.split(separator: "\n")
      .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
      .joined(separator: "\n")
    let tables = [
      "events", "events_raw", "tips", "verifications", "inspections", "referrals", "closures",
      "supports", "outreach", "trainings", "establishments", "units", "plans", "plan_targets",
      "budgets",
    ]
    for t in tables {
      sql = sql.replacingOccurrences(
        of: "\\b(FROM|JOIN) \(t)\\b", with: "$1 \(t) FOR SYSTEM_TIME AS OF TIMESTAMP '\(time)'",
        options: .regularExpression)
    }
    let views = try FileManager.default.contentsOfDirectory(atPath: s.views)
      .filter { $0.hasSuffix(".sql") }.map { String($0.dropLast(4)) }
    for v in views
    where v != name && sql.range(of: "\\b\(v)\\b", options: .regularExpression) != nil {
      let inner = NSRegularExpression.escapedTemplate(for: try byHand(s, v, asOf: time))
      sql = sql.replacingOccurrences(
        of: "\\b(FROM|JOIN) \(v)\\b", with: "$1 (\(inner)) AS \(v)", options: .regularExpression)
    }
    return sql
  }

  @Test func aViewAsOfATimeIsItsDefinitionOverTheTablesAsOfThen() throws {
    let (s, middle, last) = try Self.built()
    for view in ["cases", "inspection_coverage", "indicators"] {
      let then = try s.csv(
        "SELECT * FROM \(view) FOR SYSTEM_TIME AS OF TIMESTAMP '\(middle)' ORDER BY ALL")
      let hand = try s.csv(
        "SELECT * FROM (\(try Self.byHand(s, view, asOf: middle))) AS v ORDER BY ALL")
      #expect(!then.isEmpty && then == hand, "\(view)")
      // AS OF at the end of the statement reads it the same.
      #expect(try s.csv("SELECT * FROM \(view) ORDER BY ALL AS OF TIMESTAMP '\(middle)'") == then)
      // Events were recorded since: now is another answer.
      #expect(try s.csv("SELECT * FROM \(view) ORDER BY ALL") != then, "\(view)")
    }
    // As of the last record, and after it, every view is its materialized copy, value for
    // value and type for type.
    let views = try FileManager.default.contentsOfDirectory(atPath: s.views).map {
      String($0.dropLast(4))
    }
    for view in views {
      let now = try s.run(["query", "SELECT * FROM \(view) ORDER BY ALL"])
      #expect(now.status == 0 && now.stdout.contains("│"), "\(view): \(now.stderr)")
      for time in [last, "2999-01-01 00:00:00"] {
        let asOf = try s.run([
          "query", "SELECT * FROM \(view) FOR SYSTEM_TIME AS OF TIMESTAMP '\(time)' ORDER BY ALL",
        ])
        #expect(asOf.stdout == now.stdout, "\(view) as of \(time): \(asOf.stderr)")
      }
    }
    // A statement's CTEs are read as of its AS OF too, as its other tables are.
    let cte = try s.csv(
      "WITH t AS (SELECT count(*) AS n FROM tips) SELECT n FROM t AS OF TIMESTAMP '\(middle)'")
    let direct = try s.csv("SELECT count(*) FROM tips AS OF TIMESTAMP '\(middle)'")
    let now = try s.csv("SELECT count(*) FROM tips")
    #expect(cte == direct && cte != now)
  }

  @Test func everyReportRunsAsOfAnyTimeAndAsOfNowIsTheReportNow() throws {
    let (s, middle, last) = try Self.built()
    let reports = try FileManager.default.contentsOfDirectory(atPath: s.queries.path + "/reports")
      .filter { $0.hasSuffix(".sql") }.map { String($0.dropLast(4)) }.sorted()
    #expect(reports.contains("plan_indicators") && reports.count >= 5)
    for name in reports {
      let path = s.queries.path + "/reports/" + name + ".sql"
      let text = try String(contentsOfFile: path, encoding: .utf8)
      // Of the deadline's year: its report as known in the middle of it.
      let year = text.contains("$year") ? ["--year", String(middle.prefix(4))] : []
      let then = try s.run(["report", name, "--as-of", middle, "--format", "csv"] + year)
      #expect(then.status == 0 && then.stderr.isEmpty, "\(name): \(then.stderr)")
      #expect(then.stdout.split(separator: "\r\n").count > 1, "\(name): \(then.stdout)")
      // Without --as-of a report reads now, or at its deadline when its file names one: as
      // known now, it is the file without its deadline.
      var now = name
      if text.contains("\n-- as of:") {
        now = name + "_now"
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        try lines.filter { !$0.hasPrefix("-- as of:") }.joined(separator: "\n").write(
          toFile: s.queries.path + "/reports/" + now + ".sql", atomically: true, encoding: .utf8)
      }
      let current = try s.run(["report", now, "--format", "csv"] + year)
      #expect(current.status == 0, "\(name): \(current.stderr)")
      for time in [last, "2999-01-01"] {
        let asOf = try s.run(["report", name, "--as-of", time, "--format", "csv"] + year)
        #expect(asOf.stdout == current.stdout, "\(name) as of \(time): \(asOf.stderr)")
      }
    }
    // The indicators of that year as known then are not those known now: the inspections
    // of its second half were not recorded yet.
    let year = String(middle.prefix(4))
    let then = try s.run(["report", "plan_indicators", "--year", year, "--as-of", middle])
    #expect(then.stdout.hasPrefix("plan_indicators, \(year), as known at \(middle) "))
    let csv = ["report", "plan_indicators", "--year", year, "--format", "csv"]
    let known = try s.run(csv + ["--as-of", middle]).stdout
    let now = try s.run(csv).stdout
    #expect(known.contains("inspection_coverage") && known != now)
  }

  @Test func aTimeBeforeTheFirstRecordOrNoTimeIsOneLineAndChangesNothing() throws {
    let (s, _, _) = try Self.built(count: 2_000)
    let before = snapshotTree(s.store.path)
    let cases: [([String], String)] = [
      (["report", "trend", "--as-of", "yesterday"], "--as-of: invalid timestamp \"yesterday\""),
      (
        ["report", "trend", "--as-of", "2001-01-01"], "--as-of: nothing was recorded by 2001-01-01"
      ),
      (["report", "plan_indicators", "--year", "2011", "--as-of", "2001-01-01"], "nothing was"),
      (["report", "annual", "--year", "2005"], "as of its deadline in 2005: nothing was recorded"),
    ]
    for (arguments, message) in cases {
      let r = try s.run(arguments)
      #expect(r.status == 1 && r.stdout.isEmpty, "\(arguments): \(r)")
      #expect(r.stderr.hasPrefix("hoso: ") && r.stderr.contains(message), "\(r.stderr)")
      #expect(r.stderr.contains("first record was recorded at") || message.contains("invalid"))
      #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
    #expect(snapshotTree(s.store.path) == before)
  }

  @Test func viewsWhoseRecordedDefinitionsReadEachOtherAreACycleNotACrash() throws {
    let (s, middle, _) = try Self.built(count: 2_000)
    try "SELECT year, count(*) AS n FROM tips GROUP BY year\n".write(
      toFile: s.views + "/loop_a.sql", atomically: true, encoding: .utf8)
    try "SELECT year, n FROM loop_a\n".write(
      toFile: s.views + "/loop_b.sql", atomically: true, encoding: .utf8)
    #expect(try s.run(["rebuild", "loop_a", "loop_b"]).status == 0)
    #expect(try s.csv("SELECT count(*) FROM loop_b AS OF TIMESTAMP '\(middle)'") != [["0"]])
    // The builds' records of the definitions made to read each other (as copies of
    // different builds could).
    try "SELECT year, n FROM loop_b\n".write(
      toFile: s.store.path + "/matviews/loop_a/DEFINITION.sql", atomically: true,
      encoding: .utf8)
    for role in ["auditor", "analyst"] {
      let r = try s.run([
        "--role", role, "query", "SELECT * FROM loop_b AS OF TIMESTAMP '\(middle)'",
      ])
      #expect(r.status == 1, "\(role): \(r)")
      #expect(r.stderr.contains("cycle") && r.stderr.contains("loop_b -> loop_a -> loop_b"))
    }
    // The analyst's rules read a view's recorded definition now too.
    let analyst = try s.run(["--role", "analyst", "query", "SELECT * FROM loop_b"])
    #expect(analyst.status == 1 && analyst.stderr.contains("cycle"), "\(analyst)")
  }

  @Test func aViewAsOfATimeKeepsTheAnalystsRules() throws {
    let (s, middle, last) = try Self.built()
    // Persons and their supports by province and year, as known then: small counts hidden
    // where the auditor sees them.
    let sql =
      "SELECT province_now, year, persons, supports FROM support_access ORDER BY province_now,"
      + " year AS OF TIMESTAMP '\(middle)'"
    let shown = try s.run(["--role", "analyst", "query", sql, "--format", "csv"])
    let truth = try s.csv(sql)
    #expect(shown.status == 0 && shown.stderr.contains("hidden for the analyst role"))
    let rows = shown.stdout.split(separator: "\r\n").dropFirst().map {
      $0.split(separator: ",").map(String.init)
    }
    #expect(rows.count == truth.count && !rows.isEmpty)
    var small = 0
    for (a, t) in zip(rows, truth) {
      for c in [2, 3] {
        let n = Int(t[c])!
        if (1..<5).contains(n) {
          #expect(a[c] == "<5", "\(t)")
          small += 1
        }
        #expect(Int(a[c]).map { $0 >= 5 || $0 == 0 } ?? true, "\(a)")
      }
    }
    #expect(small > 0)
    // As of now it is the copy as the analyst reads it: the same cells hidden, the same noise.
    let copy = try s.run(["--role", "analyst", "query", "SELECT * FROM support_access"])
    let atEnd = try s.run([
      "--role", "analyst", "query", "SELECT * FROM support_access AS OF TIMESTAMP '\(last)'",
    ])
    #expect(copy.status == 0 && atEnd.stdout == copy.stdout, "\(atEnd.stderr)")
    // One view as of a time beside another time would set two times of persons side by side:
    // refused, as the tables it reads are when written out by hand.
    for sql in [
      "SELECT count(*) FROM support_access FOR SYSTEM_TIME AS OF TIMESTAMP '\(middle)'",
      "SELECT a.persons FROM support_access FOR SYSTEM_TIME AS OF TIMESTAMP '\(middle)' a"
        + " JOIN support_access b ON a.province_now = b.province_now AND a.year = b.year",
      "SELECT count(*) FROM (\(try Self.byHand(s, "support_access", asOf: middle))) AS v",
    ] {
      let r = try s.run(["--role", "analyst", "query", sql])
      #expect(r.status == 1 && r.stderr.contains("Permission Error"), "\(sql): \(r)")
      #expect(r.stderr.contains("FOR SYSTEM_TIME AS OF on"), "\(r.stderr)")
    }
    // A view of person-level rows, as of a time: its rows refused, its counts suppressed.
    try "SELECT seq, person, province_now, year, kind FROM supports\n".write(
      toFile: s.views + "/support_rows.sql", atomically: true, encoding: .utf8)
    #expect(try s.run(["rebuild", "support_rows"]).status == 0)
    let refused = try s.run([
      "--role", "analyst", "query", "SELECT * FROM support_rows AS OF TIMESTAMP '\(middle)'",
    ])
    #expect(refused.status == 1 && refused.stderr.contains("person"), "\(refused)")
    let counts =
      "SELECT province_now, kind, count(*) AS n FROM support_rows GROUP BY ALL"
      + " AS OF TIMESTAMP '\(middle)'"
    let counted = try s.run(["--role", "analyst", "query", counts, "--format", "csv"])
    #expect(counted.status == 0 && counted.stdout.contains("<5"), "\(counted)")
    var shownCount: [String: String] = [:]
    for line in counted.stdout.split(separator: "\r\n").dropFirst() {
      let f = line.split(separator: ",").map(String.init)
      shownCount[f[0] + "/" + f[1]] = f[2]
    }
    let exact = try s.csv(counts)
    #expect(shownCount.count == exact.count)
    for t in exact where (1..<5).contains(Int(t[2])!) {
      #expect(shownCount[t[0] + "/" + t[1]] == "<5", "\(t)")
    }
  }

  @Test func anAsOfReadOfAViewWhoseDefinitionChangedSaysWhichDefinitionItUsed() throws {
    let (s, middle, _) = try Self.built(count: 2_000)
    let sql =
      "SELECT count(*) FILTER (WHERE handled_in_time) FROM cases AS OF TIMESTAMP '\(middle)'"
    let built = try s.run(["query", sql])
    #expect(built.status == 0 && built.stderr.isEmpty, "\(built.stderr)")
    try s.edit("cases", "INTERVAL '20 days'", "INTERVAL '5 days'")
    let changed = try s.run(["query", sql])
    #expect(changed.stdout == built.stdout)
    #expect(
      changed.stderr.contains(
        "warning: view cases is stale: its definition changed; this answer computes it by the"
          + " definition of its last build"), "\(changed.stderr)")
  }
}
