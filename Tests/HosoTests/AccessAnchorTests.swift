import EventLog
import Foundation
import TestSupport
import Testing

/// The access log's length and head anchored in `access.head` (issue 17, finding 4): records
/// cut from its end, the file deleted or its chain computed anew are exit status 2, in
/// `verify` and in every command that would add to it; a kill between a record and its
/// anchor, and `forget`, are not damage; a store made before the anchor gets one. A link at
/// `access.log` is not followed.
@Suite struct AccessAnchorTests {
  /// A store of generated events with `queries` access records (auditor queries).
  static func store(queries: Int = 4) throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let events = try store.run(["generate", "--seed", "5", "--count", "1500"])
    let appended = try store.run(["append", "-"], stdin: Array(events.stdout.utf8))
    #expect(appended.status == 0, "\(appended.stderr)")
    for i in 0..<queries {
      let r = try store.run(["query", "SELECT count(*) + \(i) FROM tips"])
      #expect(r.status == 0, "\(r.stderr)")
    }
    return store
  }

  static func accessLog(_ store: TestStore) -> String { store.path + "/access.log" }
  static func anchor(_ store: TestStore) -> String { store.path + "/access.head" }

  static func lines(_ path: String) -> [String] {
    String(decoding: readBytes(path) ?? [], as: UTF8.self).split(separator: "\n").map(String.init)
  }

  static func write(lines: [String], to path: String) {
    writeBytes(Array(lines.map { $0 + "\n" }.joined().utf8), to: path)
  }

  static let hexDigits = Array("0123456789abcdef".utf8)

  static func hex(_ bytes: [UInt8]) -> String {
    String(
      decoding: bytes.flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 15)]] }, as: UTF8.self)
  }

  @Test func cuttingTheAccessLogsEndIsSeenAndRefused() throws {
    let store = try Self.store()
    let path = Self.accessLog(store)
    let held = Self.lines(path)
    #expect(held.count == 4)
    for cut in [1, 2] {
      Self.write(lines: Array(held.dropLast(cut)), to: path)
      let verify = try store.run(["verify"])
      #expect(verify.status == 2, "\(verify)")
      #expect(
        verify.stderr.contains(
          "holds \(4 - cut) records (\(Self.lines(path).joined(separator: "\n").utf8.count + 1)"
            + " bytes) and its anchor (access.head) says 4 records"),
        "\(verify.stderr)")
      #expect(verify.stderr.contains("\(cut) record\(cut == 1 ? " was" : "s were") cut"))
      #expect(!verify.stdout.contains("ok:"))
      // No new chain after the cut: the query is not answered.
      let query = try store.run(["query", "SELECT count(*) FROM tips"])
      #expect(query.status == 2 && query.stdout.isEmpty, "\(query)")
      #expect(
        query.stderr.contains("the access log was cut") && query.stderr.contains("hoso verify"))
      #expect(Self.lines(path).count == 4 - cut)
    }
  }

  @Test func aDeletedAccessLogIsSeenAndNotMadeAnew() throws {
    let store = try Self.store()
    let path = Self.accessLog(store)
    #expect(unlink(path) == 0)
    let verify = try store.run(["verify"])
    #expect(verify.status == 2, "\(verify)")
    #expect(verify.stderr.contains("access.log is missing"), "\(verify.stderr)")
    #expect(verify.stderr.contains("says 4 records") && verify.stderr.contains("was deleted"))
    let query = try store.run(["query", "SELECT count(*) FROM tips"])
    #expect(query.status == 2 && query.stdout.isEmpty, "\(query)")
    #expect(query.stderr.contains("hoso verify"))
    #expect(access(path, F_OK) != 0, "no access log is started anew")
  }

  /// Every line rewritten after one was changed, and the chain hashed again: each line holds,
  /// the anchored last hash does not.
  @Test func anAccessLogWrittenAnewIsSeen() throws {
    let store = try Self.store()
    let path = Self.accessLog(store)
    var prev = String(repeating: "0", count: 64)
    var rewritten: [String] = []
    for line in Self.lines(path) {
      var head = String(line[..<line.range(of: ",\"hash\":\"")!.lowerBound])
      head = head.replacingOccurrences(of: "count(*) + 1", with: "count(*) + 7")
      let prevAt = head.range(of: "\"prev\":\"")!.upperBound
      head.replaceSubrange(prevAt..<head.index(prevAt, offsetBy: 64), with: prev)
      prev = Self.hex(SHA256.hash(Array(head.utf8)))
      rewritten.append(head + ",\"hash\":\"\(prev)\"}")
    }
    Self.write(lines: rewritten, to: path)
    let verify = try store.run(["verify"])
    #expect(verify.status == 2, "\(verify)")
    #expect(verify.stderr.contains("record 4 has hash"), "\(verify.stderr)")
    #expect(verify.stderr.contains("written anew after it was anchored"))
    #expect(try store.run(["query", "SELECT 1"]).status == 2)
  }

  /// A kill after a record was synced and before its anchor was: the file is a record ahead,
  /// which is not damage; the next access anchors it, and a cut after that is seen.
  @Test func aRecordAheadOfItsAnchorIsNotDamage() throws {
    let store = try Self.store()
    let anchored = try #require(readBytes(Self.anchor(store)), "the store has an anchor")
    #expect(try store.run(["query", "SELECT 42"]).status == 0)
    writeBytes(anchored, to: Self.anchor(store))
    let verify = try store.run(["verify"])
    #expect(verify.status == 0, "\(verify)")
    #expect(verify.stdout.contains("access log: 5 records, chain whole"))
    #expect(try store.run(["query", "SELECT 43"]).status == 0)
    let path = Self.accessLog(store)
    Self.write(lines: Array(Self.lines(path).dropLast()), to: path)
    let cut = try store.run(["verify"])
    #expect(cut.status == 2 && cut.stderr.contains("1 record was cut"), "\(cut)")
  }

  /// `forget` masks the access log and re-seals its chain: the anchor follows, verify passes,
  /// and cutting the redacted log is seen like any other cut.
  @Test func forgetKeepsTheAccessLogAnchored() throws {
    let store = try Self.store(queries: 1)
    let person = try store.run([
      "query", "SELECT min(person) FROM supports", "--format", "csv",
    ]).stdout.split(separator: "\r\n")[1]
    let asked = try store.run([
      "query", "SELECT count(*) FROM supports WHERE person = '\(person)'",
    ])
    #expect(asked.status == 0, "\(asked)")
    let forgot = try store.run(["forget", String(person), "--reason", "request 4"])
    #expect(forgot.status == 0, "\(forgot)")
    #expect(forgot.stdout.contains("1 in the access log"), "\(forgot.stdout)")
    let path = Self.accessLog(store)
    #expect(!String(decoding: readBytes(path)!, as: UTF8.self).contains(person))
    let verify = try store.run(["verify"])
    #expect(verify.status == 0, "\(verify)")
    #expect(verify.stdout.contains("redacted: access.log: forgotten-00000001 masked in 1 record"))
    #expect(try store.run(["query", "SELECT 1"]).status == 0)
    Self.write(lines: Array(Self.lines(path).dropLast(3)), to: path)
    let cut = try store.run(["verify"])
    #expect(cut.status == 2 && cut.stderr.contains("3 records were cut"), "\(cut)")
  }

  /// A store made before the anchor (no `access.head`, nothing said of it in `STORE`): it
  /// works as it did, gets its anchor on its first access without a word, and a cut after
  /// that is seen.
  @Test func aStoreMadeBeforeTheAnchorGetsOne() throws {
    let store = try Self.store()
    #expect(unlink(Self.anchor(store)) == 0)
    let storeFile = store.path + "/STORE"
    Self.write(lines: Self.lines(storeFile).filter { $0 != "access-anchored" }, to: storeFile)
    let before = try store.run(["verify"])
    #expect(before.status == 0 && before.stdout.contains("access log: 4 records"), "\(before)")
    let query = try store.run(["--role", "analyst", "query", "SELECT count(*) FROM tips"])
    #expect(query.status == 0 && query.stderr.isEmpty, "\(query)")
    var st = stat()
    #expect(stat(Self.anchor(store), &st) == 0 && st.st_mode & 0o777 == 0o600)
    #expect(Self.lines(storeFile).contains("access-anchored"))
    #expect(try store.run(["verify"]).status == 0)
    let path = Self.accessLog(store)
    Self.write(lines: Array(Self.lines(path).dropLast()), to: path)
    #expect(try store.run(["verify"]).status == 2)
    // Deleting the anchor as well is seen: the store says it had one.
    #expect(unlink(Self.anchor(store)) == 0)
    let gone = try store.run(["verify"])
    #expect(gone.status == 2 && gone.stderr.contains("access.head is missing"), "\(gone)")
  }

  /// A dangling link at `access.log`: refused, and nothing is made where it points.
  @Test func aDanglingLinkAtTheAccessLogIsNotFollowed() throws {
    let store = try Self.store(queries: 0)
    let outside = TemporaryDirectory("hoso-outside")
    let path = Self.accessLog(store)
    #expect(symlink(outside.file("access.log"), path) == 0)
    let query = try store.run(["query", "SELECT count(*) FROM tips"])
    #expect(query.status == 2 && query.stdout.isEmpty, "\(query)")
    #expect(query.stderr.contains("access.log " + StoreLinkTests.linkMessage), "\(query.stderr)")
    #expect(access(outside.file("access.log"), F_OK) != 0, "a file was made outside the store")
    let verify = try store.run(["verify"])
    #expect(verify.status == 2 && verify.stderr.contains(StoreLinkTests.linkMessage), "\(verify)")
    #expect(access(outside.file("access.log"), F_OK) != 0)
  }
}
