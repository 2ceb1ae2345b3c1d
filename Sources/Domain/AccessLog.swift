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
///
/// A chain proves the lines hold together, not that none is missing from the end: the file's
/// length and last hash are anchored outside it, in `access.head` (AccessLog+Anchor.swift),
/// after each record is synced and before the lock is let go. A writer that finds the file
/// holding less than its anchor refuses to add to it, and `verify` names what was cut.
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
    /// Whether the file was checked against its anchor (a store made before there was one
    /// has none until its next access).
    package var anchored = false
    /// What is not damage but worth saying (a redaction that never replaced the file).
    package var warnings: [String] = []
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

  /// Appends `entry` (its number and time filled in), syncs it and anchors it; the entry as
  /// written.
  @discardableResult
  package static func append(_ entry: Entry, store: String) throws -> Entry {
    let pending = try write(entry, store: store)
    try pending.finish(shown: false)
    return pending.entry
  }

  /// Appends `entry` as `append` does, and syncs and anchors it on another thread: the caller
  /// shows its answer meanwhile, then waits for the sync (`Sync.wait`) before it returns.
  package static func appendSyncing(_ entry: Entry, store: String) throws -> (Entry, Sync) {
    let pending = try write(entry, store: store)
    return (pending.entry, Sync(pending))
  }

  /// A record written and on its way to the disk.
  package final class Sync: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let outcome = Outcome()
    private var waited = false

    /// What the syncing thread found: set before it signals `done`, read after.
    private final class Outcome: @unchecked Sendable {
      var failure: Error?
    }

    fileprivate init(_ pending: Pending) {
      // The thread holds the semaphore and the outcome, not this object: a `Sync` dropped
      // unwaited for still waits for its sync (deinit) before the command goes on.
      let (done, outcome) = (done, outcome)
      let work = { @Sendable in
        do { try pending.finish(shown: true) } catch { outcome.failure = error }
        done.signal()
      }
      // In line under the fault tests, so that their calls are numbered the same every run.
      if FaultInjection.isActive { work() } else { DispatchQueue.global().async(execute: work) }
    }

    /// Returns once the record is synced and anchored; throws if it could not be.
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

  /// A record written under the access log's lock, neither synced nor anchored yet. The lock
  /// is held until it is anchored: the anchor's updates then follow the file's in order, and
  /// no writer reads an anchor behind a record another is still syncing.
  fileprivate struct Pending: Sendable {
    let entry: Entry
    /// The access log, locked.
    let fd: Int32
    let path: String
    let anchor: AnchorFile
    /// The file up to and with the new record.
    let mark: Mark

    /// The record synced, then the anchor moved to it and synced (in that order: a crash
    /// between them leaves the file a record ahead of its anchor, which the anchor allows),
    /// then the lock let go. `shown`: the answer was given already.
    func finish(shown: Bool) throws {
      defer {
        anchor.close()
        _ = flock(fd, LOCK_UN)
        _ = close(fd)
      }
      guard FileSystem.system.fdatasync(fd) == 0 else {
        // As the log does (fsyncgate): a failed sync is not retried; the command fails.
        throw LogError(
          .syncFailed,
          "cannot sync \(path): \(String(cString: strerror(errno)))"
            + (shown
              ? "; the answer was shown, and its access record may not be on the disk"
              : "; the access was not given"))
      }
      var anchor = anchor
      try anchor.advance(to: mark)
    }
  }

  /// Opens the access log and takes its lock: the descriptor, or nil when there is no file
  /// and `creating` is false. A file that its anchor says held records and is gone was
  /// deleted: that is damage, not a log to start anew.
  static func openLocked(store: String, creating: Bool) throws -> Int32? {
    let fs = FileSystem.system
    let path = path(store: store)
    // `forget` renames a redacted copy over the file under its lock: a writer that opened
    // the old one and got its lock after opens the new one again, or its record would go
    // to a file no longer there.
    for attempt in 0... {
      guard attempt < 100 else { throw failure("cannot lock \(path): it keeps being replaced") }
      var fd = fs.open(path, O_RDWR | O_APPEND, 0)
      if fd < 0 && errno == ENOENT {
        if let anchor = try readAnchor(store: store), anchor.mark.records > 0 {
          let deleted = disagreement(anchor.mark, with: nil, store: store)
          throw LogError(
            .damaged,
            deleted.message + "; no access is given until it is looked into: run hoso verify")
        }
        guard creating else { return nil }
        fd = fs.open(path, O_RDWR | O_APPEND | O_CREAT, 0o600)
      }
      guard fd >= 0 else { throw failure(SystemCallError("open", path: path)) }
      guard flock(fd, LOCK_EX) == 0 else {
        let e = failure("cannot lock \(path)")
        _ = close(fd)
        throw e
      }
      var held = stat()
      var named = stat()
      if fstat(fd, &held) == 0, lstat(path, &named) == 0, held.st_ino == named.st_ino,
        held.st_dev == named.st_dev
      {
        return fd
      }
      _ = flock(fd, LOCK_UN)
      _ = close(fd)
    }
    return nil
  }

  /// Where the whole records end: before a record that a crash or a failed write left
  /// without its newline at the end of the file (never acknowledged: its command failed
  /// before the record was synced), which the writer then cuts.
  private static func wholeRecordsEnd(_ fd: Int32, size: Int64, path: String) throws -> Int64 {
    guard size > 0 else { return size }
    var tail = [UInt8](repeating: 0, count: Int(min(size, 1 << 16)))
    let start = size - Int64(tail.count)
    let n = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(start)) }
    guard n == tail.count else { throw failure("cannot read \(path)") }
    guard tail.last != 0x0A else { return size }
    if let nl = tail.lastIndex(of: 0x0A) { return start + Int64(nl + 1) }
    // No record's end in the last 64 KiB: more than a torn record, left for the anchor's
    // check to name.
    return start == 0 ? 0 : size
  }

  /// Writes `entry` (its number and time filled in) at the end of the access log, under its
  /// lock, once the file is found to hold what its anchor says; what is left to do (sync,
  /// anchor, unlock) is the caller's.
  private static func write(_ entry: Entry, store: String) throws -> Pending {
    let path = path(store: store)
    guard let fd = try openLocked(store: store, creating: true) else {
      throw failure("cannot open \(path)")
    }
    var handedOver = false
    defer {
      if !handedOver {
        _ = flock(fd, LOCK_UN)
        _ = close(fd)
      }
    }
    guard var size = fileSize(fd) else { throw failure("cannot read \(path)") }
    // A torn record goes only once the anchor is found to hold without it.
    let whole = try wholeRecordsEnd(fd, size: size, path: path)
    let anchor = try openAnchor(store: store, log: fd, size: Int(whole))
    defer { if !handedOver { anchor.close() } }
    if whole < size {
      guard FileSystem.system.ftruncate(fd, whole) == 0 else {
        throw failure(SystemCallError("ftruncate", path: path))
      }
      size = whole
    }
    let (number, prev) = try record(endingAt: Int(size), in: fd, path: path)
    var e = entry
    e.number = number + 1
    e.at = timestamp(Date())
    e.statement = withoutIdentityNumbers(e.statement)
    let text = sealed(body(e, prev: prev))
    let line = Array(text.utf8) + [0x0A]
    let written = line.withUnsafeBytes { FileSystem.system.write(fd, $0) }
    guard written == line.count else {
      // A partial line is cut back, so the chain stays whole.
      if written > 0 { _ = FileSystem.system.ftruncate(fd, Int64(size)) }
      throw failure("cannot write to \(path)")
    }
    handedOver = true
    return Pending(
      entry: e, fd: fd, path: path, anchor: anchor,
      mark: Mark(records: e.number, length: Int(size) + line.count, hash: hash(ofSealed: text)))
  }

  /// Every entry, checked: the chain, each line's hash, the numbers in order. Throws `.damaged`
  /// naming the line that is not what was written.
  package static func read(store: String) throws -> [Entry] {
    try verify(store: store).entries
  }

  /// Checks the whole chain, and the file against its anchor; the entries and what verify
  /// reports. Throws `.damaged` naming the line that is not what was written, or what the
  /// file and its anchor disagree on (records cut from its end, the file deleted, a chain
  /// computed anew).
  package static func verify(store: String) throws -> (entries: [Entry], summary: Summary) {
    let path = path(store: store)
    let chain = try Chain(path: path)
    var summary = Summary(records: chain.entries.count, redactions: chain.redactions)
    if chain.tornBytes > 0 {
      summary.warnings.append(
        "\(path): its last \(chain.tornBytes) bytes are a record cut short (a crash or a full"
          + " disk while it was written); the next access cuts them")
    }
    if let anchor = try readAnchor(store: store) {
      summary.anchored = true
      if !chain.holds(anchor.mark) {
        // The one disagreement that is not damage: a redaction anchored and then cut short
        // before its copy replaced the file (the next access anchors the file as it is).
        guard let prior = anchor.prior, chain.holds(prior) else {
          throw disagreement(anchor.mark, with: chain, store: store)
        }
        summary.warnings.append(
          "\(path): a redaction of the access log was cut short before it replaced the file,"
            + " which is as it was before it")
      }
    }
    return (chain.entries, summary)
  }

  /// The access log read whole and checked line by line: its entries, and where each record
  /// ends and its hash, to hold against the anchor.
  struct Chain {
    /// Whether there is a file at all.
    var exists = false
    var entries: [Entry] = []
    var hashes: [String] = []
    /// The byte just after each record's newline.
    var ends: [Int] = []
    var redactions: [String] = []
    var bytes = 0
    /// Bytes of a record cut short at the end, if any.
    var tornBytes = 0

    init(path: String) throws {
      // Through the store's seam: never read through a link.
      guard let data = try FileSystem.system.readFile(path) else { return }
      exists = true
      bytes = data.count
      var prev = zeroHash
      var lineNumber = 0
      var offset = 0
      var lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
      // A last line without its newline is a record whose writing a crash or a full disk cut
      // short: never acknowledged (its command failed before the record was synced and
      // anchored), so it is no part of the chain; the next access cuts it back.
      if let last = lines.last, !last.isEmpty {
        tornBytes = last.count
        lines.removeLast()
      }
      for raw in lines {
        lineNumber += 1
        let start = offset
        offset += raw.count + 1
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
        hashes.append(hash)
        ends.append(min(start + raw.count + 1, data.count))
        prev = hash
      }
    }

    /// Whether the file holds the prefix `m`: at least its records, the last of them ending
    /// where it says, with its hash.
    func holds(_ m: Mark) -> Bool {
      guard m.records > 0 else { return true }
      return m.records <= entries.count && hashes[m.records - 1] == m.hash
        && ends[m.records - 1] == m.length
    }
  }

  /// Masks `pattern` (an ASCII string) wherever a record holds it, by `mask` of the same
  /// length, re-seals the chain from the first record changed, and records the redaction as a
  /// record of its own; how many records were changed.
  ///
  /// The redacted copy replaces the file whole, and every hash from the first record changed
  /// on is new, so the anchor cannot simply follow: it is first moved to the copy while it
  /// still accepts the file as it was (a crash before the rename leaves that file, accepted),
  /// then, once the copy is in place, to the copy alone. The copy is locked before it is
  /// renamed into place, so that a writer that opens it meanwhile waits for the anchor too.
  package static func redact(
    store: String, pattern: String, mask: String, user: String, role: String
  ) throws -> Int {
    precondition(pattern.utf8.count == mask.utf8.count)
    let fs = FileSystem.system
    let path = path(store: store)
    guard let fd = try openLocked(store: store, creating: false) else { return 0 }
    defer {
      _ = flock(fd, LOCK_UN)
      _ = close(fd)
    }
    guard let size = fileSize(fd) else { throw failure("cannot read \(path)") }
    var anchor = try openAnchor(store: store, log: fd, size: Int(size))
    defer { anchor.close() }
    let entries = try read(store: store)
    let (_, lastHash) = try record(endingAt: Int(size), in: fd, path: path)
    let before = Mark(records: entries.count, length: Int(size), hash: lastHash)
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
      prev = hash(ofSealed: line)
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
    let noteLine = sealed(body(note, prev: prev))
    out += noteLine + "\n"
    let bytes = Array(out.utf8)
    let after = Mark(records: note.number, length: bytes.count, hash: hash(ofSealed: noteLine))

    let copy = path + ".tmp"
    let copyFD = fs.open(copy, O_RDWR | O_CREAT | O_TRUNC, 0o600)
    guard copyFD >= 0 else { throw failure(SystemCallError("open", path: copy)) }
    defer {
      _ = flock(copyFD, LOCK_UN)
      _ = fs.close(copyFD)
    }
    do {
      guard flock(copyFD, LOCK_EX) == 0 else { throw failure("cannot lock \(copy)") }
      try bytes.withUnsafeBytes { try fs.writeAll(copyFD, $0, at: 0, path: copy) }
      guard fs.fsync(copyFD) == 0 else { throw LogError(SystemCallError("fsync", path: copy)) }
      try anchor.advance(to: after, prior: before)
    } catch {
      _ = fs.unlink(copy)
      throw error
    }
    guard fs.rename(copy, path) == 0 else {
      let e = LogError(SystemCallError("rename", path: copy))
      _ = fs.unlink(copy)
      throw e
    }
    try fs.syncDirectory(store)
    try anchor.advance(to: after)
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

  /// The hash of a sealed record's text (its last 64 hex digits before `"}`).
  static func hash(ofSealed line: String) -> String { String(line.suffix(66).prefix(64)) }

  /// The number and hash of the record whose line ends at byte `end` of the file (0 and zeros
  /// for `end` 0), read from the bytes before it: the last record when `end` is the file's
  /// size, the anchored one when it is the anchor's length.
  static func record(endingAt end: Int, in fd: Int32, path: String) throws -> (Int, String) {
    guard end > 0 else { return (0, zeroHash) }
    var window = 4096
    while true {
      let start = max(0, end - window)
      var bytes = [UInt8](repeating: 0, count: end - start)
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
        return (n, hash(ofSealed: line))
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

  static func failure(_ what: String) -> LogError {
    LogError(.io, "\(what): \(String(cString: strerror(errno))); the access was not given")
  }

  /// A failed call on a file of the access log (a link where the file should be among them).
  static func failure(_ call: SystemCallError) -> LogError {
    LogError(.io, "\(call); the access was not given")
  }
}
