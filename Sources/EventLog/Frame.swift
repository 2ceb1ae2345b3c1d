/// The on-disk layout of one record, and of the header and footer of a segment.
///
/// A frame, little-endian:
///
///     0   u32  length: bits 0-29 the payload's byte count, bit 31 set on the last record of a
///              batch (the commit mark), bit 30 reserved (0)
///     4   u32  CRC32C of bytes 0..<4 and 8..<24+count: the length field and everything after
///              the CRC, so a flipped commit bit is caught like any other
///     8   u64  seq
///     16  i64  recorded_at, microseconds since 1970-01-01T00:00:00Z
///     24  ...  payload (the canonical JSON of the event)
///
/// The commit mark is what makes a batch atomic: recovery keeps a record only if a commit mark
/// at or after it survived.
package enum Frame {
  package static let headerSize = 24
  package static let commitBit: UInt32 = 1 << 31
  package static let reservedBit: UInt32 = 1 << 30
  package static let lengthMask: UInt32 = (1 << 30) - 1
  /// The largest payload a frame may carry (DESIGN.md: an event is at most 1 MiB of JSON; the
  /// canonical form of a valid event is never longer than its input).
  package static let maxPayload = 1 << 20

  /// A decoded, CRC-checked frame header.
  package struct Header: Sendable, Equatable {
    package var payloadCount: Int
    package var commit: Bool
    package var seq: UInt64
    package var recordedAt: Int64
    package var frameSize: Int { Frame.headerSize + payloadCount }
  }

  /// Writes a frame for `payload` at `out` (which has room for `headerSize + payload.count`).
  @inline(__always)
  package static func encode(
    seq: UInt64, recordedAt: Int64, commit: Bool, payload: UnsafeRawBufferPointer,
    into out: UnsafeMutableRawPointer
  ) {
    let length = UInt32(payload.count) | (commit ? commitBit : 0)
    out.storeBytes(of: length.littleEndian, toByteOffset: 0, as: UInt32.self)
    out.storeBytes(of: seq.littleEndian, toByteOffset: 8, as: UInt64.self)
    out.storeBytes(of: recordedAt.littleEndian, toByteOffset: 16, as: Int64.self)
    if payload.count > 0 {
      (out + headerSize).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
    }
    let crc = checksum(UnsafeRawBufferPointer(start: out, count: headerSize + payload.count))
    out.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
  }

  /// Appends a frame for `payload` to `out`, without first filling the room with zeros.
  @inline(__always)
  package static func encode(
    seq: UInt64, recordedAt: Int64, commit: Bool, payload: UnsafeRawBufferPointer,
    appendingTo out: inout [UInt8]
  ) {
    let start = out.count
    var header: (UInt64, UInt64, UInt64) = (0, 0, 0)
    withUnsafeMutableBytes(of: &header) { h in
      let length = UInt32(payload.count) | (commit ? commitBit : 0)
      h.storeBytes(of: length.littleEndian, toByteOffset: 0, as: UInt32.self)
      h.storeBytes(of: seq.littleEndian, toByteOffset: 8, as: UInt64.self)
      h.storeBytes(of: recordedAt.littleEndian, toByteOffset: 16, as: Int64.self)
      out.appendBytes(UnsafeRawBufferPointer(h))
    }
    out.appendBytes(payload)
    out.withUnsafeMutableBytes { b in
      let frame = b.baseAddress! + start
      let crc = checksum(UnsafeRawBufferPointer(start: frame, count: headerSize + payload.count))
      frame.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
    }
  }

  /// Sets the commit mark on an encoded frame and recomputes its CRC.
  package static func markCommit(_ frame: UnsafeMutableRawPointer) {
    let length = UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
    frame.storeBytes(of: (length | commitBit).littleEndian, toByteOffset: 0, as: UInt32.self)
    let count = headerSize + Int(length & lengthMask)
    let crc = checksum(UnsafeRawBufferPointer(start: frame, count: count))
    frame.storeBytes(of: crc.littleEndian, toByteOffset: 4, as: UInt32.self)
  }

  /// The CRC a frame's bytes should carry (over everything but the CRC field itself).
  @inline(__always)
  static func checksum(_ frame: UnsafeRawBufferPointer) -> UInt32 {
    let head = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: frame[0..<4]))
    return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: frame[8...]), continuing: head)
  }

  /// Why bytes at some offset are not a valid frame.
  package enum Defect: Error, Sendable, Equatable {
    /// Fewer bytes than a header, or than the header's length says.
    case truncated
    /// A length field with the reserved bit, or longer than `maxPayload`.
    case badLength
    /// The CRC does not match.
    case badChecksum
    /// A valid frame, but not the sequence number that must come next.
    case unexpectedSeq(UInt64)
    /// A valid frame whose recorded_at is earlier than the frame before it.
    case timeGoesBackwards

    package var text: String {
      switch self {
      case .truncated: "truncated frame"
      case .badLength: "invalid frame length"
      case .badChecksum: "CRC32C mismatch"
      case .unexpectedSeq(let seq): "frame carries seq \(seq) out of order"
      case .timeGoesBackwards: "recorded_at goes backwards"
      }
    }
  }

  /// Decodes and checks the frame at the start of `bytes`.
  @inline(__always)
  package static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<Header, Defect> {
    guard bytes.count >= headerSize else { return .failure(.truncated) }
    let length = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
    guard length & reservedBit == 0, Int(length & lengthMask) <= maxPayload else {
      return .failure(.badLength)
    }
    let count = Int(length & lengthMask)
    guard bytes.count >= headerSize + count else { return .failure(.truncated) }
    let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
    guard checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(headerSize + count)])) == stored
    else { return .failure(.badChecksum) }
    return .success(
      Header(
        payloadCount: count,
        commit: length & commitBit != 0,
        seq: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
        recordedAt: Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: Int64.self))
      ))
  }
}

