import Foundation
import TestSupport
import Testing

@testable import EventLog

#if canImport(Glibc)
  import Glibc
#endif

private let pattern = Array("P-0123456789abcdef".utf8)
private let mask = Array("forgotten-00000001".utf8)
private let when = LogRedactor.parseTime("2026-12-02T03:00:00Z")!

/// Where `needle` first occurs in `haystack`, from `start` on.
private func offset(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
  guard haystack.count >= needle.count + start else { return nil }
  return (start...(haystack.count - needle.count)).first {
    haystack[$0] == needle[0] && haystack[$0..<($0 + needle.count)].elementsEqual(needle)
  }
}

/// Whether `needle` occurs in `haystack`.
private func holds(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
  offset(of: needle, in: haystack) != nil
}

/// The payload a correct redaction leaves: occurrences replaced by the mask, leftmost first,
/// until none is left (a mask can meet the bytes before it to form the pattern anew).
private func masked(_ payload: [UInt8]) -> [UInt8] {
  var out = payload
  while let i = (0..<max(0, out.count - pattern.count + 1)).first(where: {
    out[$0..<($0 + pattern.count)].elementsEqual(pattern)
  }) {
    out.replaceSubrange(i..<(i + pattern.count), with: mask)
  }
  return out
}

/// The files under `root` that hold the pattern anywhere.
private func filesHoldingThePattern(_ root: String) -> [String] {
  snapshotTree(root).filter { holds($0.value, pattern) }.map(\.key).sorted()
}

/// A payload of `size` bytes holding the pattern `copies` times.
private func payload(_ seq: UInt64, copies: Int, size: Int = 90) -> [UInt8] {
  guard copies > 0 else { return TestLog.payload(seq, size: size) }
  var bytes = Array("{\"n\":\(seq),\"person\":\"".utf8) + pattern
  for _ in 1..<copies { bytes += Array("\",\"also\":\"".utf8) + pattern }
  bytes += Array("\"}".utf8)
  while bytes.count < size { bytes.append(UInt8(ascii: "a") + UInt8(bytes.count % 26)) }
  return bytes
}

/// Records and their copies of the pattern in `makeLog`'s log.
private let copiesBySeq: [UInt64: Int] = [3: 1, 100: 1, 101: 2, 195: 1]

/// 200 records of 90 bytes in 4 KiB segments, 34 frames each: 1-34, 35-68, 69-102, 103-136 and
/// 137-170 sealed, 171-200 active. The pattern is in the first segment (seq 3), a middle one
/// (100, and 101 twice) and the active one (195).
private func makeLog(close: Bool = true) throws -> TestLog {
  let log = try TestLog(segmentSize: 4096)
  let w = try log.open()
  for start in stride(from: UInt64(0), to: 200, by: 10) {
    var b = RecordBatch()
    for seq in (start + 1)...(start + 10) {
      b.append(recordedAt: TestLog.time(seq), payload: payload(seq, copies: copiesBySeq[seq] ?? 0))
    }
    try w.append(b)
  }
  if close { try w.close() }
  return log
}

@discardableResult
private func redact(
  _ log: TestLog, reason: String = "deletion request 2026/17 \"Đ\"",
  fileSystem: FileSystem = .system
) throws -> LogRedactor.Report {
  try LogRedactor.redact(
    logPath: log.path, pattern: pattern, mask: mask, reason: reason, at: when,
    fileSystem: fileSystem)
}

private func copyTree(_ from: String, to: String) throws {
  try? FileManager.default.removeItem(atPath: to)
  try FileManager.default.copyItem(atPath: from, toPath: to)
}

