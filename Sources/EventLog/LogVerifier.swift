/// The full check behind `hoso verify`: every frame's CRC, every seq, recorded_at never going
/// backwards, every footer against the bytes it seals, the hash chain, the indexes, and the
/// recorded redactions (`LogRedactor.checkRecorded`).
package enum LogVerifier {
  package struct Summary: Sendable {
    package var records: UInt64 = 0
    package var segments = 0
    package var lastSeq: UInt64 = 0
    /// Problems that lose nothing: stale indexes, an uncommitted tail the next writer cuts.
    package var warnings: [String] = []
    /// One line per recorded redaction, oldest first (`LogRedactor.Redaction.description`).
    package var redactions: [String] = []
  }

  /// Verifies the log at `path`; throws `.damaged` naming the segment, offset and seq of the
  /// first problem.
  package static func verify(at path: String, fileSystem fs: FileSystem = .system)
    throws -> Summary
  {
    let dir = LogDirectory(path)
    let format = try dir.readFormat(fs)
    try LogRedactor.checkNotUnfinished(dir, fs)
    let acked = try AckedExtent.read(dir, fs, format: format)
    // Below the last synced acknowledged record a defect is damage, never a torn tail.
    let guarded = acked?.durableSeq ?? 0
    let names = dir.segments()
    if let acked, acked.lastSeq > 0, !names.contains(acked.segment) {
      throw LogError(
        .damaged,
        "the log is damaged: segment \(dir.segmentName(acked.segment)), which holds the last"
          + " acknowledged record (\(acked.place)), is missing; restore the store from a backup",
        segment: dir.segmentName(acked.segment), seq: acked.lastSeq)
    }
    var summary = Summary()
    var previousHash = [UInt8](repeating: 0, count: 32)
    var expectedSeq: UInt64 = 1
    var lastTime = Int64.min
    var lastCommit: UInt64 = 0
    var lastFrame: UInt64 = 0
    var chainHashes: [UInt64: [UInt8]] = [:]
    // Segments at the end without a commit mark were made by an append that never finished
    // (a batch may span segments, and a crash can come before their footers): the next
    // writer removes them. The segment with the last commit mark is the log's real end.
    // Never past the acknowledged end: what is missing there is damage, reported below.
    var end = names.count - 1
    while end >= 0 && names[end] > (acked?.lastSeq ?? 0) {
      let bytes = try dir.readSegment(names[end], fs)
      let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: names[end]) }
      if scan.commitFrames > 0 { break }
      if end < names.count - 1 || scan.frames > 0 || bytes.count > SegmentHeader.size {
        summary.warnings.append(
          "segment \(dir.segmentName(names[end])): no committed record (an interrupted append;"
            + " the next writer removes it)")
      }
      end -= 1
    }
    for (i, s) in names.enumerated() where i <= max(end, 0) {
      let name = dir.segmentName(s)
      let isLast = i == max(end, 0)
      guard s == expectedSeq else {
        throw LogError(
          .damaged, "seq \(expectedSeq)..\(s - 1) is missing: a segment was removed",
          segment: name, seq: expectedSeq)
      }
      let bytes = try dir.readSegment(s, fs)
      let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: s) }
      let sealedFooter = bytes.withUnsafeBytes { SegmentFooter.decode($0) }
      if let d = scan.defect {
        let seq = scan.frames == 0 ? s : scan.lastSeq + 1
        let torn =
          isLast && sealedFooter == nil && seq > guarded
          && bytes.withUnsafeBytes {
            SegmentScan.committedBatchesAfter($0, defectAt: d.offset, afterSeq: seq - 1)
          } < 2
        guard torn else {
          var what = d.offset == 0 ? "invalid segment header" : d.defect.text
          if let acked, seq <= acked.lastSeq {
            what =
              "the log is damaged: \(what) before the end of the last acknowledged batch"
              + " (\(acked.place)); restore the store from a backup"
          }
          throw LogError(.damaged, what, segment: name, offset: d.offset, seq: seq)
        }
      }
      if isLast && scan.footer == nil {
        if scan.commitEnd < Int64(bytes.count) {
          summary.warnings.append(
            "segment \(name): \(Int64(bytes.count) - scan.commitEnd) bytes after the last commit"
              + " at offset \(scan.commitEnd) (an interrupted append; the next writer cuts them)")
        }
      } else {
        guard let footer = scan.footer else {
          throw LogError(
            .damaged, "segment is not sealed: its footer is missing or damaged", segment: name,
            offset: scan.validEnd, seq: scan.lastSeq + 1)
        }
        let footerAt = Int64(bytes.count - SegmentFooter.size)
        guard footer.firstSeq == s, footer.lastSeq == scan.lastSeq,
          footer.firstRecordedAt == scan.firstRecordedAt,
          footer.lastRecordedAt == scan.lastRecordedAt
        else {
          throw LogError(
            .damaged, "the footer does not describe the segment's records", segment: name,
            offset: footerAt)
        }
        guard footer.previousHash == previousHash else {
          throw LogError(
            .damaged, "the hash chain is broken: the previous segment's hash differs",
            segment: name, offset: footerAt + 40, seq: s)
        }
        var h = SHA256()
        h.update(previousHash)
        bytes.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<Int(footerAt)])) }
        guard h.finalize() == footer.hash else {
          throw LogError(
            .damaged, "SHA-256 of the segment does not match its footer", segment: name,
            offset: footerAt + 72, seq: s)
        }
        previousHash = footer.hash
        chainHashes[s] = footer.hash
      }
      // recorded_at never goes backwards, within and across segments.
      if scan.frames > 0 {
        guard scan.firstRecordedAt >= lastTime else {
          throw LogError(
            .damaged, "recorded_at goes backwards", segment: name,
            offset: Int64(SegmentHeader.size), seq: s)
        }
        lastTime = scan.lastRecordedAt
      }
      let committed = isLast ? scan.commitIndexCount : scan.index.count
      let expectedIndex = Array(scan.index.prefix(committed))
      let si = (try? fs.readFile(dir.seqIndexPath(s))) ?? nil
      let ti = (try? fs.readFile(dir.timeIndexPath(s))) ?? nil
      if si != SegmentIndex.encodeSeqIndex(expectedIndex)
        || ti != SegmentIndex.encodeTimeIndex(expectedIndex)
      {
        summary.warnings.append(
          "segment \(name): its .idx/.tix index is missing or stale; the next writer rebuilds it")
      }
      if scan.commitFrames > 0 { lastCommit = scan.commitSeq }
      if scan.frames > 0 { lastFrame = scan.lastSeq }
      expectedSeq = scan.frames > 0 ? scan.lastSeq + 1 : s
      summary.segments += 1
      if i == end { break }
    }
    // Records after the last commit mark belong to a batch that never finished: readers do
    // not see them, and the next writer removes them.
    if let acked {
      if lastCommit < guarded {
        throw LogError(
          .damaged,
          "the log is damaged: seq \(lastCommit + 1)..\(acked.lastSeq) were acknowledged"
            + " (\(acked.place)) but the log ends before them; restore the store from a backup",
          segment: dir.segmentName(acked.segment), seq: lastCommit + 1)
      } else if lastCommit < acked.lastSeq {
        summary.warnings.append(
          "seq \(lastCommit + 1)..\(acked.lastSeq) were appended with --sync none and are not in"
            + " the log: a crash lost them before they reached the disk")
      } else {
        try LogRecovery.checkAcknowledgedFrame(acked, dir, fs)
      }
    }
    summary.records = lastCommit
    summary.lastSeq = lastCommit
    if lastFrame > lastCommit
      && !summary.warnings.contains(where: { $0.contains("after the last commit") })
    {
      summary.warnings.append(
        "seq \(lastCommit + 1)..\(lastFrame) belong to an interrupted append that spans segments;"
          + " readers do not see them and the next writer removes them")
    }
    summary.redactions = try LogRedactor.checkRecorded(
      dir, fs, chainHashes: chainHashes, lastSeq: lastCommit)
    // After the redactions' check, which tells a re-seal without a record more precisely.
    if let acked, acked.lastSeq > 0 {
      let before = names.last(where: { $0 < acked.segment }).flatMap { chainHashes[$0] }
      if (before ?? [UInt8](repeating: 0, count: 32)) != acked.chain {
        throw LogRecovery.chainReplaced(dir, segment: acked.segment)
      }
    }
    return summary
  }
}
