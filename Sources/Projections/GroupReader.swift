import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#endif

/// A row group read from its bytes (a memory map): typed views of its columns, no copying.
package struct GroupReader {
  package let rows: Int
  package let columns: [ColumnReader]
  /// Hash indexes by column: 16-byte entries (hash, row), sorted, then the Bloom filter.
  private var indexes: [Int: Index] = [:]

  private struct Index {
    var section: UnsafeRawBufferPointer
    /// The entries and the filter's blocks, as the group's directory gives them (the
    /// section's own copy is not read: opening a group touches its first page only).
    var count: Int
    var blocks: Int
  }

  /// Reads the group in `bytes`, checking its magic and layout against `schema`, and with
  /// `verify` its checksum too (which reads every byte: `hoso verify` does, an open does not).
  package init(
    _ bytes: UnsafeRawBufferPointer, schema: [ColumnSchema], path: String, verify: Bool = false
  ) throws {
    func bad(_ what: String) -> ProjectionError { ProjectionError("\(path): \(what)") }
    guard bytes.count >= ColumnGroup.headerSize, bytes.starts(with: ColumnGroup.magic) else {
      throw bad("not a column group file")
    }
    let crc = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
    guard !verify || CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[12...])) == crc else {
      throw bad("checksum mismatch: the file is damaged")
    }
    let count = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt16.self).littleEndian)
    // Sizes are checked as read, before any arithmetic on them: a damaged or hostile file
    // is refused, never trapped on.
    let storedRows = bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self).littleEndian
    guard storedRows <= 1 << 32 else {
      throw bad("holds \(storedRows) rows, more than a group can")
    }
    rows = Int(storedRows)
    /// The section `offset..<offset + length` an entry at `e` names, if it lies in the file.
    func section(_ e: Int) -> (offset: Int, length: Int)? {
      let offset = bytes.loadUnaligned(fromByteOffset: e + 8, as: UInt64.self).littleEndian
      let length = bytes.loadUnaligned(fromByteOffset: e + 16, as: UInt64.self).littleEndian
      let size = UInt64(bytes.count)
      guard offset <= size, length <= size - offset else { return nil }
      return (Int(offset), Int(length))
    }
    let indexCount = Int(bytes.loadUnaligned(fromByteOffset: 14, as: UInt16.self).littleEndian)
    guard count == schema.count,
      bytes.count >= ColumnGroup.headerSize + (count + indexCount) * ColumnGroup.entrySize
    else { throw bad("has \(count) columns, the table \(schema.count)") }
    var columns: [ColumnReader] = []
    for (i, s) in schema.enumerated() {
      let e = ColumnGroup.headerSize + i * ColumnGroup.entrySize
      guard let type = ColumnType(rawValue: bytes[e]), type == s.type,
        let encoding = ColumnGroup.Encoding(rawValue: bytes[e + 1])
      else { throw bad("column \(s.name) is not of type \(s.type.sqlName)") }
      guard let (offset, length) = section(e) else {
        throw bad("column \(s.name) lies outside the file")
      }
      let sizes = bytes.loadUnaligned(fromByteOffset: e + 24, as: UInt64.self).littleEndian
      let high = bytes.loadUnaligned(fromByteOffset: e + 32, as: UInt64.self).littleEndian
      // A frame of reference is the bounds' (a column of NULLs only has none, and no frame).
      let hasNulls = bytes[e + 2] != 0
      var frame: Int64 = 0
      if encoding.width != 8 {
        guard bytes[e + 3] != 0 else { throw bad("column \(s.name) is malformed") }
        frame =
          ColumnGroup.Encoding.frame(
            (Int64(bitPattern: sizes), Int64(bitPattern: high)), hasNulls: hasNulls
          ).low
      }
      guard
        var c = ColumnReader(
          UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), type: type,
          encoding: encoding, hasNulls: hasNulls, rows: rows, sizes: sizes, frame: frame)
      else { throw bad("column \(s.name) is malformed") }
      if bytes[e + 3] != 0 {
        guard type != .varchar else { throw bad("column \(s.name) has bounds, as text") }
        c.bounds = (sizes, high)
      }
      columns.append(c)
    }
    self.columns = columns
    for k in 0..<indexCount {
      let e = ColumnGroup.headerSize + (count + k) * ColumnGroup.entrySize
      let column = Int(bytes[e + 1])
      guard column < count, schema[column].type == .varchar, let (offset, length) = section(e),
        length >= 16,
        case let n = Int(bytes.loadUnaligned(fromByteOffset: e + 24, as: UInt32.self).littleEndian),
        case let blocks = Int(
          bytes.loadUnaligned(fromByteOffset: e + 28, as: UInt32.self).littleEndian),
        blocks == ColumnGroup.bloomBlocks(n), length == 16 + 16 * n + 64 * blocks
      else { throw bad("index \(k) is malformed") }
      indexes[column] = Index(
        section: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), count: n,
        blocks: blocks)
    }
  }

  package func hasIndex(_ column: Int) -> Bool { indexes[column] != nil }

  /// The rows whose `column` holds exactly `value`, in row order, found through the column's
  /// index (nil when the column has none).
  package func rows(where column: Int, equals value: UnsafeRawBufferPointer) -> [Int]? {
    guard let found = indexes[column] else { return nil }
    let h = ColumnGroup.valueHash(value)
    let (section, n, blocks) = (found.section, found.count, found.blocks)
    let (block, bits) = ColumnGroup.bloomBits(h, blocks: blocks)
    let bloom = 16 + 16 * n + 64 * block
    for k in 0..<4 {
      let b = ColumnGroup.bloomBit(bits, k)
      let word = section.loadUnaligned(fromByteOffset: bloom + 8 * (b >> 6), as: UInt64.self)
      if UInt64(littleEndian: word) & (1 << UInt64(b & 63)) == 0 { return [] }
    }
    let index = UnsafeRawBufferPointer(rebasing: section[16..<(16 + 16 * n)])
    var lo = 0
    var hi = n
    while lo < hi {
      let mid = (lo + hi) / 2
      if index.loadUnaligned(fromByteOffset: mid * 16, as: UInt64.self).littleEndian < h {
        lo = mid + 1
      } else {
        hi = mid
      }
    }
    var out: [Int] = []
    let c = columns[column]
    while lo < n, index.loadUnaligned(fromByteOffset: lo * 16, as: UInt64.self).littleEndian == h {
      let r = Int(index.loadUnaligned(fromByteOffset: lo * 16 + 8, as: UInt32.self).littleEndian)
      if r < rows && c.bytes(r).elementsEqual(value) { out.append(r) }
      lo += 1
    }
    return out
  }
}
