#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The files of a log directory and their names.
///
///     FORMAT                        "hoso-log 1", the segment size
///     LOCK                          the writer's advisory lock (holds the writer's pid)
///     CLEAN                         present only after a clean shutdown
///     ACKED                         where the last acknowledged batch ends (`AckedExtent`)
///     REDACTIONS                    the record of every redaction (see `LogRedactor`)
///     REDACTING                     the plan of a redaction under way, until it is finished
///     00000000000000000001.seg      segments, named by the seq of their first record
///     00000000000000000001.idx      its sparse seq index
///     00000000000000000001.tix      its time index
package struct LogDirectory: Sendable {
  package var path: String

  package init(_ path: String) { self.path = path }

  package var formatPath: String { path + "/FORMAT" }
  package var lockPath: String { path + "/LOCK" }
  package var cleanPath: String { path + "/CLEAN" }
  package func segmentPath(_ firstSeq: UInt64) -> String {
    path + "/" + SegmentName.base(firstSeq) + ".seg"
  }
  package func seqIndexPath(_ firstSeq: UInt64) -> String {
    path + "/" + SegmentName.base(firstSeq) + ".idx"
  }
  package func timeIndexPath(_ firstSeq: UInt64) -> String {
    path + "/" + SegmentName.base(firstSeq) + ".tix"
  }
  package func segmentName(_ firstSeq: UInt64) -> String { SegmentName.base(firstSeq) + ".seg" }

  /// The first seqs of the segments present, in order.
  package func segments() -> [UInt64] {
    (directoryEntries(path) ?? []).compactMap(SegmentName.firstSeq(ofFile:)).sorted()
  }

  /// The log's settings, written once by `create`.
  package struct Format: Sendable, Equatable {
    package var version: Int
    package var segmentSize: Int
    /// Whether the log keeps `ACKED` (line `acked 1`): from then on a missing `ACKED` is damage,
    /// not a log of an older hoso. An older hoso ignores the line.
    package var acked = false

    package func encode() -> [UInt8] {
      Array(
        ("hoso-log \(version)\nsegment-size \(segmentSize)\n" + (acked ? "acked 1\n" : "")).utf8)
    }
  }

  /// Reads `FORMAT`; `.missing` when the directory is not a log.
  package func readFormat(_ fs: FileSystem) throws -> Format {
    let bytes: [UInt8]?
    do { bytes = try fs.readFile(formatPath) }
    guard let bytes else {
      throw LogError(.missing, "no event log at \(path); create a store with `hoso init`")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    var version: Int?
    var size: Int?
    var acked = false
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, parts[0] == "hoso-log" { version = Int(parts[1]) }
      if parts.count == 2, parts[0] == "segment-size" { size = Int(parts[1]) }
      if parts.count == 2, parts[0] == "acked" { acked = parts[1] == "1" }
    }
    guard let version, let size, size >= LogWriter.minimumSegmentSize else {
      throw LogError(.damaged, "\(formatPath) is not a valid log format file")
    }
    guard version == 1 else {
      throw LogError(.damaged, "\(formatPath): log format \(version) is newer than this hoso")
    }
    return Format(version: version, segmentSize: size, acked: acked)
  }

  /// Reads the footer of a sealed segment (nil when the segment has none) and its size.
  package func footer(
    of firstSeq: UInt64, _ fs: FileSystem
  ) throws -> (footer: SegmentFooter?, size: Int64) {
    let path = segmentPath(firstSeq)
    let fd = fs.open(path, O_RDONLY, 0)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    defer { _ = fs.close(fd) }
    guard let size = fileSize(fd) else { throw LogError(SystemCallError("stat", path: path)) }
    guard size >= Int64(SegmentHeader.size + SegmentFooter.size) else { return (nil, size) }
    var tail = [UInt8](repeating: 0, count: SegmentFooter.size)
    do {
      _ = try tail.withUnsafeMutableBytes { (b) -> Int in
        try fs.readFully(fd, b, at: size - Int64(SegmentFooter.size), path: path)
      }
    }
    return (tail.withUnsafeBytes { SegmentFooter.decode($0) }, size)
  }

  /// Reads a whole segment into memory.
  package func readSegment(_ firstSeq: UInt64, _ fs: FileSystem) throws -> [UInt8] {
    guard let bytes = try fs.readFile(segmentPath(firstSeq)) else {
      throw LogError(.damaged, "segment file vanished", segment: segmentName(firstSeq))
    }
    return bytes
  }
}

/// The clean-shutdown marker: what an open would otherwise learn by scanning the last segment.
///
/// Written by `close()` after the last sync, removed (and the removal synced) by the next writer
/// before it changes anything, so it is only ever present while it is true.
package struct CleanMarker: Sendable, Equatable {
  package var lastSegment: UInt64
  package var segmentBytes: Int64
  package var lastSeq: UInt64
  package var lastRecordedAt: Int64

  package func encode() -> [UInt8] {
    let body = "hoso-clean \(lastSegment) \(segmentBytes) \(lastSeq) \(lastRecordedAt)"
    let crc = CRC32C.checksum(Array(body.utf8))
    return Array("\(body) \(crc)\n".utf8)
  }

  package static func decode(_ bytes: [UInt8]) -> CleanMarker? {
    let text = String(decoding: bytes, as: UTF8.self)
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    guard parts.count == 6, parts[0] == "hoso-clean",
      let segment = UInt64(parts[1]), let bytesCount = Int64(parts[2]),
      let seq = UInt64(parts[3]), let time = Int64(parts[4]), let crc = UInt32(parts[5])
    else { return nil }
    let body = "\(parts[0]) \(parts[1]) \(parts[2]) \(parts[3]) \(parts[4])"
    guard CRC32C.checksum(Array(body.utf8)) == crc else { return nil }
    return CleanMarker(
      lastSegment: segment, segmentBytes: bytesCount, lastSeq: seq, lastRecordedAt: time)
  }
}
