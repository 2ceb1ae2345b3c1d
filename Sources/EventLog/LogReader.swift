/// One record as a reader sees it. `payload` is valid only inside the closure it is passed to.
package struct LogRecord {
  package var seq: UInt64
  package var recordedAt: Int64
  package var payload: UnsafeRawBufferPointer

  package init(seq: UInt64, recordedAt: Int64, payload: UnsafeRawBufferPointer) {
    self.seq = seq
    self.recordedAt = recordedAt
    self.payload = payload
  }
}

/// A reader of the committed records of a log, as they stood when it was opened.
///
/// Readers take no lock and never write: they see a prefix of whole, committed batches even
/// beside a writer that is in the middle of one (they stop at the last commit mark) or after a
/// crash that no writer has recovered yet. Every frame read is CRC-checked.
package final class LogReader {
  /// A segment with committed records.
  package struct Segment: Sendable {
    package var firstSeq: UInt64
    package var lastSeq: UInt64
    package var firstRecordedAt: Int64
    package var lastRecordedAt: Int64
    /// Byte offset just past its last committed frame.
    package var end: Int64
    package var sealed: Bool
  }

  package let directory: LogDirectory
  package private(set) var segments: [Segment] = []
  private let fs: FileSystem
  /// The last segment as read at open, when it was scanned rather than mapped.
  private var tail: (firstSeq: UInt64, bytes: [UInt8])?
  /// The sealed segment mapped last, and the indexes loaded last: reading records one by one
  /// (a duplicate check, an audit) mostly stays in one segment.
  private var mapped: (firstSeq: UInt64, file: MappedFile)?
  private var indexes: (firstSeq: UInt64, entries: [IndexEntry]?)?

  package var lastSeq: UInt64 { segments.last?.lastSeq ?? 0 }
  package var count: UInt64 { lastSeq }
  package var firstRecordedAt: Int64? { segments.first?.firstRecordedAt }
  package var lastRecordedAt: Int64? { segments.last?.lastRecordedAt }

  package init(at path: String, fileSystem: FileSystem = .system) throws {
    directory = LogDirectory(path)
    fs = fileSystem
    let format = try directory.readFormat(fs)
    // Read before the segments: a writer moves it only after its batch is on disk, so the
    // segments read next hold at least what it says, unless they were damaged.
    let acked = try AckedExtent.read(directory, fs, format: format)
    var names = directory.segments()
    let marker = (try? fs.readFile(directory.cleanPath))?.flatMap(CleanMarker.decode)
    // Find the last commit mark, walking back over segments a crashed batch created.
    var last: Segment?
    while let s = names.last {
      if let marker, marker.lastSegment == s,
        let (footer, size) = try? directory.footer(of: s, fs),
        size == marker.segmentBytes, marker.lastSeq >= s
      {
        if let footer {
          last = Segment(
            firstSeq: s, lastSeq: footer.lastSeq, firstRecordedAt: footer.firstRecordedAt,
            lastRecordedAt: footer.lastRecordedAt, end: size - Int64(SegmentFooter.size),
            sealed: true)
          break
        }
      }
      let bytes = try directory.readSegment(s, fs)
      let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: s) }
      if scan.commitFrames > 0 {
        let sealed = scan.footer != nil && scan.commitEnd == scan.validEnd
        last = Segment(
          firstSeq: s, lastSeq: scan.commitSeq, firstRecordedAt: scan.firstRecordedAt,
          lastRecordedAt: scan.commitRecordedAt, end: scan.commitEnd, sealed: sealed)
        tail = (s, bytes)
        break
      }
      names.removeLast()
    }
    if let acked, (last?.lastSeq ?? 0) < acked.durableSeq {
      throw LogError(
        .damaged,
        "the log is damaged: seq \((last?.lastSeq ?? 0) + 1)..\(acked.lastSeq) were acknowledged"
          + " (\(acked.place)) but the log ends before them; run hoso verify, and restore the"
          + " store from a backup",
        seq: (last?.lastSeq ?? 0) + 1)
    }
    guard let last else { return }
    for s in names.dropLast() {
      let (footer, size) = try directory.footer(of: s, fs)
      guard let footer else {
        throw LogError(
          .damaged, "segment is not sealed: its footer is missing or damaged",
          segment: directory.segmentName(s), offset: max(0, size - Int64(SegmentFooter.size)))
      }
      segments.append(
        Segment(
          firstSeq: s, lastSeq: footer.lastSeq, firstRecordedAt: footer.firstRecordedAt,
          lastRecordedAt: footer.lastRecordedAt, end: size - Int64(SegmentFooter.size),
          sealed: true))
    }
    segments.append(last)
    // The segments follow each other: a removed one in the middle would be a silent gap.
    var expected: UInt64 = 1
    for s in segments {
      guard s.firstSeq == expected else {
        throw LogError(
          .damaged,
          "the log is damaged: seq \(expected)..\(s.firstSeq - 1) is missing (a segment was"
            + " removed); run hoso verify, and restore the store from a backup",
          segment: directory.segmentName(s.firstSeq), seq: expected)
      }
      expected = s.lastSeq + 1
    }
  }

  /// Calls `body` with each committed record whose seq lies in `range`, in order.
  package func readRecords(
    in range: ClosedRange<UInt64> = 1...UInt64.max, _ body: (LogRecord) throws -> Void
  ) throws {
    guard range.lowerBound <= lastSeq else { return }
    let firstIndex = segmentIndex(containing: max(range.lowerBound, 1))
    for i in firstIndex..<segments.count {
      let s = segments[i]
      if s.firstSeq > range.upperBound { break }
      try withSegmentBytes(s) { bytes in
        var offset = Int(startOffset(in: s, forSeq: range.lowerBound))
        let end = Int(s.end)
        while offset < end {
          let frame = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
          guard case .success(let h) = Frame.decode(frame) else {
            let defect: Frame.Defect
            if case .failure(let d) = Frame.decode(frame) {
              defect = d
            } else {
              defect = .truncated
            }
            throw LogError(
              .damaged, defect.text, segment: directory.segmentName(s.firstSeq),
              offset: Int64(offset))
          }
          if h.seq > range.upperBound { return }
          if h.seq >= range.lowerBound {
            try body(
              LogRecord(
                seq: h.seq, recordedAt: h.recordedAt,
                payload: UnsafeRawBufferPointer(
                  rebasing: frame[Frame.headerSize..<(Frame.headerSize + h.payloadCount)])))
          }
          offset += h.frameSize
        }
      }
    }
  }

  /// The seq of the first record recorded at or after `time` (microseconds since the epoch),
  /// or nil when there is none. Uses the segments' time ranges, then the `.tix` index.
  package func firstSeq(recordedAtOrAfter time: Int64) throws -> UInt64? {
    guard let i = segments.firstIndex(where: { $0.lastRecordedAt >= time }) else { return nil }
    let s = segments[i]
    if s.firstRecordedAt >= time { return s.firstSeq }
    var start = s.firstSeq
    if let index = loadIndex(s), let e = index.last(where: { $0.recordedAt < time }) {
      start = e.seq
    }
    var found: UInt64?
    struct Stop: Error {}
    do {
      try readRecords(in: start...s.lastSeq) { r in
        if r.recordedAt >= time {
          found = r.seq
          throw Stop()
        }
      }
    } catch is Stop {}
    return found
  }

  private func segmentIndex(containing seq: UInt64) -> Int {
    var lo = 0
    var hi = segments.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if segments[mid].firstSeq <= seq { lo = mid } else { hi = mid - 1 }
    }
    return lo
  }

  private func loadIndex(_ s: Segment) -> [IndexEntry]? {
    if let indexes, indexes.firstSeq == s.firstSeq { return indexes.entries }
    let entries = readIndex(s)
    indexes = (s.firstSeq, entries)
    return entries
  }

  private func readIndex(_ s: Segment) -> [IndexEntry]? {
    guard let si = try? fs.readFile(directory.seqIndexPath(s.firstSeq)),
      let ti = try? fs.readFile(directory.timeIndexPath(s.firstSeq))
    else { return nil }
    return SegmentIndex.decode(seqIndex: si, timeIndex: ti, firstSeq: s.firstSeq, framesEnd: s.end)
  }

  /// Where to start reading for `seq`: the last index entry at or before it.
  private func startOffset(in s: Segment, forSeq seq: UInt64) -> Int64 {
    let header = Int64(SegmentHeader.size)
    guard seq > s.firstSeq, let index = loadIndex(s), !index.isEmpty else { return header }
    var lo = 0
    var hi = index.count - 1
    while lo < hi {
      let mid = (lo + hi + 1) / 2
      if index[mid].seq <= seq { lo = mid } else { hi = mid - 1 }
    }
    return index[lo].seq <= seq ? index[lo].offset : header
  }

  private func withSegmentBytes(
    _ s: Segment, _ body: (UnsafeRawBufferPointer) throws -> Void
  ) throws {
    if let tail, tail.firstSeq == s.firstSeq {
      try tail.bytes.withUnsafeBytes(body)
    } else {
      let file: MappedFile
      if let mapped, mapped.firstSeq == s.firstSeq {
        file = mapped.file
      } else {
        file = try MappedFile(directory.segmentPath(s.firstSeq))
        mapped = (s.firstSeq, file)
      }
      guard file.count >= Int(s.end) else {
        throw LogError(
          .damaged, "segment is shorter than its footer says",
          segment: directory.segmentName(s.firstSeq))
      }
      try file.withBytes(body)
    }
  }
}

@available(*, unavailable)
extension LogReader: Sendable {}
