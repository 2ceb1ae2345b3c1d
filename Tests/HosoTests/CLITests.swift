import Domain
import EventLog
import Foundation
import TestSupport
import Testing

@Suite struct CLITests {
  static let valid = packageRoot + "/events/fixtures/valid.ndjson"

  @Test func initCreatesAnOwnerOnlyStoreAndAKeyApartFromIt() throws {
    let store = TestStore()
    let r = try store.run(["init"])
    #expect(r.status == 0, "\(r.stderr)")
    var st = stat()
    #expect(stat(store.path, &st) == 0)
    #expect(st.st_mode & 0o777 == 0o700)
    #expect(stat(store.keyPath, &st) == 0)
    #expect(st.st_mode & 0o777 == 0o600)
    #expect(!store.keyPath.hasPrefix(store.path + "/"))
    let again = try store.run(["init"])
    #expect(again.status == 1)
    #expect(again.stderr.contains("already exists"))
  }

  @Test func aMissingStoreIsExitStatusTwo() throws {
    let store = TestStore()
    let r = try store.run(["append", Self.valid])
    #expect(r.status == 2)
    #expect(r.stderr.contains("hoso init"))
    let v = try store.run(["verify"])
    #expect(v.status == 2)
  }

  @Test func badUsageIsExitStatusOne() throws {
    let store = TestStore()
    _ = try store.run(["init"])
    #expect(try store.run(["apend", Self.valid]).stderr.contains("did you mean append"))
    #expect(try store.run(["append"]).status == 1)
    #expect(try store.run(["append", "--sync", "sometimes", Self.valid]).status == 1)
    #expect(try store.run(["append", "/nonexistent/file"]).status == 1)
  }

