import EventLog
import Foundation
import TestSupport
import Testing

@testable import Domain

/// The access log's records: written in order and chained, whether each was synced before
/// its answer was shown (`append`) or while it was (`appendSyncing`), waited for or not.
@Suite struct AccessLogTests {
  @Test func recordsSyncedWhileShownAreChainedInOrder() throws {
    let dir = TemporaryDirectory("hoso-access")
    var pending: [AccessLog.Sync] = []
    for i in 1...30 {
      let entry = AccessLog.Entry(
        user: "an", role: "analyst", command: "query", statement: "SELECT \(i)", rows: i)
      switch i % 3 {
      case 0: try AccessLog.append(entry, store: dir.path)
      case 1: try AccessLog.appendSyncing(entry, store: dir.path).1.wait()
      default:
        // Some waited for later, in a batch; every other one never (its end waits).
        let (written, sync) = try AccessLog.appendSyncing(entry, store: dir.path)
        #expect(written.number == i)
        if i % 4 == 0 { pending.append(sync) }
      }
    }
    for s in pending { try s.wait() }
    let entries = try AccessLog.read(store: dir.path)
    #expect(entries.map(\.number) == Array(1...30))
    #expect(entries.map(\.statement) == (1...30).map { "SELECT \($0)" })
    #expect(entries.map(\.rows) == (1...30).map { $0 })
  }

  /// `forget` renames a redacted copy over the access log under its lock: a writer waiting
  /// for that lock on the old file writes its record to the new one, not to a file gone.
  @Test func aRecordWaitingWhileTheLogIsReplacedGoesToTheNewLog() throws {
    let dir = TemporaryDirectory("hoso-access")
    let first = AccessLog.Entry(
      user: "an", role: "analyst", command: "query", statement: "SELECT 1", rows: 1)
    try AccessLog.append(first, store: dir.path)
    let path = AccessLog.path(store: dir.path)
    let held = open(path, O_RDWR)
    #expect(held >= 0 && flock(held, LOCK_EX) == 0)
    let done = DispatchSemaphore(value: 0)
    let failure = Locked<String?>(nil)
    Thread.detachNewThread {
      let second = AccessLog.Entry(
        user: "an", role: "analyst", command: "query", statement: "SELECT 2", rows: 1)
      do { try AccessLog.append(second, store: dir.path) } catch {
        failure.set("\(error)")
      }
      done.signal()
    }
    Thread.sleep(forTimeInterval: 0.2)  // the writer opened the file and waits for its lock
    let copy = try Data(contentsOf: URL(fileURLWithPath: path))
    try copy.write(to: URL(fileURLWithPath: path + ".new"))
    #expect(rename(path + ".new", path) == 0)
    _ = flock(held, LOCK_UN)
    close(held)
    done.wait()
    #expect(failure.value == nil, "\(failure.value ?? "")")
    #expect(try AccessLog.read(store: dir.path).map(\.statement) == ["SELECT 1", "SELECT 2"])
  }