/// Re-seals every sealed segment from `index` on, as someone who can write the files could:
/// a chain that verifies, but not the one `REDACTIONS` recorded.
private func resealChain(_ path: String, from index: Int) {
  let dir = LogDirectory(path)
  let segments = dir.segments()
  var previous = [UInt8](repeating: 0, count: 32)
  for (i, s) in segments.enumerated() {
    var bytes = readBytes(dir.segmentPath(s))!
    guard var footer = bytes.withUnsafeBytes({ SegmentFooter.decode($0) }) else { continue }
    if i >= index {
      var h = SHA256()
      h.update(previous)
      h.update(Array(bytes[0..<(bytes.count - SegmentFooter.size)]))
      footer.previousHash = previous
      footer.hash = h.finalize()
      bytes.replaceSubrange((bytes.count - SegmentFooter.size)..., with: footer.encode())
      writeBytes(bytes, to: dir.segmentPath(s))
    }
    previous = footer.hash
  }
}

/// Puts the pattern back into record `seq`, with a CRC that matches.
private func unmask(_ path: String, seq: UInt64) {
  let dir = LogDirectory(path)
  let s = dir.segments().last(where: { $0 <= seq })!
  var bytes = readBytes(dir.segmentPath(s))!
  var frameAt = SegmentHeader.size
  var frameSize = 0
  while true {
    let h = bytes.withUnsafeBytes { b -> Frame.Header in
      guard case .success(let h) = Frame.decode(UnsafeRawBufferPointer(rebasing: b[frameAt...]))
      else { fatalError("no frame at \(frameAt)") }
      return h
    }
    frameSize = h.frameSize
    if h.seq == seq { break }
    frameAt += frameSize
  }
  let at = offset(of: mask, in: Array(bytes[0..<(frameAt + frameSize)]), from: frameAt)!
  bytes.replaceSubrange(at..<(at + mask.count), with: pattern)
  let crc = bytes.withUnsafeBytes {
    Frame.checksum(UnsafeRawBufferPointer(rebasing: $0[frameAt..<(frameAt + frameSize)]))
  }
  withUnsafeBytes(of: crc.littleEndian) {
    bytes.replaceSubrange((frameAt + 4)..<(frameAt + 8), with: $0)
  }
  writeBytes(bytes, to: dir.segmentPath(s))
}

/// A file system whose process "dies" at its `n`-th changing call (a create, write, sync,
/// rename, unlink or truncate): that call fails, a write half done, and so does every call
/// after it, as nothing runs in a killed process.
private final class DyingFileSystem: @unchecked Sendable {
  private let lock = NSLock()
  private var left: Int
  private var dead = false
  /// The changing calls that ran.
  private(set) var calls = 0

  init(diesAt n: Int) { left = n }

  private enum Fate { case run, dies, dead }

  private func fate() -> Fate {
    lock.lock()
    defer { lock.unlock() }
    if dead { return .dead }
    if left == 0 {
      dead = true
      return .dies
    }
    left -= 1
    calls += 1
    return .run
  }

  private var isDead: Bool {
    lock.lock()
    defer { lock.unlock() }
    return dead
  }

  func fileSystem() -> FileSystem {
    var fs = FileSystem.system
    let real = FileSystem.system
    fs.open = { path, flags, mode in
      if flags & O_CREAT != 0 {
        guard self.fate() == .run else {
          errno = EIO
          return -1
        }
      } else if self.isDead {
        errno = EIO
        return -1
      }
      return real.open(path, flags, mode)
    }
    fs.pwrite = { fd, buffer, offset in
      switch self.fate() {
      case .run: return real.pwrite(fd, buffer, offset)
      case .dies:
        _ = real.pwrite(
          fd, UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count / 2)]), offset)
        errno = EIO
        return -1
      case .dead:
        errno = EIO
        return -1
      }
    }
    fs.fsync = { fd in self.fate() == .run ? real.fsync(fd) : -1 }
    fs.rename = { a, b in self.fate() == .run ? real.rename(a, b) : -1 }
    fs.unlink = { path in self.fate() == .run ? real.unlink(path) : -1 }
    fs.ftruncate = { fd, length in self.fate() == .run ? real.ftruncate(fd, length) : -1 }
    return fs
  }
}