  @Test func helpAndAWrongFlagLeaveNoStoreBehind() throws {
    // With no store yet, `hoso` makes the demo store: not when its flags are wrong, and not
    // for `--help`.
    let store = TestStore()
    let help = try store.run(["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.contains("usage: hoso"))
    let wrong = try store.run(["-csv", "-bogus"])
    #expect(wrong.status == 1)
    #expect(wrong.stderr.contains("unknown argument -bogus"), "\(wrong.stderr)")
    #expect(try store.run(["query", "SELECT 1", "-h"]).stdout.contains("usage: hoso"))
    #expect(!FileManager.default.fileExists(atPath: store.path))
  }

  /// An ID number typed into a statement is not kept in the access log, however it was
  /// spelled; a date, an amount and a case id are kept as typed.
  @Test func anIdNumberInAnySpellingIsMaskedInTheAccessLog() throws {
    let store = TestStore()
    _ = try store.run(["init"])
    _ = try store.run(["append", Self.valid])
    let statement =
      "SELECT count(*) FROM tips WHERE summary IN ('001 203 004 567', '0012-0300-4567',"
      + " '123.456.789', '001203004567') OR occurred_at > '2025-07-01' OR case_id = 'C-LS-2023-00012'"
      + " OR summary = '300.000.000 đồng'"
    let r = try store.run(["query", statement])
    #expect(r.status == 0, "\(r.stderr)")
    let log = String(decoding: readBytes(store.path + "/access.log") ?? [], as: UTF8.self)
    for number in ["001 203 004 567", "0012-0300-4567", "123.456.789", "001203004567"] {
      #expect(!log.contains(number), "\(number) in the access log")
    }
    #expect(
      log.contains(
        "IN ('### ### ### ###', '####-####-####', '###.###.###', '############') OR occurred_at"
          + " > '2025-07-01' OR case_id = 'C-LS-2023-00012' OR summary = '300.000.000 đồng'"),
      "\(log)")
  }

  @Test func appendFromStdinDescribeAndDump() throws {
    let store = TestStore()
    _ = try store.run(["init", "--segment-size", "4096"])
    let bytes = readBytes(Self.valid)!
    let r = try store.run(["append", "-"], stdin: bytes)
    #expect(r.stdout == "appended 23 events, seq 1..23\n")
    let d = try store.run(["status"])
    #expect(d.status == 0)
    #expect(d.stdout.contains("23 in"))
    let dump = try store.run(["dump", "--from", "5", "--to", "6"])
    let lines = dump.stdout.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines[0].hasPrefix(#"{"id":"u-bk-cm-yd","type":"unit.established""#))
    let since = try store.run(["dump", "--since", "2025-07-01T00:00:00+07:00"])
    #expect(since.stdout.split(separator: "\n").count == 3)
  }

  @Test func pseudonymizeReplacesRawIdentifiersAndNeverStoresThem() throws {
    let store = TestStore()
    _ = try store.run(["init"])
    _ = try store.run(["append", Self.valid])
    let raw = "079201001234"
    let line =
      #"{"id":"s-1","type":"support.provided","occurred_at":"2026-03-02T08:00:00+07:00","unit":"VN-TN","data":{"person":" \#(raw)","kind":"counselling"}}"#
    let r = try store.run(["append", "--pseudonymize", "-"], stdin: Array((line + "\n").utf8))
    #expect(r.status == 0, "\(r.stderr)")
    for (_, bytes) in snapshotTree(store.path) {
      #expect(String(decoding: bytes, as: UTF8.self).contains(raw) == false)
    }
    let dump = try store.run(["dump", "--from", "24"]).stdout
    #expect(dump.contains(#""person":"P-"#))
    // The same raw identifier always gives the same pseudonym.
    let line2 = line.replacingOccurrences(of: "s-1", with: "s-2")
      .replacingOccurrences(of: " \(raw)", with: raw)
    _ = try store.run(["append", "--pseudonymize", "-"], stdin: Array((line2 + "\n").utf8))
    let persons = try store.run(["dump", "--from", "24"]).stdout.split(separator: "\n").map {
      $0.components(separatedBy: #""person":""#)[1].prefix(18)
    }
    #expect(persons.count == 2)
    #expect(persons[0] == persons[1])
  }

  @Test func aSecondWriterIsRefusedAtOnce() throws {
    let store = TestStore()
    _ = try store.run(["init"])
    let writer = try LogWriter.open(at: store.path + "/log")
    let r = try store.run(["append", Self.valid])
    #expect(r.status == 2)
    #expect(r.stderr.contains("locked by another writer"))
    try writer.close()
    #expect(try store.run(["append", Self.valid]).status == 0)
  }

  @Test func damageInASealedSegmentFailsVerifyAndAppend() throws {
    let store = TestStore()
    _ = try store.run(["init", "--segment-size", "4096"])
    _ = try store.run(["append", Self.valid])
    let log = LogDirectory(store.path + "/log")
    let first = log.segmentPath(log.segments()[0])
    var bytes = readBytes(first)!
    bytes[300] ^= 0x04
    writeBytes(bytes, to: first)
    let v = try store.run(["verify"])
    #expect(v.status == 2)
    #expect(v.stderr.contains("segment 00000000000000000001.seg"))
    #expect(v.stderr.contains("offset"))
    #expect(v.stderr.contains("seq"))
    let line =
      #"{"id":"x-1","type":"outreach.held","occurred_at":"2026-03-02T08:00:00+07:00","unit":"VN-TN","data":{"form":"meeting","audience":"residents","reached":3}}"#
    let before = snapshotTree(store.path)
    let a = try store.run(["append", "-"], stdin: Array((line + "\n").utf8))
    #expect(a.status == 2)
    #expect(
      snapshotTree(store.path).filter { !$0.key.hasPrefix("log/LOCK") }
        == before.filter { !$0.key.hasPrefix("log/LOCK") })
  }

  @Test func duplicatesWithinOneInput() throws {
    let store = TestStore()
    _ = try store.run(["init"])
    _ = try store.run(["append", Self.valid])
    let a =
      #"{"id":"d-1","type":"outreach.held","occurred_at":"2026-03-02T08:00:00+07:00","#
      + #""unit":"VN-TN","data":{"form":"meeting","audience":"residents","reached":3}}"#
    let spaced = a.replacingOccurrences(of: ",", with: ", ")
    let r = try store.run(["append", "-"], stdin: Array("\(a)\n\(spaced)\n".utf8))
    #expect(r.stdout == "appended 1 events, seq 24..24, skipped 1 duplicate\n", "\(r.stderr)")
    let before = snapshotTree(store.path)
    let b = a.replacingOccurrences(of: "d-1", with: "d-2")
    let changed = b.replacingOccurrences(of: "\"reached\":3", with: "\"reached\":4")
    let bad = try store.run(["append", "-"], stdin: Array("\(b)\n\(changed)\n".utf8))
    #expect(bad.status == 1)
    #expect(bad.stderr.contains("<stdin>:2:7: id:"), "\(bad.stderr)")
    #expect(bad.stderr.contains("an earlier line"))
    #expect(snapshotTree(store.path) == before)
  }

  @Test func anAppendAfterACrashSaysWhatRecoveryCut() throws {
    let store = TestStore()
    _ = try store.run(["init", "--segment-size", "4096"])
    _ = try store.run(["append", Self.valid])
    do {
      // A writer that dies mid-batch: records written, no commit mark, no abort.
      let w = try LogWriter.open(at: store.path + "/log")
      try w.beginBatch()
      for i in 0..<50 {
        let payload = Array("{\"id\":\"crashed-\(i)\"}".utf8)
        try payload.withUnsafeBytes { _ = try w.add(recordedAt: Timestamp.now(), payload: $0) }
      }
    }
    let bad = try store.run(["append", "-"], stdin: Array("{}\n".utf8))
    #expect(bad.status == 1)
    #expect(bad.stderr.contains("recovered the log after an interrupted append"), "\(bad.stderr)")
    #expect(bad.stderr.contains("50 uncommitted records") || bad.stderr.contains("uncommitted"))
    let v = try store.run(["verify"])
    #expect(
      v.stdout.hasSuffix("ok: 23 events in 2 segments, seq 1..23\n")
        || v.stdout.contains("ok: 23 events"))
    #expect(!v.stdout.contains("warning"), "\(v.stdout)")
  }

  @Test func aByteOrderMarkIsSkippedAndADirectoryOrAMissingKeyIsAMistake() throws {
    let store = TestStore()
    _ = try store.run(["init"])
    let bom = [UInt8]([0xEF, 0xBB, 0xBF]) + readBytes(Self.valid)!
    #expect(try store.run(["append", "-"], stdin: bom).stdout == "appended 23 events, seq 1..23\n")
    let dir = try store.run(["append", store.root.path])
    #expect(dir.status == 1)
    #expect(dir.stderr.contains("directory"))
    let line =
      #"{"id":"k-1","type":"support.provided","occurred_at":"2026-03-02T08:00:00+07:00","#
      + #""unit":"VN-TN","data":{"person":"raw","kind":"loan"}}"#
    let key = try runHoso(
      ["--store", store.path, "--key", "/nonexistent/key", "append", "--pseudonymize", "-"],
      stdin: Array((line + "\n").utf8))
    #expect(key.status == 1)
    #expect(key.stderr.contains("pseudonym key"))
  }
}
