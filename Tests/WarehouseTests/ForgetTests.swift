import Domain
import EventLog
import Foundation
import TestSupport
import Testing

@testable import Warehouse

/// `Warehouse.forget`: all or nothing, and the record of it never holds the pseudonym.
@Suite struct ForgetTests {
  static let fixture = packageRoot + "/events/fixtures/valid.ndjson"
  static let person = "P-3f9a1c0b7d2e4a61"

  /// A store with the fixture's events, tables caught up.
  private func makeStore() throws -> (TemporaryDirectory, Warehouse) {
    let dir = TemporaryDirectory("hoso-warehouse")
    let store = try Store.create(
      at: dir.path + "/store", segmentSize: 4096, keyPath: dir.path + "/store.key")
    let w = Warehouse(store: store)
    let input = readBytes(Self.fixture)!
    _ = try input.withUnsafeBytes { try w.append($0, options: Appender.Options(), views: nil) }
    return (dir, w)
  }

  private func holders(_ root: String, except: String? = nil) -> [String] {
    snapshotTree(root).filter { path, bytes in
      root + "/" + path != except && bytes.firstRange(of: Array(Self.person.utf8)) != nil
    }.keys.sorted()
  }

  @Test func theIntentRoundTripsAndRejectsWhatIsNotOne() {
    let intent = Warehouse.ForgetIntent(
      person: Self.person, mask: "forgotten-00000001", reason: "yêu cầu số 7\n\"x\"",
      time: 1_700_000_000_000_000, user: "an", role: "auditor")
    #expect(Warehouse.ForgetIntent.decode(intent.encode()) == intent)
    #expect(Warehouse.ForgetIntent.decode(Array("hoso-forgetting 2\nmask x\n".utf8)) == nil)
    #expect(Warehouse.ForgetIntent.decode(Array("hoso-forgetting forgotten-1\n".utf8)) == nil)
    #expect(!intent.event.contains(Self.person))
  }

  @Test func aForgetLeavesNoFileHoldingThePerson() throws {
    let (dir, w) = try makeStore()
    #expect(!holders(w.store.path).isEmpty)
    let done = try w.forget(
      person: Self.person, reason: "request 1", user: "an", role: "auditor", views: nil,
      now: Int64(Date().timeIntervalSince1970 * 1_000_000))
    #expect(done.mask == "forgotten-00000001")
    #expect(done.redaction?.seqs.isEmpty == false)
    #expect(holders(w.store.path) == [], "\(dir.path)")
    #expect(!FileManager.default.fileExists(atPath: w.forgetIntentPath))
    // The record of it names the mask.
    var records: [String] = []
    try LogReader(at: w.store.logPath).readRecords {
      records.append(String(decoding: $0.payload, as: UTF8.self))
    }
    #expect(records.last?.contains("\"person\":\"forgotten-00000001\"") == true, "\(records.last!)")
    #expect(try LogVerifier.verify(at: w.store.logPath).redactions.count == 1)
  }

  /// A crash right after the intent is on disk: the next command that opens the store finishes
  /// the whole forget before it reads anything.
  @Test func anIntentLeftByACrashIsCarriedOutByTheNextCatchUp() throws {
    let (dir, w) = try makeStore()
    defer { withExtendedLifetime(dir) {} }
    let intent = Warehouse.ForgetIntent(
      person: Self.person, mask: try w.nextMask(), reason: "request 2",
      time: Int64(Date().timeIntervalSince1970 * 1_000_000), user: "an", role: "auditor")
    try FileSystem.system.writeAtomically(
      intent.encode(), to: w.forgetIntentPath, directory: w.store.path)
    #expect(holders(w.store.path, except: w.forgetIntentPath).count > 1)
    try w.catchUpIfFree()
    #expect(holders(w.store.path) == [])
    #expect(!FileManager.default.fileExists(atPath: w.forgetIntentPath))
    // Finishing it again changes nothing.
    let before = snapshotTree(w.store.path + "/log")
    try FileSystem.system.writeAtomically(
      intent.encode(), to: w.forgetIntentPath, directory: w.store.path)
    try w.catchUp()
    #expect(snapshotTree(w.store.path + "/log") == before)
    #expect(try LogVerifier.verify(at: w.store.logPath).redactions.count == 1)
  }

