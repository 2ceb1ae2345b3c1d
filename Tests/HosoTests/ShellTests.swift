import Foundation
import TestSupport
import Testing

/// `hoso shell` through a pipe and with -c/-f: statements in order, no prompt, exit 1 at the
/// first error unless `.bail off`, and every dot command. (The terminal, with its line editor,
/// is TerminalTests'.)
@Suite struct ShellTests {
  static func store() throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    #expect(try store.run(["append", packageRoot + "/events/fixtures/valid.ndjson"]).status == 0)
    return store
  }

  static func shell(_ s: TestStore, _ input: String, _ flags: [String] = []) throws
    -> CommandResult
  {
    try s.run(["--queries", packageRoot + "/queries", "shell"] + flags, stdin: Array(input.utf8))
  }

  @Test func statementsFromAPipeInOrder() throws {
    let s = try Self.store()
    let r = try Self.shell(
      s,
      """
      .mode csv
      SELECT count(*) AS n
      FROM events;   -- a comment after the statement
      SELECT 'a;b' AS "x;y",
             /* ; inside a comment */ 2 AS two;
      SELECT type FROM events WHERE type = 'tip.received' ORDER BY seq LIMIT 1
      """)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "n\r\n20\r\nx;y,two\r\na;b,2\r\ntype\r\ntip.received\r\n", "\(r.stdout)")
    #expect(r.stderr.isEmpty)
  }

  @Test func theFirstErrorStopsUnlessBailIsOff() throws {
    let s = try Self.store()
    let stopped = try Self.shell(s, ".mode csv\nSELECT 1 AS a;\nSELECT nosuch;\nSELECT 2 AS b;\n")
    #expect(stopped.status == 1)
    #expect(stopped.stdout == "a\r\n1\r\n")
    #expect(stopped.stderr.hasPrefix("Binder Error: Referenced column \"nosuch\" not found"))
    #expect(
      stopped.stderr.contains("LINE 1: SELECT nosuch;\n               ^"), "\(stopped.stderr)")
    let goesOn = try Self.shell(s, ".bail off\n.mode csv\nSELECT nosuch;\nSELECT 2 AS b;\n")
    #expect(goesOn.status == 1 && goesOn.stdout == "b\r\n2\r\n", "\(goesOn.stdout)")
  }

  @Test func flagsAsDuckDBsAndSqlite3s() throws {
    let s = try Self.store()
    let c = try s.run(["shell", "-c", "SELECT 1 AS a, 'x' AS b", "-csv"])
    #expect(c.status == 0 && c.stdout == "a,b\r\n1,x\r\n", "\(c.stdout) \(c.stderr)")
    let json = try s.run(["shell", "-json", "-c", "SELECT 1 AS a;"])
    #expect(json.stdout == "[{\"a\":1}]\n", "\(json.stdout)")
    let md = try s.run(["shell", "-markdown", "-c", "SELECT 1 AS a"])
    #expect(md.stdout.hasPrefix("| a |\n"), "\(md.stdout)")
    let dir = TemporaryDirectory("hoso-shell")
    try "SELECT 3 AS c;\n.mode csv\nSELECT 4 AS d;\n".write(
      toFile: dir.path + "/script.sql", atomically: true, encoding: .utf8)
    let f = try s.run(["shell", "-f", dir.path + "/script.sql", "-csv"])
    #expect(f.stdout == "c\r\n3\r\nd\r\n4\r\n", "\(f.stdout)")
    let bail = try s.run(["shell", "-bail", "-c", "SELECT nosuch"])
    #expect(bail.status == 1)
    let bad = try s.run(["shell", "-x"])
    #expect(bad.status == 1 && bad.stderr.contains("unknown argument -x for shell"))
  }

  /// The terminal tests' statements through a pipe, and charts by series: the output exactly,
  /// no prompt, no codes.
  @Test func theTerminalTestsStatementsThroughAPipe() throws {
    let s = TestStore()
    #expect(try s.run(["demo", "--count", "5000"]).status == 0)
    let r = try Self.shell(
      s,
      """
      SELECT year, count(*) AS n
      FROM events WHERE year BETWEEN 2012 AND 2013 GROUP BY year ORDER BY year;
      SELECT year, count(*) AS n
      FROM events WHERE year BETWEEN 2012 AND 2014 GROUP BY year ORDER BY year;
      SELECT count(DISTINCT province_now) AS provinces FROM events WHERE province_now <> 'Hà Nội';
      .mode csv
      SELECT 41 + 1 AS answer;
      .mode table
      SELECT year, count(*) AS n FROM events WHERE year BETWEEN 2012 AND 2016 GROUP BY year ORDER BY year;
      .chart bar
      .mode csv
      SELECT year, type, count(*) AS n FROM events WHERE type IN ('tip.received', 'case.closed') AND year BETWEEN 2012 AND 2014 GROUP BY ALL ORDER BY 2, 1;
      .chart bar year n type
      .chart line year n type
      .quit

      """)
    #expect(r.status == 0 && r.stderr.isEmpty, "\(r.stderr)")
    #expect(
      r.stdout
        == """
        ┌───────┬───────┐
        │ year  │ n     │
        │ int64 │ int64 │
        ├───────┼───────┤
        │  2012 │   307 │
        │  2013 │   356 │
        └───────┴───────┘
        ┌───────┬───────┐
        │ year  │ n     │
        │ int64 │ int64 │
        ├───────┼───────┤
        │  2012 │   307 │
        │  2013 │   356 │
        │  2014 │   331 │
        └───────┴───────┘
        ┌───────────┐
        │ provinces │
        │ int64     │
        ├───────────┤
        │        33 │
        └───────────┘
        answer\r
        42\r
        ┌───────┬───────┐
        │ year  │ n     │
        │ int64 │ int64 │
        ├───────┼───────┤
        │  2012 │   307 │
        │  2013 │   356 │
        │  2014 │   331 │
        │  2015 │   350 │
        │  2016 │   380 │
        └───────┴───────┘
        2012 █████████████████████████████████████████████████▎ 307
        2013 █████████████████████████████████████████████████████████▏ 356
        2014 █████████████████████████████████████████████████████▏ 331
        2015 ████████████████████████████████████████████████████████▏ 350
        2016 █████████████████████████████████████████████████████████████ 380
        year,type,n\r
        2012,case.closed,12\r
        2013,case.closed,14\r
        2014,case.closed,9\r
        2012,tip.received,10\r
        2013,tip.received,18\r
        2014,tip.received,9\r
        case.closed  2012 ████████████████████████████████ 12
        case.closed  2013 █████████████████████████████████████▎ 14
        case.closed  2014 ████████████████████████ 9
        tip.received 2012 ██████████████████████████▋ 10
        tip.received 2013 ████████████████████████████████████████████████ 18
        tip.received 2014 ████████████████████████ 9
        case.closed  ▅▆▄  12 → 9
        tip.received ▄█▄  10 → 9
                     2012 … 2014

        """, "\(r.stdout)")
  }

  /// A statement past the delay (2 s; here 0, through `HOSO_PROGRESS_AFTER`) draws a bar of
  /// row groups under the prompt, wiped when it ends; on a terminal only (script(1) gives
  /// the shell one), and none for a statement quicker than the delay (here 600 s).
  @Test func aLongStatementDrawsABarOnATerminal() throws {
    let s = try Self.store()
    let home = TemporaryDirectory("hoso-bar")
    func run(after: String) -> ProgramResult {
      let hoso = [
        hosoBinary(), "--store", s.path, "--key", s.keyPath, "--role", "auditor", "shell",
      ]
      .map { "'\($0)'" }.joined(separator: " ")
      let input = "SELECT type, count(*) AS n FROM events GROUP BY type;\\n.quit\\n"
      return runProgram([
        "sh", "-c",
        "printf '\(input)' | HOME='\(home.path)' TERM=xterm HOSO_PROGRESS_AFTER=\(after)"
          + " script -q -e -c \"\(hoso)\" /dev/null",
      ])
    }
    let bar = run(after: "0")
    #expect(bar.status == 0, "\(bar)")
    #expect(bar.stdout.contains("hoso: running █"), "\(bar.stdout)")
    #expect(bar.stdout.contains(" 1/1 row groups (Ctrl-C stops it)\r\u{1B}[2K"), "\(bar.stdout)")
    #expect(bar.stdout.contains("tip.received"), "\(bar.stdout)")
    let quick = run(after: "600")
    #expect(quick.status == 0 && quick.stdout.contains("tip.received"), "\(quick)")
    #expect(!quick.stdout.contains("hoso: running"), "\(quick.stdout)")
  }

  @Test func hosoWithNoCommandIsTheShellOnTheStore() throws {
    let s = try Self.store()
    let r = try runHoso(
      [], stdin: Array("SELECT count(*) AS n FROM events;\n".utf8),
      environment: ["HOSO_STORE": s.path, "HOSO_KEY": s.keyPath])
    #expect(r.status == 0 && r.stdout.hasSuffix("│    20 │\n└───────┘\n"), "\(r.stdout)\(r.stderr)")
  }

  @Test func everyDotCommand() throws {
    let s = try Self.store()
    let dir = TemporaryDirectory("hoso-shell")
    try "SELECT 7 AS seven;\n".write(
      toFile: dir.path + "/read.sql", atomically: true, encoding: .utf8)
    let r = try Self.shell(
      s,
      """
      .help
      .tables
      .schema tips
      .mode line
      SELECT 1 AS a, 'x' AS bb;
      .mode markdown
      SELECT 1 AS a;
      .mode json
      SELECT 1 AS a;
      .mode table
      .maxrows 2
      SELECT seq FROM events ORDER BY seq LIMIT 5;
      .last
      .maxrows 0
      .once \(dir.path)/once.txt
      SELECT 'to the file' AS where_;
      .once \(dir.path)/audit.txt
      .audit C-BK-2013-001 AS OF 2013-06-03
      SELECT 'on the screen' AS here;
      .output \(dir.path)/out.txt
      SELECT 1 AS filed_one;
      SELECT 2 AS filed_two;
      .output
      .read \(dir.path)/read.sql
      .pager off
      .timer on
      SELECT 8 AS eight;
      .timer off
      .pager on
      .asof 2013-09-02 08:00:00
      SELECT count(*) AS outreach_then FROM outreach;
      .asof off
      SELECT count(*) AS outreach_now FROM outreach;
      .mode csv
      SELECT year, count(*) AS n FROM events GROUP BY year ORDER BY year;
      .chart bar
      .chart line year n
      .audit C-BK-2013-001
      .audit C-BK-2013-001 AS OF 2013-08-01 12:00:00
      .views
      .report budget_bac_kan_2011_2015
      .rebuild yearly_trend
      .rebuild
      .quit
      SELECT 'never' AS after_quit;
      """)
    #expect(r.status == 0, "\(r.stderr)")
    let out = r.stdout
    #expect(out.contains(".audit CASE [AS OF TIME]") && out.contains("Statements end with ;"))
    #expect(out.contains("events_raw\n") && out.contains("plan_targets\n"))
    #expect(out.contains("CREATE TABLE tips (\n  seq BIGINT,"))
    #expect(out.contains(" a = 1\nbb = x\n"), "\(out)")
    #expect(out.contains("| a |\n|---:|\n| 1 |\n"))
    #expect(out.contains("[{\"a\":1}]"))
    #expect(out.contains("(3 more rows not shown: .last shows them all, .maxrows 0 always)"))
    #expect(out.components(separatedBy: "│     5 │").count == 2, "\(out)")  // once, by .last
    #expect(!out.contains("to the file") && out.contains("on the screen"))
    #expect(
      try String(contentsOfFile: dir.path + "/once.txt", encoding: .utf8).contains("to the file"))
    // A store-level command's output goes to the file too.
    let audit = try String(contentsOfFile: dir.path + "/audit.txt", encoding: .utf8)
    #expect(audit.hasPrefix("case C-BK-2013-001: 1 event, as known at 2013-06-03 23:59:59"))
    #expect(!out.contains("as known at 2013-06-03"))
    let file = try String(contentsOfFile: dir.path + "/out.txt", encoding: .utf8)
    #expect(file.contains("filed_one") && file.contains("filed_two"))
    #expect(!out.contains("filed_one") && out.contains("seven"))
    #expect(out.contains("Run Time (s): real "))
    #expect(out.contains("│             2 │") && out.contains("│            1 │"), "\(out)")
    #expect(out.contains("█"), "\(out)")
    #expect(out.contains("case C-BK-2013-001: 5 events, as known now"))
    // As known then: neither the correction nor the closure, recorded later that day and after.
    #expect(
      out.contains(
        "case C-BK-2013-001: 4 events, as known at 2013-08-01 12:00:00 (Vietnam time)"))
    #expect(out.contains("yearly_trend") && out.contains("Tổng cộng"))
    #expect(out.contains("rebuilt yearly_trend:") && out.contains("rebuilt cases:"))
    #expect(!out.contains("never"))
  }

  @Test func viewsNotBuiltYetAreListedAndExplained() throws {
    let s = try Self.store()
    let r = try Self.shell(
      s,
      """
      .bail off
      .tables
      SELECT count(*) AS years FROM yearly_trend;
      .rebuild yearly_trend
      SELECT count(*) > 0 AS built FROM yearly_trend;
      """, ["-csv"])
    #expect(r.stdout.contains("units\ncases\n") && r.stdout.contains("\nyearly_trend\n"))
    #expect(
      r.stderr.hasPrefix(
        """
        Catalog Error: Table with name yearly_trend does not exist!
        The view yearly_trend is not built yet: .rebuild yearly_trend builds it

        LINE 1: SELECT count(*) AS years FROM yearly_trend;
        """), "\(r.stderr)")
    #expect(r.stdout.hasSuffix("built\r\ntrue\r\n"), "\(r.stdout)")
  }

  @Test func wrongArgumentsGiveAUsageLine() throws {
    let s = try Self.store()
    for (line, usage) in [
      (".mode xml", "usage: .mode table|csv|json|markdown|line"),
      (".timer maybe", "usage: .timer on|off"),
      (".maxrows lots", "usage: .maxrows N"),
      (".bail", "usage: .bail on|off"),
      (".chart pie", "usage: .chart bar|line [X Y [SERIES]]"),
      (".once", "usage: .once FILE"),
      (".read", "usage: .read FILE"),
      (".audit", "usage: .audit CASE [AS OF TIME]"),
      (".asof", "usage: .asof TIME|off"),
      (".report", "usage: .report NAME [YEAR]"),
      (".schema a b", "usage: .schema [NAME]"),
      (".tables now", "usage: .tables"),
      (".pager sometimes", "usage: .pager on|off"),
      (".help me", "usage: .help"),
      (".quit now", "usage: .quit"),
      (".views all", "usage: .views"),
      (".last one", "usage: .last"),
      (".output a b", "usage: .output [FILE]"),
      (".chart", "usage: .chart bar|line [X Y [SERIES]]"),
    ] {
      let r = try Self.shell(s, line + "\n")
      #expect(r.status == 1 && r.stderr == usage + "\n", "\(line): \(r.stderr)")
    }
    let unknown = try Self.shell(s, ".tabels\n")
    #expect(unknown.stderr == "unknown command .tabels; did you mean .tables? (.help lists them)\n")
  }
}
