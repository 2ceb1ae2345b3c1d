import Domain
import EventLog
import Foundation
import Projections
import Query

#if canImport(Glibc)
  import Glibc
#endif

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
    // (Wider than the terminal, it wraps: it is no result for the pager.)
    write(welcome() + "\n", paged: false)
    // ~/.hosorc first, as sqlite3 reads ~/.sqliterc.
    let rc = ProcessInfo.processInfo.environment["HOSO_RC"] ?? (NSHomeDirectory() + "/.hosorc")
    if let data = FileManager.default.contents(atPath: rc) {
      _ = run(text: String(decoding: data, as: UTF8.self), source: rc)
    }
    var interrupts = 0
    defer { editor.cookedMode() }
    while true {
      switch editor.read(prompt: "hoso> ", continuation: "   ...> ") {
      case .end: return 0
      case .interrupt(let wasEmpty):
        interrupts = wasEmpty ? interrupts + 1 : 0
        if interrupts >= 3 { return 0 }
        if wasEmpty && interrupts == 2 { write("(Ctrl-C once more to leave, or .quit)\r\n") }
      case .statement(let text):
        interrupts = 0
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { continue }
        editor.remember(text)
        // The statement runs in the terminal's own mode: Ctrl-C is SIGINT again.
        editor.cookedMode()
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
      let count = Output.thousands(Int64(reader.lastSeq))
      line +=
        ": \(count) events recorded \(Timestamp.format(first).prefix(10))"
        + " to \(Timestamp.format(last).prefix(10))"
    }
    if let policy = engine.policy {
      line +=
        ". Analyst role: aggregates only, counts of persons under \(policy.minCell) shown as"
        + " <\(policy.minCell)"
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
    let tables = tableNames()
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
      // The columns of the tables named; before any is (the select list is typed first),
      // the columns of every table.
      var columns: [String] = []
      let known = named.filter { tables.contains($0) }
      for t in known.isEmpty ? tables : known {
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