@Suite struct RedactionTests {
  @Test func masksEveryOccurrenceAcrossSegmentsAndReseals() throws {
    let log = try makeLog()
    let dir = LogDirectory(log.path)
    let before = try log.records()
    let reader = try LogReader(at: log.path)
    #expect(reader.segments.map(\.firstSeq) == [1, 35, 69, 103, 137, 171])
    #expect(reader.segments.last?.sealed == false)
    let indexes = dir.segments().map {
      [readBytes(dir.seqIndexPath($0)), readBytes(dir.timeIndexPath($0))]
    }
    let clean = readBytes(dir.cleanPath)
    #expect(filesHoldingThePattern(log.path).count == 3)

    let report = try redact(log)
    #expect(report.redaction.seqs == [3, 100, 101, 195])
    #expect(report.occurrences == 5)
    #expect(report.redaction.rewritten == [1, 69, 171])
    #expect(report.redaction.resealed.map(\.segment) == [1, 35, 69, 103, 137])
    #expect(report.finishedEarlier == nil)

    // Nothing anywhere under the log directory holds the pattern, and nothing is left over.
    #expect(filesHoldingThePattern(log.path) == [])
    let names = Set(try FileManager.default.contentsOfDirectory(atPath: log.path))
    #expect(!names.contains("REDACTING"))
    #expect(!names.contains { $0.hasSuffix(".redact") || $0.hasSuffix(".tmp") })
    var st = stat()
    let statted = stat(dir.redactionsPath, &st)
    #expect(statted == 0 && st.st_mode & 0o777 == 0o600)

    // The records: masked where the pattern was, byte for byte the same elsewhere.
    let after = try log.records()
    #expect(after.count == before.count)
    for (a, b) in zip(after, before) {
      #expect(a.0 == b.0 && a.1 == b.1)
      #expect(a.2 == (copiesBySeq[b.0] == nil ? b.2 : masked(b.2)), "seq \(b.0)")
    }
    // Offsets did not move: the indexes and the clean-shutdown marker are still true.
    #expect(
      dir.segments().map { [readBytes(dir.seqIndexPath($0)), readBytes(dir.timeIndexPath($0))] }
        == indexes)
    #expect(readBytes(dir.cleanPath) == clean)

