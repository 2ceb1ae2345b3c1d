import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Every reading of the store's data, on record: `<store>/access.log`, one JSON object a line,
/// appended (never rewritten but by `forget`'s redaction), each line hash-chained to the one
/// before it as the log's segments are:
///
///     {"n":1,"at":"2026-12-02T03:40:00Z","user":"an","role":"analyst","command":"query",
///      "statement":"SELECT …","rows":12,"prev":"<64 hex>","hash":"<64 hex>"}
///
/// `hash` is SHA-256 of the line up to (not including) `,"hash"`; `prev` is the line before's
/// `hash` (64 zeros for the first). Writers append under an exclusive `flock` of the file and
/// write each record before the command shows what it read: an access that cannot be recorded
/// is not given, and a process killed once it has shown an answer leaves its record in the
/// file. The record is synced before the command returns: by `append` before it shows
/// anything; by `appendSyncing` while a query's answer is written out (an idle disk's sync
/// takes about a millisecond, as long as a short query), waited for before the command ends
/// or the shell's next prompt. A failed sync is an error then (exit status 2), not silence.
package enum AccessLog {
  /// One access.
  package struct Entry: Sendable, Equatable {
    package var number: Int
    /// ISO 8601 UTC, to the second.
    package var at: String
    package var user: String
    package var role: String
    package var command: String
    package var statement: String
    package var rows: Int?

    package init(
      number: Int = 0, at: String = "", user: String, role: String, command: String,
      statement: String, rows: Int?
    ) {
      self.number = number
      self.at = at
      self.user = user
      self.role = role
      self.command = command
      self.statement = statement
      self.rows = rows
    }
  }

  /// What `verify` learns of the access log.
  package struct Summary: Sendable {
    package var records: Int
    package var redactions: [String]
  }

  package static func path(store: String) -> String { store + "/access.log" }

  static let zeroHash = String(repeating: "0", count: 64)

  /// The user running this process, by name.
  package static func currentUser() -> String {
    if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name {
      return String(cString: name)
    }
    return ProcessInfo.processInfo.environment["USER"] ?? "uid \(geteuid())"
  }

  /// Appends `entry` (its number and time filled in) and syncs it; the entry as written.
  @discardableResult
  package static func append(_ entry: Entry, store: String) throws -> Entry {
    let (e, fd) = try write(entry, store: store)
    defer { close(fd) }
    guard fdatasync(fd) == 0 else {
      // As the log does (fsyncgate): a failed sync is not retried; the command fails.
      throw failure("cannot sync \(path(store: store))")
    }
    return e
  }

  /// Appends `entry` as `append` does, and syncs it on another thread: the caller shows its
  /// answer meanwhile, then waits for the sync (`Sync.wait`) before it returns.
  package static func appendSyncing(_ entry: Entry, store: String) throws -> (Entry, Sync) {
    let (e, fd) = try write(entry, store: store)
    return (e, Sync(fd: fd, path: path(store: store)))
  }

  /// A record written and on its way to the disk.
  package final class Sync: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = Outcome()
    private var waited = false

    /// What the syncing thread found: set before it signals `done`, read after.
    private final class Outcome: @unchecked Sendable {
      var failure: LogError?
    }

    fileprivate init(fd: Int32, path: String) {
      // The thread holds the semaphore and the outcome, not this object: a `Sync` dropped
      // unwaited for still waits for its sync (deinit) before the command goes on.
      let (done, outcome) = (done, outcome)
      DispatchQueue.global().async {
        if fdatasync(fd) != 0 {
          outcome.failure = LogError(
            .io,
            "cannot sync \(path): \(String(cString: strerror(errno))); the answer was shown, and"
              + " its access record may not be on the disk")
        }
        close(fd)
        done.signal()
      }
    }

    /// Returns once the record is synced; throws if it could not be.
    package func wait() throws {
      if !waited {
        done.wait()
        waited = true
      }
      if let failure = outcome.failure { throw failure }
    }

    deinit {
      // Never a sync left running behind a command that forgot it.
      if !waited { done.wait() }
    }
  }

  /// Writes `entry` (its number and time filled in) at the end of the access log, under its
  /// lock; the entry as written and the descriptor it was written with (the caller syncs and
  /// closes it).
  private static func write(_ entry: Entry, store: String) throws -> (Entry, Int32) {
    let path = path(store: store)
    var fd: Int32 = -1
    // `forget` renames a redacted copy over the file under its lock: a writer that opened
    // the old one and got its lock after opens the new one again, or its record would go
    // to a file no longer there.
    for attempt in 0... {
      guard attempt < 100 else { throw failure("cannot lock \(path): it keeps being replaced") }
      fd = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
      guard fd >= 0 else { throw failure("cannot open \(path)") }
      guard flock(fd, LOCK_EX) == 0 else {
        let e = failure("cannot lock \(path)")
        close(fd)
        throw e
      }
      var held = stat()
      var named = stat()
      if fstat(fd, &held) == 0, stat(path, &named) == 0, held.st_ino == named.st_ino,
        held.st_dev == named.st_dev
      {
        break
      }
      _ = flock(fd, LOCK_UN)
      close(fd)
    }
    var handedOver = false
    defer { if !handedOver { close(fd) } }
    defer { _ = flock(fd, LOCK_UN) }
    let (number, prev) = try last(fd, path: path)
    var e = entry
    e.number = number + 1
    e.at = timestamp(Date())
    e.statement = withoutIdentityNumbers(e.statement)
    let line = Array(sealed(body(e, prev: prev)).utf8) + [0x0A]
    let written = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    guard written == line.count else {
      // A partial line is cut back, so the chain stays whole.
      var st = stat()
      if fstat(fd, &st) == 0, written > 0 { _ = ftruncate(fd, st.st_size - off_t(written)) }
      throw failure("cannot write to \(path)")
    }
    handedOver = true
    return (e, fd)
  }

  /// Every entry, checked: the chain, each line's hash, the numbers in order. Throws `.damaged`
  /// naming the line that is not what was written.
  package static func read(store: String) throws -> [Entry] {
    try verify(store: store).entries
  }

  /// Checks the whole chain; the entries and what verify reports.
  package static func verify(store: String) throws -> (entries: [Entry], summary: Summary) {
    let path = path(store: store)
    guard let data = FileManager.default.contents(atPath: path) else {
      return ([], Summary(records: 0, redactions: []))
    }
    var entries: [Entry] = []
    var redactions: [String] = []
    var prev = zeroHash
    var lineNumber = 0
    for raw in data.split(separator: 0x0A, omittingEmptySubsequences: false) {
      lineNumber += 1
      if raw.isEmpty && lineNumber > 1 { continue }
      let line = String(decoding: raw, as: UTF8.self)
      func damaged(_ what: String) -> LogError {
        LogError(
          .damaged,
          "\(path) line \(lineNumber): \(what); the access log is not what was written")
      }
      guard let cut = line.range(of: ",\"hash\":\"", options: .backwards) else {
        throw damaged("no hash")
      }
      let bodyText = String(line[..<cut.lowerBound]) + "}"
      let hash = String(line[cut.upperBound...].dropLast(2))
      guard hash == hex(SHA256.hash(Array(line[..<cut.lowerBound].utf8))) else {
        throw damaged("its hash does not match its text")
      }
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(bodyText.utf8))
          as? [String: Any],
        let n = object["n"] as? Int, let linePrev = object["prev"] as? String
      else { throw damaged("not an access record") }
      guard linePrev == prev else { throw damaged("the chain is broken before it") }
      guard n == entries.count + 1 else { throw damaged("record \(n) out of order") }
      let e = Entry(
        number: n, at: object["at"] as? String ?? "", user: object["user"] as? String ?? "",
        role: object["role"] as? String ?? "", command: object["command"] as? String ?? "",
        statement: object["statement"] as? String ?? "", rows: object["rows"] as? Int)
      if e.command == "redaction" { redactions.append("access.log: " + e.statement) }
      entries.append(e)
      prev = hash
    }
    return (entries, Summary(records: entries.count, redactions: redactions))
  }

  /// Masks `pattern` (an ASCII string) wherever a record holds it, by `mask` of the same
  /// length, re-seals the chain from the first record changed, and records the redaction as a
  /// record of its own; how many records were changed.
  package static func redact(
    store: String, pattern: String, mask: String, user: String, role: String
  ) throws -> Int {
    precondition(pattern.utf8.count == mask.utf8.count)
    let path = path(store: store)
    guard FileManager.default.fileExists(atPath: path) else { return 0 }
    let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
    guard fd >= 0 else { throw failure("cannot open \(path)") }
    defer { close(fd) }
    guard flock(fd, LOCK_EX) == 0 else { throw failure("cannot lock \(path)") }
    defer { _ = flock(fd, LOCK_UN) }
    let entries = try read(store: store)
    var prev = zeroHash
    var out = ""
    var changed: [Int] = []
    for var e in entries {
      if e.statement.contains(pattern) || e.user.contains(pattern) {
        e.statement = e.statement.replacingOccurrences(of: pattern, with: mask)
        e.user = e.user.replacingOccurrences(of: pattern, with: mask)
        changed.append(e.number)
      }
      let line = sealed(body(e, prev: prev))
      out += line + "\n"
      prev = String(line.suffix(66).prefix(64))
    }
    var note = Entry(
      user: user, role: role, command: "redaction",
      statement: changed.isEmpty
        ? "\(mask): no access record held it"
        : "\(mask) masked in \(changed.count) record\(changed.count == 1 ? "" : "s")"
          + " (\(ranges(changed))); chain re-sealed from record \(changed[0])",
      rows: changed.count)
    note.number = entries.count + 1
    note.at = timestamp(Date())
    out += sealed(body(note, prev: prev)) + "\n"
    // A new file renamed over the old: a crash leaves one or the other, whole.
    let directory = (path as NSString).deletingLastPathComponent
    try FileSystem.system.writeAtomically(Array(out.utf8), to: path, directory: directory)
    _ = chmod(path, 0o600)
    return changed.count
  }

  /// `1-3, 7`.
  static func ranges(_ numbers: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    while i < numbers.count {
      var j = i
      while j + 1 < numbers.count && numbers[j + 1] == numbers[j] + 1 { j += 1 }
      parts.append(j == i ? "\(numbers[i])" : "\(numbers[i])-\(numbers[j])")
      i = j + 1
    }
    return parts.joined(separator: ", ")
  }

  /// The record's JSON without its hash, fields in a fixed order.
  static func body(_ e: Entry, prev: String) -> String {
    var s = "{\"n\":\(e.number),\"at\":\(json(e.at)),\"user\":\(json(e.user))"
    s += ",\"role\":\(json(e.role)),\"command\":\(json(e.command))"
    s += ",\"statement\":\(json(e.statement))"
    s += ",\"rows\":" + (e.rows.map(String.init) ?? "null")
    return s + ",\"prev\":\"\(prev)\"}"
  }

  /// The body with its hash: SHA-256 of everything before `,"hash"`.
  static func sealed(_ body: String) -> String {
    let head = String(body.dropLast())
    return head + ",\"hash\":\"\(hex(SHA256.hash(Array(head.utf8))))\"}"
  }

  /// The last record's number and hash (0 and zeros when the file is empty), read from its
  /// tail.
  private static func last(_ fd: Int32, path: String) throws -> (Int, String) {
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw failure("cannot read \(path)") }
    let size = Int(st.st_size)
    guard size > 0 else { return (0, zeroHash) }
    var window = 4096
    while true {
      let start = max(0, size - window)
      var bytes = [UInt8](repeating: 0, count: size - start)
      let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
      guard n == bytes.count else { throw failure("cannot read \(path)") }
      guard bytes.last == 0x0A else {
        throw LogError(
          .damaged,
          "\(path) ends in the middle of a record; the access log is not what was written")
      }
      let body = bytes.dropLast()
      let lineStart: Int?
      if let nl = body.lastIndex(of: 0x0A) {
        lineStart = nl + 1
      } else {
        lineStart = start == 0 ? body.startIndex : nil
      }
      if let lineStart {
        let line = String(decoding: body[lineStart...], as: UTF8.self)
        guard line.hasPrefix("{\"n\":"), line.hasSuffix("\"}"), line.count > 66,
          let n = Int(line.dropFirst(5).prefix { $0.isNumber })
        else {
          throw LogError(
            .damaged,
            "\(path): its last record is not whole; the access log is not what was written")
        }
        return (n, String(line.suffix(66).prefix(64)))
      }
      window *= 4
    }
  }

  /// `YYYY-MM-DDTHH:MM:SSZ`.
  package static func timestamp(_ d: Date) -> String {
    var t = time_t(d.timeIntervalSince1970)
    var tm = tm()
    gmtime_r(&t, &tm)
    // By hand: `String(format:)`'s first use costs a tenth of a millisecond.
    func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
    let year = "\(tm.tm_year + 1900)"
    return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-"
      + two(tm.tm_mon + 1) + "-" + two(tm.tm_mday) + "T" + two(tm.tm_hour) + ":"
      + two(tm.tm_min) + ":" + two(tm.tm_sec) + "Z"
  }

  /// A statement with every number of 9 or 12 digits (an ID card number's length, in any of
  /// the spellings the validator refuses in text: `IdentityNumbers`) masked, so that a raw
  /// identifier typed into a query is not kept here.
  package static func withoutIdentityNumbers(_ s: String) -> String {
    IdentityNumbers.masked(s)
  }

  private static func json(_ s: String) -> String {
    var w = CanonicalJSONWriter(capacity: s.utf8.count + 2)
    w.writeString(s)
    return String(decoding: w.bytes, as: UTF8.self)
  }

  private static func failure(_ what: String) -> LogError {
    LogError(.io, "\(what): \(String(cString: strerror(errno))); the access was not given")
  }
}
