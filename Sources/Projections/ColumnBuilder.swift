import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#endif

/// The type of a column, as DuckDB names it in an export's `schema.sql`.
package enum ColumnType: UInt8, Sendable, CaseIterable {
  case bigint = 1
  case double = 2
  case boolean = 3
  /// Microseconds since 1970-01-01 00:00 of Vietnam's wall clock: a TIMESTAMP without a zone.
  case timestamp = 4
  case varchar = 5
  /// Days since 1970-01-01: a DATE.
  case date = 6

  package var sqlName: String {
    switch self {
    case .date: "DATE"
    case .bigint: "BIGINT"
    case .double: "DOUBLE"
    case .boolean: "BOOLEAN"
    case .timestamp: "TIMESTAMP"
    case .varchar: "VARCHAR"
    }
  }

  package init?(sqlName: String) {
    guard let t = Self.allCases.first(where: { $0.sqlName == sqlName }) else { return nil }
    self = t
  }
}

package struct ColumnSchema: Sendable, Equatable {
  package var name: String
  package var type: ColumnType
  package init(_ name: String, _ type: ColumnType) {
    self.name = name
    self.type = type
  }
}

/// One column of a row group being built: values and a validity bit per row.
package struct ColumnBuilder {
  package let type: ColumnType
  package private(set) var count = 0
  /// Bit i set: row i holds a value (not NULL).
  private(set) var validity: [UInt8] = []
  private(set) var nullCount = 0
  /// BIGINT, TIMESTAMP and BOOLEAN (0/1) values; 0 for NULL.
  private(set) var ints: [Int64] = []
  private(set) var doubles: [Double] = []
  /// VARCHAR: the bytes of every value back to back, and where each ends.
  private(set) var bytes: [UInt8] = []
  private(set) var ends: [UInt64] = []

  package init(_ type: ColumnType) { self.type = type }

  /// An empty builder with the room `other` had: the next group of a table is about as big
  /// as the last, so it fills without reallocating.
  package init(reservingLike other: ColumnBuilder) {
    type = other.type
    validity.reserveCapacity(other.validity.count)
    switch type {
    case .double: doubles.reserveCapacity(other.count)
    case .varchar:
      ends.reserveCapacity(other.count)
      bytes.reserveCapacity(other.bytes.count + other.bytes.count / 8)
    default: ints.reserveCapacity(other.count)
    }
  }

  private mutating func mark(_ valid: Bool) {
    if count & 7 == 0 { validity.append(0) }
    if valid {
      validity[count >> 3] |= 1 << UInt8(count & 7)
    } else {
      nullCount += 1
    }
    count += 1
  }

  package mutating func appendNull() {
    switch type {
    case .double: doubles.append(0)
    case .varchar: ends.append(UInt64(bytes.count))
    default: ints.append(0)
    }
    mark(false)
  }

  /// Appends NULLs up to `n` rows. A wide table's sparse columns (`events` has every type's
  /// fields, a row fills a few) get their NULLs in runs: a builder short of the row count
  /// holds NULLs in the rows it lacks, and is padded before its group is written.
  package mutating func padNulls(to n: Int) {
    let k = n - count
    guard k > 0 else { return }
    switch type {
    case .double: doubles.append(contentsOf: repeatElement(0, count: k))
    case .varchar: ends.append(contentsOf: repeatElement(UInt64(bytes.count), count: k))
    default: ints.append(contentsOf: repeatElement(0, count: k))
    }
    // The bits of the rows added are 0 already in the last byte (only a value sets one).
    let bytes = (n + 7) >> 3
    if validity.count < bytes {
      validity.append(contentsOf: repeatElement(0, count: bytes - validity.count))
    }
    nullCount += k
    count = n
  }

  package mutating func append(_ v: Int64) {
    precondition(type != .double && type != .varchar)
    ints.append(v)
    mark(true)
  }

  package mutating func append(_ v: Double) {
    precondition(type == .double)
    doubles.append(v)
    mark(true)
  }

  package mutating func append(_ v: Bool) {
    precondition(type == .boolean)
    ints.append(v ? 1 : 0)
    mark(true)
  }

  package mutating func append(_ v: UnsafeRawBufferPointer) {
    precondition(type == .varchar)
    bytes.append(contentsOf: v.bindMemory(to: UInt8.self))
    ends.append(UInt64(bytes.count))
    mark(true)
  }

  package mutating func append(_ s: String) {
    var s = s
    s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
  }

  /// Appends row `row` of `column` (decoding a stored group back into a builder).
  package mutating func append(from column: ColumnReader, row: Int) {
    guard column.isValid(row) else { return appendNull() }
    switch type {
    case .bigint, .timestamp, .boolean, .date: append(column.int64(row))
    case .double: append(column.double(row))
    case .varchar: append(column.bytes(row))
    }
  }

  package mutating func removeAll() { self = ColumnBuilder(type) }

  /// Empty again, keeping its memory: a builder whose group is written fills the next group
  /// of its table in the pages it already has, where a new one faults in fresh ones.
  package mutating func clear() {
    count = 0
    nullCount = 0
    validity.removeAll(keepingCapacity: true)
    ints.removeAll(keepingCapacity: true)
    doubles.removeAll(keepingCapacity: true)
    bytes.removeAll(keepingCapacity: true)
    ends.removeAll(keepingCapacity: true)
  }
}