    let summary = try LogVerifier.verify(at: log.path)
    #expect(summary.records == 200)
    #expect(summary.warnings.isEmpty)
    #expect(
      summary.redactions == [
        "redacted: mask forgotten-00000001 in 4 records (seq 3, 100-101, 195) at"
          + " 2026-12-02T03:00:00Z, reason \"deletion request 2026/17 \\\"Đ\\\"\"; chain"
          + " re-sealed from segment 00000000000000000001"
      ])
    #expect(try LogRedactor.recorded(logPath: log.path) == [report.redaction])
    let footers = try dir.segments().dropLast().map { try dir.footer(of: $0, .system).footer! }
    #expect(footers.map(\.hash) == report.redaction.resealed.map(\.newHash))

    // The writer goes on, and seals the segments after on the new chain.
    let w = try log.open()
    #expect(w.finishedRedaction == nil)
    try w.append(TestLog.batch(after: 200, count: 100, size: 90))
    try w.close()
    #expect(dir.segments().count > 8)
    let again = try LogVerifier.verify(at: log.path)
    #expect(again.records == 300)
    #expect(again.redactions == summary.redactions)
    #expect(Array(try log.records().map(\.2).prefix(200)) == after.map(\.2))
  }

  @Test func aPatternThatOccursNowhereChangesNothing() throws {
    for close in [true, false] {
      let log = try makeLog(close: close)
      try redact(log)  // the pattern, now gone
      let before = snapshotTree(log.path)
      let report = try redact(log)
      #expect(report.redaction.seqs.isEmpty && report.occurrences == 0)
      #expect(report.redaction.rewritten.isEmpty && report.redaction.resealed.isEmpty)
      #expect(snapshotTree(log.path) == before)
      #expect(try LogRedactor.recorded(logPath: log.path).count == 1)

      let fresh = try TestLog(segmentSize: 4096)
      try fresh.open().append(TestLog.batch(after: 0, count: 50, size: 90))
      let untouched = snapshotTree(fresh.path)
      #expect(try redact(fresh).redaction.seqs.isEmpty)
      #expect(snapshotTree(fresh.path) == untouched)
      #expect(try LogRedactor.recorded(logPath: fresh.path).isEmpty)
      #expect(try LogVerifier.verify(at: fresh.path).redactions.isEmpty)
    }
  }

  @Test func aSecondRedactionChainsOnTheFirst() throws {
    let log = try makeLog()
    let first = try redact(log)
    let other = Array("P-fedcba9876543210".utf8)
    let w = try log.open()
    var b = RecordBatch()
    b.append(
      recordedAt: TestLog.time(201), payload: Array("{\"p\":\"".utf8) + other + [0x22, 0x7D])
    try w.append(b)
    try w.close()
    let second = try LogRedactor.redact(
      logPath: log.path, pattern: other, mask: Array("forgotten-00000002".utf8), reason: "two",
      at: when + 1_500_000)
    #expect(second.redaction.seqs == [201])
    #expect(second.redaction.resealed.isEmpty && second.redaction.rewritten == [171])
    #expect(try LogRedactor.recorded(logPath: log.path) == [first.redaction, second.redaction])
    let lines = try LogVerifier.verify(at: log.path).redactions
    #expect(lines.count == 2)
    #expect(
      lines.last
        == "redacted: mask forgotten-00000002 in 1 record (seq 201) at 2026-12-02T03:00:01.500000Z,"
        + " reason \"two\"; segment 00000000000000000171 rewritten (not sealed yet)")
  }

  @Test func aCrashAtAnyPointIsFinishedWithTheSameBytes() throws {
    let base = try makeLog()
    let uninterrupted = base.dir.file("uninterrupted")
    try copyTree(base.path, to: uninterrupted)
    let counting = DyingFileSystem(diesAt: .max)
    let expected = try LogRedactor.redact(
      logPath: uninterrupted, pattern: pattern, mask: mask, reason: "r", at: when,
      fileSystem: counting.fileSystem()
    ).redaction
    let final = snapshotTree(uninterrupted)
    let original = snapshotTree(base.path)
    #expect(counting.calls > 20)

    let work = base.dir.file("work")
    var finishedByResume = 0
    var tornFooters = 0
    for n in 0..<counting.calls {
      try copyTree(base.path, to: work)
      let dying = DyingFileSystem(diesAt: n)
      #expect(throws: LogError.self, "crash at call \(n)") {
        try LogRedactor.redact(
          logPath: work, pattern: pattern, mask: mask, reason: "r", at: when,
          fileSystem: dying.fileSystem())
      }
      let unfinished = FileManager.default.fileExists(atPath: work + "/REDACTING")
      if unfinished {
        // Readers see every record whole, masked or not. The one exception is a footer being
        // rewritten in place that the crash tore (a power cut can; a killed process cannot):
        // readers then refuse that segment, never read a wrong record, and the next writer
        // rewrites the footer.
        do {
          let records = try LogReader(at: work)
          var seen = 0
          try records.readRecords { r in
            let p = Array(r.payload)
            let plain = payload(r.seq, copies: copiesBySeq[r.seq] ?? 0)
            #expect(p == plain || p == masked(plain), "crash at call \(n), seq \(r.seq)")
            seen += 1
          }
          #expect(seen == 200, "crash at call \(n)")
        } catch let e as LogError where e.message.hasPrefix("segment is not sealed") {
          tornFooters += 1
          #expect([35, 103, 137].map(LogDirectory(work).segmentName).contains(e.segment ?? ""))
        }
        let error = #expect(throws: LogError.self, "crash at call \(n)") {
          try LogVerifier.verify(at: work)
        }
        #expect(error?.message.hasPrefix("a redaction is unfinished") == true, "call \(n)")
      }
      let finished = try LogRedactor.resume(logPath: work)
      #expect(finished == (unfinished ? expected : nil), "crash at call \(n)")
      let tree = snapshotTree(work)
      if unfinished {
        finishedByResume += 1
        #expect(tree == final, "crash at call \(n)")
      } else {
        #expect(tree == original || tree == final, "crash at call \(n)")
        if tree == original {
          let report = try LogRedactor.redact(
            logPath: work, pattern: pattern, mask: mask, reason: "r", at: when)
          #expect(report.redaction == expected, "crash at call \(n)")
          #expect(snapshotTree(work) == final, "crash at call \(n)")
        }
      }
      #expect(try LogVerifier.verify(at: work).redactions.count == 1, "crash at call \(n)")
    }
    #expect(finishedByResume > 10)
    #expect(tornFooters <= 3)
  }

  @Test func theNextWriterFinishesAnInterruptedRedaction() throws {
    let log = try makeLog()
    let counting = DyingFileSystem(diesAt: .max)
    let work = log.dir.file("count")
    try copyTree(log.path, to: work)
    _ = try LogRedactor.redact(
      logPath: work, pattern: pattern, mask: mask, reason: "r", at: when,
      fileSystem: counting.fileSystem())
    // Die half way, then let an ordinary writer (and a second redaction) open the log.
    let dying = DyingFileSystem(diesAt: counting.calls / 2)
    #expect(throws: LogError.self) {
      try LogRedactor.redact(
        logPath: log.path, pattern: pattern, mask: mask, reason: "r", at: when,
        fileSystem: dying.fileSystem())
    }
    #expect(FileManager.default.fileExists(atPath: log.path + "/REDACTING"))
    let w = try log.open()
    #expect(w.finishedRedaction?.seqs == [3, 100, 101, 195])
    try w.append(TestLog.batch(after: 200, count: 5, size: 90))
    try w.close()
    #expect(!FileManager.default.fileExists(atPath: log.path + "/REDACTING"))
    #expect(filesHoldingThePattern(log.path) == [])
    #expect(try LogVerifier.verify(at: log.path).redactions.count == 1)
  }

  @Test func tamperingAfterARedactionFailsVerify() throws {
    let log = try makeLog()
    try redact(log)
    let dir = LogDirectory(log.path)
    let clean = log.dir.file("clean")
    try copyTree(log.path, to: clean)
    func damaged(_ what: String, _ contains: String) {
      let e = #expect(throws: LogError.self, "\(what)") { try LogVerifier.verify(at: log.path) }
      #expect(e?.kind == .damaged && e?.description.contains(contains) == true, "\(what): \(e!)")
    }

    // A mask byte flipped in a sealed segment: its frame no longer verifies.
    var bytes = readBytes(dir.segmentPath(69))!
    let at = offset(of: mask, in: bytes)!
    bytes[at] ^= 0x01
    writeBytes(bytes, to: dir.segmentPath(69))
    damaged("flipped mask byte", "CRC32C mismatch")

    // The pattern put back with a good CRC and the whole chain re-sealed after it: the chain
    // verifies, but it is not the one the redaction recorded.
    try copyTree(clean, to: log.path)
    unmask(log.path, seq: 100)
    resealChain(log.path, from: 2)
    damaged("pattern restored, chain re-sealed", "sealed again without a record")

    // The pattern put back in the active segment, with a good CRC.
    try copyTree(clean, to: log.path)
    unmask(log.path, seq: 195)
    damaged("pattern restored in the active segment", "no longer holds its mask")

    // REDACTIONS edited, cut, or a line removed.
    try copyTree(clean, to: log.path)
    var record = readBytes(dir.redactionsPath)!
    let r = offset(of: Array("deletion".utf8), in: record)!
    record[r] = UInt8(ascii: "D")
    writeBytes(record, to: dir.redactionsPath)
    damaged("reason edited", "chain hash does not match")
    writeBytes(Array(readBytes(clean + "/REDACTIONS")!.dropLast(10)), to: dir.redactionsPath)
    damaged("record cut", "cut short")
    try copyTree(clean, to: log.path)
    var b = RecordBatch()
    b.append(recordedAt: TestLog.time(201), payload: Array("{\"p\":\"".utf8) + pattern + [0x22])
    try log.open().append(b)
    try redact(log, reason: "again")
    let twoLines = readBytes(dir.redactionsPath)!
    let firstEnd = twoLines.firstIndex(of: 0x0A)! + 1
    writeBytes(Array(twoLines[firstEnd...]), to: dir.redactionsPath)
    damaged("first line removed", "chain hash does not match")

    try copyTree(clean, to: log.path)
    #expect(try LogVerifier.verify(at: log.path).redactions.count == 1)
  }

  /// A re-seal must never make damage that was there before look sound: a touched frame's CRC
  /// and every re-sealed segment's hash are checked before anything changes.
  @Test func damageIsNeverLaunderedByAReseal() throws {
    let log = try makeLog()
    let dir = LogDirectory(log.path)
    let clean = log.dir.file("clean")
    try copyTree(log.path, to: clean)
    // A byte of a record in a later, untouched segment; in a touched record beside the
    // pattern; in the active segment's touched record.
    for (segment, seq) in [(UInt64(103), UInt64(110)), (69, 100), (171, 195)] {
      try copyTree(clean, to: log.path)
      let path = dir.segmentPath(segment)
      var bytes = readBytes(path)!
      let marker = Array("{\"n\":\(seq)".utf8)
      let at = offset(of: marker, in: bytes)!
      bytes[at + marker.count + 3] ^= 0x20
      writeBytes(bytes, to: path)
      let before = snapshotTree(log.path)
      let e = #expect(throws: LogError.self, "seq \(seq)") { try redact(log) }
      #expect(e?.kind == .damaged && e?.segment == dir.segmentName(segment), "seq \(seq)")
      #expect(snapshotTree(log.path) == before, "seq \(seq)")
    }
  }

  @Test func badArgumentsAreRefusedAndChangeNothing() throws {
    let log = try makeLog()
    let before = snapshotTree(log.path)
    let cases: [(String, [UInt8], [UInt8], String)] = [
      ("a longer mask", pattern, mask + [0x2D], "r"),
      ("a shorter mask", pattern, Array(mask.dropLast()), "r"),
      ("a short pattern", Array("P-01234".utf8), Array("xxxxxxx".utf8), "r"),
      ("a mask that is not ASCII", pattern, Array("forgotten-000000Đ".utf8), "r"),
      ("a control byte", pattern, Array("forgotten-0000000\n".utf8), "r"),
      ("the mask is the pattern", pattern, pattern, "r"),
      ("no reason", pattern, mask, ""),
      ("the reason holds the pattern", pattern, mask, "forget P-0123456789abcdef"),
    ]
    for (what, p, m, reason) in cases {
      let e = #expect(throws: LogError.self, "\(what)") {
        try LogRedactor.redact(logPath: log.path, pattern: p, mask: m, reason: reason, at: when)
      }
      #expect(e?.kind == .invalidArgument, "\(what)")
      #expect(snapshotTree(log.path) == before, "\(what)")
    }
  }

  @Test func failsAtOnceWhileAWriterHoldsTheLock() throws {
    let log = try makeLog()
    let w = try log.open()
    let before = snapshotTree(log.path)
    #expect { try redact(log) } throws: { ($0 as? LogError)?.kind == .locked }
    #expect(snapshotTree(log.path) == before)
    try w.close()
    #expect(try redact(log).redaction.seqs.count == 4)
  }

  @Test func aMaskThatMeetsTheBytesBeforeItIsMaskedAgain() throws {
    let log = try TestLog(segmentSize: 4096)
    // 17 bytes of the pattern, then the pattern: its mask starts with the `f` they lack.
    let tricky = Array("x".utf8) + pattern.dropLast() + pattern + Array("y".utf8)
    var b = RecordBatch()
    b.append(recordedAt: TestLog.time(1), payload: tricky)
    try log.open().append(b)
    let report = try redact(log)
    #expect(report.redaction.seqs == [1] && report.occurrences == 1)
    #expect(try log.records().map(\.2) == [Array("xforgotten-00000001orgotten-00000001y".utf8)])
    #expect(filesHoldingThePattern(log.path) == [])
    #expect(try LogVerifier.verify(at: log.path).redactions.count == 1)
  }

  @Test func timesRoundTrip() {
    for (text, micros) in [
      ("1970-01-01T00:00:00Z", Int64(0)), ("2026-12-02T03:00:00Z", when),
      ("2000-02-29T23:59:59.000001Z", 951_868_799_000_001),
      ("1969-12-31T23:59:59.999999Z", -1),
    ] {
      #expect(LogRedactor.formatTime(micros) == text)
      #expect(LogRedactor.parseTime(text) == micros)
    }
    for bad in ["2026-02-30T00:00:00Z", "2026-12-02T03:00:00", "2026-12-02 03:00:00Z", ""] {
      #expect(LogRedactor.parseTime(bad) == nil, "\(bad)")
    }
  }

  /// Random logs: record sizes, segment sizes, where and how often the pattern occurs
  /// (at a payload's very start or end, back to back), clean shutdown or not.
  @Test func randomLogsAreMaskedExactly() throws {
    for seed in testSeeds(fixed: 0x5EED_0001) {
      var rng = SeededRandom(seed: seed)
      let log = try TestLog(segmentSize: Int.random(in: 4096...12_000, using: &rng))
      var originals: [[UInt8]] = []
      var expectedSeqs: [UInt64] = []
      var expectedCount = 0
      do {
        let w = try log.open()
        var seq: UInt64 = 0
        for _ in 0..<Int.random(in: 5...30, using: &rng) {
          var b = RecordBatch()
          for _ in 0..<Int.random(in: 1...20, using: &rng) {
            seq += 1
            var p = (0..<Int.random(in: 0...300, using: &rng)).map { _ in
              UInt8.random(in: 0x61...0x7A, using: &rng)
            }
            var copies = 0
            if Int.random(in: 0..<8, using: &rng) == 0 {
              copies = Int.random(in: 1...3, using: &rng)
              for _ in 0..<copies {
                p.insert(contentsOf: pattern, at: Int.random(in: 0...p.count, using: &rng))
              }
            }
            // An insertion can split an earlier copy: count what is there.
            let count = (0...max(0, p.count - pattern.count)).filter {
              p.count >= pattern.count && p[$0..<($0 + pattern.count)].elementsEqual(pattern)
            }.count
            if count > 0 {
              expectedSeqs.append(seq)
              expectedCount += count
            }
            originals.append(p)
            b.append(recordedAt: TestLog.time(seq), payload: p)
          }
          try w.append(b)
        }
        if Bool.random(using: &rng) { try w.close() }
      }
      let report = try redact(log)
      #expect(report.redaction.seqs == expectedSeqs, "seed \(seed)")
      #expect(report.occurrences == expectedCount, "seed \(seed)")
      #expect(filesHoldingThePattern(log.path) == [], "seed \(seed)")
      let records = try log.records()
      #expect(records.map(\.2) == originals.map(masked), "seed \(seed)")
      let summary = try LogVerifier.verify(at: log.path)
      #expect(summary.records == UInt64(originals.count), "seed \(seed)")
      #expect(summary.redactions.count == (expectedSeqs.isEmpty ? 0 : 1), "seed \(seed)")
      let w = try log.open()
      try w.append(TestLog.batch(after: w.lastSeq, count: 40, size: 200))
      try w.close()
      #expect(try LogVerifier.verify(at: log.path).redactions == summary.redactions, "seed \(seed)")
    }
  }
}
