import Foundation
import Projections
import TestSupport
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// Materialized views: the rule-change cycle, staleness, byte-identical rebuilds, a crash in
/// the middle of a swap, and views with problems beside views that work.
@Suite(.serialized) struct ViewsTests {
  /// A demo store and a copy of the committed views to edit.
  final class Setup: @unchecked Sendable {
    let store = TestStore()
    let queries = TemporaryDirectory("hoso-queries")
    var views: String { queries.path + "/views" }

    /// The views and reports copied, no store made.
    static func empty() -> Setup { try! Setup(count: nil) }

    init(count: Int? = 30_000) throws {
      if let count {
        let made = try store.run(["demo", "--count", String(count)])
        #expect(made.status == 0, "\(made.stderr)")
      }
      try FileManager.default.createDirectory(atPath: views, withIntermediateDirectories: true)
      for f in try FileManager.default.contentsOfDirectory(atPath: packageRoot + "/queries/views") {
        try FileManager.default.copyItem(
          atPath: packageRoot + "/queries/views/" + f, toPath: views + "/" + f)
      }
      try FileManager.default.copyItem(
        atPath: packageRoot + "/queries/reports", toPath: queries.path + "/reports")
    }

    func run(_ arguments: [String], stdin: [UInt8]? = nil) throws -> CommandResult {
      try store.run(["--queries", queries.path] + arguments, stdin: stdin)
    }

    func csv(_ sql: String) throws -> [[String]] {
      let r = try run(["query", sql, "--format", "csv"])
      #expect(r.status == 0, "\(sql): \(r.stderr)")
      return r.stdout.split(separator: "\r\n").dropFirst().map {
        $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      }
    }

    func edit(_ view: String, _ from: String, _ to: String) throws {
      let path = views + "/" + view + ".sql"
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text.contains(from))
      try text.replacingOccurrences(of: from, with: to).write(
        toFile: path, atomically: true, encoding: .utf8)
    }

    /// Every file of the built views, by path under `matviews`, with its bytes.
    func files() throws -> [String: Data] {
      let root = store.path + "/matviews"
      var out: [String: Data] = [:]
      for v in try FileManager.default.contentsOfDirectory(atPath: root) where v != "LOCK" {
        for f in try FileManager.default.contentsOfDirectory(atPath: root + "/" + v) {
          out[v + "/" + f] = FileManager.default.contents(atPath: root + "/" + v + "/" + f)
        }
      }
      return out
    }

