#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Finding the end of the log on open, and repairing what a crash can leave behind.
///
/// What a crash can leave: frames of a batch that never got its commit mark, whole or torn, in
/// the last segment and in segments the batch created (a batch may span segments); a file
/// extended before its data arrived (zeros or garbage after the last record: Kafka's
/// `LogLoader` and EventStoreDB's `TFChunk` both guard against this); a half-written footer.
/// All of it lies after the last commit mark and is cut.
///
/// What a crash cannot leave, and so is damage, never repaired: a bad frame inside a segment
/// whose footer is whole (sealing syncs the segment first), committed batches after a bad
/// frame, a broken footer or chain link before the last segment.
package enum LogRecovery {
  /// The active segment as recovery found it.
  package struct ActiveTail: Sendable {
    package var firstSeq: UInt64
    package var size: Int64
    package var frames: Int
    package var firstRecordedAt: Int64
    package var lastSeq: UInt64
    package var lastRecordedAt: Int64
    package var index: [IndexEntry]
    package var rewriteIndex: Bool
  }

  /// Where the log ends: in an active segment, or (nil) right after a sealed one.
  package struct Tail: Sendable {
    package var active: ActiveTail?
  }

  /// What recovery cut, for the user to read.
  package struct Report: Sendable, CustomStringConvertible {
    package var segment: String
    package var offset: Int64
    package var cutBytes: Int64
    package var cutRecords: Int
    package var removedSegments: [String]
    package var reason: String

    package var description: String {
      var text =
        "recovered the log after an interrupted append: cut \(cutBytes) bytes"
        + " (\(cutRecords) uncommitted record\(cutRecords == 1 ? "" : "s")) at segment \(segment)"
        + " offset \(offset): \(reason)"
      if removedSegments.count > 3 {
        let names = removedSegments.sorted()
        text += "; removed \(names.count) segments, \(names.first!) to \(names.last!)"
      } else if !removedSegments.isEmpty {
        text += "; removed \(removedSegments.sorted().joined(separator: ", "))"
      }
      return text
    }
  }

  /// The tail as the clean-shutdown marker describes it, or nil when the marker does not
  /// match the files (then the caller scans).
  package static func cleanTail(
    _ dir: LogDirectory, _ fs: FileSystem, marker: CleanMarker
  ) throws -> Tail? {
    let last = marker.lastSegment
    let (footer, size) = try dir.footer(of: last, fs)
    guard size == marker.segmentBytes else { return nil }
    if let footer { return footer.lastSeq == marker.lastSeq ? Tail(active: nil) : nil }
    guard marker.lastSeq + 1 >= last else { return nil }
    let frames = Int(marker.lastSeq + 1 - last)
    guard let seqIndex = try? fs.readFile(dir.seqIndexPath(last)),
      let timeIndex = try? fs.readFile(dir.timeIndexPath(last)),
      let index = SegmentIndex.decode(
        seqIndex: seqIndex, timeIndex: timeIndex, firstSeq: last, framesEnd: size),
      (frames == 0) == index.isEmpty
    else { return nil }
    return Tail(
      active: ActiveTail(
        firstSeq: last, size: size, frames: frames, firstRecordedAt: index.first?.recordedAt ?? 0,
        lastSeq: marker.lastSeq, lastRecordedAt: marker.lastRecordedAt, index: index,
        rewriteIndex: false))
  }

  /// What recovery will do to the end of the log, decided before anything is changed, so that
  /// a plan that would cut acknowledged records is refused with nothing touched.
  package struct TailPlan: Sendable {
    package var tail = Tail(active: nil)
    /// The segments left, in order.
    package var segments: [UInt64] = []
    /// The last committed record kept: its seq, segment and frame.
    package var keptSeq: UInt64 = 0
    package var keptSegment: UInt64 = 0
    package var keptFrame: Range<Int64> = 0..<0
    /// The segment to cut, and where.
    package var cut: (segment: UInt64, at: Int64)?
    /// Segments holding nothing committed, to remove.
    package var remove: [UInt64] = []
    package var report: Report?
    /// The first thing found wrong, walking back from the end: what damage messages name.
    package var defect: (segment: UInt64, offset: Int64, seq: UInt64, text: String)?
  }

  /// Scans the last segment (and, when a crashed batch spilled over, the ones before it) for
  /// the last commit mark, and plans to cut everything after it. Changes nothing.
  package static func planTail(
    _ dir: LogDirectory, _ fs: FileSystem, segments all: [UInt64]
  ) throws -> TailPlan {
    var plan = TailPlan()
    var segments = all
    func note(_ segment: UInt64, _ offset: Int64, bytes: Int64, records: Int, _ reason: String) {
      if plan.report == nil {
        plan.report = Report(
          segment: dir.segmentName(segment), offset: offset, cutBytes: 0, cutRecords: 0,
          removedSegments: [], reason: reason)
      }
      plan.report!.segment = dir.segmentName(segment)
      plan.report!.offset = offset
      plan.report!.cutBytes += bytes
      plan.report!.cutRecords += records
    }

    while let last = segments.last {
      let bytes = try dir.readSegment(last, fs)
      let name = dir.segmentName(last)
      let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: last) }
      let sealed = bytes.withUnsafeBytes { SegmentFooter.decode($0) } != nil
      if let d = scan.defect {
        let seq = scan.frames == 0 ? last : scan.lastSeq + 1
        if plan.defect == nil { plan.defect = (last, d.offset, seq, d.defect.text) }
        if sealed {
          throw LogError(
            .damaged, "\(d.defect.text) in a sealed segment", segment: name,
            offset: d.offset, seq: seq)
        }
        let after = bytes.withUnsafeBytes {
          SegmentScan.committedBatchesAfter($0, defectAt: d.offset, afterSeq: seq - 1)
        }
        if after >= 2 {
          throw LogError(
            .damaged, "\(d.defect.text), and committed records follow it", segment: name,
            offset: d.offset, seq: seq)
        }
      }
      if scan.commitFrames > 0 {
        plan.keptSeq = scan.commitSeq
        plan.keptSegment = last
        plan.keptFrame = scan.commitFrameOffset..<scan.commitEnd
      }
      if scan.footer != nil && scan.commitEnd == scan.validEnd {
        plan.segments = segments
        return plan
      }
      if scan.commitFrames > 0 {
        let cut = Int64(bytes.count) - scan.commitEnd
        if cut > 0 {
          let reason =
            scan.defect.map { "\($0.defect.text) at offset \($0.offset)" }
            ?? "records after the last commit mark"
          note(last, scan.commitEnd, bytes: cut, records: scan.frames - scan.commitFrames, reason)
          plan.cut = (last, scan.commitEnd)
        }
        plan.tail = Tail(
          active: ActiveTail(
            firstSeq: last, size: scan.commitEnd, frames: scan.commitFrames,
            firstRecordedAt: scan.firstRecordedAt, lastSeq: scan.commitSeq,
            lastRecordedAt: scan.commitRecordedAt,
            index: Array(scan.index.prefix(scan.commitIndexCount)),
            rewriteIndex: true))
        plan.segments = segments
        return plan
      }
      // Nothing committed here: a segment created by the crashed batch (or never written).
      let reason = scan.defect.map { "\($0.defect.text) at offset \($0.offset)" } ?? "no commit"
      if plan.defect == nil && scan.frames > 0 {
        plan.defect = (
          last, scan.validEnd, scan.lastSeq + 1, "the segment ends without a commit mark"
        )
      }
      note(last, 0, bytes: Int64(bytes.count), records: scan.frames, reason)
      plan.report!.removedSegments.append(name)
      plan.remove.append(last)
      segments.removeLast()
    }
    return plan
  }

  /// Carries out a plan that `checkAcknowledged` accepted.
  package static func execute(_ plan: TailPlan, _ dir: LogDirectory, _ fs: FileSystem) throws {
    for s in plan.remove {
      for path in [dir.segmentPath(s), dir.seqIndexPath(s), dir.timeIndexPath(s)] {
        if fs.unlink(path) != 0 && errno != ENOENT {
          throw LogError(SystemCallError("unlink", path: path))
        }
      }
      try fs.syncDirectory(dir.path)
    }
    if let cut = plan.cut { try truncate(dir.segmentPath(cut.segment), to: cut.at, fs) }
  }

  /// Refuses a plan that keeps less than `ACKED` says was acknowledged: what is missing there
  /// was cut, deleted or damaged after the fact, never left by a crash (the record is written
  /// only once its batch is synced). Records appended with `--sync none` above the last synced
  /// one may be lost to a power cut, as that mode warns: those are let go, and the report says
  /// so.
  package static func checkAcknowledged(
    _ plan: inout TailPlan, acked: AckedExtent, _ dir: LogDirectory, _ fs: FileSystem
  ) throws {
    if plan.keptSeq >= acked.lastSeq {
      try checkAcknowledgedFrame(acked, dir, fs)
      return
    }
    let missing = "seq \(plan.keptSeq + 1)..\(acked.lastSeq)"
    if plan.keptSeq >= acked.durableSeq {
      let lost =
        "; \(missing) had been appended with --sync none and did not reach the disk before a"
        + " crash: they are lost"
      if plan.report == nil {
        plan.report = Report(
          segment: dir.segmentName(plan.keptSegment), offset: plan.keptFrame.upperBound,
          cutBytes: 0, cutRecords: 0, removedSegments: [], reason: "nothing after the last commit")
      }
      plan.report!.reason += lost
      return
    }
    var why: String
    var segment = dir.segmentName(acked.segment)
    var offset: Int64? = nil
    var seq = plan.keptSeq + 1
    if access(dir.segmentPath(acked.segment), F_OK) != 0 {
      why = "segment \(segment), which holds seq \(acked.lastSeq), is missing"
    } else if let d = plan.defect {
      why = "the log has a \(d.text) there"
      segment = dir.segmentName(d.segment)
      offset = d.offset
      seq = d.seq
    } else {
      why = "the log ends at seq \(plan.keptSeq)"
      offset = plan.keptFrame.upperBound
    }
    throw LogError(
      .damaged,
      "the log is damaged: \(missing) were acknowledged (\(acked.place)) but \(why); nothing was"
        + " changed: restore the store from a backup (hoso verify shows the damage)",
      segment: segment, offset: offset, seq: seq)
  }

  /// The frame `ACKED` names: whole, the last acknowledged seq, with its commit mark. One read,
  /// on every open: a clean shutdown skips the scan of the last segment.
  static func checkAcknowledgedFrame(
    _ acked: AckedExtent, _ dir: LogDirectory, _ fs: FileSystem
  ) throws {
    guard acked.lastSeq > 0 else { return }
    let path = dir.segmentPath(acked.segment)
    let name = dir.segmentName(acked.segment)
    let damaged = { (what: String) in
      LogError(
        .damaged,
        "the log is damaged: the last acknowledged record (\(acked.place)) \(what); nothing was"
          + " changed: restore the store from a backup (hoso verify shows the damage)",
        segment: name, offset: acked.frameOffset, seq: acked.lastSeq)
    }
    let fd = fs.open(path, O_RDONLY, 0)
    guard fd >= 0 else {
      if errno == ENOENT { throw damaged("is in a segment that is missing") }
      throw LogError(SystemCallError("open", path: path))
    }
    defer { _ = fs.close(fd) }
    let count = Int(acked.end - acked.frameOffset)
    guard count >= Frame.headerSize, count <= Frame.headerSize + Frame.maxPayload else {
      throw damaged("is out of range")
    }
    var bytes = [UInt8](repeating: 0, count: count)
    let n = try bytes.withUnsafeMutableBytes {
      try fs.readFully(fd, $0, at: acked.frameOffset, path: path)
    }
    guard n == count else { throw damaged("is cut short") }
    guard case .success(let h) = bytes.withUnsafeBytes({ Frame.decode($0) }),
      h.seq == acked.lastSeq, h.commit, h.frameSize == count
    else { throw damaged("is not there as it was written") }
  }

  private static func truncate(_ path: String, to size: Int64, _ fs: FileSystem) throws {
    let fd = fs.open(path, O_RDWR, 0)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    defer { _ = fs.close(fd) }
    guard fs.ftruncate(fd, size) == 0 else {
      throw LogError(SystemCallError("ftruncate", path: path))
    }
    guard fs.fsync(fd) == 0 else { throw LogError(SystemCallError("fsync", path: path)) }
  }

  /// Checks that sealed segments follow each other: each footer whole, seqs without gaps,
  /// each chain link pointing at the previous segment's hash. Rebuilds missing or
  /// inconsistent indexes. Reads the footers and indexes only, not the frames.
  package static func checkSealed(
    _ dir: LogDirectory, _ fs: FileSystem, sealed: [UInt64], acked: AckedExtent? = nil
  ) throws -> (chainHash: [UInt8], lastFooter: SegmentFooter?) {
    var previousHash = [UInt8](repeating: 0, count: 32)
    var previous: SegmentFooter?
    for s in sealed {
      let name = dir.segmentName(s)
      // The segments before the acknowledged one are the ones that were acknowledged: a chain
      // that differs there is a history replaced, not one that grew.
      if let acked, s == acked.segment, previousHash != acked.chain {
        throw chainReplaced(dir, segment: s)
      }
      let (footer, size) = try dir.footer(of: s, fs)
      guard let footer else {
        throw LogError(
          .damaged, "segment is not sealed: its footer is missing or damaged", segment: name,
          offset: max(0, size - Int64(SegmentFooter.size)))
      }
      guard footer.firstSeq == s, footer.lastSeq >= s else {
        throw LogError(
          .damaged, "the footer names seq \(footer.firstSeq)..\(footer.lastSeq)", segment: name,
          offset: size - Int64(SegmentFooter.size))
      }
      let expected = (previous?.lastSeq ?? 0) + 1
      guard s == expected else {
        throw LogError(
          .damaged, "seq \(expected)..\(s - 1) is missing: a segment was removed",
          segment: name, seq: expected)
      }
      guard footer.previousHash == previousHash else {
        throw LogError(
          .damaged, "the hash chain is broken: the previous segment is not the one sealed before",
          segment: name, offset: size - Int64(SegmentFooter.size) + 40, seq: s)
      }
      let framesEnd = size - Int64(SegmentFooter.size)
      let seqIndex = (try? fs.readFile(dir.seqIndexPath(s))) ?? nil
      let timeIndex = (try? fs.readFile(dir.timeIndexPath(s))) ?? nil
      let index = seqIndex.flatMap { si in
        timeIndex.flatMap { ti in
          SegmentIndex.decode(seqIndex: si, timeIndex: ti, firstSeq: s, framesEnd: framesEnd)
        }
      }
      if index?.isEmpty ?? true {
        try rebuildIndex(dir, fs, segment: s)
      }
      previousHash = footer.hash
      previous = footer
    }
    return (previousHash, previous)
  }

  /// The sealed segments before the acknowledged one differ from those `ACKED` recorded.
  package static func chainReplaced(_ dir: LogDirectory, segment: UInt64) -> LogError {
    LogError(
      .damaged,
      "the hash chain before the last acknowledged record differs from the one recorded in"
        + " \(dir.ackedPath): sealed segments were replaced; restore the store from a backup",
      segment: dir.segmentName(segment), seq: segment)
  }

  /// Rewrites a segment's `.idx` and `.tix` from its frames.
  package static func rebuildIndex(
    _ dir: LogDirectory, _ fs: FileSystem, segment s: UInt64
  ) throws {
    let bytes = try dir.readSegment(s, fs)
    let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: s) }
    if let d = scan.defect {
      throw LogError(
        .damaged, d.defect.text, segment: dir.segmentName(s), offset: d.offset,
        seq: scan.frames == 0 ? s : scan.lastSeq + 1)
    }
    do {
      try fs.writeAtomically(
        SegmentIndex.encodeSeqIndex(scan.index), to: dir.seqIndexPath(s), directory: dir.path,
        sync: false)
      try fs.writeAtomically(
        SegmentIndex.encodeTimeIndex(scan.index), to: dir.timeIndexPath(s), directory: dir.path,
        sync: false)
    }
  }
}