  final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ v: T) { stored = v }
    var value: T { lock.withLock { stored } }
    func set(_ v: T) { lock.withLock { stored = v } }
  }

  // MARK: The anchor (access.head)

  /// `count` records appended to the access log of `dir`.
  static func fill(_ dir: TemporaryDirectory, count: Int) throws {
    for i in 1...count {
      try AccessLog.append(
        AccessLog.Entry(
          user: "an", role: "analyst", command: "query", statement: "SELECT \(i)", rows: i),
        store: dir.path)
    }
  }

  static func entry(_ statement: String) -> AccessLog.Entry {
    AccessLog.Entry(user: "an", role: "analyst", command: "query", statement: statement, rows: 1)
  }

  /// The `.damaged` message `body` throws, or nil when it throws none.
  static func damage(_ body: () throws -> Void) -> String? {
    do {
      try body()
      return nil
    } catch let e as LogError {
      return e.kind == .damaged || e.kind == .io ? e.message : "\(e.kind): \(e.message)"
    } catch {
      return "\(error)"
    }
  }

  static func lines(_ path: String) -> [String] {
    String(decoding: readBytes(path) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
  }

  static func write(lines: [String], to path: String) {
    writeBytes(Array(lines.map { $0 + "\n" }.joined().utf8), to: path)
  }

  @Test func recordsCutFromTheEndAreSeenAndNotWrittenAfter() throws {
    for cut in 1...3 {
      let dir = TemporaryDirectory("hoso-access")
      try Self.fill(dir, count: 6)
      let path = AccessLog.path(store: dir.path)
      Self.write(lines: Array(Self.lines(path).dropLast(cut)), to: path)
      let seen = Self.damage { _ = try AccessLog.verify(store: dir.path) }
      #expect(seen?.contains("holds \(6 - cut) record") == true, "\(seen ?? "nothing")")
      #expect(seen?.contains("says 6 records") == true, "\(seen ?? "nothing")")
      #expect(seen?.contains("\(cut) record\(cut == 1 ? " was" : "s were") cut") == true)
      // A writer does not start a new chain after the cut.
      let refused = Self.damage { try AccessLog.append(Self.entry("SELECT 7"), store: dir.path) }
      #expect(refused?.contains("the access log was cut") == true, "\(refused ?? "nothing")")
      #expect(refused?.contains("hoso verify") == true)
      let syncing = Self.damage {
        _ = try AccessLog.appendSyncing(Self.entry("SELECT 7"), store: dir.path)
      }
      #expect(syncing?.contains("the access log was cut") == true)
      #expect(Self.lines(path).count == 6 - cut, "nothing was appended")
    }
  }

  /// A cut inside the last anchored record (here its newline alone): damage, whatever the
  /// file's records say.
  @Test func aByteCutFromTheEndIsSeen() throws {
    let dir = TemporaryDirectory("hoso-access")
    try Self.fill(dir, count: 2)
    let path = AccessLog.path(store: dir.path)
    writeBytes(Array(readBytes(path)!.dropLast()), to: path)
    let seen = Self.damage { _ = try AccessLog.verify(store: dir.path) }
    // The last record, without its newline, reads as one cut short; the anchor names it.
    #expect(seen?.contains("was cut from its end") == true, "\(seen ?? "nothing")")
    let refused = Self.damage { try AccessLog.append(Self.entry("SELECT 3"), store: dir.path) }
    #expect(refused?.contains("the access log was cut") == true, "\(refused ?? "nothing")")
  }

  @Test func aDeletedAccessLogIsSeenAndNotStartedAnew() throws {
    let dir = TemporaryDirectory("hoso-access")
    try Self.fill(dir, count: 3)
    let path = AccessLog.path(store: dir.path)
    #expect(unlink(path) == 0)
    let seen = Self.damage { _ = try AccessLog.verify(store: dir.path) }
    #expect(seen?.contains("is missing") == true && seen?.contains("deleted") == true)
    #expect(seen?.contains("says 3 records") == true, "\(seen ?? "nothing")")
    let refused = Self.damage { try AccessLog.append(Self.entry("SELECT 4"), store: dir.path) }
    #expect(refused?.contains("deleted") == true && refused?.contains("hoso verify") == true)
    #expect(access(path, F_OK) != 0, "no new file is made in its place")
  }

  /// Every line rewritten and hashed again: the chain holds together, the anchored last hash
  /// does not.
  @Test func aChainComputedAnewIsSeen() throws {
    let dir = TemporaryDirectory("hoso-access")
    try Self.fill(dir, count: 4)
    let path = AccessLog.path(store: dir.path)
    var entries = try AccessLog.read(store: dir.path)
    entries[1].statement = "SELECT 'nothing to see'"
    var prev = AccessLog.zeroHash
    var lines: [String] = []
    for e in entries {
      let line = AccessLog.sealed(AccessLog.body(e, prev: prev))
      lines.append(line)
      prev = AccessLog.hash(ofSealed: line)
    }
    Self.write(lines: lines, to: path)
    let seen = Self.damage { _ = try AccessLog.verify(store: dir.path) }
    #expect(seen?.contains("written anew") == true, "\(seen ?? "nothing")")
    #expect(seen?.contains("record 4 has hash") == true)
    #expect(Self.damage { try AccessLog.append(Self.entry("x"), store: dir.path) } != nil)
  }

  /// A process killed after its record was synced and before the anchor was moved leaves the
  /// file a record ahead: allowed, and the next record anchors it. A torn slot leaves the
  /// other, one update behind.
  @Test func aRecordAheadOfItsAnchorIsAllowed() throws {
    let dir = TemporaryDirectory("hoso-access")
    try Self.fill(dir, count: 3)
    let anchorPath = AccessLog.anchorPath(store: dir.path)
    let anchored = try #require(readBytes(anchorPath))
    try AccessLog.append(Self.entry("SELECT 4"), store: dir.path)
    writeBytes(anchored, to: anchorPath)  // as if killed before the anchor was written
    #expect(try AccessLog.verify(store: dir.path).summary.records == 4)
    try AccessLog.append(Self.entry("SELECT 5"), store: dir.path)
    #expect(try AccessLog.readAnchor(store: dir.path)?.mark.records == 5)
    // The newest slot torn: the one before it (record 3, as restored above) is a lower bound
    // still.
    var torn = try #require(readBytes(anchorPath))
    let newest = try #require(try AccessLog.readAnchor(store: dir.path)).generation
    torn[Int(newest % 2) * AccessLog.slotSize + 20] ^= 0xFF
    writeBytes(torn, to: anchorPath)
    #expect(try AccessLog.readAnchor(store: dir.path)?.mark.records == 3)
    #expect(try AccessLog.verify(store: dir.path).summary.records == 5)
    try AccessLog.append(Self.entry("SELECT 6"), store: dir.path)
    #expect(try AccessLog.read(store: dir.path).count == 6)
    // Both torn: damage, said as such.
    var both = try #require(readBytes(anchorPath))
    both[20] ^= 0xFF
    both[AccessLog.slotSize + 20] ^= 0xFF
    writeBytes(both, to: anchorPath)
    let seen = Self.damage { _ = try AccessLog.verify(store: dir.path) }
    #expect(seen?.contains("neither copy") == true, "\(seen ?? "nothing")")
  }

  /// A record that a full disk or a crash cut short, after the anchored ones, was never
  /// acknowledged: `verify` warns, the next access cuts it and goes on (the fault test found
  /// every later read refused).
  @Test func aRecordCutShortAfterTheAnchoredOnesIsCutByTheNextAccess() throws {
    let dir = TemporaryDirectory("hoso-access")
    try Self.fill(dir, count: 3)
    let path = AccessLog.path(store: dir.path)
    let whole = try #require(readBytes(path))
    writeBytes(whole + Array("{\"n\":4,\"at\":\"2026-".utf8), to: path)
    let checked = try AccessLog.verify(store: dir.path).summary
    #expect(checked.records == 3)
    #expect(checked.warnings.contains { $0.contains("cut short") }, "\(checked.warnings)")
    try AccessLog.append(Self.entry("SELECT 4"), store: dir.path)
    #expect(try AccessLog.read(store: dir.path).map(\.number) == [1, 2, 3, 4])
    #expect(try AccessLog.verify(store: dir.path).summary.warnings.isEmpty)
    // Cut into an anchored record, the same shape is damage, and nothing is cut.
    let four = try #require(readBytes(path))
    writeBytes(Array(four.dropLast(5)), to: path)
    _ = Self.damage { try AccessLog.append(Self.entry("SELECT 5"), store: dir.path) }
    #expect(readBytes(path) == Array(four.dropLast(5)))
  }

  /// `forget`'s redaction re-seals the chain, so every hash from the first record changed on
  /// is new: the anchor moves with it, and a kill on either side of the file's replacement
  /// leaves a file that the anchor accepts.
  @Test func aRedactionMovesTheAnchorAndSurvivesAKillEitherSide() throws {
    let dir = TemporaryDirectory("hoso-access")
    let person = "P-0123456789abcdef"
    try Self.fill(dir, count: 2)
    try AccessLog.append(
      Self.entry("SELECT * FROM supports WHERE person = '\(person)'"), store: dir.path)
    try Self.fill(dir, count: 2)
    let path = AccessLog.path(store: dir.path)
    let before = readBytes(path)!
    let anchorBefore = try #require(try AccessLog.readAnchor(store: dir.path))
    let changed = try AccessLog.redact(
      store: dir.path, pattern: person, mask: "forgotten-00000001", user: "au", role: "auditor")
    #expect(changed == 1)
    let (entries, summary) = try AccessLog.verify(store: dir.path)
    #expect(entries.count == 6 && summary.warnings.isEmpty)
    #expect(!String(decoding: readBytes(path)!, as: UTF8.self).contains(person))
    let after = try #require(try AccessLog.readAnchor(store: dir.path))
    #expect(after.mark.records == 6 && after.prior == nil)
    // Killed after the anchor took both files and before the copy replaced the file.
    let mid = AccessLog.Anchor(
      generation: after.generation + 1, mark: after.mark,
      prior: AccessLog.Mark(records: 5, length: before.count, hash: anchorBefore.mark.hash))
    let both = AccessLog.encode(mid) + AccessLog.encode(mid)
    writeBytes(both, to: AccessLog.anchorPath(store: dir.path))
    #expect(try AccessLog.verify(store: dir.path).summary.warnings.isEmpty)
    writeBytes(before, to: path)
    let cutShort = try AccessLog.verify(store: dir.path).summary
    #expect(cutShort.records == 5 && cutShort.warnings.first?.contains("cut short") == true)
    try AccessLog.append(Self.entry("SELECT 6"), store: dir.path)
    #expect(try AccessLog.readAnchor(store: dir.path)?.prior == nil)
    #expect(try AccessLog.verify(store: dir.path).summary.records == 6)
    // A log cut before a redaction is not re-anchored by it.
    Self.write(lines: Array(Self.lines(path).dropLast()), to: path)
    let refused = Self.damage {
      _ = try AccessLog.redact(
        store: dir.path, pattern: "SELECT", mask: "XXXXXX", user: "au", role: "auditor")
    }
    #expect(refused?.contains("the access log was cut") == true, "\(refused ?? "nothing")")
  }

  /// A store made before the anchor: its file is taken as it is on its first access after,
  /// without a word; from then on, cutting it is seen. A store whose STORE says it was
  /// anchored is damaged without its anchor.
  @Test func anAccessLogWithoutAnAnchorGetsOne() throws {
    let dir = TemporaryDirectory("hoso-access")
    writeBytes(Array("hoso-store 1\nid 00\nkey /k\n".utf8), to: dir.file("STORE"))
    try Self.fill(dir, count: 3)
    let anchorPath = AccessLog.anchorPath(store: dir.path)
    #expect(unlink(anchorPath) == 0)
    writeBytes(Array("hoso-store 1\nid 00\nkey /k\n".utf8), to: dir.file("STORE"))
    let old = try AccessLog.verify(store: dir.path).summary
    #expect(old.records == 3 && !old.anchored)
    try AccessLog.append(Self.entry("SELECT 4"), store: dir.path)
    var st = stat()
    #expect(stat(anchorPath, &st) == 0 && st.st_mode & 0o777 == 0o600)
    #expect(try AccessLog.readAnchor(store: dir.path)?.mark.records == 4)
    #expect(Self.lines(dir.file("STORE")).last == AccessLog.anchoredLine)
    #expect(try AccessLog.verify(store: dir.path).summary.anchored)
    // Deleting the anchor with the end of the file: seen by what STORE says.
    let path = AccessLog.path(store: dir.path)
    Self.write(lines: Array(Self.lines(path).dropLast()), to: path)
    #expect(unlink(anchorPath) == 0)
    let seen = Self.damage { _ = try AccessLog.verify(store: dir.path) }
    #expect(seen?.contains("access.head is missing") == true, "\(seen ?? "nothing")")
    #expect(Self.damage { try AccessLog.append(Self.entry("x"), store: dir.path) } != nil)
  }

  /// A link where the access log or its anchor should be is not followed: nothing is made
  /// where it points.
  @Test func linksAreNotFollowed() throws {
    let dir = TemporaryDirectory("hoso-access")
    let outside = TemporaryDirectory("hoso-outside")
    let path = AccessLog.path(store: dir.path)
    #expect(symlink(outside.file("access.log"), path) == 0)
    let refused = Self.damage { try AccessLog.append(Self.entry("SELECT 1"), store: dir.path) }
    #expect(refused?.contains("is a symbolic link") == true, "\(refused ?? "nothing")")
    #expect(access(outside.file("access.log"), F_OK) != 0, "nothing made outside the store")
    let verify = Self.damage { _ = try AccessLog.verify(store: dir.path) }
    #expect(verify?.contains("is a symbolic link") == true, "\(verify ?? "nothing")")
    // The anchor: a link to a file outside is neither read nor written.
    #expect(unlink(path) == 0)
    try Self.fill(dir, count: 1)
    let anchorPath = AccessLog.anchorPath(store: dir.path)
    let copy = outside.file("access.head")
    writeBytes(try #require(readBytes(anchorPath)), to: copy)
    #expect(unlink(anchorPath) == 0 && symlink(copy, anchorPath) == 0)
    let linked = Self.damage { try AccessLog.append(Self.entry("SELECT 2"), store: dir.path) }
    #expect(linked?.contains("is a symbolic link") == true, "\(linked ?? "nothing")")
    #expect(Self.lines(path).count == 1)
  }

  @Test func timesAreWrittenAsISO8601() {
    #expect(AccessLog.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    #expect(
      AccessLog.timestamp(Date(timeIntervalSince1970: 1_764_650_405)) == "2025-12-02T04:40:05Z")
  }
}
