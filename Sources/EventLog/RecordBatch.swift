/// Records to append together: their payloads back to back in one buffer, so a batch of a
/// million events costs three allocations, not a million.
package struct RecordBatch: Sendable {
  package private(set) var bytes: [UInt8] = []
  package private(set) var ends: [Int] = []
  package private(set) var recordedAt: [Int64] = []

  package init() {}

  package init(reservingCapacity bytes: Int, records: Int) {
    self.bytes.reserveCapacity(bytes)
    ends.reserveCapacity(records)
    recordedAt.reserveCapacity(records)
  }

  package var count: Int { ends.count }
  package var isEmpty: Bool { ends.isEmpty }

  package mutating func append(recordedAt time: Int64, payload: [UInt8]) {
    payload.withUnsafeBytes { append(recordedAt: time, payload: $0) }
  }

  package mutating func append(recordedAt time: Int64, payload: UnsafeRawBufferPointer) {
    bytes.appendBytes(payload)
    ends.append(bytes.count)
    recordedAt.append(time)
  }

  /// The byte range of record `i`'s payload in `bytes`.
  package func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }
}

extension Array where Element == UInt8 {
  /// Appends raw bytes with one `memcpy`: `append(contentsOf:)` with an
  /// `UnsafeRawBufferPointer` walks it byte by byte, which the append path feels.
  @inline(__always)
  package mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
    append(contentsOf: bytes.bindMemory(to: UInt8.self))
  }
}
