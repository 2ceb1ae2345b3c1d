import Foundation
import Projections
import TestSupport
import Testing

/// `events` as DESIGN.md has it: the common columns, then every data field of the catalog
/// (NULL where a row's type has none), corrected and as of any seq like the rest; and
/// provinces known by their level, whether or not they name a parent.
@Suite struct WideEventsTests {
  typealias P = ProjectionTests

  @Test func eventsCarriesEveryTypesDataFields() throws {
    let store = try P.storeWithValid()
    let events = P.rows(try P.view(store, "events"))
    func row(_ id: String) throws -> [String: Value] {
      try #require(events.first { $0["id"] == .text(id) }, "event \(id)")
    }
    let tip = try row("tip-bk-2013-1")
    #expect(tip["source"] == .text("hotline"))
    #expect(tip["summary"] == .text("Phản ánh có hoạt động đáng ngờ tại quán karaoke"))
    // Another type's fields are NULL in its row.
    #expect(tip["result"] == .null)
    #expect(tip["amount_vnd"] == .null)
    // A field named like a common column is prefixed by its type.
    let budget = try row("budget-bk-2011-1")
    #expect(budget["budget_year"] == .int(2011))
    #expect(budget["amount_million_vnd"] == .double(62.5))
    #expect(budget["line"] == .text("Tuyên truyền"))
    // Fields of one name in several types share their column.
    #expect(try row("u-bk")["level"] == .text("province"))
    #expect(try row("training-bk-2012-1")["level"] == .text("province"))
    #expect(try row("est-bk-001")["kind"] == .text("karaoke"))
    #expect(try row("support-bk-2013-1")["kind"] == .text("vocational_training"))
    #expect(try row("est-bk-001-closed")["reason"] == .text("Thu hồi giấy phép"))
    #expect(try row("u-bk-merged")["into"] == .text("VN-TN"))
    #expect(try row("plan-bk-2011")["period_start"] != .null)
    // The correction is applied in `events`' data as in the type's table; `events_raw` keeps
    // the value as recorded; as of the seq before the correction, `events` had it too.
    #expect(try row("insp-bk-2013-1")["fine_vnd"] == .int(12_000_000))
    let raw = P.rows(try P.view(store, "events_raw"))
    #expect(raw.first { $0["id"] == .text("insp-bk-2013-1") }?["fine_vnd"] == .int(15_000_000))
    let before = P.rows(try P.view(store, "events", asOf: 16))
    #expect(before.first { $0["id"] == .text("insp-bk-2013-1") }?["fine_vnd"] == .int(15_000_000))
    // The list-valued targets live in `plan_targets` only; a correction's changes nowhere.
    let columns = BuiltinTables.events.columns.map(\.name)
    #expect(!columns.contains("targets") && !columns.contains("changes"))
    #expect(!columns.contains("data") && !columns.contains("target"))
  }

  /// A budget's year is a time, as `year` is: the analyst groups by it.
  @Test func theAnalystGroupsByBudgetYear() throws {
    let store = try P.storeWithValid()
    let r = try store.run([
      "--role", "analyst", "query",
      "SELECT budget_year, sum(amount_million_vnd) AS m FROM events"
        + " WHERE type = 'budget.allocated' GROUP BY budget_year",
      "--format", "csv",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("budget_year,m"), "\(r.stdout)")
  }

  @Test func theAnalystsFirstQueryRuns() throws {
    let store = try P.storeWithValid()
    let r = try store.run(
      [
        "--role", "auditor", "query",
        "SELECT year, count(*) FILTER (WHERE result = 'violation') AS v, sum(fine_vnd) AS f"
          + " FROM events WHERE type = 'inspection.done' GROUP BY year",
        "--format", "csv",
      ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.replacingOccurrences(of: "\r\n", with: "\n") == "year,v,f\n2013,1,12000000\n")
  }

  /// Text with escapes (read by the parser) and without (read by the quick scan) comes out
  /// the same as it went in, in `events` and in the type's table, and so do numbers.
  @Test func fieldsReadEitherWayHoldWhatWasWritten() throws {
    let store = try P.storeWithValid()
    let summary = #"Quán \"Hoa Hồng\" \\ tầng 2\nghi chú\t\u0001"#
    let decoded = "Quán \"Hoa Hồng\" \\ tầng 2\nghi chú\t\u{01}"
    let lines = [
      #"{"id":"tip-esc","type":"tip.received","occurred_at":"2014-03-01T09:00:00+07:00","#
        + #""recorded_at":"2026-03-01T10:00:00+07:00","unit":"VN-TN","case":"C-1","#
        + #""data":{"source":"citizen","summary":"\#(summary)"}}"#,
      #"{"id":"tip-plain","type":"tip.received","occurred_at":"2014-03-02T09:00:00+07:00","#
        + #""recorded_at":"2026-03-02T10:00:00+07:00","unit":"VN-TN","case":"C-2","#
        + #""data":{"source":"media","summary":"Phản ánh của báo địa phương"}}"#,
      #"{"id":"budget-x","type":"budget.allocated","occurred_at":"2014-03-03T09:00:00+07:00","#
        + #""recorded_at":"2026-03-03T10:00:00+07:00","unit":"VN-TN","#
        + #""data":{"plan":"BK-1513-2011","line":"Đào tạo","year":2014,"amount_million_vnd":1.25e2}}"#,
    ]
    let input = store.path + "/../escapes.ndjson"
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: input, atomically: true, encoding: .utf8)
    let r = try store.run(["append", input])
    #expect(r.status == 0, "\(r.stderr)")
    for table in ["events", "tips", "events_raw"] {
      let rows = P.rows(try P.view(store, table))
      #expect(rows.first { $0["id"] == .text("tip-esc") }?["summary"] == .text(decoded), "\(table)")
      #expect(
        rows.first { $0["id"] == .text("tip-plain") }?["summary"]
          == .text("Phản ánh của báo địa phương"), "\(table)")
    }
    let budget = P.rows(try P.view(store, "events")).first { $0["id"] == .text("budget-x") }
    #expect(budget?["amount_million_vnd"] == .double(125))
    #expect(budget?["budget_year"] == .int(2014))
  }

