import Foundation
import TestSupport
import Testing

extension TerminalTests {
  /// The statement of issue 18: 200 rows, taller than any terminal.
  static let longStatement = "SELECT id, type, unit FROM events LIMIT 200;"

  /// The ids of `longStatement`'s rows, as `hoso query` reads them.
  static func longIds(_ store: TestStore) throws -> [String] {
    let r = try store.run(["query", longStatement, "--format", "csv"])
    #expect(r.status == 0, "\(r.stderr)")
    let ids = r.stdout.split(whereSeparator: \.isNewline).dropFirst().map {
      String($0.split(separator: ",")[0])
    }
    try #require(ids.count == 200, "\(r.stdout.prefix(500))")
    return ids
  }

  /// A demo store of a few thousand events, and the ids of `longStatement`'s rows.
  static func longStore() throws -> (TestStore, [String]) {
    let store = TestStore()
    #expect(try store.run(["demo", "--count", "2000"]).status == 0)
    return (store, try longIds(store))
  }

  /// The shell answers the next statement: its line editor has the terminal back.
  static func expectShellGoesOn(_ t: Tmux) throws {
    try t.type("SELECT 41 + 1 AS answer;")
    try t.press("Enter")
    try t.expectScreen("│     42 │\n└────────┘\nhoso>")
  }

  /// 200 rows through less on a terminal: less shows the first, reads its keys from the
  /// terminal (G: the last row, the whole result read), and q comes back to the prompt. A
  /// Ctrl-C typed in less is no failure of it (PAGER runs under /bin/sh, which, as dash,
  /// dies of that Ctrl-C once less ends).
  @Test func aLongResultThroughLess() throws {
    let (store, ids) = try Self.longStore()
    let dir = TemporaryDirectory("hoso-term")
    // LESS unset: less as it comes, whatever the environment that runs the tests says.
    let t = try Self.start(
      store, history: dir.path + "/history", pager: "LESS= LESSHISTFILE=- less -S")
    try t.type(".maxrows 0")
    try t.press("Enter")
    try t.type(Self.longStatement)
    try t.press("Enter")
    try t.expectScreen("│ \(ids[0]) ")
    try t.expectScreen("│ \(ids[1]) ")
    try t.press("G")
    try t.expectScreen("│ \(ids[199]) ")
    try t.expectScreen("(END)")
    try t.press("C-c")
    try t.press("q")
    // The screen as it was before less, and the prompt under the statement.
    try t.expectScreen(Self.longStatement + "\nhoso>")
    try Self.expectShellGoesOn(t)
    #expect(try !t.screen().contains("printed directly"))
  }

  /// A pager that fails (exits nonzero, is not found, is killed): the 200 rows are printed
  /// directly, then one line saying why, and the shell goes on.
  @Test(arguments: [
    ("false", "failed: exit 1"),
    ("hoso-no-such-pager", "failed: exit 127, not found"),
    ("kill -KILL $$", "failed: killed by signal 9 (Killed)"),
  ])
  func aFailingPagerLeavesTheResultPrinted(pager: String, why: String) throws {
    let (store, ids) = try Self.longStore()
    let dir = TemporaryDirectory("hoso-term")
    let t = try Self.start(store, history: dir.path + "/history", pager: pager)
    try t.type(".maxrows 0")
    try t.press("Enter")
    try t.type(Self.longStatement)
    try t.press("Enter")
    let reason = "(pager \"\(pager)\" \(why); printed directly)"
    try t.expectScreen("│ \(ids[199]) ")
    try t.expectScreen("┘\n" + reason + "\nhoso>")
    try Self.expectShellGoesOn(t)
  }
}
