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

  @Test func timesAreWrittenAsISO8601() {
    #expect(AccessLog.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    #expect(
      AccessLog.timestamp(Date(timeIntervalSince1970: 1_764_650_405)) == "2025-12-02T04:40:05Z")
  }
}
