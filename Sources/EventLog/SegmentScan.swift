/// One entry of a segment's sparse indexes: a frame's seq, byte offset and recorded_at.
///
/// `.idx` stores (seq, offset) and `.tix` (recorded_at, seq), each as two little-endian 64-bit
/// integers, one entry about every `SegmentIndex.interval` bytes of frames. Both are derived
/// data: rebuilt from the segment whenever missing or inconsistent, never synced.
package struct IndexEntry: Sendable, Equatable {
  package var seq: UInt64
  package var offset: Int64
  package var recordedAt: Int64
}

/// The sparse indexes of one segment, and their files.
package enum SegmentIndex {
  /// Bytes of frames between two entries: Kafka's default `index.interval.bytes` is 4096.
  package static let interval: Int64 = 4096
  package static let entrySize = 16

  /// Encodes entries as the `.idx` file's bytes.
  package static func encodeSeqIndex(_ entries: some Collection<IndexEntry>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(entries.count * entrySize)
    for e in entries {
      withUnsafeBytes(of: e.seq.littleEndian) { out.append(contentsOf: $0) }
      withUnsafeBytes(of: e.offset.littleEndian) { out.append(contentsOf: $0) }
    }
    return out
  }

  /// Encodes entries as the `.tix` file's bytes.
  package static func encodeTimeIndex(_ entries: some Collection<IndexEntry>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(entries.count * entrySize)
    for e in entries {
      withUnsafeBytes(of: e.recordedAt.littleEndian) { out.append(contentsOf: $0) }
      withUnsafeBytes(of: e.seq.littleEndian) { out.append(contentsOf: $0) }
    }
    return out
  }

  /// Decodes `.idx` and `.tix` together, or nil when they disagree with each other or with the
  /// segment (a size that is not a whole number of entries, entries out of order, an offset
  /// past the end of the frames). A nil means "rebuild".
  package static func decode(
    seqIndex: [UInt8], timeIndex: [UInt8], firstSeq: UInt64, framesEnd: Int64
  ) -> [IndexEntry]? {
    guard seqIndex.count % entrySize == 0, seqIndex.count == timeIndex.count else { return nil }
    let n = seqIndex.count / entrySize
    var entries: [IndexEntry] = []
    entries.reserveCapacity(n)
    seqIndex.withUnsafeBytes { s in
      timeIndex.withUnsafeBytes { t in
        for i in 0..<n {
          let seq = UInt64(littleEndian: s.loadUnaligned(fromByteOffset: i * 16, as: UInt64.self))
          let offset = Int64(
            littleEndian: s.loadUnaligned(fromByteOffset: i * 16 + 8, as: Int64.self))
          let time = Int64(littleEndian: t.loadUnaligned(fromByteOffset: i * 16, as: Int64.self))
          let tseq = UInt64(
            littleEndian: t.loadUnaligned(fromByteOffset: i * 16 + 8, as: UInt64.self))
          entries.append(IndexEntry(seq: tseq == seq ? seq : 0, offset: offset, recordedAt: time))
        }
      }
    }
    var previous: IndexEntry?
    for e in entries {
      guard e.seq >= firstSeq, e.offset >= Int64(SegmentHeader.size), e.offset < framesEnd
      else { return nil }
      if let p = previous {
        guard e.seq > p.seq, e.offset > p.offset, e.recordedAt >= p.recordedAt else { return nil }
      } else {
        guard e.seq == firstSeq, e.offset == Int64(SegmentHeader.size) else { return nil }
      }
      previous = e
    }
    return entries
  }
}

