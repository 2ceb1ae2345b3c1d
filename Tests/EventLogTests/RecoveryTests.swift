import Foundation
import TestSupport
import Testing

@testable import EventLog

/// Copies a log directory, so each corruption starts from the same bytes.
private func copyLog(_ from: String, to: String) throws {
  try? FileManager.default.removeItem(atPath: to)
  try FileManager.default.copyItem(atPath: from, toPath: to)
}

private func lastFrameRange(_ segment: [UInt8]) -> Range<Int> {
  var offset = SegmentHeader.size
  var last = offset..<offset
  segment.withUnsafeBytes { b in
    while offset < b.count,
      case .success(let h) = Frame.decode(
        UnsafeRawBufferPointer(rebasing: b[offset...]))
    {
      last = offset..<(offset + h.frameSize)
      offset += h.frameSize
    }
  }
  return last
}

@Suite struct RecoveryTests {
  /// A log of `n` single-record batches with an active last segment.
  private func makeLog(records n: Int) throws -> TestLog {
    let log = try TestLog(segmentSize: 4096)
    let w = try log.open()
    for i in 0..<n { try w.append(TestLog.batch(after: UInt64(i), count: 1, size: 70)) }
    return log
  }

  /// Every file of a log directory and its bytes: what "nothing was changed" compares.
  private func snapshot(_ path: String) -> [String: [UInt8]] {
    var files: [String: [UInt8]] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
      files[name] = readBytes(path + "/" + name)
    }
    return files
  }

  /// Opening `path` must fail as damage naming a segment and a seq, and leave every byte as it
  /// was.
  private func expectDamage(_ path: String, _ what: String, located: Bool = true) {
    let before = snapshot(path)
    let e = #expect(throws: LogError.self, "\(what)") { _ = try LogWriter.open(at: path) }
    #expect(
      e?.kind == .damaged && (!located || (e?.segment != nil && e?.seq != nil)),
      "\(what): \(String(describing: e))")
    #expect(snapshot(path) == before, "\(what): the failed open changed files")
    #expect(throws: LogError.self, "\(what): a reader") { _ = try LogReader(at: path) }
    #expect(throws: LogError.self, "\(what): verify") { _ = try LogVerifier.verify(at: path) }
  }

  /// Cutting into the last acknowledged record is damage, reported with nothing changed; cutting
  /// into a record that `ACKED` does not cover (its batch's commit reached the disk but the
  /// record of it did not: a crash in between) is a torn tail, cut.
  @Test func truncationAtEveryOffsetOfTheLastFrame() throws {
    let log = try makeLog(records: 79)
    let earlier = readBytes(log.path + "/ACKED")!
    try log.open().append(TestLog.batch(after: 79, count: 1, size: 70))
    let segment = log.segmentFiles().last!
    let bytes = readBytes(segment)!
    let frame = lastFrameRange(bytes)
    let work = log.dir.file("work")
    for cut in frame.lowerBound..<frame.upperBound {
      try copyLog(log.path, to: work)
      let target = LogDirectory(work).segmentPath(LogDirectory(work).segments().last!)
      writeBytes(Array(bytes[0..<cut]), to: target)
      expectDamage(work, "cut at \(cut) of an acknowledged record")

      writeBytes(earlier, to: work + "/ACKED")
      let w = try LogWriter.open(at: work)
      #expect(w.lastSeq == 79, "cut at \(cut)")
      #expect(w.recovery != nil || cut == frame.lowerBound, "cut at \(cut): nothing reported")
      if cut > frame.lowerBound { #expect(w.recovery?.cutBytes == Int64(cut - frame.lowerBound)) }
      try w.append(TestLog.batch(after: 79, count: 2, size: 70))
      try w.close()
      let reader = try LogReader(at: work)
      #expect(reader.lastSeq == 81)
      #expect(try LogVerifier.verify(at: work).records == 81)
    }
  }

  @Test func singleBitFlipsInTheLastFrame() throws {
    let log = try makeLog(records: 39)
    let earlier = readBytes(log.path + "/ACKED")!
    try log.open().append(TestLog.batch(after: 39, count: 1, size: 70))
    let segment = log.segmentFiles().last!
    let bytes = readBytes(segment)!
    let frame = lastFrameRange(bytes)
    let work = log.dir.file("work")
    var rng = SeededRandom(seed: SeededRandom.testSeed(7))
    for at in frame {
      let bit = UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
      try copyLog(log.path, to: work)
      var damaged = bytes
      damaged[at] ^= bit
      writeBytes(damaged, to: LogDirectory(work).segmentPath(LogDirectory(work).segments().last!))
      expectDamage(work, "flip \(bit) at \(at) of an acknowledged record, seed \(rng.state)")

      writeBytes(earlier, to: work + "/ACKED")
      let w = try LogWriter.open(at: work)
      #expect(w.lastSeq == 39, "flip \(bit) at \(at), seed \(rng.state)")
      #expect(w.recovery != nil)
      try w.append(TestLog.batch(after: 39, count: 1, size: 70))
      #expect(try LogReader(at: work).lastSeq == 40)
    }
  }

  /// Kafka's LogLoader test corrupts a log ten times; this does it a thousand times: random
  /// truncations and random garbage after the last record, each judged against an `ACKED` of a
  /// random earlier batch: a cut before its end is damage, anything after it a torn tail.
  @Test func aThousandRandomTailCorruptions() throws {
    let seed = SeededRandom.testSeed(UInt64(Date().timeIntervalSince1970))
    var rng = SeededRandom(seed: seed)
    let log = try TestLog(segmentSize: 8192)
    let w = try log.open()
    var ends: [(seq: UInt64, end: Int)] = []  // committed batch ends in the last segment
    var seq: UInt64 = 0
    var batchEnds: [UInt64] = [0]
    var ackedAfter: [[UInt8]] = [readBytes(log.path + "/ACKED")!]
    for _ in 0..<40 {
      let n = Int.random(in: 1...4, using: &rng)
      try w.append(TestLog.batch(after: seq, count: n, size: Int.random(in: 30...150, using: &rng)))
      seq += UInt64(n)
      batchEnds.append(seq)
      ackedAfter.append(readBytes(log.path + "/ACKED")!)
    }
    try w.close()
    let dir = LogDirectory(log.path)
    let last = dir.segments().last!
    let bytes = readBytes(dir.segmentPath(last))!
    // Where each committed batch of the last segment ends.
    let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: last) }
    var offset = SegmentHeader.size
    bytes.withUnsafeBytes { b in
      while offset < b.count,
        case .success(let h) = Frame.decode(
          UnsafeRawBufferPointer(rebasing: b[offset...]))
      {
        offset += h.frameSize
        if h.commit { ends.append((h.seq, offset)) }
      }
    }
    #expect(scan.commitSeq == seq)
    // ACKED as it stood after one of the batches that ended in the last segment, or in the one
    // before it.
    let candidates = batchEnds.indices.filter { batchEnds[$0] + 1 >= last }
    let work = log.dir.file("work")
    var damaged = 0
    for round in 0..<1000 {
      try copyLog(log.path, to: work)
      let k = candidates.randomElement(using: &rng)!
      writeBytes(ackedAfter[k], to: work + "/ACKED")
      let target = LogDirectory(work).segmentPath(last)
      var changed: [UInt8]
      let expected: UInt64
      if Bool.random(using: &rng) {
        let cut = Int.random(in: SegmentHeader.size...bytes.count, using: &rng)
        changed = Array(bytes[0..<cut])
        // A batch that began in an earlier segment is lost with its commit mark.
        expected = ends.last(where: { $0.end <= cut })?.seq ?? batchEnds.last(where: { $0 < last })!
      } else {
        changed = bytes
        let n = Int.random(in: 1...300, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: changed += [UInt8](repeating: 0, count: n)
        case 1: changed += (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
        default:
          // A frame header that claims more than is there: a size updated before its data.
          changed += [UInt8](repeating: 0xAB, count: n)
        }
        expected = seq
      }
      writeBytes(changed, to: target)
      if expected < batchEnds[k] {
        expectDamage(work, "round \(round), seed \(seed): cut below seq \(batchEnds[k])")
        damaged += 1
        continue
      }
      let w = try LogWriter.open(at: work)
      #expect(w.lastSeq == expected, "round \(round), seed \(seed)")
      try w.append(TestLog.batch(after: w.lastSeq, count: 1, size: 50))
      try w.close()
      let summary = try LogVerifier.verify(at: work)
      #expect(summary.records == expected + 1, "round \(round), seed \(seed)")
      if w.lastSeq != expected + 1 { break }
    }
    #expect(damaged > 0 && damaged < 1000, "seed \(seed): \(damaged) of 1000 rounds were damage")
  }

  /// Finding 1 of issue 17: five bytes cut from the last segment of a batch that spans segments,
  /// or that segment deleted, took the whole acknowledged batch with it.
  @Test func aCutOrDeletedLastSegmentOfASpanningBatchIsDamage() throws {
    let log = try TestLog(segmentSize: 4096)
    let w = try log.open()
    try w.append(TestLog.batch(after: 0, count: 20, size: 100))
    try w.append(TestLog.batch(after: 20, count: 200, size: 100))
    try w.close()
    let dir = LogDirectory(log.path)
    #expect(dir.segments().count > 4)
    let work = log.dir.file("work")
    try copyLog(log.path, to: work)
    let lastPath = LogDirectory(work).segmentPath(dir.segments().last!)
    writeBytes(Array(readBytes(lastPath)!.dropLast(5)), to: lastPath)
    expectDamage(work, "five bytes cut")
    try copyLog(log.path, to: work)
    _ = unlink(lastPath)
    expectDamage(work, "last segment deleted")
    // A segment in the middle: a reader found no gap and read on past it.
    try copyLog(log.path, to: work)
    _ = unlink(LogDirectory(work).segmentPath(dir.segments()[1]))
    expectDamage(work, "a middle segment deleted")
    for name in ["ACKED"] {
      try copyLog(log.path, to: work)
      _ = unlink(work + "/" + name)
      expectDamage(work, "\(name) deleted", located: false)
    }
  }

  /// A crash after a batch's commit reached the disk but before `ACKED` did: the batch is
  /// whole, so it is kept, and `ACKED` moves up to guard it from then on.
  @Test func aCommittedBatchBeyondTheRecordIsKeptAndGuarded() throws {
    let log = try makeLog(records: 10)
    let earlier = readBytes(log.path + "/ACKED")!
    try log.open().append(TestLog.batch(after: 10, count: 5, size: 70))
    writeBytes(earlier, to: log.path + "/ACKED")
    let w = try log.open()
    #expect(w.lastSeq == 15)
    try w.close()
    let acked = try AckedExtent.read(LogDirectory(log.path), .system)
    #expect(acked?.lastSeq == 15 && acked?.durableSeq == 15)
    let path = log.segmentFiles().last!
    writeBytes(Array(readBytes(path)!.dropLast(1)), to: path)
    expectDamage(log.path, "the kept batch cut afterwards")
  }

  /// One torn slot of `ACKED` leaves the other; both torn is damage.
  @Test func aTornRecordFallsBackToTheOtherSlot() throws {
    let log = try makeLog(records: 6)
    var acked = readBytes(log.path + "/ACKED")!
    let newest = try AckedExtent.read(LogDirectory(log.path), .system)!
    let slot = Int(newest.generation % 2) * AckedExtent.slotSize
    acked[slot + 50] ^= 0x40
    writeBytes(acked, to: log.path + "/ACKED")
    let previous = try AckedExtent.read(LogDirectory(log.path), .system)!
    #expect(previous.lastSeq == 5 && previous.generation == newest.generation - 1)
    let w = try log.open()
    #expect(w.lastSeq == 6)
    try w.close()
    let other = Int((newest.generation + 1) % 2) * AckedExtent.slotSize
    acked = readBytes(log.path + "/ACKED")!
    acked[other + 10] ^= 0x01
    acked[slot + 10] ^= 0x01
    writeBytes(acked, to: log.path + "/ACKED")
    #expect(throws: LogError.self) { _ = try LogWriter.open(at: log.path) }
  }

  /// A log made before hoso kept `ACKED` is opened as it always was, and gets one.
  @Test func aLogWithoutTheRecordGetsOneOnItsFirstOpen() throws {
    let log = try makeLog(records: 12)
    _ = unlink(log.path + "/ACKED")
    writeBytes(Array("hoso-log 1\nsegment-size 4096\n".utf8), to: log.path + "/FORMAT")
    #expect(try LogReader(at: log.path).lastSeq == 12)
    let w = try log.open()
    #expect(w.lastSeq == 12)
    try w.close()
    #expect(try AckedExtent.read(LogDirectory(log.path), .system)?.lastSeq == 12)
    #expect(String(decoding: readBytes(log.path + "/FORMAT")!, as: UTF8.self).contains("acked 1"))
    let path = log.segmentFiles().last!
    writeBytes(Array(readBytes(path)!.dropLast(3)), to: path)
    expectDamage(log.path, "cut after the upgrade")
  }

  /// Batches appended with `--sync none` are acknowledged without a promise to survive a power
  /// cut: when they are gone, the open lets them go and says so, and what was synced stays
  /// guarded.
  @Test func unsyncedBatchesMayBeLostButSyncedOnesNot() throws {
    let log = try makeLog(records: 5)
    let w = try log.open(sync: .none)
    try w.append(TestLog.batch(after: 5, count: 3, size: 70))
    try w.close()
    let path = log.segmentFiles().last!
    let bytes = readBytes(path)!
    let frame = lastFrameRange(bytes)
    // The power cut: the last batch's pages never reached the disk.
    writeBytes(Array(bytes[0..<(frame.lowerBound - 2 * 94)]), to: path)
    let reopened = try log.open()
    #expect(reopened.lastSeq == 5)
    #expect(reopened.recovery?.description.contains("--sync none") == true)
    try reopened.close()
    // The record was moved to the end that is there: the loss is said once.
    let again = try log.open()
    #expect(again.recovery == nil)
    try again.close()
    #expect(try AckedExtent.read(LogDirectory(log.path), .system)?.lastSeq == 5)
    writeBytes(Array(readBytes(path)!.dropLast(1)), to: path)
    expectDamage(log.path, "a synced batch cut")
  }

  /// A synced writer's open makes `--sync none` batches durable, and guards them from then on.
  @Test func unsyncedBatchesAreGuardedOnceASyncedWriterOpens() throws {
    let log = try makeLog(records: 5)
    let w = try log.open(sync: .none)
    try w.append(TestLog.batch(after: 5, count: 60, size: 70))
    try w.close()
    #expect(try AckedExtent.read(LogDirectory(log.path), .system)?.durableSeq == 5)
    try log.open().close()
    let acked = try AckedExtent.read(LogDirectory(log.path), .system)
    #expect(acked?.durableSeq == 65 && acked?.lastSeq == 65)
    let path = log.segmentFiles().last!
    writeBytes(Array(readBytes(path)!.dropLast(5)), to: path)
    expectDamage(log.path, "a batch of --sync none cut after it was made durable")
  }

  @Test func damageInASealedSegmentIsNeverRepaired() throws {
    let log = try TestLog(segmentSize: 4096)
    let w = try log.open()
    for i in 0..<10 { try w.append(TestLog.batch(after: UInt64(i * 20), count: 20, size: 80)) }
    try w.close()
    let dir = LogDirectory(log.path)
    let first = dir.segmentPath(dir.segments()[1])
    var bytes = readBytes(first)!
    bytes[700] ^= 0x10
    writeBytes(bytes, to: first)
    #expect {
      _ = try LogVerifier.verify(at: log.path)
    } throws: { error in
      guard let e = error as? LogError else { return false }
      return e.kind == .damaged && e.segment == dir.segmentName(dir.segments()[1])
        && e.offset != nil && e.seq != nil
    }
    #expect(throws: LogError.self) {
      try LogReader(at: log.path).readRecords { _ in }
    }
    // A broken footer stops the writer itself.
    bytes[bytes.count - 20] ^= 1
    writeBytes(bytes, to: first)
    #expect {
      _ = try log.open()
    } throws: { ($0 as? LogError)?.kind == .damaged }
  }

  @Test func committedBatchesAfterDamageInTheLastSegmentAreNotCut() throws {
    let log = try makeLog(records: 30)
    let dir = LogDirectory(log.path)
    let path = dir.segmentPath(dir.segments().last!)
    var bytes = readBytes(path)!
    bytes[SegmentHeader.size + 30] ^= 0x01  // inside the segment's first frame
    writeBytes(bytes, to: path)
    #expect {
      _ = try log.open()
    } throws: { ($0 as? LogError)?.kind == .damaged }
  }
}
