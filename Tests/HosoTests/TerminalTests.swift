import Foundation
import TestSupport
import Testing

/// The shell on a terminal, driven through tmux (`send-keys`, `capture-pane`): typing and
/// editing a statement over two lines, history, Tab, Ctrl-C during a query, `.mode`,
/// `.timer`, `.chart`, Vietnamese input, and leaving.
@Suite(.serialized) struct TerminalTests {
  /// A tmux session running one command in a terminal of a fixed size.
  final class Tmux: @unchecked Sendable {
    let name = "hoso-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    /// A server of the test's own (`tmux -L`), so that no user's server is touched and none
    /// outlives the test: a server left running would hold CI's run open.
    var socket: String { name }

    init(_ command: String, width: Int = 100, height: Int = 40) throws {
      let r = try Self.tmux([
        "-L", name, "new-session", "-d", "-s", name, "-x", String(width), "-y", String(height),
        command,
      ])
      #expect(r.status == 0, "tmux: \(r.stderr)")
    }

    deinit { _ = try? Self.tmux(["-L", socket, "kill-server"]) }

    static func tmux(_ arguments: [String]) throws -> (
      status: Int32, stdout: String, stderr: String
    ) {
      let r = runProgram(["tmux"] + arguments, seconds: 30)
      return (r.status, r.stdout, r.timedOut ? "tmux timed out; " + r.stderr : r.stderr)
    }

    /// Types `text` as it is.
    func type(_ text: String) throws {
      // tmux reads an argument that ends in ; as the end of its command: escaped.
      let literal = text.hasSuffix(";") ? String(text.dropLast()) + "\\;" : text
      let r = try Self.tmux(["-L", socket, "send-keys", "-t", name, "-l", literal])
      #expect(r.status == 0, "tmux send-keys: \(r.stderr)")
    }

    /// Presses keys by tmux's names: Enter, Up, Left, Tab, C-c, C-d.
    func press(_ keys: String...) throws {
      _ = try Self.tmux(["-L", socket, "send-keys", "-t", name] + keys)
    }

    func screen() throws -> String {
      try Self.tmux(["-L", socket, "capture-pane", "-p", "-t", name]).stdout
    }

    /// Waits until the screen shows `text` (at most `seconds`); the screen then.
    @discardableResult
    func wait(for text: String, seconds: Double = 10) throws -> String {
      let end = Date().addingTimeInterval(seconds)
      var s = try screen()
      while !s.contains(text) && Date() < end {
        usleep(50_000)
        s = try screen()
      }
      return s
    }

    /// Waits until the shell prompts again (its last line reads `hoso>`): keys sent then are
    /// read by the line editor, not by the terminal while a statement runs.
    func waitForPrompt(seconds: Double = 10) throws {
      let end = Date().addingTimeInterval(seconds)
      while Date() < end {
        let last = try screen().split(separator: "\n").last {
          !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
        if last == "hoso>" { return }
        usleep(50_000)
      }
    }

    var alive: Bool {
      (try? Self.tmux(["-L", socket, "has-session", "-t", name]).status) == 0
    }
  }

  /// The shell on `store` in tmux, with its history in `history`, `rc` read at start and
  /// `pager` (a shell command) for what does not fit.
  static func start(
    _ store: TestStore, history: String, rc: String = "/nonexistent", pager: String = "cat"
  ) throws -> Tmux {
    // Under umask 000: what the shell writes (its history) must not take the umask's mode.
    let command =
      "umask 000; env HOSO_ROLE=auditor HOSO_HISTORY=\(history) HOSO_RC=\(rc) PAGER='\(pager)'"
      + " \(hosoBinary())"
      + " --store \(store.path) --key \(store.keyPath) --queries \(packageRoot)/queries shell"
    let t = try Tmux(command)
    let s = try t.wait(for: "hoso>")
    // The welcome line: the store's size and time span, and where help is.
    #expect(s.contains(" events recorded 20") && s.contains(".help for help"), "\(s)")
    return t
  }