  /// The catalog's units need no parent: a unit of level province is a province wherever it
  /// hangs, a city with no parent or under the country is one, a city under a province is not.
  @Test func provincesAreKnownByTheirLevel() throws {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    func e(_ id: String, _ type: String, _ t: String, _ unit: String, _ data: String) -> String {
      #"{"id":"\#(id)","type":"\#(type)","occurred_at":"\#(t)T09:00:00+07:00","#
        + #""recorded_at":"\#(t)T10:00:00+07:00","unit":"\#(unit)","data":\#(data)}"#
    }
    let lines = [
      e("u1", "unit.established", "2011-01-01", "VN-BK", #"{"name":"Bắc Kạn","level":"province"}"#),
      e("u2", "unit.established", "2011-01-01", "VN-HN", #"{"name":"Hà Nội","level":"city"}"#),
      e(
        "u3", "unit.established", "2011-01-01", "VN-BK-CM",
        #"{"name":"Chợ Mới","level":"district","parent":"VN-BK"}"#),
      e(
        "u4", "unit.established", "2011-01-01", "VN-BK-BK",
        #"{"name":"Thành phố Bắc Kạn","level":"city","parent":"VN-BK"}"#),
      e(
        "u5", "unit.established", "2011-01-01", "VN-TN",
        #"{"name":"Thái Nguyên","level":"province"}"#),
      e(
        "o1", "outreach.held", "2013-04-10", "VN-BK-CM",
        #"{"form":"meeting","audience":"residents","reached":120}"#),
      e(
        "o2", "outreach.held", "2013-04-11", "VN-HN",
        #"{"form":"meeting","audience":"residents","reached":80}"#),
      e(
        "o3", "outreach.held", "2013-04-12", "VN-BK-BK",
        #"{"form":"meeting","audience":"residents","reached":30}"#),
      e("m1", "unit.merged", "2025-07-01", "VN-BK", #"{"into":"VN-TN"}"#),
    ]
    let input = store.path + "/../units.ndjson"
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: input, atomically: true, encoding: .utf8)
    let r = try store.run(["append", input])
    #expect(r.status == 0, "\(r.stderr)")
    let events = P.rows(try P.view(store, "events"))
    func province(_ id: String) -> (Value?, Value?) {
      let row = events.first { $0["id"] == .text(id) }
      return (row?["province"], row?["province_now"])
    }
    #expect(province("o1") == (.text("Bắc Kạn"), .text("Thái Nguyên")))
    #expect(province("o2") == (.text("Hà Nội"), .text("Hà Nội")))
    #expect(province("o3") == (.text("Bắc Kạn"), .text("Thái Nguyên")))
    #expect(province("u1") == (.text("Bắc Kạn"), .text("Thái Nguyên")))
    let units = P.rows(try P.view(store, "units"))
    let bk = units.first { $0["unit"] == .text("VN-BK-BK") }
    #expect(bk?["province_now"] == .text("Thái Nguyên"))
    #expect(units.first { $0["unit"] == .text("VN-HN") }?["province_now"] == .text("Hà Nội"))
  }

  /// Tables written with another schema (an older hoso's `events_raw`) are rebuilt by the next
  /// command, not read as no table: a query answered from them gave 0 rows.
  @Test(arguments: ["column actor VARCHAR\n", "column seq BIGINT\n"])
  func aTableOfAnotherSchemaIsRebuiltNotEmpty(after line: String) throws {
    let store = try P.storeWithValid()
    let manifest = store.path + "/views/events_raw/MANIFEST"
    var text = try String(contentsOfFile: manifest, encoding: .utf8)
    // As another hoso wrote it: a column this one does not have (among the others, or first).
    let extra = "column legacy VARCHAR\n"
    text = text.replacingOccurrences(
      of: line, with: line.hasPrefix("column seq") ? extra + line : line + extra)
    try text.write(toFile: manifest, atomically: true, encoding: .utf8)
    let r = try store.run(
      ["--role", "auditor", "query", "SELECT count(*) AS n FROM events", "--format", "csv"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.replacingOccurrences(of: "\r\n", with: "\n") == "n\n20\n")
  }
}
