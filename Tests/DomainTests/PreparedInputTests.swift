import EventLog
import Foundation
import TestSupport
import Testing

@testable import Domain

/// The two-stage append must give exactly what the one-line-at-a-time validation gives:
/// the same records, the same duplicates, the same first error.
@Suite struct PreparedInputTests {
  static let now = try! Timestamp.parse("2026-11-22T12:00:00+07:00".utf8).get()

  /// Several MiB of events (several chunks) with units, corrections, voids and duplicates.
  static func input(seed: UInt64, badLine: Int? = nil) -> [String] {
    var rng = SeededRandom(seed: seed)
    var lines = [
      #"{"id":"u-vn","type":"unit.established","occurred_at":"2011-01-01T00:00:00+07:00","unit":"VN","data":{"name":"Việt Nam","level":"country"}}"#
    ]
    var ids: [String] = []
    for i in 0..<12_000 {
      let id = "e\(i)"
      let line: String
      switch Int.random(in: 0..<100, using: &rng) {
      case 0..<2 where !ids.isEmpty:
        let target = ids.randomElement(using: &rng)!
        line =
          #"{"id":"c\#(i)","type":"event.corrected","occurred_at":"2020-01-01T00:00:00+07:00","unit":"VN","data":{"target":"\#(target)","changes":{"reached":\#(i)},"reason":"sửa"}}"#
      case 2..<4 where !ids.isEmpty:
        line = lines[Int.random(in: 1..<lines.count, using: &rng)]  // a duplicate
      case 5:
        // The record of a forget, which names no unit.
        line =
          #"{"id":"f\#(i)","type":"person.forgotten","occurred_at":"2020-01-01T00:00:00+07:00","data":{"person":"P-0123456789abcdef","reason":"yêu cầu"}}"#
      case 4:
        let code = "VN-U\(i)"
        line =
          #"{"id":"u\#(i)","type":"unit.established","occurred_at":"2012-01-01T00:00:00+07:00","unit":"\#(code)","data":{"name":"Đơn vị \#(i)","level":"province","parent":"VN"}}"#
      default:
        ids.append(id)
        line =
          #"{"id":"\#(id)","type":"outreach.held","occurred_at":"2019-05-0\#(1 + i % 9)T08:00:00+07:00","unit":"VN","actor":"Sở Y tế \#(String(repeating: "x", count: i % 200))","data":{"form":"meeting","audience":"residents","reached":\#(i)}}"#
      }
      lines.append(line)
    }
    if let badLine {
      lines[badLine] = lines[badLine].replacingOccurrences(of: "meeting", with: "meting")
    }
    return lines
  }

  /// Appends through `Appender` and returns the log's payloads, or the error.
  static func viaAppender(_ lines: [String]) throws -> (result: [[UInt8]], duplicates: Int) {
    let dir = TemporaryDirectory()
    let store = try Store.create(at: dir.path + "/s", keyPath: dir.path + "/k")
    var options = Appender.Options()
    options.now = now
    let text = Array((lines.joined(separator: "\n") + "\n").utf8)
    let r = try text.withUnsafeBytes { try Appender.append(to: store, input: $0, options: options) }
    var out: [[UInt8]] = []
    try LogReader(at: store.logPath).readRecords { out.append(Array($0.payload)) }
    return (out, r.duplicates)
  }

  static func viaIngest(_ lines: [String]) throws -> (result: [[UInt8]], duplicates: Int) {
    var i = Ingest(state: StoreState(), now: now, pseudonymizer: nil)
    for (n, line) in lines.enumerated() {
      var bytes = Array(line.utf8)
      let count = bytes.count
      _ = try bytes.withUnsafeMutableBufferPointer { (b) throws(InputError) in
        try i.add(line: UnsafeRawBufferPointer(start: b.baseAddress, count: count), number: n + 1)
      }
    }
    defer { i.finish() }
    return ((0..<i.batch.count).map { Array(i.batch.bytes[i.batch.range($0)]) }, i.duplicates)
  }

  @Test func givesWhatTheSequentialPathGives() throws {
    let seed = SeededRandom.testSeed(11)
    let lines = Self.input(seed: seed)
    #expect(lines.joined().utf8.count > 3 * PreparedInput.chunkSize)
    let a = try Self.viaAppender(lines)
    let b = try Self.viaIngest(lines)
    #expect(a.result.count == b.result.count, "seed \(seed)")
    #expect(a.result == b.result, "seed \(seed)")
    #expect(a.duplicates == b.duplicates)
    #expect(a.duplicates > 0)
  }

  /// A bad line early, in the middle and late: preparing stops at it on one thread while
  /// the other may be ahead or behind.
  @Test(arguments: [0.001, 0.3, 0.5, 0.99])
  func reportsTheSameFirstError(at fraction: Double) throws {
    let seed = SeededRandom.testSeed(12)
    let lines = Self.input(seed: seed)
    let from = Int(Double(lines.count) * fraction)
    let bad = lines[from...].firstIndex { $0.contains("outreach.held") && $0.contains("\"e") }!
    let broken = Self.input(seed: seed, badLine: bad)
    var first: InputError?
    var second: InputError?
    do { _ = try Self.viaAppender(broken) } catch let e as InputError { first = e }
    do { _ = try Self.viaIngest(broken) } catch let e as InputError { second = e }
    #expect(first != nil)
    #expect(first == second, "seed \(seed)")
    #expect(first?.line == bad + 1)
  }
}
