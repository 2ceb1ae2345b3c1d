import Foundation
import TestSupport
import Testing

@testable import EventLog

@Suite struct LogRoundTripTests {
  @Test func appendsAndReadsBackAcrossManySegments() throws {
    let log = try TestLog(segmentSize: 4096)
    let w = try log.open()
    var expected: UInt64 = 0
    for size in [1, 7, 50, 1, 200, 3] {
      let range = try w.append(TestLog.batch(after: expected, count: size, size: 90))
      #expect(range == (expected + 1)...(expected + UInt64(size)))
      expected += UInt64(size)
    }
    try w.close()
    let records = try log.records()
    #expect(records.count == Int(expected))
    for (i, r) in records.enumerated() {
      #expect(r.0 == UInt64(i + 1))
      #expect(r.1 == TestLog.time(r.0))
      #expect(r.2 == TestLog.payload(r.0, size: 90))
    }
    #expect(log.segmentFiles().count > 5)
    let summary = try LogVerifier.verify(at: log.path)
    #expect(summary.records == expected)
    #expect(summary.segments == log.segmentFiles().count)
    #expect(summary.warnings.isEmpty)
  }

  @Test func readsBySeqRangeAndByTime() throws {
    let log = try TestLog(segmentSize: 8192)
    let w = try log.open()
    for start in stride(from: 0, to: 1000, by: 100) {
      try w.append(TestLog.batch(after: UInt64(start), count: 100, size: 60))
    }
    try w.close()
    let reader = try LogReader(at: log.path)
    #expect(reader.lastSeq == 1000)
    var rng = SeededRandom(seed: SeededRandom.testSeed(42))
    for _ in 0..<200 {
      let a = UInt64.random(in: 1...1000, using: &rng)
      let b = UInt64.random(in: a...1000, using: &rng)
      var seqs: [UInt64] = []
      try reader.readRecords(in: a...b) { seqs.append($0.seq) }
      #expect(seqs == Array(a...b), "range \(a)...\(b), seed \(rng.state)")
    }
    for seq in [UInt64(1), 2, 99, 100, 101, 555, 999, 1000] {
      #expect(try reader.firstSeq(recordedAtOrAfter: TestLog.time(seq)) == seq)
      #expect(try reader.firstSeq(recordedAtOrAfter: TestLog.time(seq) - 1) == seq)
    }
    #expect(try reader.firstSeq(recordedAtOrAfter: 0) == 1)
    #expect(try reader.firstSeq(recordedAtOrAfter: TestLog.time(1000) + 1) == nil)
  }

  @Test func reopensCleanAndUncleanAndGoesOn() throws {
    let log = try TestLog(segmentSize: 4096)
    do {
      let w = try log.open()
      try w.append(TestLog.batch(after: 0, count: 30, size: 100))
      try w.close()
    }
    #expect(FileManager.default.fileExists(atPath: log.path + "/CLEAN"))
    do {
      let w = try log.open()
      #expect(w.lastSeq == 30)
      #expect(w.recovery == nil)
      try w.append(TestLog.batch(after: 30, count: 30, size: 100))
      #expect(!FileManager.default.fileExists(atPath: log.path + "/CLEAN"))
    }
    do {
      let w = try log.open()  // the previous writer is gone without close: no marker, a scan
      #expect(w.lastSeq == 60)
      try w.append(TestLog.batch(after: 60, count: 5, size: 100))
      try w.close()
    }
    #expect(try log.records().map(\.0) == Array(1...65))
    #expect(try LogVerifier.verify(at: log.path).warnings.isEmpty)
  }

  @Test func indexesAreRebuiltWhenMissingOrWrong() throws {
    let log = try TestLog(segmentSize: 16384)
    let w = try log.open()
    for i in 0..<20 { try w.append(TestLog.batch(after: UInt64(i * 50), count: 50, size: 80)) }
    try w.close()
    let dir = LogDirectory(log.path)
    let segments = dir.segments()
    let original = segments.map { readBytes(dir.seqIndexPath($0)) }
    try FileManager.default.removeItem(atPath: dir.seqIndexPath(segments[0]))
    writeBytes([1, 2, 3], to: dir.timeIndexPath(segments[1]))
    #expect(try !LogVerifier.verify(at: log.path).warnings.isEmpty)
    try log.open().close()
    #expect(segments.map { readBytes(dir.seqIndexPath($0)) } == original)
    #expect(try LogVerifier.verify(at: log.path).warnings.isEmpty)
  }

  /// A process another thread starts holds a copy of every descriptor between its fork and
  /// its exec, the lock's too; a `flock` lock lasts while a copy is open. A writer closed (or
  /// dropped) meanwhile must still free the log for the next one (a fault test once failed
  /// with "locked by another writer" right after a close).
  @Test func aWritersLockGoesWithItThoughACopyOfItsDescriptorLives() throws {
    let log = try TestLog()
    let w = try log.open()
    let copy = dup(w.lockFD)
    defer { close(copy) }
    try w.close()
    var again: LogWriter? = try log.open()
    let second = dup(again!.lockFD)
    defer { close(second) }
    again = nil  // dropped, not closed
    #expect(again == nil)
    try log.open().close()
  }

  @Test func aSecondWriterFailsAtOnceAndReadersRunBeside() throws {
    let log = try TestLog()
    let w = try log.open()
    try w.append(TestLog.batch(after: 0, count: 10))
    #expect {
      _ = try log.open()
    } throws: { ($0 as? LogError)?.kind == .locked }
    #expect(try LogReader(at: log.path).lastSeq == 10)
    try w.append(TestLog.batch(after: 10, count: 10))
    #expect(try LogReader(at: log.path).lastSeq == 20)
    try w.close()
    _ = try log.open()
  }

  @Test func refusesRecordedAtGoingBackwards() throws {
    let log = try TestLog()
    let w = try log.open()
    try w.append(TestLog.batch(after: 10, count: 1))
    var b = RecordBatch()
    b.append(recordedAt: TestLog.time(1), payload: [1])
    #expect(throws: LogError.self) { try w.append(b) }
  }
}

@Suite struct StreamingBatchTests {
  @Test func anAbortedBatchLeavesEveryFileAsItWas() throws {
    let log = try TestLog(segmentSize: 4096)
    do {
      let w = try log.open()
      try w.append(TestLog.batch(after: 0, count: 30, size: 100))
      try w.close()
    }
    let before = snapshotTree(log.path)
    #expect(before["CLEAN"] != nil)
    let w = try log.open()
    try w.beginBatch()
    for seq in UInt64(31)...230 {
      try TestLog.payload(seq, size: 100).withUnsafeBytes {
        _ = try w.add(recordedAt: TestLog.time(seq), payload: $0)
      }
    }
    #expect(w.batchCount == 200)
    #expect(try LogReader(at: log.path).lastSeq == 30)  // readers never see an open batch
    w.abortBatch()
    #expect(snapshotTree(log.path) == before)
    #expect(throws: LogError.self) { try w.beginBatch() }
    try w.close()
    #expect(snapshotTree(log.path) == before)
    try log.open().append(TestLog.batch(after: 30, count: 3, size: 100))
    #expect(try log.records().map(\.0) == Array(1...33))
  }

  @Test func anEmptyBatchWritesNothing() throws {
    let log = try TestLog()
    try log.open().append(TestLog.batch(after: 0, count: 3))
    let before = snapshotTree(log.path)
    let w = try log.open()
    try w.beginBatch()
    #expect(try w.commitBatch() == nil)
    #expect(snapshotTree(log.path) == before)
  }
}
