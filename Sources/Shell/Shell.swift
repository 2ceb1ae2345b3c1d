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

    package init(
      views: @escaping () throws -> Int32, audit: @escaping ([String]) throws -> Int32,
      rebuild: @escaping ([String]) throws -> Int32, report: @escaping ([String]) throws -> Int32,
      warnStale: @escaping (Engine) -> Void
    ) {
      self.views = views
      self.audit = audit
      self.rebuild = rebuild
      self.report = report
      self.warnStale = warnStale
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
  package private(set) var failed = false
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
    defer { bar?.stop() }
    do {
      for r in try engine.run(sql) {
        last = r
        write(render(r))
      }
      if timer {
        write(String(format: "Run Time (s): real %.3f\n", Date().timeIntervalSince(started)))
      }
      commands.warnStale(engine)
      return true
    } catch {
      complain(error.rendered(in: sql))
      return !bail
    }
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
        ? Output.table(shown, maxWidth: Shell.terminalWidth(), separators: true)
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
          lines.append(
            String(repeating: " ", count: width - name.count) + name + " = "
              + (v.isNull ? "NULL" : Cast.text(v)))
        }
      }
      text = lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")
    }
    if left > 0 {
      text += "(\(left) more rows not shown: .last shows them all, .maxrows 0 always)\n"
    }
    return text
  }

  func write(_ text: String) {
    let data = Data(text.utf8)
    if output == nil && interactive && pager && page(text) { return }
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
  /// it fits (or there is no pager to run).
  func page(_ text: String) -> Bool {
    var size = winsize()
    guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 else { return false }
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let wide = lines.contains { $0.count > Int(size.ws_col) }
    guard lines.count > Int(size.ws_row) - 1 || wide else { return false }
    let command = ProcessInfo.processInfo.environment["PAGER"] ?? "less -S"
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let pipe = Pipe()
    p.standardInput = pipe
    do {
      try p.run()
    } catch {
      return false
    }
    pipe.fileHandleForWriting.write(Data(text.utf8))
    try? pipe.fileHandleForWriting.close()
    p.waitUntilExit()
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

  // MARK: - Dot commands

  /// A usage line for a dot command given wrong arguments.
  func usage(_ name: String) -> Bool {
    let u = Self.dotCommands.first { $0.name == name }?.usage ?? name
    complain("usage: \(u)")
    return !bail
  }

  func dot(_ line: String) -> Bool {
    let words = Self.words(line)
    guard let name = words.first else { return true }
    let args = Array(words.dropFirst())
    switch name {
    case ".help":
      let width = Self.dotCommands.map(\.usage.count).max() ?? 0
      write(
        Self.dotCommands.map {
          $0.usage + String(repeating: " ", count: width - $0.usage.count + 2) + $0.what
        }.joined(separator: "\n") + "\nStatements end with ;\n")
    case ".quit", ".exit":
      return false
    case ".tables":
      guard args.isEmpty else { return usage(name) }
      let names = BuiltinTables.all.map(\.name) + engine.materializedViewNames()
      write(names.joined(separator: "\n") + "\n")
    case ".views":
      guard args.isEmpty else { return usage(name) }
      return delegate { try commands.views() }
    case ".schema":
      guard args.count <= 1 else { return usage(name) }
      let names =
        args.isEmpty ? BuiltinTables.all.map(\.name) + engine.materializedViewNames() : args
      var out = ""
      for n in names {
        do {
          let columns = try engine.columns(of: n)
          out += "CREATE TABLE \(n) (\n"
          out += columns.map { "  \($0.0) \($0.1.rawValue)" }.joined(separator: ",\n") + "\n);\n"
        } catch {
          complain(error.rendered(in: n))
          return !bail
        }
      }
      write(out)
    case ".mode":
      guard args.count == 1, let m = Mode(rawValue: args[0]) else { return usage(name) }
      mode = m
    case ".timer":
      guard args.count == 1, args[0] == "on" || args[0] == "off" else { return usage(name) }
      timer = args[0] == "on"
    case ".bail":
      guard args.count == 1, args[0] == "on" || args[0] == "off" else { return usage(name) }
      bail = args[0] == "on"
    case ".pager":
      guard args.count == 1, args[0] == "on" || args[0] == "off" else { return usage(name) }
      pager = args[0] == "on"
    case ".maxrows":
      guard args.count == 1, let n = Int(args[0]), n >= 0 else { return usage(name) }
      maxRows = n
    case ".last":
      guard args.isEmpty else { return usage(name) }
      guard let last else {
        complain("no result yet")
        return !bail
      }
      let saved = maxRows
      maxRows = 0
      write(render(last))
      maxRows = saved
    case ".output", ".once":
      if args.isEmpty && name == ".output" {
        try? output?.close()
        output = nil
        return true
      }
      guard args.count == 1 else { return usage(name) }
      guard FileManager.default.createFile(atPath: args[0], contents: nil),
        let file = FileHandle(forWritingAtPath: args[0])
      else {
        complain("cannot write \(args[0])")
        return !bail
      }
      try? output?.close()
      output = file
      outputOnce = name == ".once"
    case ".read":
      guard args.count == 1 else { return usage(name) }
      guard let data = FileManager.default.contents(atPath: args[0]),
        let text = String(data: data, encoding: .utf8)
      else {
        complain("cannot read \(args[0])")
        return !bail
      }
      return run(text: text, source: args[0])
    case ".asof":
      guard args.count >= 1 else { return usage(name) }
      let when = args.joined(separator: " ")
      do {
        try engine.setAsOf(when == "off" ? nil : when)
        asOfText = when == "off" ? nil : when
        if interactive {
          write(asOfText.map { "reading as known at \($0) (Vietnam time)\n" } ?? "reading now\n")
        }
      } catch {
        complain(error.rendered(in: when))
        return !bail
      }
    case ".audit":
      // .audit CASE [AS OF TIME]
      guard
        args.count == 1
          || (args.count >= 4 && args[1].uppercased() == "AS" && args[2].uppercased() == "OF")
      else { return usage(name) }
      var rest = [args[0]]
      if args.count >= 4 { rest += ["--as-of", args[3...].joined(separator: " ")] }
      return delegate { try commands.audit(rest) }
    case ".rebuild":
      return delegate { try commands.rebuild(args) }
    case ".report":
      guard args.count == 1 || args.count == 2 else { return usage(name) }
      var rest = [args[0]]
      if args.count == 2 { rest += ["--year", args[1]] }
      if let asOfText { rest += ["--as-of", asOfText] }
      return delegate { try commands.report(rest) }
    case ".chart":
      return chart(args)
    default:
      let hint = Catalog.nearest(name, in: Self.dotCommands.map(\.name)).map {
        "; did you mean \($0)?"
      }
      complain("unknown command \(name)\(hint ?? "") (.help lists them)")
      return !bail
    }
    return true
  }

  /// Runs a CLI command for a dot command; its errors are the shell's errors.
  func delegate(_ body: () throws -> Int32) -> Bool {
    do {
      let status = try body()
      if status != 0 { failed = true }
      return status == 0 || !bail
    } catch let e as CommandError {
      complain(e.message)
    } catch {
      complain("\(error)")
    }
    return !bail
  }

  /// Words of a dot command; quotes group words.
  static func words(_ line: String) -> [String] {
    var out: [String] = []
    var word = ""
    var quote: Character?
    var any = false
    for c in line {
      if let q = quote {
        if c == q { quote = nil } else { word.append(c) }
      } else if c == "'" || c == "\"" {
        quote = c
        any = true
      } else if c.isWhitespace {
        if any || !word.isEmpty { out.append(word) }
        word = ""
        any = false
      } else {
        word.append(c)
      }
    }
    if any || !word.isEmpty { out.append(word) }
    return out
  }

  // MARK: - Charts

  /// `.chart bar|line [X Y [SERIES]]`: the last result in Unicode blocks. X and Y default to
  /// the first column and the last numeric one.
  func chart(_ args: [String]) -> Bool {
    guard let kind = args.first, kind == "bar" || kind == "line",
      args.count == 1 || args.count == 3 || args.count == 4
    else { return usage(".chart") }
    guard let r = last, r.rows.count > 0 else {
      complain(".chart draws the last result: run a query first")
      return !bail
    }
    func column(_ name: String) -> Int? { r.names.firstIndex(of: name) }
    let x = args.count >= 3 ? column(args[1]) : 0
    let y = args.count >= 3 ? column(args[2]) : r.types.lastIndex(where: \.isNumeric)
    let series = args.count == 4 ? column(args[3]) : nil
    guard let x, let y, r.types[y].isNumeric, args.count < 4 || series != nil else {
      complain(
        ".chart: no such column, or Y is not a number: the columns are \(r.names.joined(separator: ", "))"
      )
      return !bail
    }
    let text = Chart.draw(r, kind: kind, x: x, y: y, series: series, width: Self.terminalWidth())
    write(text)
    return true
  }

  static func terminalWidth() -> Int {
    var size = winsize()
    if ioctl(1, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 20 { return Int(size.ws_col) }
    return 80
  }
}

/// The bar under a statement that runs long: drawn on stderr from the engine's progress,
/// every 0.2 s once two seconds have passed, and wiped when the statement ends.
final class ProgressBar: @unchecked Sendable {
  private let lock = NSLock()
  private var done = 0
  private var total = 0
  private var shown = false
  private let queue = DispatchQueue(label: "hoso.progress")
  private let timer: DispatchSourceTimer
  private weak var engine: Engine?

  init(_ engine: Engine) {
    self.engine = engine
    timer = DispatchSource.makeTimerSource(queue: queue)
    engine.progress = { [weak self] d, t in self?.set(d, t) }
    timer.schedule(deadline: .now() + 2, repeating: 0.2)
    timer.setEventHandler { [weak self] in self?.draw() }
    timer.resume()
  }

  private func set(_ d: Int, _ t: Int) {
    lock.lock()
    done = max(done, d)
    total = t
    lock.unlock()
  }

  private func draw() {
    lock.lock()
    let (d, t) = (done, total)
    shown = true
    lock.unlock()
    let width = 30
    let filled = t > 0 ? min(width, d * width / t) : 0
    let text =
      "\r\u{1B}[2Khoso: running " + String(repeating: "█", count: filled)
      + String(repeating: "░", count: width - filled) + (t > 0 ? " \(d)/\(t) row groups" : "")
      + " (Ctrl-C stops it)"
    FileHandle.standardError.write(Data(text.utf8))
  }

  func stop() {
    timer.cancel()
    queue.sync {}
    engine?.progress = nil
    if shown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
  }
}

/// Bar and line charts of a result, in Unicode blocks.
enum Chart {
  static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
  static let levels = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

  static func number(_ v: SQLValue) -> Double? { Cast.double(v) }

  static func draw(_ r: QueryResult, kind: String, x: Int, y: Int, series: Int?, width: Int)
    -> String
  {
    // Rows by series (one unnamed series without a SERIES column).
    var order: [String] = []
    var points: [String: [(String, Double)]] = [:]
    for i in 0..<r.rows.count {
      let s = series.map { Cast.text(r.rows.columns[$0].value(i)) } ?? ""
      let label = Cast.text(r.rows.columns[x].value(i))
      guard let v = number(r.rows.columns[y].value(i)) else { continue }
      if points[s] == nil { order.append(s) }
      points[s, default: []].append((label, v))
    }
    let all = points.values.flatMap { $0.map(\.1) }
    let top = max(all.max() ?? 0, 0)
    let bottom = min(all.min() ?? 0, 0)
    var out = ""
    if kind == "bar" {
      let labelWidth = points.values.flatMap { $0.map { ($0.0 + " ").count } }.max() ?? 0
      let seriesWidth = series == nil ? 0 : (order.map(\.count).max() ?? 0) + 1
      let room = max(10, width - labelWidth - seriesWidth - 14)
      for s in order {
        for (label, v) in points[s]! {
          let cells = top > 0 ? max(0, v) / top * Double(room) : 0
          let whole = Int(cells)
          let part = Int((cells - Double(whole)) * 8)
          let bar = String(repeating: "█", count: whole) + eighths[part]
          let name = series == nil ? "" : s + String(repeating: " ", count: seriesWidth - s.count)
          out +=
            name + label + String(repeating: " ", count: labelWidth - label.count) + bar + " "
            + Cast.text(r.rows.columns[y].value(0)).prefix(0) + format(v) + "\n"
        }
      }
    } else {
      // A line per series: a block per point, its height the value's.
      let span = top - bottom
      let nameWidth = (order.map(\.count).max() ?? 0) + 1
      for s in order {
        let line = points[s]!.map { p -> String in
          let level = span > 0 ? Int((p.1 - bottom) / span * 7) : 0
          return levels[max(0, min(7, level))]
        }.joined()
        let name = series == nil ? "" : s + String(repeating: " ", count: nameWidth - s.count)
        out +=
          name + line + "  " + format(points[s]!.first!.1) + " → " + format(points[s]!.last!.1)
          + "\n"
      }
      if let first = points[order[0]]?.first?.0, let last = points[order[0]]?.last?.0 {
        let pad = series == nil ? 0 : nameWidth
        out += String(repeating: " ", count: pad) + first + " … " + last + "\n"
      }
    }
    return out
  }

  static func format(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 {
      let n = NumberFormatter()
      n.numberStyle = .decimal
      n.groupingSeparator = ","
      return n.string(from: NSNumber(value: Int64(v))) ?? String(Int64(v))
    }
    return String(format: "%.2f", v)
  }
}

extension Shell {
  /// On a terminal: the line editor, history, completion, Ctrl-C to cancel a running query.
  package func interact() -> Int32 {
    let historyPath =
      ProcessInfo.processInfo.environment["HOSO_HISTORY"]
      ?? (NSHomeDirectory() + "/.hoso_history")
    let editor = LineEditor(historyPath: historyPath)
    editor.isComplete = Shell.isComplete
    editor.highlight = Highlight.sql
    editor.complete = { [unowned self] buffer, cursor in self.completions(buffer, cursor) }
    // Ctrl-C while a statement runs: the engine stops at its next row group. (A blocked
    // SIGINT is inherited from whoever started hoso, a thread pool's mask, say: unblocked.)
    var blocked = sigset_t()
    sigemptyset(&blocked)
    sigaddset(&blocked, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &blocked, nil)
    signal(SIGINT) { _ in interruptRequested = 1 }
    engine.cancelled = { interruptRequested != 0 }
    write(welcome() + "\n")
    // ~/.hosorc first, as sqlite3 reads ~/.sqliterc.
    let rc = ProcessInfo.processInfo.environment["HOSO_RC"] ?? (NSHomeDirectory() + "/.hosorc")
    if let data = FileManager.default.contents(atPath: rc) {
      _ = run(text: String(decoding: data, as: UTF8.self), source: rc)
    }
    var interrupts = 0
    while true {
      switch editor.read(prompt: "hoso> ", continuation: "   ...> ") {
      case .end: return 0
      case .interrupt(let wasEmpty):
        interrupts = wasEmpty ? interrupts + 1 : 0
        if interrupts >= 3 { return 0 }
        if wasEmpty && interrupts == 2 { write("(Ctrl-C once more to leave, or .quit)\n") }
      case .statement(let text):
        interrupts = 0
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { continue }
        editor.remember(text)
        interruptRequested = editor.takeInterrupt() ? 1 : 0
        var pending = ""
        var go = true
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where go {
          go = feed(String(line), pending: &pending)
        }
        if !pending.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
          go = execute(pending)
        }
        if !go { return failed && bail ? 1 : 0 }  // .quit, or an error with .bail on
      }
    }
  }

  /// The first line on a terminal: the store, its size and time span, and where help is.
  func welcome() -> String {
    var line = "hoso \(storePath)"
    if let reader = try? LogReader(at: logPath), reader.lastSeq > 0,
      let first = reader.firstRecordedAt, let last = reader.lastRecordedAt
    {
      let n = NumberFormatter()
      n.numberStyle = .decimal
      n.groupingSeparator = ","
      let count = n.string(from: NSNumber(value: reader.lastSeq)) ?? String(reader.lastSeq)
      line +=
        ": \(count) events recorded \(Timestamp.format(first).prefix(10))"
        + " to \(Timestamp.format(last).prefix(10))"
    }
    return line + ". Statements end with ;  .help for help, .quit to leave."
  }

  /// Tab: the names that complete the word before the cursor, by context: dot commands at the
  /// start, file names after `.read`/`.output`/`.once`, columns of the tables in the FROM
  /// clause, tables after FROM or JOIN, else keywords, functions, tables and columns.
  func completions(_ buffer: [Character], _ cursor: Int) -> (start: Int, candidates: [String]) {
    var start = cursor
    while start > 0,
      buffer[start - 1].isLetter || buffer[start - 1].isNumber || buffer[start - 1] == "_"
        || buffer[start - 1] == "."
    {
      start -= 1
    }
    let text = String(buffer)
    let word = String(buffer[start..<cursor])
    let before = String(buffer[..<start]).trimmingCharacters(in: .whitespaces)
    let tables = BuiltinTables.all.map(\.name) + engine.materializedViewNames()
    var pool: [String]
    if before.isEmpty && word.hasPrefix(".") {
      pool = Shell.dotCommands.map(\.name)
    } else if let command = before.split(separator: " ").first,
      [".read", ".output", ".once"].contains(String(command))
    {
      // File names: the word may hold a path.
      var fileStart = cursor
      while fileStart > 0 && !buffer[fileStart - 1].isWhitespace { fileStart -= 1 }
      let path = String(buffer[fileStart..<cursor])
      let folder = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) + "/" : ""
      let names =
        (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
      let found = names.map { folder + $0 }.filter { $0.hasPrefix(path) }.sorted()
      return (fileStart, found)
    } else if before.uppercased().hasSuffix("FROM") || before.uppercased().hasSuffix("JOIN")
      || [".schema", ".rebuild", ".audit"].contains(
        String(before.split(separator: " ").first ?? ""))
    {
      pool = tables
    } else {
      // Columns of the tables the statement names (after FROM or JOIN), then the rest.
      let words = text.split(whereSeparator: {
        $0.isWhitespace || $0 == "," || $0 == "(" || $0 == ")"
      })
      var named: [String] = []
      for (i, w) in words.enumerated() where i + 1 < words.count {
        if ["FROM", "JOIN"].contains(w.uppercased()) { named.append(String(words[i + 1])) }
      }
      var columns: [String] = []
      for t in named where tables.contains(t) {
        columns += (try? engine.columns(of: t).map(\.0)) ?? []
      }
      let functions = [
        "count", "sum", "avg", "min", "max", "year", "month", "quarter", "day", "date_trunc",
        "date_diff", "plan_period", "coalesce", "nullif", "round", "lower", "upper",
        "strip_accents", "length", "abs", "lag", "lead", "row_number", "rank", "dense_rank",
      ]
      pool = columns + Highlight.keywords.map { $0 } + functions + tables
    }
    var seen = Set<String>()
    let lower = word.lowercased()
    let found = pool.filter { $0.lowercased().hasPrefix(lower) && seen.insert($0).inserted }
    return (start, found)
  }
}

/// Colours for the statement being typed: keywords, strings, numbers, comments, and in red a
/// quote or bracket left open.
enum Highlight {
  static let keywords: [String] = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "ORDER", "HAVING", "LIMIT", "OFFSET", "JOIN", "LEFT",
    "INNER", "CROSS", "ON", "AS", "AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "LIKE",
    "ILIKE",
    "CASE", "WHEN", "THEN", "ELSE", "END", "WITH", "DISTINCT", "ALL", "ASC", "DESC", "NULLS",
    "FIRST", "LAST", "CAST", "FILTER", "OVER", "PARTITION", "TIMESTAMP", "DATE", "INTERVAL",
    "EXPLAIN", "ANALYZE", "TRUE", "FALSE", "FOR", "SYSTEM_TIME", "OF",
  ]
  static let keywordSet = Set(keywords)

  static func sql(_ text: String) -> String {
    let chars = Array(text)
    var out = ""
    var i = 0
    var depth = 0
    var openAt: [Int] = []
    var spans: [(Range<Int>, String)] = []
    while i < chars.count {
      let c = chars[i]
      if c == "'" || c == "\"" {
        var j = i + 1
        while j < chars.count && chars[j] != c { j += 1 }
        let closed = j < chars.count
        let end = closed ? j + 1 : chars.count
        spans.append((i..<end, closed ? (c == "'" ? "32" : "0") : "31"))
        i = end
        continue
      }
      if c == "-" && i + 1 < chars.count && chars[i + 1] == "-" {
        var j = i
        while j < chars.count && chars[j] != "\n" { j += 1 }
        spans.append((i..<j, "2"))
        i = j
        continue
      }
      if c.isNumber {
        var j = i
        while j < chars.count && (chars[j].isNumber || chars[j] == ".") { j += 1 }
        spans.append((i..<j, "36"))
        i = j
        continue
      }
      if c.isLetter || c == "_" {
        var j = i
        while j < chars.count && (chars[j].isLetter || chars[j].isNumber || chars[j] == "_") {
          j += 1
        }
        if keywordSet.contains(String(chars[i..<j]).uppercased()) { spans.append((i..<j, "1;34")) }
        i = j
        continue
      }
      if c == "(" {
        depth += 1
        openAt.append(i)
      } else if c == ")" {
        if depth > 0 {
          depth -= 1
          openAt.removeLast()
        } else {
          spans.append((i..<(i + 1), "31"))
        }
      }
      i += 1
    }
    for o in openAt { spans.append((o..<(o + 1), "31")) }
    spans.sort { $0.0.lowerBound < $1.0.lowerBound }
    var at = 0
    for (range, colour) in spans where range.lowerBound >= at {
      out += String(chars[at..<range.lowerBound])
      // Colour each line of the span apart: the editor draws line by line.
      let piece = String(chars[range])
      out += piece.split(separator: "\n", omittingEmptySubsequences: false).map {
        $0.isEmpty ? "" : "\u{1B}[\(colour)m\($0)\u{1B}[0m"
      }.joined(separator: "\n")
      at = range.upperBound
    }
    out += String(chars[at...])
    return out
  }
}