/// What a pass over a segment's bytes found.
package struct SegmentScan: Sendable {
  /// The seq the segment's header names (nil: no valid header).
  package var headerSeq: UInt64?
  /// Valid frames, in order, as long as they follow each other without a defect.
  package var frames = 0
  package var firstSeq: UInt64 = 0
  package var lastSeq: UInt64 = 0
  package var firstRecordedAt: Int64 = 0
  package var lastRecordedAt: Int64 = 0
  /// Byte offset just past the last valid frame.
  package var validEnd: Int64 = Int64(SegmentHeader.size)
  /// Byte offset just past the last frame that carries the commit mark, and its seq and time.
  package var commitEnd: Int64 = Int64(SegmentHeader.size)
  package var commitSeq: UInt64 = 0
  package var commitRecordedAt: Int64 = 0
  package var commitFrames = 0
  /// Where the frame with that last commit mark starts.
  package var commitFrameOffset: Int64 = 0
  /// Index entries of all valid frames; the first `commitIndexCount` cover the frames up to
  /// `commitEnd`.
  package var index: [IndexEntry] = []
  package var commitIndexCount = 0
  /// The footer, when the valid frames end exactly where a valid footer begins.
  package var footer: SegmentFooter?
  /// Where the frames stopped being valid, and why (nil: they ran to the end or the footer).
  package var defect: (offset: Int64, defect: Frame.Defect)?

  /// Walks the frames of a segment held in `bytes`, checking each CRC and that seqs run on
  /// from `expectedFirstSeq` without a gap.
  package static func scan(
    _ bytes: UnsafeRawBufferPointer, expectedFirstSeq: UInt64
  ) -> SegmentScan {
    var s = SegmentScan()
    s.headerSeq = SegmentHeader.decode(bytes)
    guard s.headerSeq == expectedFirstSeq else {
      s.validEnd = 0
      s.commitEnd = 0
      s.defect = (0, .truncated)
      return s
    }
    let size = bytes.count
    var offset = SegmentHeader.size
    var next = expectedFirstSeq
    var lastIndexed = -SegmentIndex.interval
    while offset < size {
      let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
      if rest.count == SegmentFooter.size,
        rest.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == UInt32.max,
        let footer = SegmentFooter.decode(rest)
      {
        s.footer = footer
        break
      }
      switch Frame.decode(rest) {
      case .failure(let defect):
        s.defect = (Int64(offset), defect)
      case .success(let header):
        guard header.seq == next else {
          s.defect = (Int64(offset), .unexpectedSeq(header.seq))
          break
        }
        guard s.frames == 0 || header.recordedAt >= s.lastRecordedAt else {
          s.defect = (Int64(offset), .timeGoesBackwards)
          break
        }
        if s.frames == 0 {
          s.firstSeq = header.seq
          s.firstRecordedAt = header.recordedAt
        }
        s.frames += 1
        s.lastSeq = header.seq
        s.lastRecordedAt = header.recordedAt
        if Int64(offset) - lastIndexed >= SegmentIndex.interval {
          lastIndexed = Int64(offset)
          s.index.append(
            IndexEntry(seq: header.seq, offset: Int64(offset), recordedAt: header.recordedAt))
        }
        offset += header.frameSize
        s.validEnd = Int64(offset)
        next += 1
        if header.commit {
          s.commitFrameOffset = Int64(offset - header.frameSize)
          s.commitEnd = Int64(offset)
          s.commitSeq = header.seq
          s.commitRecordedAt = header.recordedAt
          s.commitFrames = s.frames
          s.commitIndexCount = s.index.count
        }
        continue
      }
      break
    }
    return s
  }

  /// After a defect at `offset`, whether committed records from more than one batch follow it:
  /// the sign of damage in the middle of the log rather than a torn tail.
  ///
  /// A crash can leave the last batch's pages half written in any order, so a valid commit mark
  /// after a hole may belong to that one unacknowledged batch; two commit marks cannot.
  package static func committedBatchesAfter(
    _ bytes: UnsafeRawBufferPointer, defectAt offset: Int64, afterSeq seq: UInt64
  ) -> Int {
    var at = Int(offset) + 1
    let end = bytes.count - Frame.headerSize
    while at <= end {
      let candidate = UInt64(
        littleEndian: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self))
      if candidate > seq, candidate - seq < 1 << 32,
        case .success = Frame.decode(UnsafeRawBufferPointer(rebasing: bytes[at...]))
      {
        // Resynchronised: walk on from here and count the commit marks.
        var commits = 0
        var p = at
        var expected = candidate
        while p < bytes.count,
          case .success(let h) = Frame.decode(
            UnsafeRawBufferPointer(rebasing: bytes[p...])), h.seq == expected
        {
          if h.commit { commits += 1 }
          p += h.frameSize
          expected += 1
        }
        return commits
      }
      at += 1
    }
    return 0
  }
}