    /// Starts `hoso ARGS` and kills it with SIGKILL after `seconds` (unless it ended first).
    func kill(_ arguments: [String], after seconds: Double) throws {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: hosoBinary())
      p.arguments =
        ["--store", store.path, "--key", store.keyPath, "--queries", queries.path] + arguments
      var env = ProcessInfo.processInfo.environment
      env["HOSO_ROLE"] = "auditor"
      p.environment = env
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      usleep(UInt32(seconds * 1e6))
      Glibc.kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
    }

    /// The files of `files()` by view folder (`cases`, `cases.rebuild`, …).
    func filesByView() throws -> [String: [String: Data]] {
      var out: [String: [String: Data]] = [:]
      for (path, data) in try files() {
        let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
        out[parts[0], default: [:]][parts[1]] = data
      }
      return out
    }

    func status() throws -> [String: String] {
      let r = try run(["views"])
      var out: [String: String] = [:]
      for line in r.stdout.split(separator: "\n").dropFirst() where !line.hasPrefix("(") {
        let f = line.split(separator: " ", maxSplits: 1)
        out[String(f[0])] = String(f[1]).trimmingCharacters(in: .whitespaces)
      }
      return out
    }
  }

  /// Tables and views made by an older hoso's rules (the same log, other values: a province
  /// rule, a new column) are made again: the tables by the next command, the views marked
  /// stale, saying why, until rebuilt.
  @Test func tablesAndViewsOfOlderRulesAreMadeAgain() throws {
    let s = try Setup(count: 3_000)
    #expect(try s.run(["rebuild", "yearly_trend"]).status == 0)
    let rules = s.store.path + "/views/RULES"
    #expect(try String(contentsOfFile: rules, encoding: .utf8) == "hoso-rules 2\n")
    let before = try s.csv("SELECT count(*) FROM events")
    // As an older hoso left them: the tables' rules 1, and a view that records none.
    try "hoso-rules 1\n".write(toFile: rules, atomically: true, encoding: .utf8)
    let viewFile = s.store.path + "/matviews/yearly_trend/VIEW"
    let view = try String(contentsOfFile: viewFile, encoding: .utf8)
    #expect(view.contains("\ntables-rules 2\n"))
    try view.replacingOccurrences(of: "tables-rules 2\n", with: "").write(
      toFile: viewFile, atomically: true, encoding: .utf8)
    let manifest = s.store.path + "/views/events_raw/MANIFEST"
    let stamp = try FileManager.default.attributesOfItem(atPath: manifest)[.modificationDate]
    #expect(try s.csv("SELECT count(*) FROM events") == before)
    // The tables were made again (a new manifest), under the rules of now.
    #expect(try String(contentsOfFile: rules, encoding: .utf8) == "hoso-rules 2\n")
    #expect(
      try FileManager.default.attributesOfItem(atPath: manifest)[.modificationDate] as? Date
        != stamp as? Date)
    let stale = try s.status()["yearly_trend"] ?? ""
    #expect(stale.hasPrefix("stale: built from tables made by an older hoso's rules"), "\(stale)")
    #expect(try s.run(["rebuild"]).status == 0)
    let fresh = try s.status()["yearly_trend"] ?? ""
    #expect(fresh.hasPrefix("fresh"), "\(fresh)")
  }

  @Test func theRuleChangeCycle() throws {
    let s = try Setup()
    #expect(try s.status().values.allSatisfy { $0.hasPrefix("stale: not built yet") })
    // A dry run of the first build computes the views over views from the new copies below
    // them, and leaves nothing.
    let firstDry = try s.run(["rebuild", "--dry-run"])
    #expect(firstDry.status == 0, "\(firstDry.stderr)")
    #expect(firstDry.stdout.contains("would rebuild indicators: 130 rows"), "\(firstDry.stdout)")
    #expect(try s.files().isEmpty)
    let first = try s.run(["rebuild"])
    #expect(first.status == 0, "\(first.stderr)")
    // In dependency order: a view after those it reads.
    let order = ["cases", "inspection_coverage", "indicators"].map {
      first.stdout.range(of: "rebuilt \($0):")?.lowerBound
    }
    #expect(order.allSatisfy { $0 != nil } && order[0]! < order[2]! && order[1]! < order[2]!)
    // `hoso views`: status, checkpoint, rows, size and when it was built.
    let columns = #/^fresh +\d+ +\d+ +\d+\.\d (kB|MB) +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/#
    #expect(try s.status().values.allSatisfy { $0.wholeMatch(of: columns) != nil })
    let built = try s.files()
    let share =
      "SELECT round(100.0 * count(*) FILTER (WHERE handled_in_time) / count(*), 3) FROM cases"
    let before = try Double(s.csv(share)[0][0])!

    // The deadline 20 days -> 10: cases and the indicators over it turn stale, nothing else.
    try s.edit("cases", "INTERVAL '20 days'", "INTERVAL '10 days'")
    let stale = try s.status()
    #expect(stale["cases"]!.hasPrefix("stale: its definition changed"))
    #expect(stale["indicators"]!.hasPrefix("stale: its definition changed"))
    #expect(stale["yearly_trend"]!.hasPrefix("fresh"))
    // A query on a stale view answers from the old copy, and says so.
    let warned = try s.run(["query", share, "--format", "csv"])
    #expect(warned.stderr.contains("warning: view cases is stale"))
    #expect(Double(warned.stdout.split(separator: "\r\n")[1]) == before)
    // --dry-run says what would change and keeps the old copy.
    let dry = try s.run(["rebuild", "--dry-run", "cases"])
    #expect(dry.status == 0 && dry.stdout.contains("would rebuild cases"), "\(dry.stdout)")
    #expect(dry.stdout.contains("handled_in_time true -> false"), "\(dry.stdout)")
    #expect(try s.files() == built)
    // A dry run of both: indicators is computed from the new cases, as the rebuild will be.
    let both = try s.run(["rebuild", "--dry-run"])
    #expect(
      both.stdout.contains("tips_handled year=2023: actual 100.0 -> 0.0"), "\(both.stdout)")
    #expect(try s.files() == built)
    let second = try s.run(["rebuild"])
    #expect(second.stdout.contains("rebuilt cases") && second.stdout.contains("rebuilt indicators"))
    #expect(!second.stdout.contains("rebuilt yearly_trend"))
    // What the dry run said of each view is what the rebuild did.
    func changes(_ out: String, _ view: String) -> [Substring] {
      out.split(separator: "\n").filter { $0.contains(" \(view): ") }.map {
        $0.split(separator: ";").last!
      }
    }
    for view in ["cases", "indicators"] {
      #expect(changes(both.stdout, view) == changes(second.stdout, view), "\(view)")
    }
    let after = try Double(s.csv(share)[0][0])!
    #expect(after < before, "\(after) against \(before)")

    // A changed view below a view makes it stale too (the hash of a view over views holds
    // theirs).
    try s.edit("inspection_coverage", "-- key: province_now, year", "-- key: province_now, year ")
    let below = try s.status()
    #expect(below["inspection_coverage"]!.hasPrefix("stale: its definition changed"))
    #expect(below["indicators"]!.hasPrefix("stale: its definition changed"), "\(below)")
    #expect(below["cases"]!.hasPrefix("fresh"))
    try s.edit("inspection_coverage", "-- key: province_now, year ", "-- key: province_now, year")

    // Back to 20 days: the files are byte for byte those of the first build.
    try s.edit("cases", "INTERVAL '10 days'", "INTERVAL '20 days'")
    #expect(try s.run(["rebuild"]).status == 0)
    #expect(try s.files() == built)
    #expect(try s.run(["rebuild"]).stdout.contains("every view is fresh"))
  }

  @Test func aCrashInASwapLeavesTheOldViewAndALaterRebuildWorks() throws {
    let s = try Setup(count: 10_000)
    #expect(try s.run(["rebuild", "yearly_trend"]).status == 0)
    let root = s.store.path + "/matviews/"
    let rows = try s.csv("SELECT count(*) FROM yearly_trend")
    // Killed while writing the new copy: a half-made folder beside the view.
    try FileManager.default.createDirectory(
      atPath: root + "yearly_trend.rebuild", withIntermediateDirectories: true)
    try Data("garbage".utf8).write(to: URL(fileURLWithPath: root + "yearly_trend.rebuild/MANIFEST"))
    #expect(try s.csv("SELECT count(*) FROM yearly_trend") == rows)
    // Killed between the two renames of the swap: the view is at `.old` only.
    try FileManager.default.moveItem(
      atPath: root + "yearly_trend", toPath: root + "yearly_trend.old")
    #expect(try s.csv("SELECT count(*) FROM yearly_trend") == rows)
    try s.edit("yearly_trend", "count(*) AS events", "count(*) AS events, min(seq) AS first_seq")
    let again = try s.run(["rebuild", "yearly_trend"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(try s.csv("SELECT count(*) FROM yearly_trend") == rows)
    #expect(try s.csv("SELECT count(first_seq) FROM yearly_trend") == rows)
    let left = try FileManager.default.contentsOfDirectory(atPath: root).filter {
      $0.hasPrefix("yearly_trend")
    }
    #expect(left == ["yearly_trend"])
  }

  @Test func problemsAreNamedWhereTheyAreAndTheOtherViewsWork() throws {
    let s = try Setup(count: 10_000)
    try "-- broken\nSELECT year, count(* AS n\nFROM events GROUP BY year\n".write(
      toFile: s.views + "/broken.sql", atomically: true, encoding: .utf8)
    try "SELECT * FROM loop_b\n".write(
      toFile: s.views + "/loop_a.sql", atomically: true, encoding: .utf8)
    try "-- b reads a\nSELECT *\nFROM loop_a\n".write(
      toFile: s.views + "/loop_b.sql", atomically: true, encoding: .utf8)
    try "SELECT year, nosuch FROM events\n".write(
      toFile: s.views + "/unbound.sql", atomically: true, encoding: .utf8)
    let r = try s.run(["rebuild"])
    #expect(r.status == 1)
    #expect(r.stderr.contains(s.views + "/broken.sql:2:22: Parser Error"), "\(r.stderr)")
    // Each view of the cycle, where it names the next.
    for at in ["loop_a.sql:1:15", "loop_b.sql:3:6"] {
      #expect(
        r.stderr.contains(
          s.views + "/\(at): views read each other in a cycle: loop_a -> loop_b -> loop_a"),
        "\(r.stderr)")
    }
    let named = try s.run(["rebuild", "loop_a"])
    #expect(named.status == 1 && named.stderr.contains(s.views + "/loop_a.sql:1:15:"))
    #expect(r.stderr.contains(s.views + "/unbound.sql:1:14: Binder Error"), "\(r.stderr)")
    #expect(r.stdout.contains("rebuilt cases") && r.stdout.contains("rebuilt yearly_trend"))
    #expect(try s.csv("SELECT count(*) > 0 FROM yearly_trend") == [["true"]])
    let listed = try s.run(["views"])
    #expect(listed.status == 1 && listed.stdout.contains("broken"))
    for view in ["broken", "loop_a", "loop_b", "unbound"] {
      #expect(listed.stdout.contains("\n" + view + " "), "\(view): \(listed.stdout)")
    }
    let unknown = try s.run(["rebuild", "yearly_trnd"])
    #expect(unknown.status == 1 && unknown.stderr.contains("did you mean yearly_trend?"))
  }

  @Test func reportsAsKnownAtTheirDeadline() throws {
    let s = try Setup(count: 30_000)
    // Bắc Kạn's budget, as the source document prints it.
    let budget = try s.run(["report", "budget_bac_kan_2011_2015", "--format", "csv"])
    #expect(budget.status == 0, "\(budget.stderr)")
    let lines = budget.stdout.split(separator: "\r\n").map(String.init)
    #expect(lines.count == 8, "\(lines)")
    // Its five lines in its order, its 5 years and total in whole millions, then the totals.
    let table = lines.map { $0.split(separator: ",").suffix(6).joined(separator: " ") }
    #expect(
      table == [
        "2011 2012 2013 2014 2015 total", "50 150 150 150 100 600", "50 100 100 100 100 450",
        "50 150 150 150 150 650", "50 100 100 100 50 400", "20 80 80 100 120 400",
        "2011 2012 2013 2014 2015 total", "220 580 580 600 520 2500",
      ], "\(lines)")
    let starts = ["\"Đẩy mạnh", "\"Tiếp tục", "\"Nâng cao", "\"Xây dựng", "\"Kiện toàn"]
    #expect(zip(lines[1...5], starts).allSatisfy { $0.hasPrefix($1 + " ") }, "\(lines)")
    #expect(lines.last?.hasPrefix("Tổng cộng,") == true)
    let titled = try s.run(["report", "budget_bac_kan_2011_2015"])
    #expect(titled.stdout.hasPrefix("budget_bac_kan_2011_2015\n"), "no year: the file has none")
    // The trend, year by year from 2011, each year's change on the one before.
    let trend = try s.run(["report", "trend", "--format", "csv"])
    let years = trend.stdout.split(separator: "\r\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false)
    }
    #expect(trend.status == 0 && years.first?.first == "year" && years.count > 10, "\(trend)")
    #expect(years[1].first == "2011" && years[1].last == "" && years[2].first == "2012")
    // The six-month report of 2015 as known at 10 June 2015, and as known a year later: the
    // records of the first half entered after the deadline make the second larger.
    func total(_ arguments: [String]) throws -> Int {
      let r = try s.run(["report", "six_month", "--year", "2015", "--format", "csv"] + arguments)
      #expect(r.status == 0, "\(r.stderr)")
      return r.stdout.split(separator: "\r\n").dropFirst().reduce(0) {
        $0 + (Int($1.split(separator: ",")[3]) ?? 0)
      }
    }
    let atDeadline = try total([])
    let later = try total(["--as-of", "2016-06-10"])
    #expect(atDeadline > 0 && later > atDeadline, "\(atDeadline) then \(later)")
    let annual = try s.run(["report", "annual", "--year", "2015"])
    #expect(
      annual.stdout.hasPrefix("annual, 2015, as known at 2015-12-10 23:59:59 (Vietnam time)\n"))
    // The deadline is the report file's: moved to 25 June, the report knows more.
    let file = s.queries.path + "/reports/six_month.sql"
    try String(contentsOfFile: file, encoding: .utf8)
      .replacingOccurrences(of: "-- as of: 06-10 23:59:59", with: "-- as of: 06-25 23:59:59")
      .write(toFile: file, atomically: true, encoding: .utf8)
    let moved = try s.run(["report", "six_month", "--year", "2015"])
    #expect(moved.stdout.hasPrefix("six_month, 2015, as known at 2015-06-25 23:59:59 "))
    #expect(try total([]) > atDeadline)
    let bad = try s.run(["report", "annual", "--year", "soon"])
    #expect(bad.status == 1 && bad.stderr.contains("--year is a year"))
    let yearless = try s.run(["report", "trend", "--year", "2015"])
    #expect(yearless.status == 1, "\(yearless.stdout)")
    #expect(yearless.stderr.contains("report trend is not of one year"), "\(yearless.stderr)")
    let unknown = try s.run(["report", "anual"])
    #expect(unknown.status == 1 && unknown.stderr.contains("did you mean annual?"))
    // A report over a view reads it as built, and as of a time computes it as of then
    // (ViewsAsOfTests).
    #expect(try s.run(["rebuild", "indicators"]).status == 0)
    let indicators = try s.run(["report", "plan_indicators", "--year", "2022", "--format", "csv"])
    #expect(indicators.status == 0 && indicators.stdout.contains("inspection_coverage"))
    let asOf = try s.run(["report", "plan_indicators", "--as-of", "2022-01-01"])
    #expect(asOf.status == 0 && asOf.stdout.contains("as known at 2022-01-01"), "\(asOf.stderr)")
  }

  /// `hoso rebuild` killed with SIGKILL at moments from its start to its end: every view is
  /// whole after each kill (its files are those of the old build or of the new one, and a
  /// query reads it), and the next rebuild ends with the files of an uninterrupted one.
  @Test func aSigkillDuringARebuildLeavesEveryViewWhole() throws {
    let s = try Setup(count: 10_000)
    let share = "SELECT count(*) FILTER (WHERE handled_in_time), count(*) FROM cases"
    #expect(try s.run(["rebuild"]).status == 0)
    let old = try s.filesByView()
    let before = try s.csv(share)
    try s.edit("cases", "INTERVAL '20 days'", "INTERVAL '5 days'")
    #expect(try s.run(["rebuild"]).status == 0)
    let new = try s.filesByView()
    let after = try s.csv(share)
    #expect(before != after && old != new)
    for delay in [0.01, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8] {
      try s.edit("cases", "INTERVAL '5 days'", "INTERVAL '20 days'")
      #expect(try s.run(["rebuild"]).status == 0)
      #expect(try s.filesByView() == old, "delay \(delay)")
      try s.edit("cases", "INTERVAL '20 days'", "INTERVAL '5 days'")
      try s.kill(["rebuild"], after: delay)
      let now = try s.filesByView()
      for view in old.keys {
        // Between the swap's two renames the view is at `.old`, and read from there.
        let files = now[view] ?? now[view + ".old"]
        #expect(files == old[view] || files == new[view], "delay \(delay): \(view)")
      }
      let answer = try s.csv(share)
      #expect(answer == before || answer == after, "delay \(delay): \(answer)")
      let again = try s.run(["rebuild"])
      #expect(again.status == 0, "delay \(delay): \(again.stderr)")
      #expect(try s.filesByView() == new, "delay \(delay)")
    }
  }

  /// What a killed rebuild can leave, put right by the next rebuild, deterministically: a
  /// half-made `V.rebuild`, a `V.old` beside a fresh `V` (killed while removing it), and a
  /// `V.old` without `V` (killed between the swap's renames). The kill test above meets these
  /// only when a kill lands in the right millisecond.
  @Test func theNextRebuildClearsWhatAKilledOneLeft() throws {
    let s = try Setup(count: 3_000)
    #expect(try s.run(["rebuild"]).status == 0)
    let built = try s.filesByView()
    let root = s.store.path + "/matviews"
    let fm = FileManager.default
    try fm.createDirectory(atPath: root + "/cases.rebuild", withIntermediateDirectories: true)
    #expect(fm.createFile(atPath: root + "/cases.rebuild/MANIFEST", contents: Data("half".utf8)))
    try fm.createDirectory(atPath: root + "/indicators.old", withIntermediateDirectories: true)
    #expect(fm.createFile(atPath: root + "/indicators.old/MANIFEST", contents: Data("half".utf8)))
    try fm.moveItem(atPath: root + "/yearly_trend", toPath: root + "/yearly_trend.old")
    // Until then, the view cut between its renames is read from its old copy, and says so.
    #expect(try s.status()["yearly_trend"]?.hasPrefix("fresh") == true)
    #expect(try s.run(["rebuild"]).status == 0)
    #expect(try s.filesByView() == built)
  }

  /// A view built by an older hoso (files of another format) is named as such: by a query,
  /// with what to run, and by `hoso views`; `hoso rebuild` builds it again.
  @Test func aViewOfAnOlderFormatIsRebuiltNotMissing() throws {
    let s = try Setup(count: 3_000)
    #expect(try s.run(["rebuild"]).status == 0)
    let before = try s.csv("SELECT count(*) FROM cases")
    let manifest = s.store.path + "/matviews/cases/MANIFEST"
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    try text.replacingOccurrences(of: Table.format + "\n", with: "hoso-table 2\n").write(
      toFile: manifest, atomically: true, encoding: .utf8)
    let q = try s.run(["query", "SELECT count(*) FROM cases"])
    #expect(q.status == 1)
    #expect(q.stderr.contains("built by an older version of hoso"), "\(q.stderr)")
    #expect(q.stderr.contains("hoso rebuild cases"), "\(q.stderr)")
    #expect(try s.status()["cases"]?.hasPrefix("stale: built by an older hoso") == true)
    let r = try s.run(["rebuild"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("rebuilt cases"), "\(r.stdout)")
    #expect(try s.csv("SELECT count(*) FROM cases") == before)
  }

  /// Each committed view opens with a header: its name, what it is, and the rule it encodes;
  /// the reports with a deadline name it in theirs.
  @Test func everyViewSaysWhatItIsAndWhichRuleItEncodes() throws {
    let folder = packageRoot + "/queries/views/"
    let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    #expect(
      files == [
        "cases.sql", "indicators.sql", "inspection_coverage.sql", "outreach_coverage.sql",
        "support_access.sql", "training_coverage.sql", "yearly_trend.sql",
      ])
    func header(_ path: String) throws -> [Substring] {
      try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        .prefix { $0.hasPrefix("--") }
    }
    for f in files {
      let lines = try header(folder + f)
      #expect(lines.first?.hasPrefix("-- \(f.dropLast(4)): ") == true, "\(f)")
      #expect(lines.contains { $0.hasPrefix("-- Rule: ") }, "\(f) names no rule")
    }
    let cases = try String(contentsOfFile: folder + "cases.sql", encoding: .utf8)
    let rule = try header(folder + "cases.sql").joined(separator: " ")
    #expect(rule.contains("within 20 days") && rule.contains("art. 147"))
    #expect(cases.contains("opened_at + INTERVAL '20 days'"))
    let reports = packageRoot + "/queries/reports/"
    #expect(try header(reports + "six_month.sql").contains("-- as of: 06-10 23:59:59"))
    #expect(try header(reports + "annual.sql").contains("-- as of: 12-10 23:59:59"))
  }

  /// After every append of a batch (generated with a fixed seed, corrections and voids among
  /// them, and a correction and a void of old trainings), the views kept by deltas equal their
  /// full recomputation.
  @Test func incrementalEqualsFull() throws {
    let seed = 7
    let s = Setup.empty()
    #expect(try s.run(["init"]).status == 0)
    // A view with an average and a maximum beside the committed ones.
    try """
    -- fines: per province and year, inspections and their fines
    SELECT province_now, year, count(*) AS inspections, avg(fine_vnd) AS mean_fine,
           max(fine_vnd) AS top_fine, sum(fine_vnd) FILTER (WHERE result = 'violation') AS fined
    FROM inspections
    GROUP BY province_now, year
    """.write(toFile: s.views + "/fines.sql", atomically: true, encoding: .utf8)
    let generated = try runHoso(["generate", "--seed", String(seed), "--count", "6000"])
    #expect(generated.status == 0)
    let lines = generated.stdout.split(separator: "\n").map(String.init)
    let batches = 6
    let per = (lines.count + batches - 1) / batches
    var deltas = 0
    for b in 0..<batches {
      var batch = Array(lines[(b * per)..<min(lines.count, (b + 1) * per)])
      if b == 3 {
        // A correction and a void of trainings appended earlier, recorded with the batch.
        let after = batch.last!.components(separatedBy: "\"recorded_at\"")[1]
        let stamp = after.drop { $0 == ":" || $0 == " " || $0 == "\"" }.prefix(25)
        let old = try s.csv("SELECT id FROM trainings ORDER BY seq LIMIT 2").map { $0[0] }
        #expect(old.count == 2, "seed \(seed)")
        batch.append(
          "{\"id\": \"fix-1\", \"type\": \"event.corrected\", \"occurred_at\": \"\(stamp)\", \"recorded_at\": \"\(stamp)\", \"unit\": \"VN\", \"data\": {\"target\": \"\(old[0])\", \"changes\": {\"participants\": 999}, \"reason\": \"test\"}}"
        )
        batch.append(
          "{\"id\": \"fix-2\", \"type\": \"event.voided\", \"occurred_at\": \"\(stamp)\", \"recorded_at\": \"\(stamp)\", \"unit\": \"VN\", \"data\": {\"target\": \"\(old[1])\", \"reason\": \"test\"}}"
        )
      }
      let r = try s.run(["append", "-"], stdin: Array((batch.joined(separator: "\n") + "\n").utf8))
      #expect(r.status == 0, "seed \(seed), batch \(b): \(r.stderr)")
      if b == 0 {
        let built = try s.run(["rebuild", "yearly_trend", "training_coverage", "fines"])
        #expect(built.status == 0, "\(built.stderr)")
        continue
      }
      #expect(r.stderr.contains("views brought up to date: fines"), "\(r.stderr)")
      if r.stderr.contains("training_coverage, yearly_trend\n") { deltas += 1 }
      for view in ["yearly_trend", "training_coverage", "fines"] {
        let sql = try String(contentsOfFile: s.views + "/" + view + ".sql", encoding: .utf8)
        let full = try s.csv(sql).sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
        let kept = try s.csv("SELECT * FROM " + view)
          .sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
        // Averages to 1e-9: a sum kept by deltas adds in another order.
        let same =
          kept.count == full.count
          && zip(kept, full).allSatisfy { k, f in
            k.count == f.count
              && zip(k, f).allSatisfy { x, y in
                x == y
                  || (Double(x).flatMap { a in Double(y).map { b in abs(a - b) <= 1e-9 * abs(b) } }
                    ?? false)
              }
          }
        #expect(
          same, "seed \(seed), batch \(b), \(view): \(kept.prefix(3)) against \(full.prefix(3))")
      }
    }
    let status = try s.status()
    #expect(status["yearly_trend"]!.hasPrefix("fresh") && status["cases"]!.hasPrefix("stale"))
    // Most batches went by deltas (the one with the 2025 merger is recomputed).
    #expect(deltas >= 3, "seed \(seed): \(deltas) batches by deltas")
  }

  @Test func aViewBehindTheTablesIsStaleUntilRebuilt() throws {
    let s = try Setup(count: 10_000)
    #expect(try s.run(["rebuild", "cases", "yearly_trend"]).status == 0)
    let extra = """
      {"id":"t-extra-1","type":"tip.received","occurred_at":"2026-10-01T08:00:00+07:00","recorded_at":"2026-11-30T08:00:00+07:00","unit":"VN-HN","case":"C-HN-2026-99999","data":{"source":"hotline","summary":"x"}}

      """
    let appended = try s.run(["append", "-"], stdin: Array(extra.utf8))
    #expect(appended.status == 0, "\(appended.stderr)")
    // yearly_trend is kept by deltas; cases is recomputed, so it waits for a rebuild.
    #expect(appended.stderr.contains("views brought up to date: yearly_trend"))
    let status = try s.status()
    #expect(status["cases"]!.hasPrefix("stale: 1 event behind the tables"), "\(status)")
    #expect(status["yearly_trend"]!.hasPrefix("fresh"), "\(status)")
    let r = try s.run(["rebuild"])
    #expect(r.stdout.contains("rebuilt cases: "), "\(r.stdout)")
    #expect(r.stdout.contains("1 added, 0 removed, 0 changed"), "\(r.stdout)")
    #expect(r.stdout.contains("+ case_id=C-HN-2026-99999"), "\(r.stdout)")
    #expect(!r.stderr.contains("rebuilding"), "no bar off a terminal")

    // On a terminal (script(1) gives it one), a bar over the views, wiped for each one's line.
    let command =
      ([hosoBinary()] + ["--store", s.store.path, "--key", s.store.keyPath])
      + ["--queries", s.queries.path, "--role", "auditor", "rebuild", "cases", "yearly_trend"]
    let tty = runProgram(
      ["script", "-q", "-e", "-c", command.map { "'\($0)'" }.joined(separator: " "), "/dev/null"])
    #expect(tty.status == 0, "\(tty)")
    for view in ["0% 0/2 cases", "50% 1/2 yearly_trend"] {
      #expect(tty.stdout.contains("\r\u{1B}[2Khoso: rebuilding: "), "\(tty.stdout)")
      #expect(tty.stdout.contains(view + "\r\u{1B}[2Krebuilt "), "\(tty.stdout)")
    }
  }
}
