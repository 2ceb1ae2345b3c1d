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

  @Test func timesAreWrittenAsISO8601() {
    #expect(AccessLog.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    #expect(
      AccessLog.timestamp(Date(timeIntervalSince1970: 1_764_650_405)) == "2025-12-02T04:40:05Z")
  }
}