  /// The request's event names no unit: a forget is the store's act, and a store of one
  /// province's data has no `VN` (finding 6 of issue 18). An intent of the hoso before
  /// (`hoso-forgetting 2`), whose event named `VN` and may be in the log already when it
  /// crashed, is carried out with that same event: a duplicate, not a conflict.
  @Test func theRequestNamesNoUnitButAnOlderIntentKeepsItsOwn() throws {
    let time = Int64(Date().timeIntervalSince1970 * 1_000_000)
    let intent = Warehouse.ForgetIntent(
      person: Self.person, mask: "forgotten-00000001", reason: "request 3", time: time,
      user: "an", role: "auditor")
    #expect(intent.encode().starts(with: Array("hoso-forgetting 3\n".utf8)))
    #expect(!intent.event.contains("\"unit\""), "\(intent.event)")
    let (dir, w) = try makeStore()
    defer { withExtendedLifetime(dir) {} }
    func hex(_ s: String) -> String { s.utf8.map { String(format: "%02x", $0) }.joined() }
    let older = Array(
      ("hoso-forgetting 2\nmask forgotten-00000001\nperson \(Self.person)\ntime \(time)\n"
        + "user \(hex("an"))\nrole auditor\nreason \(hex("request 3"))\n").utf8)
    let decoded = try #require(Warehouse.ForgetIntent.decode(older))
    #expect(decoded.encode() == older)
    #expect(decoded.event.contains(#""unit":"VN""#), "\(decoded.event)")
    // The older hoso had appended its event when it crashed.
    _ = try Array(decoded.event.utf8).withUnsafeBytes {
      try Appender.append(to: w.store, input: $0, options: Appender.Options())
    }
    writeBytes(older, to: w.forgetIntentPath)
    try w.catchUpIfFree()
    #expect(holders(w.store.path) == [])
    #expect(!FileManager.default.fileExists(atPath: w.forgetIntentPath))
    var requests: [String] = []
    try LogReader(at: w.store.logPath).readRecords {
      let text = String(decoding: $0.payload, as: UTF8.self)
      if text.hasPrefix(#"{"id":"forgotten-00000001-"#) { requests.append(text) }
    }
    #expect(requests.count == 1 && requests[0].contains(#""unit":"VN""#), "\(requests)")
  }

  @Test func aDamagedIntentStopsEveryCommand() throws {
    let (dir, w) = try makeStore()
    defer { withExtendedLifetime(dir) {} }
    writeBytes(Array("hoso-forgetting 2\nmask forgotten-0\n".utf8), to: w.forgetIntentPath)
    #expect {
      try w.catchUpIfFree()
    } throws: { ($0 as? LogError)?.kind == .damaged }
  }
}

/// What a second reader found: a reason the event's validation refuses, and a forget of an
/// older hoso cut short.
@Suite struct ForgetEdgeTests {
  private func makeStore(_ dir: TemporaryDirectory) throws -> Warehouse {
    let store = try Store.create(
      at: dir.path + "/store", segmentSize: 4096, keyPath: dir.path + "/store.key")
    let w = Warehouse(store: store)
    _ = try readBytes(ForgetTests.fixture)!.withUnsafeBytes {
      try w.append($0, options: Appender.Options(), views: nil)
    }
    return w
  }

  @Test func aReasonTheEventRefusesForgetsNothingAndLeavesNoIntent() throws {
    let dir = TemporaryDirectory("hoso-warehouse")
    let w = try makeStore(dir)
    let before = snapshotTree(w.store.path + "/log")
    #expect {
      _ = try w.forget(
        person: ForgetTests.person, reason: "PDPL request 202406150001", user: "an",
        role: "auditor", views: nil, now: Int64(Date().timeIntervalSince1970 * 1_000_000))
    } throws: { error in
      guard let e = error as? LogError else { return false }
      return e.kind == .invalidArgument && !e.message.contains(ForgetTests.person)
    }
    #expect(!FileManager.default.fileExists(atPath: w.forgetIntentPath))
    #expect(snapshotTree(w.store.path + "/log") == before)
    try w.catchUp()
  }

  /// An older hoso wrote `hoso-forgetting MASK` after appending the request's event, which
  /// named the person, and before it masked anything.
  @Test func aForgetOfAnOlderHosoCutShortIsCarriedOutWhole() throws {
    let dir = TemporaryDirectory("hoso-warehouse")
    let w = try makeStore(dir)
    let seconds = Int64(Date().timeIntervalSince1970)
    let event =
      "{\"id\":\"forgotten-00000001-\(seconds)\",\"type\":\"person.forgotten\","
      + "\"occurred_at\":\"\(Timestamp.format(seconds * 1_000_000))\",\"unit\":\"VN\","
      + "\"data\":{\"person\":\"\(ForgetTests.person)\",\"reason\":\"old request\"}}\n"
    _ = try Array(event.utf8).withUnsafeBytes {
      try Appender.append(to: w.store, input: $0, options: Appender.Options())
    }
    writeBytes(Array("hoso-forgetting forgotten-00000001\n".utf8), to: w.forgetIntentPath)
    try w.catchUp()
    let held = snapshotTree(w.store.path).filter {
      $0.value.firstRange(of: Array(ForgetTests.person.utf8)) != nil
    }
    #expect(held.isEmpty, "\(held.keys.sorted())")
    #expect(!FileManager.default.fileExists(atPath: w.forgetIntentPath))
    #expect(try LogVerifier.verify(at: w.store.logPath).redactions.count == 1)
  }
}
