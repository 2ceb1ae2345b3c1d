import Domain
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// Set by SIGINT while a statement runs: the engine checks it between row groups.
nonisolated(unsafe) var interruptRequested: sig_atomic_t = 0

/// The shell's line editor, on termios (no package): a whole statement is edited at once, over
/// as many lines as it takes, and recalled from history as one entry.
///
/// Keys: ←/→ and Ctrl-B/F, Home/End and Ctrl-A/E, word jumps (Alt-B/F, Ctrl-←/→), Backspace,
/// Delete, Ctrl-K/U/W, ↑/↓ (a line up or down, or history at the first or last line),
/// Ctrl-R (search history), Tab (complete), Ctrl-L (clear the screen), Ctrl-C (clear the
/// statement; three in a row on an empty one quit), Ctrl-D (quit on an empty statement).
final class LineEditor {
  private var saved = termios()
  private(set) var history: [String] = []
  let historyPath: String?
  static let historySize = 2000

  /// Candidates for the word before the cursor: (the word's start in the buffer, completions
  /// of the whole word).
  var complete: ([Character], Int) -> (start: Int, candidates: [String]) = { _, c in (c, []) }
  /// The statement with escape codes for colour (same characters otherwise).
  var highlight: (String) -> String = { $0 }
  /// Whether the buffer is a whole statement to run when Enter is pressed.
  var isComplete: (String) -> Bool = { _ in true }

  private var buffer: [Character] = []
  private var cursor = 0
  /// Rows above the cursor that the last drawing used.
  private var cursorRow = 0
  private var prompt = ""
  private var continuation = ""

  init(historyPath: String?) {
    self.historyPath = historyPath
    if let historyPath, let text = try? String(contentsOfFile: historyPath, encoding: .utf8) {
      history = text.split(separator: "\n").map { Self.unescape(String($0)) }
    }
  }

