import Domain
import EventLog
import Foundation
import Projections
import Query

#if canImport(Glibc)
  import Glibc
#endif

/// The shell: statements and dot commands,
/// as DuckDB's and sqlite3's shells take them. Not on a terminal (a pipe, a file) it prints no
/// prompt and stops at the first error with exit status 1 unless `.bail off`. On a terminal
/// it prompts and reads lines as the terminal edits them (the line editor of issue 7 comes
/// next).
package final class Shell {
  package enum Mode: String, CaseIterable, Sendable { case table, csv, json, markdown, line }

  /// What the shell asks of the program around it: the store-level commands, run with
  /// command-line arguments (they print their own output; an error is thrown with its
  /// message), and the warning about stale views after a statement.
  package struct Commands {
    package var views: () throws -> Int32
    package var audit: ([String]) throws -> Int32
    package var rebuild: ([String]) throws -> Int32
    package var report: ([String]) throws -> Int32
    package var warnStale: (Engine) -> Void
    /// Records a statement and the rows it returned in the access log before they are shown;
    /// a statement whose access cannot be recorded is not shown. Returns the wait for the
    /// record's sync, which runs while the answer is written out and ends before the next
    /// prompt.
    package var recordAccess: (_ statement: String, _ rows: Int) throws -> () throws -> Void
    /// The names of the views defined (built or not).
    package var viewNames: () -> [String]

    package init(
      views: @escaping () throws -> Int32, audit: @escaping ([String]) throws -> Int32,
      rebuild: @escaping ([String]) throws -> Int32, report: @escaping ([String]) throws -> Int32,
      warnStale: @escaping (Engine) -> Void,
      recordAccess: @escaping (String, Int) throws -> () throws -> Void = { _, _ in {} },
      viewNames: @escaping () -> [String] = { [] }
    ) {
      self.views = views
      self.audit = audit
      self.rebuild = rebuild
      self.report = report
      self.warnStale = warnStale
      self.recordAccess = recordAccess
      self.viewNames = viewNames
    }
  }

  /// An error a command reports: its message is what the shell prints.
  package struct CommandError: Error {
    package let message: String
    package init(_ message: String) { self.message = message }
  }

  let storePath: String
  let logPath: String
  let commands: Commands
  package let engine: Engine
  let interactive: Bool
  package var mode = Mode.table
  var timer = false
  package var bail: Bool
  /// nil: 40 on a terminal, every row otherwise.
  var maxRows: Int?
  var output: FileHandle?
  var outputOnce = false
  var last: QueryResult?
  var asOfText: String?
  package internal(set) var failed = false
  /// On a terminal: results taller or wider than it go through `$PAGER` (`less -S`).
  var pager = true

  package init(store: String, logPath: String, interactive: Bool, commands: Commands) throws {
    self.storePath = store
    self.logPath = logPath
    self.interactive = interactive
    self.commands = commands
    engine = try Engine(store: store)
    bail = !interactive
  }

  static let dotCommands: [(name: String, usage: String, what: String)] = [
    (".help", ".help", "this list"),
    (".tables", ".tables", "the built-in tables and the views"),
    (".views", ".views", "the views: fresh or stale, rows, last build"),
    (".schema", ".schema [NAME]", "CREATE TABLE statements of the tables (or of NAME)"),
    (".mode", ".mode table|csv|json|markdown|line", "how results are printed"),
    (".timer", ".timer on|off", "print each statement's time"),
    (".maxrows", ".maxrows N", "print at most N rows of a result (0: all)"),
    (".last", ".last", "the last result again, whole"),
    (".output", ".output [FILE]", "results to FILE (to the screen again without one)"),
    (".once", ".once FILE", "the next result to FILE"),
    (".read", ".read FILE", "run the statements of FILE"),
    (".audit", ".audit CASE [AS OF TIME]", "every event of a case, as known now or then"),
    (".rebuild", ".rebuild [VIEW...]", "recompute stale (or the named) views"),
    (".report", ".report NAME [YEAR]", "a report of queries/reports"),
    (".asof", ".asof TIME|off", "read every following statement as known at TIME"),
    (".chart", ".chart bar|line [X Y [SERIES]]", "draw the last result"),
    (".pager", ".pager on|off", "long or wide results through $PAGER (less -S)"),
    (".bail", ".bail on|off", "stop at the first error"),
    (".quit", ".quit", "leave"),
  ]

  // MARK: - Input

  /// Runs every statement and command of `text`; false once it must stop (`.quit`, or an error
  /// with bail on).
  package func run(text: String, source: String) -> Bool {
    var pending = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if !feed(String(line), pending: &pending) { return false }
    }
    if !pending.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      return execute(pending)
    }
    return true
  }

  /// One line: a dot command (when no statement is pending), or more of a statement, run once
  /// it is whole (ends with `;` outside quotes and comments).
  func feed(_ line: String, pending: inout String) -> Bool {
    if pending.isEmpty && line.trimmingCharacters(in: .whitespaces).hasPrefix(".") {
      return dot(line.trimmingCharacters(in: .whitespaces))
    }
    pending += pending.isEmpty ? line : "\n" + line
    if Self.isComplete(pending) {
      let statement = pending
      pending = ""
      return execute(statement)
    }
    return true
  }

  /// Whether `sql` ends with a `;` outside quotes and comments.
  static func isComplete(_ sql: String) -> Bool {
    var quote: Character?
    var lineComment = false
    var blockComment = false
    var lastSignificant: Character?
    let chars = Array(sql)
    var i = 0
    while i < chars.count {
      let c = chars[i]
      let next = i + 1 < chars.count ? chars[i + 1] : nil
      if lineComment {
        if c == "\n" { lineComment = false }
      } else if blockComment {
        if c == "*" && next == "/" {
          blockComment = false
          i += 1
        }
      } else if let q = quote {
        if c == q { quote = nil }
      } else if c == "'" || c == "\"" {
        quote = c
        lastSignificant = c
      } else if c == "-" && next == "-" {
        lineComment = true
      } else if c == "/" && next == "*" {
        blockComment = true
        i += 1
      } else if !c.isWhitespace {
        lastSignificant = c
      }
      i += 1
    }
    return quote == nil && !blockComment && lastSignificant == ";"
  }

  // MARK: - Statements

  func execute(_ sql: String) -> Bool {
    let started = Date()
    // On a terminal, a statement that runs past two seconds gets a bar of the row groups read.
    let bar = interactive && isatty(2) == 1 ? ProgressBar(engine) : nil
    let results: [QueryResult]
    do {
      results = try engine.run(sql)
      bar?.stop()
    } catch {
      // The bar is wiped before the message, not left in front of it.
      bar?.stop()
      complain(explained(error).rendered(in: sql))
      return !bail
    }
    let synced: () throws -> Void
    do {
      synced = try commands.recordAccess(sql, results.reduce(0) { $0 + $1.rows.count })
    } catch {
      complain((error as? CommandError)?.message ?? "\(error)")
      return !bail
    }
    for r in results {
      last = r
      write(render(r))
      // Beside CSV and JSON (data), the note goes to stderr.
      if let line = r.suppressionNote {
        if mode == .csv || mode == .json {
          FileHandle.standardError.write(Data("(\(line))\n".utf8))
        } else {
          write("(\(line))\n")
        }
      }
    }
    if timer {
      write(String(format: "Run Time (s): real %.3f\n", Date().timeIntervalSince(started)))
    }
    commands.warnStale(engine)
    do {
      try synced()
    } catch {
      complain((error as? CommandError)?.message ?? "\(error)")
      return !bail
    }
    return true
  }

  /// The built-in tables, then the views (built or not), as `.tables` lists them and Tab
  /// completes them.
  func tableNames() -> [String] {
    let views = Set(engine.materializedViewNames()).union(commands.viewNames())
    return BuiltinTables.all.map(\.name) + views.sorted()
  }

  /// A statement that names a view not built yet is told how to build it (the engine knows
  /// only the views built).
  func explained(_ error: SQLError) -> SQLError {
    guard error.kind == .catalog else { return error }
    let built = Set(engine.materializedViewNames())
    for view in commands.viewNames() where !built.contains(view) {
      if error.message.hasPrefix("Table with name \(view) does not exist!") {
        var e = error
        e.message =
          "Table with name \(view) does not exist!\nThe view \(view) is not built yet:"
          + " .rebuild \(view) builds it"
        return e
      }
    }
    return error
  }

  func render(_ r: QueryResult) -> String {
    let limit = maxRows ?? (interactive ? 40 : 0)
    var shown = r
    var left = 0
    if limit > 0 && r.rows.count > limit && mode == .table {
      left = r.rows.count - limit
      shown.rows = r.rows.gather(Array(0..<limit))
    }
    var text: String
    switch mode {
    case .table:
      text =
        interactive
        ? Output.table(shown, maxWidth: LineEditor.width(), separators: true)
        : Output.render(shown, as: .table)
    case .csv: text = Output.render(shown, as: .csv)
    case .json: text = Output.render(shown, as: .json)
    case .markdown: text = Output.render(shown, as: .markdown)
    case .line:
      let width = r.names.map(\.count).max() ?? 0
      var lines: [String] = []
      for i in 0..<r.rows.count {
        if i > 0 { lines.append("") }
        for (c, name) in r.names.enumerated() {
          let v = r.rows.columns[c].value(i)
          let text =
            r.isSuppressed(c, i) ? r.suppressedText(c, i) : v.isNull ? "NULL" : Cast.text(v)
          lines.append(String(repeating: " ", count: width - name.count) + name + " = " + text)
        }
      }
      text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
    if left > 0 {
      text += "(\(left) more rows not shown: .last shows them all, .maxrows 0 always)\n"
    }
    return text
  }

  /// Writes `text` to the output; a result (`paged`) too tall or wide for the terminal goes
  /// through the pager.
  func write(_ text: String, paged: Bool = true) {
    let data = Data(text.utf8)
    if paged && output == nil && interactive && pager && page(text) { return }
    if let output {
      output.write(data)
      if outputOnce {
        try? output.close()
        self.output = nil
        outputOnce = false
      }
    } else {
      FileHandle.standardOutput.write(data)
    }
  }

  /// Shows `text` through the pager when it is taller or wider than the terminal; false when
  /// it fits, or `$PAGER` is empty (no pager, as git reads it). A pager that fails (cannot
  /// start, exits nonzero, is killed) leaves the text printed directly, then a line saying
  /// why: an answer is never lost to its pager.
  func page(_ text: String) -> Bool {
    guard let size = LineEditor.size(), size.rows > 0 else { return false }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let wide = lines.contains { $0.count > size.columns }
    guard lines.count > size.rows - 1 || wide else { return false }
    let command = ProcessInfo.processInfo.environment["PAGER"] ?? "less -S"
    if command.trimmingCharacters(in: .whitespaces).isEmpty { return false }
    guard case .failed(let why) = Pager.show(text, through: command) else { return true }
    FileHandle.standardOutput.write(Data(text.utf8))
    FileHandle.standardError.write(Data("(pager \"\(command)\" \(why); printed directly)\n".utf8))
    return true
  }

  func complain(_ text: String) {
    failed = true
    var shown = text
    // On a terminal: the message in red, the caret too.
    if interactive && isatty(2) == 1 {
      var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      if !lines.isEmpty { lines[0] = "\u{1B}[1;31m" + lines[0] + "\u{1B}[0m" }
      if let i = lines.lastIndex(where: { $0.hasSuffix("^") }) {
        lines[i] = lines[i].dropLast() + "\u{1B}[1;31m^\u{1B}[0m"
      }
      shown = lines.joined(separator: "\n")
    }
    FileHandle.standardError.write(Data((shown + "\n").utf8))
  }

}