  @Test func typingEditingHistoryAndCompletion() throws {
    let store = TestStore()
    #expect(try store.run(["demo", "--count", "5000"]).status == 0)
    let dir = TemporaryDirectory("hoso-term")
    let history = dir.path + "/history"
    let t = try Self.start(store, history: history)

    // A statement over two lines.
    try t.type("SELECT year, count(*) AS n")
    try t.press("Enter")
    try t.wait(for: "   ...>")
    try t.type("FROM events WHERE year BETWEEN 2012 AND 2013 GROUP BY year ORDER BY year;")
    try t.press("Enter")
    var s = try t.wait(for: "│  2013 │")
    #expect(s.contains("│  2012 │"), "\(s)")

    // Recalled whole with ↑, edited with ← and retyped: 2013 becomes 2014.
    try t.press("Up")
    s = try t.wait(for: "BETWEEN 2012 AND 2013 GROUP BY year ORDER BY year;\n", seconds: 5)
    try t.press("End")
    // To just after the 3 of 2013.
    for _ in 0..<" GROUP BY year ORDER BY year;".count { try t.press("Left") }
    try t.press("BSpace")
    try t.type("4")
    try t.press("Enter")
    s = try t.wait(for: "│  2014 │")
    #expect(s.contains("│  2014 │") && !s.contains("│  2015 │"), "\(s)")
    // A clear screen for what follows (Ctrl-L), so that nothing scrolls out of sight.
    try t.press("C-l")

    // Tab completes a column of the table in the FROM clause.
    try t.type("SELECT count(DISTINCT provin")
    try t.press("Tab")
    try t.type("_n")
    try t.press("Tab")
    s = try t.wait(for: "count(DISTINCT province_now")
    try t.type(") AS provinces FROM events WHERE province_now <> 'Hà Nội';")
    try t.press("Enter")
    // The result's header, not the echo of the statement still being typed.
    s = try t.wait(for: "│ provinces")
    #expect(s.contains("Hà Nội"), "Vietnamese typed as it is: \(s)")

    try t.press("C-l")
    // .mode csv and .timer on.
    try t.type(".mode csv")
    try t.press("Enter")
    try t.type(".timer on")
    try t.press("Enter")
    try t.type("SELECT 41 + 1 AS answer;")
    try t.press("Enter")
    s = try t.wait(for: "Run Time (s): real")
    #expect(s.contains("answer\n42"), "\(s)")

    // .chart bar draws the last result.
    try t.type(".mode table")
    try t.press("Enter")
    try t.type(
      "SELECT year, count(*) AS n FROM events WHERE year BETWEEN 2012 AND 2016 GROUP BY year ORDER BY year;"
    )
    try t.press("Enter")
    try t.wait(for: "│  2016 │")
    try t.type(".chart bar")
    try t.press("Enter")
    s = try t.wait(for: "█")
    #expect(s.components(separatedBy: "\n").filter { $0.hasPrefix("2016 █") }.count == 1, "\(s)")

    // Ctrl-D on an empty line leaves; the history kept the two-line statement as one entry.
    try t.waitForPrompt()
    try t.press("C-d")
    let end = Date().addingTimeInterval(5)
    while t.alive && Date() < end { usleep(50_000) }
    #expect(!t.alive)
    let saved = try String(contentsOfFile: history, encoding: .utf8)
    #expect(
      saved.contains("SELECT year, count(*) AS n\\nFROM events WHERE year BETWEEN 2012 AND 2013"),
      "\(saved)")
    // Statements may name a person: the history is its owner's only.
    var st = stat()
    #expect(stat(history, &st) == 0 && st.st_mode & 0o777 == 0o600)
  }

  @Test func controlCCancelsAQueryAndThreeInARowLeave() throws {
    let store = TestStore()
    #expect(try store.run(["demo", "--count", "5000"]).status == 0)
    let dir = TemporaryDirectory("hoso-term")
    let t = try Self.start(store, history: dir.path + "/history")
    // A join of 4 million pairs, a few seconds in a debug build: interrupted at once.
    try t.type(
      "SELECT count(DISTINCT a.id || b.id) FROM (SELECT id FROM events LIMIT 2000) a, (SELECT id FROM events LIMIT 2000) b;"
    )
    try t.press("Enter")
    usleep(300_000)
    let pressed = Date()
    try t.press("C-c")
    // (capture-pane drops a line's trailing spaces: the prompt reads "hoso>".)
    let s = try t.wait(for: "Interrupted!\nhoso>", seconds: 10)
    #expect(s.contains("Interrupt Error: Interrupted!\nhoso>"), "\(s)")
    #expect(!s.contains("│ count"), "the query ran to its end: \(s)")
    // Tests do not assert on time; the latency is printed for the record.
    print(String(format: "Ctrl-C to prompt: %.3f s", Date().timeIntervalSince(pressed)))
    // Ctrl-C clears a statement being typed; three on an empty line leave.
    try t.type("SELECT 'never run'")
    try t.press("C-c")
    try t.wait(for: "SELECT 'never run'^C")
    try t.press("C-c")
    try t.press("C-c")
    try t.press("C-c")
    let end = Date().addingTimeInterval(5)
    while t.alive && Date() < end { usleep(50_000) }
    #expect(!t.alive)
  }
}
