import Foundation
import TestSupport
import Testing

/// Every event type goes in as NDJSON and comes out of the log with the same meaning: the
/// same fields and values, in canonical form.
@Suite struct RoundTripTests {
  @Test func everyEventTypeRoundTrips() throws {
    let store = TestStore()
    _ = try store.run(["init", "--segment-size", "4096"])
    let path = packageRoot + "/events/fixtures/valid.ndjson"
    #expect(try store.run(["append", path]).status == 0)
    let input = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
    let output = try store.run(["dump"]).stdout.split(separator: "\n")
    #expect(input.count == output.count)
    var types = Set<String>()
    for (a, b) in zip(input, output) {
      let x = try JSONSerialization.jsonObject(with: Data(a.utf8)) as! NSDictionary
      let y = try JSONSerialization.jsonObject(with: Data(b.utf8)) as! NSDictionary
      #expect(x == y, "\(a)\n\(b)")
      types.insert(x["type"] as! String)
      // Canonical: keys of data in byte order, no whitespace.
      let data = y["data"] as! [String: Any]
      let keys = data.keys.sorted()
      let positions = keys.map { b.range(of: "\"\($0)\":")!.lowerBound }
      #expect(positions == positions.sorted())
      #expect(!b.contains("\": ") && !b.contains(", \"") && !b.hasPrefix(" "))
    }
    #expect(types.count == 18)
  }

  @Test func theSameEventsGiveTheSameLogBytes() throws {
    let a = TestStore()
    let b = TestStore()
    let path = packageRoot + "/events/fixtures/valid.ndjson"
    for s in [a, b] {
      _ = try s.run(["init", "--segment-size", "4096"])
      #expect(try s.run(["append", path]).status == 0)
    }
    let segments = { (s: TestStore) in
      snapshotTree(s.path + "/log").filter { $0.key.hasSuffix(".seg") }
    }
    #expect(segments(a) == segments(b))
  }
}
