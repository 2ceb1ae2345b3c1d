import Foundation
import TestSupport
import Testing

/// Every invalid fixture is rejected with exit status 1, one line naming its line and the
/// problem, and nothing on disk changed.
@Suite struct FixtureTests {
  static let fixtures = packageRoot + "/events/fixtures"

  /// A store holding the valid fixture, which the invalid ones build on.
  private func storeWithValidFixture() throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init", "--segment-size", "4096"]).status == 0)
    let r = try store.run(["append", Self.fixtures + "/valid.ndjson"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "appended 23 events, seq 1..23\n")
    return store
  }

  @Test func theValidFixtureCoversEveryEventTypeAndVerifies() throws {
    let store = try storeWithValidFixture()
    let text = try String(contentsOfFile: Self.fixtures + "/valid.ndjson", encoding: .utf8)
    let types = Set(
      text.split(separator: "\n").compactMap { line -> String? in
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        return object?["type"] as? String
      })
    #expect(types.count == 18)
    let v = try store.run(["verify"])
    #expect(v.status == 0)
    #expect(
      v.stdout.hasSuffix("ok: 23 events in 1 segments, seq 1..23\n")
        || v.stdout.contains("ok: 23 events"))
    // Appending it again changes nothing: every id is a duplicate with the same content.
    let again = try store.run(["append", Self.fixtures + "/valid.ndjson"])
    #expect(again.status == 0)
    #expect(again.stdout == "appended 0 events, skipped 23 duplicates\n")
  }

  /// (file, line, words the message must hold)
  static let cases: [(String, Int, [String])] = [
    ("malformed-json", 2, ["invalid JSON"]),
    ("truncated-line", 2, ["invalid JSON"]),
    ("unknown-type", 2, ["unknown event type", "inspection.held", "inspection.done"]),
    ("missing-field", 2, ["data.reached", "missing"]),
    ("unknown-field", 2, ["reachd", "reached"]),
    ("bad-enum", 2, ["data.kind", "job-placement", "job_placement"]),
    ("bad-time", 2, ["occurred_at", "day"]),
    ("time-backwards", 2, ["recorded_at", "backwards"]),
    ("unknown-unit", 2, ["VN-TNN", "not established", "VN-TN"]),
    ("raw-person", 2, ["data.person", "pseudonym", "--pseudonymize"]),
    ("raw-id-number", 2, ["data.summary", "12-digit"]),
    ("raw-id-number-spaced", 2, ["data.summary", "12-digit", "may be a national ID number"]),
    ("raw-id-number-dashed", 2, ["data.summary", "9-digit", "may be a national ID number"]),
    ("duplicate-id", 2, ["tip-bk-2013-1", "different event", "seq 11"]),
    ("invalid-utf8", 2, ["invalid JSON", "UTF-8"]),
    ("empty", 1, ["no events"]),
  ]

  @Test(arguments: cases.map(\.0))
  func invalidFixtureIsRejectedAndChangesNothing(_ name: String) throws {
    let (_, line, words) = Self.cases.first { $0.0 == name }!
    let store = try storeWithValidFixture()
    let before = snapshotTree(store.path)
    let file = Self.fixtures + "/invalid/\(name).ndjson"
    let r = try store.run(["append", file])
    #expect(r.status == 1, "\(name): \(r.stderr)")
    #expect(r.stdout.isEmpty)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1, "\(name): one line, got \(r.stderr)")
    #expect(r.stderr.contains("\(name).ndjson:\(line)"), "\(name): \(r.stderr)")
    for w in words { #expect(r.stderr.contains(w), "\(name): \(w) not in \(r.stderr)") }
    #expect(snapshotTree(store.path) == before, "\(name) changed the store")
  }

  @Test func aPersonsNameIsNeverEchoed() throws {
    let store = try storeWithValidFixture()
    let r = try store.run(["append", Self.fixtures + "/invalid/raw-person.ndjson"])
    #expect(!r.stderr.contains("Nguyễn"))
    let id = try store.run(["append", Self.fixtures + "/invalid/raw-id-number.ndjson"])
    #expect(!id.stderr.contains("001199012345"))
    let spaced = try store.run(["append", Self.fixtures + "/invalid/raw-id-number-spaced.ndjson"])
    #expect(!spaced.stderr.contains("001 199 012 345"))
  }

  @Test func aTenMegabyteLineIsRejected() throws {
    let store = try storeWithValidFixture()
    let before = snapshotTree(store.path)
    var big = Array(
      #"{"id":"big","type":"tip.received","case":"C-1","occurred_at":"2026-03-02T08:00:00+07:00","unit":"VN-TN","data":{"source":"citizen","summary":""#
        .utf8)
    big += [UInt8](repeating: UInt8(ascii: "a"), count: 10 << 20)
    big += Array("\"}}\n".utf8)
    let r = try store.run(["append", "-"], stdin: big)
    #expect(r.status == 1)
    #expect(r.stderr.contains("<stdin>:1"))
    #expect(r.stderr.contains("1 MiB"))
    #expect(snapshotTree(store.path) == before)
  }
}
