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

  /// Scans the last segment (and, when a crashed batch spilled over, the ones before it) and
  /// cuts everything after the last commit mark.
  package static func recoverTail(
    _ dir: LogDirectory, _ fs: FileSystem, segments: inout [UInt64]
  ) throws -> (Tail, Report?) {
    var report: Report?
    func note(_ segment: UInt64, _ offset: Int64, bytes: Int64, records: Int, _ reason: String) {
      if report == nil {
        report = Report(
          segment: dir.segmentName(segment), offset: offset, cutBytes: 0, cutRecords: 0,
          removedSegments: [], reason: reason)
      }
      report!.segment = dir.segmentName(segment)
      report!.offset = offset
      report!.cutBytes += bytes
      report!.cutRecords += records
    }

    while let last = segments.last {
      let bytes = try dir.readSegment(last, fs)
      let name = dir.segmentName(last)
      let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: last) }
      let sealed = bytes.withUnsafeBytes { SegmentFooter.decode($0) } != nil
      if let d = scan.defect {
        let seq = scan.frames == 0 ? last : scan.lastSeq + 1
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
      if scan.footer != nil && scan.commitEnd == scan.validEnd {
        return (Tail(active: nil), report)
      }
      if scan.commitFrames > 0 {
        let cut = Int64(bytes.count) - scan.commitEnd
        if cut > 0 {
          let reason =
            scan.defect.map { "\($0.defect.text) at offset \($0.offset)" }
            ?? "records after the last commit mark"
          note(last, scan.commitEnd, bytes: cut, records: scan.frames - scan.commitFrames, reason)
          try truncate(dir.segmentPath(last), to: scan.commitEnd, fs)
        }
        let tail = ActiveTail(
          firstSeq: last, size: scan.commitEnd, frames: scan.commitFrames,
          firstRecordedAt: scan.firstRecordedAt, lastSeq: scan.commitSeq,
          lastRecordedAt: scan.commitRecordedAt,
          index: Array(scan.index.prefix(scan.commitIndexCount)),
          rewriteIndex: true)
        return (Tail(active: tail), report)
      }
      // Nothing committed here: a segment created by the crashed batch (or never written).
      let reason = scan.defect.map { "\($0.defect.text) at offset \($0.offset)" } ?? "no commit"
      note(last, 0, bytes: Int64(bytes.count), records: scan.frames, reason)
      report!.removedSegments.append(name)
      for path in [dir.segmentPath(last), dir.seqIndexPath(last), dir.timeIndexPath(last)] {
        if fs.unlink(path) != 0 && errno != ENOENT {
          throw LogError(SystemCallError("unlink", path: path))
        }
      }
      do { try fs.syncDirectory(dir.path) }
      segments.removeLast()
    }
    return (Tail(active: nil), report)
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
    _ dir: LogDirectory, _ fs: FileSystem, sealed: [UInt64]
  ) throws -> (chainHash: [UInt8], lastFooter: SegmentFooter?) {
    var previousHash = [UInt8](repeating: 0, count: 32)
    var previous: SegmentFooter?
    for s in sealed {
      let name = dir.segmentName(s)
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
