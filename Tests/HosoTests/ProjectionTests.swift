import Foundation
import Projections
import TestSupport
import Testing

/// The built-in tables: what the log holds, column by column, kept current on every append,
/// the same whichever way the log was appended, and right after a crash between the log and
/// the tables.
@Suite struct ProjectionTests {
  static let valid = packageRoot + "/events/fixtures/valid.ndjson"

  static func view(_ store: TestStore, _ name: String, asOf: UInt64 = .max) throws -> TableView {
    let spec = BuiltinTables.all.first { $0.name == name }!
    return try #require(
      try TableView.open(store: store.path, spec: spec, asOf: asOf), "table \(name)")
  }

  /// Rows as dictionaries by column name.
  static func rows(_ v: TableView) -> [[String: Value]] {
    v.rows().map { Dictionary(uniqueKeysWithValues: zip(v.table.schema.map(\.name), $0)) }
  }

  static func storeWithValid() throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let r = try store.run(["append", valid])
    #expect(r.status == 0, "\(r.stderr)")
    return store
  }

  /// Vietnam wall-clock microseconds of a local time.
  static func wall(_ y: Int, _ m: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Value {
    var c = DateComponents()
    (c.year, c.month, c.day, c.hour, c.minute) = (y, m, d, h, mi)
    c.timeZone = TimeZone(identifier: "UTC")
    let date = Calendar(identifier: .gregorian).date(from: c)!
    return .int(Int64(date.timeIntervalSince1970) * 1_000_000)
  }

  @Test func theFixtureProjectsColumnByColumn() throws {
    let store = try Self.storeWithValid()
    let raw = Self.rows(try Self.view(store, "events_raw"))
    #expect(raw.count == 23)
    #expect(raw.map { $0["seq"] } == (1...23).map { .int(Int64($0)) })
    let events = Self.rows(try Self.view(store, "events"))
    // Corrections and voids are not events of their own there, and the voided event is gone.
    #expect(events.count == 20)
    #expect(!events.contains { $0["id"] == .text("outreach-bk-2013-dup") })
    #expect(!events.contains { $0["type"] == .text("event.corrected") })
    let tip = try #require(events.first { $0["id"] == .text("tip-bk-2013-1") })
    #expect(tip["occurred_at"] == Self.wall(2013, 6, 1, 21, 30))
    #expect(tip["year"] == .int(2013))
    #expect(tip["case_id"] == .text("C-BK-2013-001"))
    #expect(tip["establishment"] == .text("E-BK-0001"))
    #expect(tip["person"] == .null)
    // Before 1 July 2025 Bắc Kạn; its territory is Thái Nguyên's now.
    #expect(tip["province"] == .text("Bắc Kạn"))
    #expect(tip["province_now"] == .text("Thái Nguyên"))
    let forget = try #require(events.first { $0["id"] == .text("forget-2026-1") })
    #expect(forget["province"] == .text("Thái Nguyên"))

    // The correction is applied in the type's table and in `events`' data.
    let inspections = Self.rows(try Self.view(store, "inspections"))
    #expect(inspections.count == 1)
    #expect(inspections[0]["fine_vnd"] == .int(12_000_000))
    #expect(events.contains { $0["id"] == .text("insp-bk-2013-1") })
    // As of the seq before the correction: the value as first recorded.
    let before = Self.rows(try Self.view(store, "inspections", asOf: 16))
    #expect(before[0]["fine_vnd"] != .int(12_000_000))
    let outreachBefore = Self.rows(try Self.view(store, "outreach", asOf: 18))
    #expect(outreachBefore.count == 2)
    #expect(Self.rows(try Self.view(store, "outreach")).count == 1)

    // The establishment's closing fills in its row.
    let est = Self.rows(try Self.view(store, "establishments"))
    #expect(est.count == 1)
    #expect(est[0]["closed_at"] == Self.wall(2016, 1, 15, 8))
    #expect(est[0]["close_reason"] == .text("Thu hồi giấy phép"))
    #expect(est[0]["kind"] == .text("karaoke"))

    let units = Self.rows(try Self.view(store, "units"))
    #expect(units.count == 5)
    let bk = try #require(units.first { $0["unit"] == .text("VN-BK") })
    #expect(bk["merged_into"] == .text("VN-TN"))
    #expect(bk["province_now"] == .text("Thái Nguyên"))
    let yd = try #require(units.first { $0["unit"] == .text("VN-BK-CM-YD") })
    #expect(yd["parent"] == .text("VN-TN"))

    let budgets = Self.rows(try Self.view(store, "budgets"))
    #expect(budgets.count == 1)
    #expect(budgets[0]["budget_year"] == .int(2011))
    let targets = Self.rows(try Self.view(store, "plan_targets"))
    #expect(!targets.isEmpty)
    #expect(targets.allSatisfy { $0["plan"] == .text("BK-1513-2011") })
  }

  @Test func decomposedVietnameseIsStoredComposed() throws {
    let store = try Self.storeWithValid()
    let nfc = "Hà Giang – Đồng Văn, huyện Mèo Vạc"
    let nfd = nfc.decomposedStringWithCanonicalMapping
    #expect(Array(nfd.utf8) != Array(nfc.utf8))
    let line = { (id: String, code: String, name: String) in
      #"{"id":"\#(id)","type":"unit.established","occurred_at":"2011-01-01T00:00:00+07:00","#
        + #""unit":"\#(code)","data":{"name":"\#(name)","level":"province","parent":"VN"}}"#
    }
    let input = line("u-hg-nfd", "VN-HGX", nfd) + "\n" + line("u-hg-nfc", "VN-HGY", nfc) + "\n"
    let r = try store.run(["append", "-"], stdin: Array(input.utf8))
    #expect(r.status == 0, "\(r.stderr)")
    let units = Self.rows(try Self.view(store, "units"))
    let names = units.filter { [Value.text("VN-HGX"), .text("VN-HGY")].contains($0["unit"]!) }.map {
      $0["name"]!
    }
    #expect(names == [Value.text(nfc), .text(nfc)])
    if case .text(let stored)? = names.first {
      #expect(Array(stored.utf8) == Array(nfc.utf8), "stored byte for byte composed (NFC)")
    }
  }

  /// Every table's rows, for comparing two stores.
  static func allRows(_ store: TestStore) throws -> [String: [[Value]]] {
    var out: [String: [[Value]]] = [:]
    for spec in BuiltinTables.all {
      out[spec.name] = try TableView.open(store: store.path, spec: spec)?.rows() ?? []
    }
    return out
  }

  /// Appends `lines` to a new store in batches of 1 to `largest` lines cut at random (the
  /// tables caught up after each), and expects the same tables as in `one`.
  static func expectSameTables(
    as one: TestStore, appending lines: [Substring], largest: Int, seed: UInt64
  ) throws {
    var rng = SplitMix64(seed: seed)
    let many = TestStore()
    #expect(try many.run(["init"]).status == 0)
    var i = 0
    while i < lines.count {
      let n = Int.random(in: 1...largest, using: &rng)
      let batch = lines[i..<min(lines.count, i + n)].joined(separator: "\n") + "\n"
      let r = try many.run(["append", "-"], stdin: Array(batch.utf8))
      #expect(r.status == 0, "seed \(seed): \(r.stderr)")
      i += n
    }
    let a = try allRows(one)
    let b = try allRows(many)
    for spec in BuiltinTables.all {
      #expect(a[spec.name]! == b[spec.name]!, "seed \(seed): table \(spec.name) differs")
    }
  }

  @Test(arguments: testSeeds(fixed: 5))
  func appendingLineByLineGivesTheSameTablesAsOnePass(seed: UInt64) throws {
    let lines = try String(contentsOfFile: Self.valid, encoding: .utf8).split(separator: "\n")
    try Self.expectSameTables(
      as: try Self.storeWithValid(), appending: lines, largest: 4, seed: seed)
  }

  /// Generated streams (units merged mid-stream, corrections, voids, closings) appended whole
  /// or cut at random into many appends: the same tables.
  @Test(arguments: testSeeds(fixed: 17))
  func generatedStreamsGiveTheSameTablesInOneOrManyAppends(seed: UInt64) throws {
    let g = try runHoso(["generate", "--seed", String(seed % 100_000), "--count", "3000"])
    #expect(g.status == 0, "seed \(seed): \(g.stderr)")
    let one = TestStore()
    #expect(try one.run(["init"]).status == 0)
    #expect(try one.run(["append", "-"], stdin: Array(g.stdout.utf8)).status == 0)
    #expect(try Self.allRows(one)["events"]!.count > 2000, "seed \(seed)")
    try Self.expectSameTables(
      as: one, appending: g.stdout.split(separator: "\n"), largest: 600, seed: seed)
  }

  @Test func aCrashBetweenTheLogAndTheTablesIsCaughtUpAndRebuildsAreByteIdentical() throws {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    // The test hook stops `append` after the log is durable, before the tables: as a kill
    // at that moment would.
    let r = try runHoso(
      ["--store", store.path, "--key", store.keyPath, "append", Self.valid],
      environment: ["HOSO_TEST_SKIP_PROJECTION": "1"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(try TableView.open(store: store.path, spec: BuiltinTables.events) == nil)
    // The next command that opens the store catches up.
    let audit = try store.run(["audit", "C-BK-2013-001"])
    #expect(audit.status == 0, "\(audit.stderr)")
    let caughtUp = snapshotTree(store.path + "/views")
    #expect(try Self.allRows(store)["events"]!.count == 20)
    // Removing the tables and projecting again gives the same files, byte for byte.
    try FileManager.default.removeItem(atPath: store.path + "/views")
    #expect(try store.run(["verify"]).status == 0)
    #expect(try store.run(["status"]).status == 0)
    #expect(snapshotTree(store.path + "/views") == caughtUp)
  }

  /// A crash between committing a table's rows and its patches leaves the patches behind:
  /// the catch-up redoes the patches and does not add the rows again.
  @Test func patchesBehindTheirRowsAreRedoneWithoutDuplicatingRows() throws {
    let lines = try String(contentsOfFile: Self.valid, encoding: .utf8).split(separator: "\n")
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let first = lines[..<14].joined(separator: "\n") + "\n"
    #expect(try store.run(["append", "-"], stdin: Array(first.utf8)).status == 0)
    // Outreach: a row at seq 18 after the cut, and the void of it at seq 19.
    let patches = store.path + "/views/outreach/patches"
    let saved = store.root.path + "/patches-before"
    try FileManager.default.copyItem(atPath: patches, toPath: saved)
    let rest = lines[14...].joined(separator: "\n") + "\n"
    #expect(try store.run(["append", "-"], stdin: Array(rest.utf8)).status == 0)
    try FileManager.default.removeItem(atPath: patches)
    try FileManager.default.moveItem(atPath: saved, toPath: patches)
    #expect(try store.run(["status"]).status == 0)
    let outreach = try Self.view(store, "outreach")
    #expect(outreach.table.rowCount == 2)
    #expect(Self.rows(outreach).count == 1)
    let caughtUp = try Self.allRows(store)
    try FileManager.default.removeItem(atPath: store.path + "/views")
    #expect(try store.run(["status"]).status == 0)
    #expect(try Self.allRows(store) == caughtUp)
  }

  /// Tables of format 3 (the same groups, without narrow integers) are read as they are:
  /// neither rebuilt nor rewritten by the next command, and no projection run for them.
  @Test func tablesOfTheFormatBeforeNarrowIntegersAreReadAsTheyAre() throws {
    let store = try Self.storeWithValid()
    let views = store.path + "/views"
    let before = try Self.allRows(store)
    let fm = FileManager.default
    for path in try fm.subpathsOfDirectory(atPath: views) where path.hasSuffix("MANIFEST") {
      let file = views + "/" + path
      let text = try String(contentsOfFile: file, encoding: .utf8)
      let older = text.replacingOccurrences(of: Table.format + "\n", with: "hoso-table 3\n")
      #expect(older != text, "\(path)")
      try older.write(toFile: file, atomically: true, encoding: .utf8)
    }
    let made = snapshotTree(views)
    // The log's writer lock held here: a query that judged the tables behind would try to
    // bring them up to date, and say that it could not.
    let lock = open(store.path + "/log/LOCK", O_RDWR)
    #expect(lock >= 0 && flock(lock, LOCK_EX | LOCK_NB) == 0)
    let r = try store.run(["query", "SELECT count(*) FROM events"])
    close(lock)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stderr.isEmpty, "\(r.stderr)")
    #expect(snapshotTree(views) == made)
    #expect(try Self.allRows(store) == before)
  }

  /// Tables written by an older hoso (a manifest of an earlier format, group files of an
  /// earlier layout) are rebuilt from the log by the next command, not refused.
  @Test func tablesOfAnOlderFormatAreRebuilt() throws {
    let store = try Self.storeWithValid()
    let views = store.path + "/views"
    let before = try Self.allRows(store)
    let made = snapshotTree(views)
    let fm = FileManager.default
    for path in try fm.subpathsOfDirectory(atPath: views) {
      let file = views + "/" + path
      if path.hasSuffix("MANIFEST") {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let older = text.replacingOccurrences(of: Table.format + "\n", with: "hoso-table 2\n")
        #expect(older != text, "\(path)")
        try older.write(toFile: file, atomically: true, encoding: .utf8)
      } else if path.hasSuffix(".grp") {
        var bytes = try #require(fm.contents(atPath: file))
        bytes[7] = UInt8(ascii: "1")  // HOSOGRP1
        try bytes.write(to: URL(fileURLWithPath: file))
      }
    }
    let r = try store.run(["query", "SELECT count(*) FROM events"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(snapshotTree(views) == made)
    #expect(try Self.allRows(store) == before)
  }

  /// A rebuild writes a new folder and swaps it in; a crash at either step is undone.
  @Test func anInterruptedRebuildLeavesTheOldTablesWhole() throws {
    let store = try Self.storeWithValid()
    let views = store.path + "/views"
    let before = try Self.allRows(store)
    // Killed while writing the new folder.
    try FileManager.default.createDirectory(
      atPath: views + ".rebuild/events_raw", withIntermediateDirectories: true)
    #expect(try store.run(["status"]).status == 0)
    #expect(!FileManager.default.fileExists(atPath: views + ".rebuild"))
    // Killed between the two renames of the swap.
    try FileManager.default.moveItem(atPath: views, toPath: views + ".old")
    #expect(try store.run(["status"]).status == 0)
    #expect(!FileManager.default.fileExists(atPath: views + ".old"))
    #expect(try Self.allRows(store) == before)
  }

  @Test func verifyChecksTheTablesAndNamesADamagedGroup() throws {
    let store = try Self.storeWithValid()
    let ok = try store.run(["verify"])
    #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
    #expect(ok.stdout.contains("tables: 14 checked"))
    #expect(ok.stdout.hasSuffix("ok: 23 events in 1 segments, seq 1..23\n"))
    let folder = store.path + "/views/inspections"
    let group = try #require(
      try FileManager.default.contentsOfDirectory(atPath: folder).first { $0.hasSuffix(".grp") })
    var bytes = try #require(readBytes(folder + "/" + group))
    bytes[bytes.count - 9] ^= 0x01
    writeBytes(bytes, to: folder + "/" + group)
    let bad = try store.run(["verify"])
    #expect(bad.status == 2)
    #expect(bad.stderr.contains(group) && bad.stderr.contains("remove"), "\(bad.stderr)")
    // The remedy the message gives works: the tables come back from the log.
    try FileManager.default.removeItem(atPath: store.path + "/views")
    #expect(try store.run(["audit", "C-BK-2013-001"]).status == 0)
    #expect(try store.run(["verify"]).status == 0)
  }

  @Test func auditShowsTheCaseAsItWasKnown() throws {
    let store = try Self.storeWithValid()
    let now = try store.run(["audit", "C-BK-2013-001"])
    #expect(now.status == 0, "\(now.stderr)")
    #expect(now.stdout.contains("corrected by seq 17"))
    #expect(now.stdout.contains("closed    2013-08-01 09:00:00, sanctioned"))
    // Before the correction was recorded (2013-08-02 09:30) the fine is as first entered.
    let before = try store.run(["audit", "C-BK-2013-001", "--as-of", "2013-08-02 09:00"])
    #expect(before.status == 0)
    #expect(!before.stdout.contains("corrected by"))
    let earlier = try store.run(["audit", "C-BK-2013-001", "--as-of", "2013-06-06"])
    #expect(earlier.stdout.contains("closed    not yet (open)"))
    let json = try store.run(["audit", "C-BK-2013-001", "--format", "json"])
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect((object?["events"] as? [Any])?.count == 5)
    let unknown = try store.run(["audit", "C-NOPE"])
    #expect(unknown.status == 1)
    #expect(unknown.stderr.contains("no case \"C-NOPE\""))
    let bad = try store.run(["audit", "C-BK-2013-001", "--as-of", "yesterday"])
    #expect(bad.status == 1)
  }
}
