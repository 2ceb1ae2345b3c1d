import Foundation
import TestSupport

@testable import EventLog

/// A log in a temporary directory, with helpers to append recognisable records.
final class TestLog {
  let dir = TemporaryDirectory("hoso-log")
  var path: String { dir.path + "/log" }

  init(segmentSize: Int = 4096) throws {
    try LogWriter.create(at: path, segmentSize: segmentSize)
  }

  func open(sync: LogWriter.SyncMode = .batch) throws -> LogWriter {
    try LogWriter.open(at: path, options: .init(sync: sync))
  }

  /// The payload of record `seq` in these tests: its text and some filler.
  static func payload(_ seq: UInt64, size: Int = 40) -> [UInt8] {
    var bytes = Array("{\"n\":\(seq)}".utf8)
    while bytes.count < size { bytes.append(UInt8(ascii: "a") + UInt8(bytes.count % 26)) }
    return bytes
  }

  static func time(_ seq: UInt64) -> Int64 { 1_600_000_000_000_000 + Int64(seq) * 1_000_000 }

  /// A batch of `count` records following `after`.
  static func batch(after: UInt64, count: Int, size: Int = 40) -> RecordBatch {
    var b = RecordBatch()
    for i in 1...count {
      let seq = after + UInt64(i)
      b.append(recordedAt: time(seq), payload: payload(seq, size: size))
    }
    return b
  }

  /// Every record as (seq, recordedAt, payload).
  func records() throws -> [(UInt64, Int64, [UInt8])] {
    let reader = try LogReader(at: path)
    var out: [(UInt64, Int64, [UInt8])] = []
    try reader.readRecords { out.append(($0.seq, $0.recordedAt, Array($0.payload))) }
    return out
  }

  func segmentFiles() -> [String] {
    LogDirectory(path).segments().map { LogDirectory(path).segmentPath($0) }
  }
}
