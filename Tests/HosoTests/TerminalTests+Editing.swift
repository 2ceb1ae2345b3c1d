import Foundation
import TestSupport
import Testing

extension TerminalTests {
  /// The editing keys, the history file (loaded, searched, kept to 2,000 entries), the rc file,
  /// Tab by context, colours, an error on a terminal, tables cut to the terminal's width and
  /// the pager.
  @Test func editingKeysHistoryCompletionColoursAndPager() throws {
    let store = TestStore()
    #expect(try store.run(["demo", "--count", "5000"]).status == 0)
    let dir = TemporaryDirectory("hoso-term")
    let history = dir.path + "/history"
    try ((0..<2100).map { "SELECT \($0) AS n;" }.joined(separator: "\n") + "\n").write(
      toFile: history, atomically: true, encoding: .utf8)
    let rc = dir.path + "/hosorc"
    try ".mode csv\n".write(toFile: rc, atomically: true, encoding: .utf8)
    try "SELECT 'from the file' AS src;\n".write(
      toFile: dir.path + "/script.sql", atomically: true, encoding: .utf8)
    let paged = dir.path + "/paged"
    let t = try Self.start(store, history: history, rc: rc, pager: "cat > \(paged)")

    // The history file is read (↑ recalls its last entry) and the rc file run (.mode csv).
    try t.press("Up")
    try t.expectScreen("hoso> SELECT 2099 AS n;")
    try t.press("Up")
    try t.expectScreen("hoso> SELECT 2098 AS n;")
    try t.press("Down")
    try t.expectScreen("hoso> SELECT 2099 AS n;")
    try t.press("Enter")
    var s = try t.wait(for: "n\n2099\n")
    #expect(s.contains("n\n2099\n"), "\(s)")

    // Ctrl-A/E/W/K, word jumps (Alt-B/F, Ctrl-←/→), Home/End, Delete and Backspace.
    try t.type("ELECT 1 AS one, 2 AS two FROM nowhere")
    try t.press("C-a")
    try t.type("S")
    try t.press("C-e")
    try t.press("C-w")
    try t.press("C-w")  // SELECT 1 AS one, 2 AS two
    try t.press("M-b")
    try t.press("C-k")
    try t.type("deux")  // SELECT 1 AS one, 2 AS deux
    for _ in 0..<3 { try t.press("C-Left") }
    try t.press("DC")
    try t.type("3")  // SELECT 1 AS one, 3 AS deux
    try t.press("Home")
    try t.press("C-Right")
    try t.press("M-f")
    try t.press("BSpace")
    try t.type("7")
    try t.press("End")
    try t.type(";")
    try t.press("Enter")
    s = try t.wait(for: "one,deux\n7,3\n")
    #expect(s.contains("hoso> SELECT 7 AS one, 3 AS deux;\none,deux\n7,3\n"), "\(s)")
    // A tone mark typed after its vowel (decomposed, as some Vietnamese keyboards send it)
    // joins it: one character, which ← steps over whole.
    try t.type("SELECT 'Ha\u{300}")
    try t.press("Left")
    try t.type("n")
    try t.press("End")
    try t.type("' AS v;")
    try t.press("Enter")
    s = try t.wait(for: "v\nHnà\n")
    #expect(s.contains("v\nHnà\n"), "\(s)")
    // Ctrl-U clears what is before the cursor.
    try t.type("junk")
    try t.press("C-u")
    try t.type("SELECT 5 AS five;")
    try t.press("Enter")
    s = try t.wait(for: "five\n5\n")
    #expect(s.contains("hoso> SELECT 5 AS five;\nfive\n5\n"), "\(s)")

    // Ctrl-R finds an entry by what it holds; Enter takes it, Enter again runs it.
    try t.press("C-l")
    try t.press("C-r")
    try t.type("AS deux")
    try t.expectScreen("(reverse-i-search)`AS deux': SELECT 7 AS one, 3 AS deux;")
    try t.press("Enter")
    try t.expectScreen("hoso> SELECT 7 AS one, 3 AS deux;")
    try t.press("Enter")
    s = try t.wait(for: "one,deux\n7,3\n")
    #expect(s.contains("one,deux\n7,3\n"), "\(s)")

    // Tab: a dot command, a file name, a keyword, a function, a table, a column of it.
    try t.press("C-l")
    try t.type(".rea")
    try t.press("Tab")
    try t.type(" \(dir.path)/scr")
    try t.press("Tab")
    try t.expectScreen("hoso> .read \(dir.path)/script.sql")
    try t.press("Enter")
    s = try t.wait(for: "src\nfrom the file\n")
    #expect(s.contains("src\nfrom the file\n"), "\(s)")
    try t.type("SEL")
    try t.press("Tab")
    try t.type(" upp")
    try t.press("Tab")
    try t.type("('hà nội') AS u, count(*) > 0 AS some FROM tip")
    try t.press("Tab")
    try t.type(" WHERE yea")
    try t.press("Tab")
    try t.type(" > 0;")
    try t.expectScreen(
      "SELECT upper('hà nội') AS u, count(*) > 0 AS some FROM tips WHERE year > 0;")
    try t.press("Enter")
    s = try t.wait(for: "u,some\nHÀ NỘI,true\n")
    #expect(s.contains("u,some\nHÀ NỘI,true\n"), "\(s)")

    // Columns of the table the statement reads, not of the others: fine_vnd is an inspection's.
    try t.type("SELECT * FROM tips WHERE fine")
    try t.press("Tab")
    try t.type("#")
    try t.expectScreen("hoso> SELECT * FROM tips WHERE fine#")
    try t.press("C-u")
    try t.type("SELECT * FROM inspections WHERE fine")
    try t.press("Tab")
    try t.type("#")
    try t.expectScreen("hoso> SELECT * FROM inspections WHERE fine_vnd#")
    try t.press("C-u")
    // A view not built yet is completed too.
    try t.type("SELECT * FROM yearly_t")
    try t.press("Tab")
    s = try t.wait(for: "hoso> SELECT * FROM yearly_trend")
    #expect(s.contains("hoso> SELECT * FROM yearly_trend"), "\(s)")
    try t.press("C-u")

    // Colours: an unclosed quote, and an unclosed bracket, in red.
    try t.press("C-l")
    try t.type("SELECT 'abc, (1")
    s = try t.waitColoured(for: "\u{1B}[31m'abc, (1")
    #expect(s.contains("\u{1B}[31m'abc, (1"), "\(s)")
    try t.press("C-u")
    try t.type("SELECT (1 + 2")
    s = try t.waitColoured(for: "\u{1B}[31m(")
    #expect(s.contains("\u{1B}[31m(") && !s.contains("'abc"), "\(s)")
    try t.press("C-u")

    // An error: in red, the statement's line with a caret and a suggestion; the shell goes on.
    try t.type("SELECT count(*) FROM evnts;")
    try t.press("Enter")
    s = try t.wait(for: "Did you mean \"events\"?")
    #expect(s.contains("Did you mean \"events\"?"), "\(s)")
    #expect(
      s.contains("LINE 1: SELECT count(*) FROM evnts;\n" + String(repeating: " ", count: 29) + "^"),
      "\(s)")
    s = try t.waitColoured(for: "\u{1B}[31mCatalog Error")
    #expect(s.contains("\u{1B}[31mCatalog Error: Table with name evnts does not exist!"), "\(s)")
    try t.waitForPrompt()

