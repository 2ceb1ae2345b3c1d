import Demo
import Domain
import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

extension CommandLine {
  /// The committed events (`events/reference`, `events/plans`), found by `Reference.locate`.
  static func loadReference() throws -> Reference {
    guard let root = Reference.locate(environment: ProcessInfo.processInfo.environment) else {
      throw UsageError(
        "cannot find the committed events (events/reference and events/plans): run hoso from"
          + " its source folder, or set HOSO_EVENTS to that events folder")
    }
    do {
      return try Reference(root: root)
    } catch {
      throw UsageError("\(error.description); the committed events must be fixed first")
    }
  }

  static func generatorOptions(_ a: inout Arguments, count: Int?) throws -> Generator.Options {
    var o = Generator.Options()
    func integer(_ name: String) throws -> Int? {
      guard let s = try a.value(name) else { return nil }
      guard let v = Int(s), v >= 0 else {
        throw UsageError("\(name) takes a whole number, not \(s)")
      }
      return v
    }
    if let s = try integer("--seed") { o.seed = UInt64(s) }
    if let c = try count ?? integer("--count") { o.count = c }
    if let y = try integer("--from") { o.fromYear = y }
    if let y = try integer("--to") { o.toYear = y }
    return o
  }

  /// `hoso generate --seed N --count N [--from Y] [--to Y]`: NDJSON on standard output.
  static func generate(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let options = try generatorOptions(&a, count: nil)
    _ = try a.positional(max: 0, command: "generate")
    let reference = try loadReference()
    var generator: Generator
    do {
      generator = try Generator(reference: reference, options: options)
    } catch { throw UsageError(error.description) }
    let output = generator.run()
    var buffer: [UInt8] = []
    buffer.reserveCapacity(1 << 20)
    try output.forEachLine { line, _ in
      buffer.append(contentsOf: line)
      buffer.append(0x0A)
      if buffer.count >= 1 << 20 {
        try writeOut(buffer)
        buffer.removeAll(keepingCapacity: true)
      }
    }
    try writeOut(buffer)
    return 0
  }

  private static func writeOut(_ bytes: [UInt8]) throws {
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + done, $0.count - done) }
      if n < 0 {
        if errno == EINTR { continue }
        if errno == EPIPE { exit(0) }  // the reader went away (`| head`): nothing is wrong
        throw UsageError("cannot write to standard output: \(String(cString: strerror(errno)))")
      }
      done += n
    }
  }

  /// `hoso demo [--scale small|national] [--seed N]`: a new store with the committed events
  /// and generated ones, appended a month at a time, as if recorded over the years.
  static func demo(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let scale = try a.value("--scale") ?? "small"
    let counts = ["small": 100_000, "national": Generator.nationalCount]
    guard let count = counts[scale] else {
      throw UsageError("--scale is small or national, not \(scale)")
    }
    // --count: a smaller (or larger) sample of the same model, for tests and trials.
    let countText = try a.value("--count")
    var options = try generatorOptions(&a, count: count)
    if let countText {
      guard let c = Int(countText), c >= 0 else {
        throw UsageError("--count takes a whole number, not \(countText)")
      }
      options.count = c
    }
    _ = try a.positional(max: 0, command: "demo")
    try runDemo(g, options, scale: scale)
    return 0
  }

  static func runDemo(_ g: GlobalOptions, _ options: Generator.Options, scale: String) throws {
    let started = Date()
    let reference = try loadReference()
    var generator: Generator
    do {
      generator = try Generator(reference: reference, options: options)
    } catch { throw UsageError(error.description) }
    let keyExisted = g.key.map { access($0, F_OK) == 0 } ?? false
    let store = try Store.create(at: g.store, keyPath: g.key)
    do {
      let progress = Progress(title: "demo (\(scale))")
      progress.say("generating \(options.count) events, seed \(options.seed)")
      let output = generator.run()
      let total = output.generatedCount + output.committedCount
      var appendOptions = Appender.Options()
      appendOptions.onNote = { note($0) }
      let session = try Appender.Session(store: store, options: appendOptions)
      defer { try? session.close() }
      var batch: [UInt8] = []
      var month: Int64 = -1
      var done = 0
      var batches = 0
      func flush() throws {
        guard !batch.isEmpty else { return }
        let r = try batch.withUnsafeBytes { try session.append($0) }
        done += r.appended + r.duplicates
        batches += 1
        batch.removeAll(keepingCapacity: true)
        progress.update(done, of: total, label: monthLabel(month))
      }
      try output.forEachLine { line, recordedAt in
        // A batch per calendar month of recorded_at (Vietnam time).
        let m = monthNumber(recordedAt)
        if m != month {
          try flush()
          month = m
        }
        batch.append(contentsOf: line)
        batch.append(0x0A)
      }
      try flush()
      try session.close()
      try project(store, showProgress: true)
      progress.finish(
        "\(done) events in \(batches) monthly batches in "
          + String(format: "%.1f s", Date().timeIntervalSince(started)))
      print(
        "created demo store \(store.path): \(output.committedCount) committed and"
          + " \(output.generatedCount) generated events (seed \(options.seed));"
          + " pseudonym key \(store.keyPath)")
    } catch {
      // Nothing half-made stays behind: the store's own files go, the folder's others stay.
      try? FileSystem.system.removeTree(store.logPath)
      try? FileSystem.system.removeTree(store.path + "/STORE")
      try? FileSystem.system.removeTree(store.path + "/access.head")
      if !keyExisted { try? FileSystem.system.removeTree(store.keyPath) }
      throw error
    }
  }

  private static func monthNumber(_ micros: Int64) -> Int64 {
    let days = (micros / 1_000_000 + 7 * 3600) / 86_400
    let (y, m, _) = Timestamp.civilFromDays(days)
    return y * 12 + m - 1
  }

  private static func monthLabel(_ n: Int64) -> String {
    n < 0 ? "" : String(format: "%04d-%02d", Int(n / 12), Int(n % 12 + 1))
  }
}

/// Progress on standard error: one line redrawn in place on a terminal, a line per year
/// otherwise (so a log file stays short).
final class Progress {
  private let title: String
  private let terminal = isatty(2) == 1
  private var lastLabel = ""

  init(title: String) { self.title = title }

  func say(_ text: String) { CommandLine.note("\(title): \(text)") }

  func update(_ done: Int, of total: Int, label: String) {
    let percent = total > 0 ? done * 100 / total : 100
    if terminal {
      let width = 30
      let filled = total > 0 ? done * width / total : width
      let bar =
        String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
      FileHandle.standardError.write(
        Data("\r\u{1B}[2Khoso: \(title): \(bar) \(percent)% \(done)/\(total) \(label)".utf8))
    } else if label.prefix(4) != lastLabel.prefix(4) {
      say("\(percent)% (\(done)/\(total) events, recorded up to \(label))")
    }
    lastLabel = label
  }

  /// Wipes the bar (on a terminal), so that a line can be printed where it was.
  func clear() {
    if terminal { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
  }

  func finish(_ text: String) {
    clear()
    say(text)
  }
}
