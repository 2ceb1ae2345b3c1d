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

  @Test func truncationAtEveryOffsetOfTheLastFrame() throws {
    let log = try makeLog(records: 80)
    let segment = log.segmentFiles().last!
    let bytes = readBytes(segment)!
    let frame = lastFrameRange(bytes)
    let work = log.dir.file("work")
    for cut in frame.lowerBound..<frame.upperBound {
      try copyLog(log.path, to: work)
      let target = LogDirectory(work).segmentPath(LogDirectory(work).segments().last!)
      writeBytes(Array(bytes[0..<cut]), to: target)
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
    let log = try makeLog(records: 40)
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
      let w = try LogWriter.open(at: work)
      #expect(w.lastSeq == 39, "flip \(bit) at \(at), seed \(rng.state)")
      #expect(w.recovery != nil)
      try w.append(TestLog.batch(after: 39, count: 1, size: 70))
      #expect(try log.records().count == 40)
    }
  }

  /// Kafka's LogLoader test corrupts a log ten times; this does it a thousand times: random
  /// truncations and random garbage appended after the last record.
  @Test func aThousandRandomTailCorruptions() throws {
    let seed = SeededRandom.testSeed(UInt64(Date().timeIntervalSince1970))
    var rng = SeededRandom(seed: seed)
    let log = try TestLog(segmentSize: 8192)
    let w = try log.open()
    var ends: [(seq: UInt64, end: Int)] = []  // committed batch ends in the last segment
    var seq: UInt64 = 0
    var batchEnds: [UInt64] = [0]
    for _ in 0..<40 {
      let n = Int.random(in: 1...4, using: &rng)
      try w.append(TestLog.batch(after: seq, count: n, size: Int.random(in: 30...150, using: &rng)))
      seq += UInt64(n)
      batchEnds.append(seq)
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
    let work = log.dir.file("work")
    for round in 0..<1000 {
      try copyLog(log.path, to: work)
      let target = LogDirectory(work).segmentPath(last)
      var damaged: [UInt8]
      let expected: UInt64
      if Bool.random(using: &rng) {
        let cut = Int.random(in: SegmentHeader.size...bytes.count, using: &rng)
        damaged = Array(bytes[0..<cut])
        // A batch that began in an earlier segment is lost with its commit mark.
        expected = ends.last(where: { $0.end <= cut })?.seq ?? batchEnds.last(where: { $0 < last })!
      } else {
        damaged = bytes
        let n = Int.random(in: 1...300, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: damaged += [UInt8](repeating: 0, count: n)
        case 1: damaged += (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
        default:
          // A frame header that claims more than is there: a size updated before its data.
          damaged += [UInt8](repeating: 0xAB, count: n)
        }
        expected = seq
      }
      writeBytes(damaged, to: target)
      let w = try LogWriter.open(at: work)
      #expect(w.lastSeq == expected, "round \(round), seed \(seed)")
      try w.append(TestLog.batch(after: w.lastSeq, count: 1, size: 50))
      try w.close()
      let summary = try LogVerifier.verify(at: work)
      #expect(summary.records == expected + 1, "round \(round), seed \(seed)")
      if w.lastSeq != expected + 1 { break }
    }
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