/// The first bytes of every segment file: a magic and the seq of its first record, so a file
/// that was renamed or copied to the wrong name is caught.
///
///     0   8 bytes  "HOSOSEG1"
///     8   u64      first seq
package enum SegmentHeader {
  package static let size = 16
  package static let magic: [UInt8] = Array("HOSOSEG1".utf8)

  package static func encode(firstSeq: UInt64) -> [UInt8] {
    var bytes = magic
    withUnsafeBytes(of: firstSeq.littleEndian) { bytes.append(contentsOf: $0) }
    return bytes
  }

  /// The first seq the header names, or nil if these bytes are not a segment header.
  package static func decode(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
    guard bytes.count >= size, bytes.prefix(8).elementsEqual(magic) else { return nil }
    return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
  }
}

/// The last bytes of a sealed segment: its range and the SHA-256 chain.
///
///     0    u32   0xFFFFFFFF (a value no frame's length field can take: bit 30 is reserved)
///     4    u32   CRC32C of bytes 0..<4 and 8..<112
///     8    u64   first seq
///     16   u64   last seq
///     24   i64   first recorded_at
///     32   i64   last recorded_at
///     40   32    the previous segment's chain hash (zeros for the first segment)
///     72   32    chain hash: SHA-256(previous chain hash ‖ this segment's bytes before the footer)
///     104  8     "HOSOSEAL"
///
/// Chaining each segment's hash to the one before makes any change to a sealed segment, or
/// the removal of one, visible to `verify`.
package struct SegmentFooter: Sendable, Equatable {
  package static let size = 112
  package static let magic: [UInt8] = Array("HOSOSEAL".utf8)

  package var firstSeq: UInt64
  package var lastSeq: UInt64
  package var firstRecordedAt: Int64
  package var lastRecordedAt: Int64
  package var previousHash: [UInt8]
  package var hash: [UInt8]

  package func encode() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.size)
    out.withUnsafeMutableBytes { b in
      b.storeBytes(of: UInt32.max, toByteOffset: 0, as: UInt32.self)
      b.storeBytes(of: firstSeq.littleEndian, toByteOffset: 8, as: UInt64.self)
      b.storeBytes(of: lastSeq.littleEndian, toByteOffset: 16, as: UInt64.self)
      b.storeBytes(of: firstRecordedAt.littleEndian, toByteOffset: 24, as: Int64.self)
      b.storeBytes(of: lastRecordedAt.littleEndian, toByteOffset: 32, as: Int64.self)
    }
    out.replaceSubrange(40..<72, with: previousHash)
    out.replaceSubrange(72..<104, with: hash)
    out.replaceSubrange(104..<112, with: Self.magic)
    let crc = out.withUnsafeBytes { Frame.checksum($0) }
    withUnsafeBytes(of: crc.littleEndian) { out.replaceSubrange(4..<8, with: $0) }
    return out
  }

  /// Decodes the footer at the end of `bytes`, or nil when there is none (or it is damaged:
  /// the caller tells the two apart by the magic).
  package static func decode(_ bytes: UnsafeRawBufferPointer) -> SegmentFooter? {
    guard bytes.count >= size else { return nil }
    let f = UnsafeRawBufferPointer(rebasing: bytes[(bytes.count - size)...])
    guard f.suffix(8).elementsEqual(magic),
      f.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == UInt32.max,
      UInt32(littleEndian: f.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        == Frame.checksum(f)
    else { return nil }
    return SegmentFooter(
      firstSeq: UInt64(littleEndian: f.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
      lastSeq: UInt64(littleEndian: f.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
      firstRecordedAt: Int64(littleEndian: f.loadUnaligned(fromByteOffset: 24, as: Int64.self)),
      lastRecordedAt: Int64(littleEndian: f.loadUnaligned(fromByteOffset: 32, as: Int64.self)),
      previousHash: Array(f[40..<72]),
      hash: Array(f[72..<104])
    )
  }
}

/// Segment file names: the first seq, zero-padded to 20 digits.
package enum SegmentName {
  package static func base(_ firstSeq: UInt64) -> String {
    let digits = String(firstSeq)
    return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
  }

  /// The first seq a `.seg` file name stands for, or nil for any other file.
  package static func firstSeq(ofFile name: String) -> UInt64? {
    guard name.hasSuffix(".seg"), name.utf8.count == 24 else { return nil }
    return UInt64(name.prefix(20))
  }
}
