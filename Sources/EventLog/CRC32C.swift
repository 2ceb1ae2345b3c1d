import Accelerated

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), as iSCSI (RFC 3720) uses it.
///
/// The log checks every frame with it, so it runs slice-by-16: sixteen bytes per step through
/// sixteen 256-entry tables (16 KiB, which stays in L1), breaking the byte-serial dependency of
/// the classic one-table loop. Measured about 25% faster than slice-by-8 here. Where the processor
/// has SSE4.2, its `crc32` instruction does the work instead (`CRC32CInstruction`).
package enum CRC32C {
  /// The reflected form of the Castagnoli polynomial, because the bytes are processed LSB first.
  private static let polynomial: UInt32 = 0x82F6_3B78

  /// Sixteen 256-entry tables laid end to end: entry `k * 256 + n` is the CRC contribution of
  /// byte `n` followed by `k` zero bytes, so a run of bytes folds in with independent loads.
  private static let tables: [UInt32] = {
    var tables = [UInt32](repeating: 0, count: 16 * 256)
    for n in 0..<256 {
      var crc = UInt32(n)
      for _ in 0..<8 {
        crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1
      }
      tables[n] = crc
    }
    for k in 1..<16 {
      for n in 0..<256 {
        let previous = tables[(k - 1) * 256 + n]
        tables[k * 256 + n] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
      }
    }
    return tables
  }()

  /// The CRC32C of `bytes`, continuing from `crc` (the checksum of the bytes before; 0 to start).
  ///
  /// The checksum is pre- and post-inverted, so `checksum(b, continuing: checksum(a))` equals
  /// `checksum(a + b)`.
  ///
  /// `portable` forces the table-driven code even where the processor has the `crc32`
  /// instruction (for tests and measurements).
  package static func checksum(
    _ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0, portable: Bool = false
  ) -> UInt32 {
    if !portable, CPU.hasCRC32CInstruction, let base = bytes.baseAddress {
      return ~CRC32CInstruction.update(~crc, base, count: bytes.count)
    }
    return tables.withUnsafeBufferPointer { table in
      ~update(~crc, bytes, table.baseAddress.unsafelyUnwrapped)
    }
  }

  /// The CRC32C of `bytes`, continuing from `crc` (the checksum of the bytes before; 0 to start).
  package static func checksum(
    _ bytes: [UInt8], continuing crc: UInt32 = 0, portable: Bool = false
  ) -> UInt32 {
    bytes.withUnsafeBytes { checksum($0, continuing: crc, portable: portable) }
  }

  /// Folds `bytes` into the raw (non-inverted) register `crc`, using the tables at `t`.
  ///
  /// The tables are read through a raw pointer and every index is masked to a byte, so the hot
  /// loop carries no bounds checks.
  @inline(__always)
  private static func update(
    _ crc: UInt32, _ bytes: UnsafeRawBufferPointer, _ t: UnsafePointer<UInt32>
  ) -> UInt32 {
    guard let base = bytes.baseAddress else { return crc }
    var crc = crc
    var offset = 0
    let count = bytes.count
    while offset + 16 <= count {
      let first = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
      let second = base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
      let w0 = UInt32(truncatingIfNeeded: UInt64(littleEndian: first)) ^ crc
      let w1 = UInt32(truncatingIfNeeded: UInt64(littleEndian: first) &>> 32)
      let w2 = UInt32(truncatingIfNeeded: UInt64(littleEndian: second))
      let w3 = UInt32(truncatingIfNeeded: UInt64(littleEndian: second) &>> 32)
      crc =
        t[15 * 256 + Int(w0 & 0xFF)] ^ t[14 * 256 + Int((w0 &>> 8) & 0xFF)]
        ^ t[13 * 256 + Int((w0 &>> 16) & 0xFF)] ^ t[12 * 256 + Int(w0 &>> 24)]
        ^ t[11 * 256 + Int(w1 & 0xFF)] ^ t[10 * 256 + Int((w1 &>> 8) & 0xFF)]
        ^ t[9 * 256 + Int((w1 &>> 16) & 0xFF)] ^ t[8 * 256 + Int(w1 &>> 24)]
        ^ t[7 * 256 + Int(w2 & 0xFF)] ^ t[6 * 256 + Int((w2 &>> 8) & 0xFF)]
        ^ t[5 * 256 + Int((w2 &>> 16) & 0xFF)] ^ t[4 * 256 + Int(w2 &>> 24)]
        ^ t[3 * 256 + Int(w3 & 0xFF)] ^ t[2 * 256 + Int((w3 &>> 8) & 0xFF)]
        ^ t[1 * 256 + Int((w3 &>> 16) & 0xFF)] ^ t[Int(w3 &>> 24)]
      offset += 16
    }
    // One slice-by-8 step, so that short frames spend at most 7 bytes in the byte loop.
    if offset + 8 <= count {
      let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
      let w0 = UInt32(truncatingIfNeeded: word) ^ crc
      let w1 = UInt32(truncatingIfNeeded: word &>> 32)
      crc =
        t[7 * 256 + Int(w0 & 0xFF)] ^ t[6 * 256 + Int((w0 &>> 8) & 0xFF)]
        ^ t[5 * 256 + Int((w0 &>> 16) & 0xFF)] ^ t[4 * 256 + Int(w0 &>> 24)]
        ^ t[3 * 256 + Int(w1 & 0xFF)] ^ t[2 * 256 + Int((w1 &>> 8) & 0xFF)]
        ^ t[1 * 256 + Int((w1 &>> 16) & 0xFF)] ^ t[Int(w1 &>> 24)]
      offset += 8
    }
    while offset < count {
      let byte = base.load(fromByteOffset: offset, as: UInt8.self)
      crc = (crc &>> 8) ^ t[Int((crc ^ UInt32(byte)) & 0xFF)]
      offset += 1
    }
    return crc
  }
}