    // Tables fit the terminal (100 columns): long text cut with …, numbers grouped, NULL.
    try t.press("C-l")
    try t.type(".mode table")
    try t.press("Enter")
    let long = String(repeating: "x", count: 150)
    try t.type("SELECT 1234567 AS big, NULL AS nothing, '\(long)' AS long;")
    try t.press("Enter")
    s = try t.wait(for: "│ 1,234,567 │ NULL    │ xxx")
    #expect(s.contains("│ 1,234,567 │ NULL    │ xxx"), "\(s)")
    let row = s.split(separator: "\n").first { $0.hasPrefix("│ 1,234,567") } ?? ""
    #expect(row.hasSuffix("x… │") && row.count <= 100, "\(row)")

    // At most 40 rows, with a note; taller than the terminal, the result goes to the pager.
    try t.press("C-l")
    try t.type("SELECT seq FROM events ORDER BY seq LIMIT 45;")
    try t.press("Enter")
    let end = Date().addingTimeInterval(10)
    var pagedText = ""
    while !pagedText.contains("(5 more rows not shown") && Date() < end {
      usleep(50_000)
      pagedText = (try? String(contentsOfFile: paged, encoding: .utf8)) ?? ""
    }
    #expect(pagedText.contains("│    40 │\n└───────┘\n(5 more rows not shown"), "\(pagedText)")
    #expect(!pagedText.contains("│    41 │"))
    try t.waitForPrompt()
    #expect(try !t.screen().contains("more rows not shown"))
    try t.type(".pager off")
    try t.press("Enter")
    try t.type("SELECT seq FROM events ORDER BY seq LIMIT 45;")
    try t.press("Enter")
    s = try t.wait(for: "(5 more rows not shown")
    #expect(s.contains("│    40 │\n└───────┘\n(5 more rows not shown"), "\(s)")

    // .quit; the history file keeps the newest 2,000 entries.
    try t.type(".quit")
    try t.press("Enter")
    let quit = Date().addingTimeInterval(5)
    while t.alive && Date() < quit { usleep(50_000) }
    #expect(!t.alive)
    let saved = try String(contentsOfFile: history, encoding: .utf8).split(separator: "\n")
    #expect(saved.count == 2000 && saved.last == ".quit", "\(saved.suffix(3))")
    #expect(saved.contains("SELECT 7 AS one, 3 AS deux;") && !saved.contains("SELECT 0 AS n;"))
  }
}

extension TerminalTests.Tmux {
  /// Waits until the screen shows `text`; the test fails if it never does.
  func expectScreen(
    _ text: String, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let s = try wait(for: text, seconds: seconds)
    #expect(s.contains(text), "\(s)", sourceLocation: sourceLocation)
  }

  /// Waits until the screen with its escape codes (`capture-pane -e`) shows `text`.
  @discardableResult
  func waitColoured(for text: String, seconds: Double = 10) throws -> String {
    let end = Date().addingTimeInterval(seconds)
    var s = ""
    repeat {
      s = try Self.tmux(["-L", socket, "capture-pane", "-e", "-p", "-t", name]).stdout
      if s.contains(text) { break }
      usleep(50_000)
    } while Date() < end
    return s
  }
}
