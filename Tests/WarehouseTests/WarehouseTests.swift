import Domain
import EventLog
import Foundation
import Projections
import TestSupport
import Testing

@testable import Warehouse

/// The transactions of `Warehouse` other than forget: the order of an append's steps, and the
/// tables never ahead of the log.
@Suite struct WarehouseTests {
  static let fixture = readBytes(packageRoot + "/events/fixtures/valid.ndjson")!

  private func makeStore(_ dir: TemporaryDirectory, _ name: String) throws -> Warehouse {
    Warehouse(
      store: try Store.create(
        at: dir.path + "/" + name, segmentSize: 4096, keyPath: dir.path + "/" + name + ".key"))
  }

  @Test func anAppendIsAcknowledgedBeforeTheTablesFollow() throws {
    let dir = TemporaryDirectory("hoso-warehouse")
    let w = try makeStore(dir, "store")
    var checkpointWhenAcknowledged: UInt64?
    let appended = try Self.fixture.withUnsafeBytes {
      try w.append($0, options: Appender.Options(), views: nil) { result in
        // Durable now: the log has it, and the tables do not yet.
        #expect(try! LogReader(at: w.store.logPath).lastSeq == result.seqs?.upperBound)
        checkpointWhenAcknowledged = try? w.catchUpCheckpoint()
      }
    }
    #expect(appended.result.appended == 23)
    #expect(checkpointWhenAcknowledged == 0)
    #expect(Projection.isCurrent(store: w.store.path))
    #expect(try w.project().checkpoint == 23)
  }

  /// Tables holding events the log does not are damage, never "caught up".
  @Test func tablesAheadOfTheLogAreDamage() throws {
    let dir = TemporaryDirectory("hoso-warehouse")
    let whole = try makeStore(dir, "whole")
    _ = try Self.fixture.withUnsafeBytes {
      try whole.append($0, options: Appender.Options(), views: nil)
    }
    let lines = Self.fixture.split(separator: 0x0A).prefix(8)
    let part = try makeStore(dir, "part")
    _ = try Array(lines.joined(separator: [0x0A]) + [0x0A]).withUnsafeBytes {
      try part.append($0, options: Appender.Options(), views: nil)
    }
    try FileSystem.system.removeTree(part.store.path + "/views")
    try FileManager.default.copyItem(
      atPath: whole.store.path + "/views", toPath: part.store.path + "/views")
    #expect {
      try part.catchUp()
    } throws: { error in
      guard let e = error as? LogError else { return false }
      return e.kind == .damaged && e.message.contains("the log ends at seq 8")
    }
  }
}

extension WarehouseTests {
  /// The fixture's lines before line `n` and from it on (the correction and the void come
  /// late, their targets early).
  static func split(at n: Int) -> ([UInt8], [UInt8]) {
    let lines = fixture.split(separator: 0x0A)
    return (
      Array(lines.prefix(n).joined(separator: [0x0A]) + [0x0A]),
      Array(lines.dropFirst(n).joined(separator: [0x0A]) + [0x0A])
    )
  }

  /// An append hands the ids its validation gathered to the projection that follows, which
  /// resolves corrections by them and reads only as far as the last unit event: its tables
  /// are the bytes a catch-up from the log alone makes.
  @Test func anAppendsTablesAreTheLogsAlone() throws {
    let dir = TemporaryDirectory("hoso-warehouse")
    let w = try makeStore(dir, "store")
    // The correction's target in the first append, the void's in the second.
    let (first, second) = Self.split(at: 14)
    for part in [first, second] {
      _ = try part.withUnsafeBytes { try w.append($0, options: Appender.Options(), views: nil) }
    }
    let appended = snapshotTree(w.store.path + "/views")
    #expect(appended.keys.contains { $0.hasPrefix("events_raw/") })
    try FileSystem.system.removeTree(w.store.path + "/views")
    try w.catchUp()
    #expect(snapshotTree(w.store.path + "/views") == appended)
  }

  /// Ids that end before the log does (another append came in between) are not used: the
  /// correction's target, appended after them, is still found.
  @Test func idsBehindTheLogAreLeftAside() throws {
    let dir = TemporaryDirectory("hoso-warehouse")
    let w = try makeStore(dir, "store")
    // Both targets after the ids.
    let (first, second) = Self.split(at: 10)
    let (_, ids) = try first.withUnsafeBytes {
      try Appender.appendKeepingIds(to: w.store, input: $0, options: Appender.Options())
    }
    _ = try second.withUnsafeBytes {
      try Appender.append(to: w.store, input: $0, options: Appender.Options())
    }
    #expect(ids.count == 10)
    let report = try Projection.catchUp(
      store: w.store.path, reader: try LogReader(at: w.store.logPath), knownIds: ids)
    #expect(report.applied == 23)
    let caughtUp = snapshotTree(w.store.path + "/views")
    try FileSystem.system.removeTree(w.store.path + "/views")
    try w.catchUp()
    #expect(snapshotTree(w.store.path + "/views") == caughtUp)
  }
}

extension Warehouse {
  /// The tables' checkpoint as it stands, read without catching up.
  fileprivate func catchUpCheckpoint() throws -> UInt64 {
    let spec = BuiltinTables.all.first { $0.name == "tips" }!
    return try TableView.open(store: store.path, spec: spec)?.table.checkpoint ?? 0
  }
}