  // MARK: - History file: one entry per line, line breaks as \n

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
  }

  static func unescape(_ s: String) -> String {
    var out = ""
    var escaped = false
    for c in s {
      if escaped {
        out.append(c == "n" ? "\n" : c)
        escaped = false
      } else if c == "\\" {
        escaped = true
      } else {
        out.append(c)
      }
    }
    return out
  }

  func remember(_ entry: String) {
    let e = entry.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !e.isEmpty, history.last != e else { return }
    history.append(e)
    if history.count > Self.historySize { history.removeFirst(history.count - Self.historySize) }
    guard let historyPath else { return }
    let text = history.map(Self.escape).joined(separator: "\n") + "\n"
    // Statements may name a person's pseudonym: the file is its owner's only from the start.
    try? PrivateFile.replace(historyPath, with: Array(text.utf8))
  }

  // MARK: - The terminal

  /// Whether the terminal is in raw mode now. It stays raw between statements, so that a key
  /// pressed while the shell draws is a key (in the terminal's own mode a Ctrl-D on an empty
  /// line is swallowed, and a Ctrl-C is a signal); the shell leaves raw mode to run one.
  private(set) var isRaw = false

  func rawMode() {
    if isRaw { return }
    isRaw = true
    tcgetattr(0, &saved)
    var raw = saved
    raw.c_iflag &= ~tcflag_t(BRKINT | ICRNL | INPCK | ISTRIP | IXON)
    raw.c_oflag &= ~tcflag_t(OPOST)
    raw.c_cflag |= tcflag_t(CS8)
    raw.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN | ISIG)
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    tcsetattr(0, TCSANOW, &raw)
  }

  func cookedMode() {
    if !isRaw { return }
    isRaw = false
    tcsetattr(0, TCSANOW, &saved)
  }

  /// The terminal's columns and rows (of standard output); nil when it is not a terminal.
  static func size() -> (columns: Int, rows: Int)? {
    var size = winsize()
    guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return (Int(size.ws_col), Int(size.ws_row))
  }

  /// The terminal's width, 80 when it says none.
  static func width() -> Int { size()?.columns ?? 80 }

  private func out(_ s: String) {
    var s = s
    s.withUTF8 { b in
      var off = 0
      while off < b.count {
        let n = Glibc.write(1, b.baseAddress! + off, b.count - off)
        if n <= 0 { break }
        off += n
      }
    }
  }

  /// Bytes typed ahead while a statement ran (read before the terminal's own).
  private var typeahead: [UInt8] = []
  /// Whether a Ctrl-C was typed ahead, after the Enter that ran the statement: the shell
  /// then stops that statement at once.
  private(set) var interruptTypedAhead = false

  /// Takes (and forgets) whether a Ctrl-C was typed ahead.
  func takeInterrupt() -> Bool {
    defer { interruptTypedAhead = false }
    return interruptTypedAhead
  }

  /// Before the terminal goes back to its own line discipline for a statement: what was typed
  /// after Enter is read now (in raw mode a Ctrl-C is a byte, not a signal, and would wait
  /// unseen until the statement ended), Ctrl-C noted, the rest kept for the next statement.
  private func drainTypeahead() {
    let flags = fcntl(0, F_GETFL)
    _ = fcntl(0, F_SETFL, flags | O_NONBLOCK)
    defer { _ = fcntl(0, F_SETFL, flags) }
    var b: UInt8 = 0
    while Glibc.read(0, &b, 1) == 1 {
      if b == 3 {
        interruptTypedAhead = true
        typeahead.removeAll()
      } else {
        typeahead.append(b)
      }
    }
  }

  private func readByte() -> UInt8? {
    if !typeahead.isEmpty { return typeahead.removeFirst() }
    var b: UInt8 = 0
    while true {
      let n = Glibc.read(0, &b, 1)
      if n == 1 { return b }
      if n < 0 && errno == EINTR { continue }
      return nil
    }
  }

  /// Columns a character takes: two for the wide East Asian ones, else one (a Vietnamese
  /// letter with its marks is one character, one column).
  static func columns(_ c: Character) -> Int {
    guard let v = c.unicodeScalars.first?.value else { return 1 }
    if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v)
      || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v)
      || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
      || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v)
    {
      return 2
    }
    return 1
  }

  static func columns<S: Sequence>(_ s: S) -> Int where S.Element == Character {
    s.reduce(0) { $0 + columns($1) }
  }

  // MARK: - Drawing

  /// Draws the statement from its first row, the cursor where it belongs.
  private func redraw() {
    let width = Self.width()
    var s = "\r" + (cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : "") + "\u{1B}[J"
    let lines = String(buffer).split(separator: "\n", omittingEmptySubsequences: false)
    let painted = highlight(String(buffer)).split(separator: "\n", omittingEmptySubsequences: false)
    var rows = 0
    for (i, line) in lines.enumerated() {
      let p = i == 0 ? prompt : continuation
      if i > 0 { s += "\r\n" }
      s += p + (i < painted.count ? String(painted[i]) : String(line))
      if i < lines.count - 1 {
        rows += max(0, (Self.columns(p) + Self.columns(line) - 1) / width) + 1
      }
    }
    // The cursor: its row and column, lines wrapped at the terminal's width.
    let before = buffer[..<cursor]
    let lineIndex = before.filter { $0 == "\n" }.count
    let lineStart = before.lastIndex(of: "\n").map { $0 + 1 } ?? 0
    var row = 0
    for (i, line) in lines.enumerated() where i < lineIndex {
      let p = i == 0 ? prompt : continuation
      row += max(0, (Self.columns(p) + Self.columns(line) - 1) / width) + 1
    }
    let p = lineIndex == 0 ? prompt : continuation
    let col = Self.columns(p) + Self.columns(buffer[lineStart..<cursor])
    row += col / width
    let lastLine = lines.last.map(String.init) ?? ""
    let lastPrompt = lines.count == 1 ? prompt : continuation
    let lastColumns = Self.columns(lastPrompt) + Self.columns(lastLine)
    // Text that ends exactly at the right margin leaves the terminal waiting to wrap: a line
    // break takes it to the next row, where the arithmetic below expects it.
    if lastColumns % width == 0 { s += "\r\n" }
    let endRow = rows + lastColumns / width
    if endRow > row { s += "\u{1B}[\(endRow - row)A" }
    s += "\r" + (col % width > 0 ? "\u{1B}[\(col % width)C" : "")
    cursorRow = row
    out(s)
  }

  // MARK: - Reading a statement

  enum Outcome {
    case statement(String)
    /// Ctrl-C cleared the statement (or an empty one).
    case interrupt(wasEmpty: Bool)
    case end
  }

  /// Reads one statement (or dot command). `.interrupt`: Ctrl-C cleared it.
  func read(prompt: String, continuation: String) -> Outcome {
    self.prompt = prompt
    self.continuation = continuation
    buffer = []
    cursor = 0
    cursorRow = 0
    var historyIndex = history.count
    var draft: [Character] = []
    var lastWasTab = false
    rawMode()
    redraw()
    while let b = readByte() {
      let tab = b == 9
      defer { lastWasTab = tab }
      switch b {
      case 13, 10:  // Enter
        let text = String(buffer)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty || trimmed.hasPrefix(".") || isComplete(text) {
          cursor = buffer.count
          redraw()
          out("\r\n")
          drainTypeahead()
          return .statement(text)
        }
        insert("\n")
      case 3:  // Ctrl-C
        cursor = buffer.count
        redraw()
        out("^C\r\n")
        return .interrupt(wasEmpty: buffer.isEmpty)
      case 4:  // Ctrl-D
        if buffer.isEmpty {
          out("\r\n")
          cookedMode()
          return .end
        }
        if cursor < buffer.count { buffer.remove(at: cursor) }
      case 1: cursor = lineBounds().start  // Ctrl-A
      case 5: cursor = lineBounds().end  // Ctrl-E
      case 2: cursor = max(0, cursor - 1)  // Ctrl-B
      case 6: cursor = min(buffer.count, cursor + 1)  // Ctrl-F
      case 11: buffer.removeSubrange(cursor..<lineBounds().end)  // Ctrl-K
      case 21:  // Ctrl-U
        let start = lineBounds().start
        buffer.removeSubrange(start..<cursor)
        cursor = start
      case 23:  // Ctrl-W
        let start = wordStart(cursor)
        buffer.removeSubrange(start..<cursor)
        cursor = start
      case 12:  // Ctrl-L
        out("\u{1B}[H\u{1B}[2J")
        cursorRow = 0
      case 127, 8:  // Backspace
        if cursor > 0 {
          buffer.remove(at: cursor - 1)
          cursor -= 1
        }
      case 16: recall(-1, &historyIndex, &draft)  // Ctrl-P
      case 14: recall(1, &historyIndex, &draft)  // Ctrl-N
      case 18:  // Ctrl-R
        if let found = search() {
          buffer = Array(found)
          cursor = buffer.count
        }
        out("\r\u{1B}[J")
        cursorRow = 0
      case 9: completeWord(listing: lastWasTab)
      case 27: escape(&historyIndex, &draft)
      default:
        if b >= 32 {
          if let s = utf8(b) { insert(s) }
        }
      }
      redraw()
    }
    return .end
  }

  private func utf8(_ first: UInt8) -> String? {
    var bytes = [first]
    let extra = first >= 0xF0 ? 3 : first >= 0xE0 ? 2 : first >= 0xC0 ? 1 : 0
    for _ in 0..<extra {
      guard let b = readByte() else { break }
      bytes.append(b)
    }
    return String(bytes: bytes, encoding: .utf8)
  }

  /// Inserts text at the cursor; a combining mark joins the letter before it (a Vietnamese tone
  /// typed after its vowel).
  private func insert(_ s: String) {
    for c in s {
      if let scalar = c.unicodeScalars.first, scalar.properties.generalCategory == .nonspacingMark,
        cursor > 0, buffer[cursor - 1] != "\n"
      {
        buffer[cursor - 1] = Character(
          (String(buffer[cursor - 1]) + String(c)).precomposedStringWithCanonicalMapping)
        continue
      }
      buffer.insert(c, at: cursor)
      cursor += 1
    }
  }

  private func lineBounds() -> (start: Int, end: Int) {
    var start = cursor
    while start > 0 && buffer[start - 1] != "\n" { start -= 1 }
    var end = cursor
    while end < buffer.count && buffer[end] != "\n" { end += 1 }
    return (start, end)
  }

  private func isWord(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }

  private func wordStart(_ from: Int) -> Int {
    var i = from
    while i > 0 && !isWord(buffer[i - 1]) { i -= 1 }
    while i > 0 && isWord(buffer[i - 1]) { i -= 1 }
    return i
  }

  private func wordEnd(_ from: Int) -> Int {
    var i = from
    while i < buffer.count && !isWord(buffer[i]) { i += 1 }
    while i < buffer.count && isWord(buffer[i]) { i += 1 }
    return i
  }

  /// ↑/↓: a line up or down in the statement, else the history entry before or after.
  private func vertical(_ step: Int, _ index: inout Int, _ draft: inout [Character]) {
    let (start, end) = lineBounds()
    if step < 0 && start > 0 {
      let column = cursor - start
      var prevStart = start - 1
      while prevStart > 0 && buffer[prevStart - 1] != "\n" { prevStart -= 1 }
      cursor = min(prevStart + column, start - 1)
      return
    }
    if step > 0 && end < buffer.count {
      let column = cursor - start
      var nextEnd = end + 1
      while nextEnd < buffer.count && buffer[nextEnd] != "\n" { nextEnd += 1 }
      cursor = min(end + 1 + column, nextEnd)
      return
    }
    recall(step, &index, &draft)
  }

  private func recall(_ step: Int, _ index: inout Int, _ draft: inout [Character]) {
    let next = index + step
    guard next >= 0 && next <= history.count else { return }
    if index == history.count { draft = buffer }
    index = next
    buffer = index == history.count ? draft : Array(history[index])
    cursor = buffer.count
  }

  private func escape(_ index: inout Int, _ draft: inout [Character]) {
    guard let b = readByte() else { return }
    switch b {
    case UInt8(ascii: "b"): cursor = wordStart(cursor)
    case UInt8(ascii: "f"): cursor = wordEnd(cursor)
    case UInt8(ascii: "["), UInt8(ascii: "O"):
      var sequence: [UInt8] = []
      while let c = readByte() {
        sequence.append(c)
        if c >= 0x40 && c <= 0x7E { break }
      }
      let s = String(decoding: sequence, as: UTF8.self)
      switch s {
      case "A": vertical(-1, &index, &draft)
      case "B": vertical(1, &index, &draft)
      case "C": cursor = min(buffer.count, cursor + 1)
      case "D": cursor = max(0, cursor - 1)
      case "H", "1~", "7~": cursor = lineBounds().start
      case "F", "4~", "8~": cursor = lineBounds().end
      case "3~": if cursor < buffer.count { buffer.remove(at: cursor) }
      case "1;5C", "1;3C": cursor = wordEnd(cursor)
      case "1;5D", "1;3D": cursor = wordStart(cursor)
      default: break
      }
    default: break
    }
  }

  /// Ctrl-R: the newest history entry holding what is typed (Ctrl-R again: an older one);
  /// Enter or an arrow takes it, Ctrl-G or Ctrl-C gives up.
  private func search() -> String? {
    var query = ""
    var skip = 0
    var found: String?
    func show() {
      let shown = (found ?? "").replacingOccurrences(of: "\n", with: " ")
      out("\r\u{1B}[J(reverse-i-search)`\(query)': \(shown)")
    }
    func find() {
      let matches = history.reversed().filter { query.isEmpty || $0.contains(query) }
      found = skip < matches.count ? matches[skip] : matches.last
    }
    out("\r" + (cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : ""))
    find()
    show()
    while let b = readByte() {
      switch b {
      case 18:
        skip += 1
        find()
      case 7, 3: return nil
      case 13, 10, 27: return found
      case 127, 8:
        if !query.isEmpty { query.removeLast() }
        skip = 0
        find()
      default:
        if b >= 32, let s = utf8(b) {
          query += s
          skip = 0
          find()
        }
      }
      show()
    }
    return found
  }

  private func completeWord(listing: Bool) {
    let (start, candidates) = complete(buffer, cursor)
    guard !candidates.isEmpty else { return }
    let typed = String(buffer[start..<cursor])
    if candidates.count == 1 {
      buffer.replaceSubrange(start..<cursor, with: Array(candidates[0]))
      cursor = start + candidates[0].count
      return
    }
    // The longest prefix they share; a second Tab lists them.
    var prefix = candidates[0]
    for c in candidates.dropFirst() {
      while !c.lowercased().hasPrefix(prefix.lowercased()) { prefix.removeLast() }
    }
    if prefix.count > typed.count {
      buffer.replaceSubrange(start..<cursor, with: Array(prefix))
      cursor = start + prefix.count
    } else if listing {
      let end = buffer.count
      let saved = cursor
      cursor = end
      redraw()
      out("\r\n" + candidates.prefix(60).joined(separator: "  ") + "\r\n")
      cursorRow = 0
      cursor = saved
    }
  }
}
