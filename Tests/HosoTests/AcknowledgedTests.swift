import EventLog
import Foundation
import TestSupport
import Testing

/// Issue 17, findings 1 and 2, as a user met them: what `append` acknowledged stays, and a log
/// that lost any of it is reported as damaged by every command, with nothing changed.
@Suite struct AcknowledgedTests {
  /// A store with segments of 64 KiB and two acknowledged batches, the second spanning
  /// segments; the generated events are split where the first batch ends.
  private func twoBatches() throws -> (TestStore, total: Int) {
    let store = TestStore()
    #expect(try store.run(["init", "--segment-size", "65536"]).status == 0)
    let generated = try runHoso(["generate", "--seed", "3", "--count", "1500"])
    #expect(generated.status == 0)
    let lines = generated.stdout.split(separator: "\n", omittingEmptySubsequences: true)
    let first = lines.prefix(500).joined(separator: "\n") + "\n"
    let second = lines.dropFirst(500).joined(separator: "\n") + "\n"
    let a = try store.run(["append", "-"], stdin: Array(first.utf8))
    #expect(a.status == 0, "\(a.stderr)")
    let b = try store.run(["append", "-"], stdin: Array(second.utf8))
    #expect(b.stdout.contains("seq 501..\(lines.count)"), "\(b.stdout) \(b.stderr)")
    return (store, lines.count)
  }

  private func lastSegment(_ store: TestStore) -> String {
    let dir = LogDirectory(store.path + "/log")
    return dir.segmentPath(dir.segments().last!)
  }

  /// Every command that reads or writes the store fails with exit status 2 naming the damage,
  /// and the log's files are as they were.
  private func expectEveryCommandRefuses(
    _ store: TestStore, _ what: String,
    commands: [[String]] = [
      ["verify"], ["query", "SELECT count(*) FROM events"], ["dump"], ["status"], ["append", "-"],
    ]
  ) throws {
    let before = snapshotTree(store.path + "/log")
    for command in commands {
      let r = try store.run(command, stdin: Array("".utf8))
      #expect(r.status == 2, "\(what): hoso \(command.joined(separator: " ")): \(r.status)")
      #expect(
        r.stderr.contains("damaged") || r.stderr.contains("missing"),
        "\(what): hoso \(command.joined(separator: " ")): \(r.stderr)")
      #expect(!r.stderr.contains("recovered"), "\(what): \(r.stderr)")
    }
    #expect(snapshotTree(store.path + "/log") == before, "\(what): the log's files changed")
  }

  @Test func fiveBytesCutFromTheLastSegmentAreDamageNotATornTail() throws {
    let (store, _) = try twoBatches()
    let path = lastSegment(store)
    writeBytes(Array(readBytes(path)!.dropLast(5)), to: path)
    try expectEveryCommandRefuses(store, "five bytes cut")
    let v = try store.run(["verify"])
    #expect(v.stderr.contains("seq"), "\(v.stderr)")
    #expect(v.stderr.contains(".seg"), "\(v.stderr)")
  }

  @Test func aDeletedLastSegmentIsReportedNotRepaired() throws {
    let (store, _) = try twoBatches()
    let path = lastSegment(store)
    _ = unlink(path)
    try expectEveryCommandRefuses(store, "last segment deleted")
    #expect(!FileManager.default.fileExists(atPath: path))
  }

  @Test func aFlippedByteInTheMiddleOfTheOpenSegmentIsDamage() throws {
    let (store, total) = try twoBatches()
    let count = ["query", "SELECT count(*) AS n FROM events", "--format", "csv"]
    let whole = try store.run(count).stdout
    let path = lastSegment(store)
    var bytes = readBytes(path)!
    bytes[bytes.count / 2] ^= 0x10
    writeBytes(bytes, to: path)
    // A query whose tables are current and whole answers from them, never from a prefix of the
    // log: the damage is the log's, which every command that reads or writes it reports.
    try expectEveryCommandRefuses(
      store, "a byte flipped", commands: [["verify"], ["dump"], ["status"], ["append", "-"]])
    let q = try store.run(count)
    #expect(q.status == 2 || q.stdout == whole, "\(q.stdout) \(q.stderr)")
    // Put back, everything is there again: nothing was cut meanwhile.
    bytes[bytes.count / 2] ^= 0x10
    writeBytes(bytes, to: path)
    let v = try store.run(["verify"])
    #expect(v.status == 0, "\(v.stderr)")
    #expect(v.stdout.contains("ok: \(total) events"), "\(v.stdout)")
  }

  /// Tables that hold events the log does not are damage too, not "caught up".
  @Test func tablesAheadOfTheLogAreDamage() throws {
    let (store, _) = try twoBatches()
    let copy = store.root.path + "/views-copy"
    try FileManager.default.copyItem(atPath: store.path + "/views", toPath: copy)
    // The log of another store with fewer events, under the same tables.
    let small = TestStore()
    #expect(try small.run(["init", "--segment-size", "65536"]).status == 0)
    let generated = try runHoso(["generate", "--seed", "3", "--count", "200"])
    #expect(try small.run(["append", "-"], stdin: Array(generated.stdout.utf8)).status == 0)
    try FileManager.default.removeItem(atPath: small.path + "/views")
    try FileManager.default.copyItem(atPath: copy, toPath: small.path + "/views")
    let q = try small.run(["query", "SELECT count(*) FROM events"])
    #expect(q.status == 2, "\(q.stdout) \(q.stderr)")
    #expect(q.stderr.contains("the log does not") || q.stderr.contains("log lost"), "\(q.stderr)")
    let v = try small.run(["verify"])
    #expect(v.status == 2, "\(v.stdout) \(v.stderr)")
  }
}
