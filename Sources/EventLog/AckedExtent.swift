#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `ACKED`: where the last acknowledged batch ends, kept outside the bytes it guards.
///
/// A commit mark says that a batch is whole; it cannot say that a batch is *missing*. Five bytes
/// cut from the last segment turn its last commit mark into a torn frame, and a recovery that
/// trusts only the segment would cut back to the commit mark before it, taking an acknowledged
/// batch with it, and a deleted last segment looks like one a crashed batch created. This
/// record is the lower bound: recovery may cut only what lies after it, and anything missing
/// or damaged up to it is damage, reported and never "repaired".
///
/// It is written by `LogWriter` after a batch's segment is synced and before `append` returns
/// (a torn write leaves the previous record, which is still true: that batch was not
/// acknowledged). Two slots of one sector each take the records in turn, each with its own
/// CRC32C, so a write is one `pwrite` and one `fsync` of a file that never changes size, and a
/// torn slot leaves the other one whole. The newer valid slot wins.
///
///     slot at 0 and at 512, little-endian:
///     0    8     "HOSOACK1"
///     8    u64   generation (which slot is newer)
///     16   u64   the first seq of the segment that holds the last acknowledged record (0: none)
///     24   i64   where that record's frame starts
///     32   i64   just past its end
///     40   u64   its seq: the last acknowledged seq
///     48   i64   its recorded_at
///     56   u64   the last seq known synced: above it, records appended with `--sync none`,
///                acknowledged without a promise to survive a power cut
///     64   32    the chain hash of the segment sealed before that segment (zeros: none)
///     96   u32   CRC32C of bytes 0..<96
package struct AckedExtent: Sendable, Equatable {
  package static let slotSize = 512
  package static let recordSize = 100
  static let magic: [UInt8] = Array("HOSOACK1".utf8)

  package var generation: UInt64 = 0
  package var segment: UInt64 = 0
  package var frameOffset: Int64 = 0
  package var end: Int64 = 0
  package var lastSeq: UInt64 = 0
  package var lastRecordedAt: Int64 = 0
  package var durableSeq: UInt64 = 0
  package var chain = [UInt8](repeating: 0, count: 32)

  package init() {}

  package func encode() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.recordSize)
    out.replaceSubrange(0..<8, with: Self.magic)
    out.withUnsafeMutableBytes { b in
      b.storeBytes(of: generation.littleEndian, toByteOffset: 8, as: UInt64.self)
      b.storeBytes(of: segment.littleEndian, toByteOffset: 16, as: UInt64.self)
      b.storeBytes(of: frameOffset.littleEndian, toByteOffset: 24, as: Int64.self)
      b.storeBytes(of: end.littleEndian, toByteOffset: 32, as: Int64.self)
      b.storeBytes(of: lastSeq.littleEndian, toByteOffset: 40, as: UInt64.self)
      b.storeBytes(of: lastRecordedAt.littleEndian, toByteOffset: 48, as: Int64.self)
      b.storeBytes(of: durableSeq.littleEndian, toByteOffset: 56, as: UInt64.self)
    }
    out.replaceSubrange(64..<96, with: chain)
    let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<96])) }
    withUnsafeBytes(of: crc.littleEndian) { out.replaceSubrange(96..<100, with: $0) }
    return out
  }

  /// One slot's record, or nil when the slot is empty or torn.
  package static func decode(_ bytes: ArraySlice<UInt8>) -> AckedExtent? {
    guard bytes.count >= recordSize else { return nil }
    let b = Array(bytes.prefix(recordSize))
    guard b[0..<8].elementsEqual(magic) else { return nil }
    return b.withUnsafeBytes { p -> AckedExtent? in
      let crc = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 96, as: UInt32.self))
      guard crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: p[0..<96])) else {
        return nil
      }
      var e = AckedExtent()
      e.generation = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
      e.segment = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
      e.frameOffset = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: Int64.self))
      e.end = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: Int64.self))
      e.lastSeq = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 40, as: UInt64.self))
      e.lastRecordedAt = Int64(littleEndian: p.loadUnaligned(fromByteOffset: 48, as: Int64.self))
      e.durableSeq = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
      e.chain = Array(p[64..<96])
      guard e.durableSeq <= e.lastSeq, (e.lastSeq == 0) == (e.segment == 0),
        e.segment <= e.lastSeq, e.end > e.frameOffset || e.lastSeq == 0
      else { return nil }
      return e
    }
  }

  /// The record in `ACKED`; nil when the file does not exist (a log made before hoso kept
  /// one). Throws `.damaged` when neither slot holds a valid record.
  package static func read(_ dir: LogDirectory, _ fs: FileSystem) throws -> AckedExtent? {
    guard let bytes = try fs.readFile(dir.ackedPath) else { return nil }
    let slots = [0, slotSize].compactMap { at in
      at < bytes.count ? decode(bytes[at...]) : nil
    }
    guard let newest = slots.max(by: { $0.generation < $1.generation }) else {
      throw LogError(
        .damaged,
        "\(dir.ackedPath), the record of the last acknowledged append, is damaged: neither copy"
          + " is whole; run hoso verify, and restore the store from a backup")
    }
    return newest
  }

  /// `read`, for a log whose `FORMAT` says it keeps `ACKED`: its absence is then damage (a cut
  /// end of the log could not be told from a crash), not a log of an older hoso.
  package static func read(
    _ dir: LogDirectory, _ fs: FileSystem, format: LogDirectory.Format
  ) throws -> AckedExtent? {
    let acked = try read(dir, fs)
    if acked == nil && format.acked {
      throw LogError(
        .damaged,
        "\(dir.ackedPath), the record of the last acknowledged append, is missing: without it a"
          + " cut end of the log cannot be told from a crash; run hoso verify, and restore the"
          + " store from a backup")
    }
    return acked
  }

  /// A new `ACKED` holding `extent` in its first slot, written atomically (a log's creation,
  /// or the first open of a log made before hoso kept one).
  package static func create(_ extent: AckedExtent, _ dir: LogDirectory, _ fs: FileSystem) throws {
    var bytes = [UInt8](repeating: 0, count: 2 * slotSize)
    var first = extent
    first.generation = 0
    bytes.replaceSubrange(0..<recordSize, with: first.encode())
    try fs.writeAtomically(bytes, to: dir.ackedPath, directory: dir.path)
  }

  /// Sets the recorded chain hash to that of the segments as they are now: after a redaction
  /// re-sealed them (same bytes but the masked ones, same lengths, a new chain).
  package static func rechain(_ dir: LogDirectory, _ fs: FileSystem) throws {
    guard var e = try read(dir, fs), e.lastSeq > 0 else { return }
    var chain = [UInt8](repeating: 0, count: 32)
    if let previous = dir.segments().last(where: { $0 < e.segment }) {
      guard let footer = try dir.footer(of: previous, fs).footer else {
        throw LogError(
          .damaged, "segment is not sealed: its footer is missing or damaged",
          segment: dir.segmentName(previous))
      }
      chain = footer.hash
    }
    guard chain != e.chain else { return }
    let current = e
    e.chain = chain
    try AckedFile(dir, fs, current: current).write(e, sync: true)
  }

  /// Where the last acknowledged record is, for messages.
  package var place: String {
    lastSeq == 0
      ? "no event acknowledged"
      : "seq \(lastSeq) acknowledged, ending at offset \(end) of segment"
        + " \(SegmentName.base(segment)).seg"
  }
}

/// The writer's handle on `ACKED`: each acknowledged batch overwrites the older slot.
final class AckedFile {
  private let fs: FileSystem
  private let path: String
  private let fd: Int32
  private(set) var current: AckedExtent

  init(_ dir: LogDirectory, _ fs: FileSystem, current: AckedExtent) throws {
    self.fs = fs
    path = dir.ackedPath
    self.current = current
    fd = fs.open(path, O_RDWR, 0)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
  }

  deinit { _ = fs.close(fd) }

  /// Records `extent` as the last acknowledged batch; with `sync`, durably before it returns.
  func write(_ extent: AckedExtent, sync: Bool) throws {
    var next = extent
    next.generation = current.generation &+ 1
    let bytes = next.encode()
    let at = Int64(next.generation % 2) * Int64(AckedExtent.slotSize)
    try bytes.withUnsafeBytes { try fs.writeAll(fd, $0, at: at, path: path) }
    if sync, fs.fsync(fd) != 0 { throw LogError(SystemCallError("fsync", path: path)) }
    current = next
  }
}

extension LogDirectory {
  /// `ACKED`: the extent of the last acknowledged batch (`AckedExtent`).
  package var ackedPath: String { path + "/ACKED" }
}
