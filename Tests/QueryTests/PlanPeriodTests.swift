import Domain
import Foundation
import TestSupport
import Testing

@testable import Query

/// `plan_period(date or year)`: the period of the national programme in force, for a time
/// and for a year as the tables and views hold it (an integer); a year no programme covers is
/// its own period. An integer year was once NULL, and so was a year typed as text, silently.
@Suite struct PlanPeriodTests {
  /// The days since 1970 of a date.
  static func day(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 { Timestamp.daysFromCivil(y, m, d) }

  /// The national programmes as `events/plans` holds them.
  static let programmes: [PlanPeriods.Period] = [
    (day(2011, 1, 1), day(2015, 12, 31), "2011-2015"),
    (day(2016, 1, 1), day(2020, 12, 31), "2016-2020"),
    (day(2021, 1, 1), day(2025, 12, 31), "2021-2025"),
  ]

  @Test func aYearIsInTheProgrammeInForceOnMostOfIt() {
    let years = PlanPeriods.years(Self.programmes)
    for y in Int64(2011)...2015 { #expect(years[y] == "2011-2015", "\(y)") }
    for y in Int64(2016)...2020 { #expect(years[y] == "2016-2020", "\(y)") }
    for y in Int64(2021)...2025 { #expect(years[y] == "2021-2025", "\(y)") }
    #expect(years[2010] == nil && years[2026] == nil)
    // A programme adopted for the second half of a year that the first half's ends in: the
    // year is the one in force on more of its days.
    let adjoining = PlanPeriods.years([
      (Self.day(2021, 1, 1), Self.day(2026, 6, 30), "2021-2026"),
      (Self.day(2026, 7, 1), Self.day(2035, 12, 31), "2026-2035"),
    ])
    #expect(adjoining[2026] == "2026-2035" && adjoining[2025] == "2021-2026")
    #expect(adjoining[2027] == "2026-2035")
    // A year mostly under no programme is its own, though a programme begins in it.
    let late = PlanPeriods.years([(Self.day(2026, 10, 1), Self.day(2035, 12, 31), "2026-2035")])
    #expect(late[2026] == nil && late[2027] == "2026-2035")
    let early = PlanPeriods.years([(Self.day(2026, 3, 1), Self.day(2035, 12, 31), "2026-2035")])
    #expect(early[2026] == "2026-2035")
    // Two in force all year: the newer, which replaces the older.
    let overlapping = PlanPeriods.years([
      (Self.day(2021, 1, 1), Self.day(2027, 12, 31), "2021-2027"),
      (Self.day(2026, 1, 1), Self.day(2035, 12, 31), "2026-2035"),
    ])
    #expect(overlapping[2025] == "2021-2027" && overlapping[2026] == "2026-2035")
    // Two programmes sharing a year: the one in force on more of its days (183 against 182).
    let halves = PlanPeriods.years([
      (Self.day(2026, 1, 1), Self.day(2026, 7, 2), "A"),
      (Self.day(2026, 7, 3), Self.day(2026, 12, 31), "B"),
    ])
    #expect(halves[2026] == "A")
  }

  /// A demo store (the committed plans, and events from 2000 to 2026), made once; each test
  /// opens its own engine on it.
  static let demo: TestStore = {
    let store = TestStore()
    let made = try? store.run(["demo", "--count", "3000"])
    precondition(made?.status == 0, "hoso demo: \(made?.stderr ?? "did not run")")
    return store
  }()

  static func values(_ engine: Engine, _ sql: String) throws -> [[SQLValue]] {
    let r = try engine.run(sql)[0]
    return (0..<r.rows.count).map { i in r.rows.columns.map { $0.value(i) } }
  }

  @Test func ofAnIntegerYear() throws {
    let row = try Self.values(
      Engine(store: Self.demo.path),
      "SELECT plan_period(2010), plan_period(2011), plan_period(2014), plan_period(2015),"
        + " plan_period(2016), plan_period(2020), plan_period(2021), plan_period(2025),"
        + " plan_period(2026), plan_period(CAST(NULL AS BIGINT)), plan_period(NULL)")[0]
    #expect(
      row == [
        .text("2010"), .text("2011-2015"), .text("2011-2015"), .text("2011-2015"),
        .text("2016-2020"), .text("2016-2020"), .text("2021-2025"), .text("2021-2025"),
        .text("2026"), .null, .null,
      ])
  }

  /// A view's `year` column, grouped: the period of each year is the period of its events'
  /// times, by the vectorized path and by the general executor alike.
  @Test func ofAYearColumnAgreesWithThatOfTheTimes() throws {
    let fast = try Engine(store: Self.demo.path)
    let general = try Engine(store: Self.demo.path)
    general.vectorized = false
    let byYear = "SELECT year, plan_period(year) AS p, count(*) AS n FROM events GROUP BY ALL"
    let before = fast.vectorizedScans
    let a = try Self.values(fast, byYear).sorted { "\($0)" < "\($1)" }
    #expect(fast.vectorizedScans == before + 1, "the vectorized path answered")
    let b = try Self.values(general, byYear).sorted { "\($0)" < "\($1)" }
    #expect(a == b)
    #expect(a.count >= 16)
    let byTime = try Self.values(
      fast,
      "SELECT year, plan_period(occurred_at) AS p, count(*) AS n FROM events"
        + " WHERE month(occurred_at) BETWEEN 4 AND 9 GROUP BY ALL")
    let midYear = Dictionary(uniqueKeysWithValues: byTime.map { ($0[0], $0[1]) })
    #expect(midYear.count >= 16)
    for r in a where midYear[r[0]] != nil {
      #expect(midYear[r[0]] == r[1], "\(r[0])")
    }
    #expect(a.contains { $0[0] == .int(2014) && $0[1] == .text("2011-2015") })
    #expect(a.contains { $0[0] == .int(2026) && $0[1] == .text("2026") })
    // An integer that is no column goes the general way, to the same periods.
    let computed = try Self.values(
      fast,
      "SELECT DISTINCT plan_period(year + 0) AS p FROM events WHERE year BETWEEN 2015 AND 2016")
    #expect(Set(computed.map { $0[0] }) == [.text("2011-2015"), .text("2016-2020")])
  }

  @Test(arguments: [
    ("'2014'", "VARCHAR"), ("2014.5", "DOUBLE"), ("true", "BOOLEAN"),
    ("INTERVAL 1 YEAR", "INTERVAL"), ("province", "VARCHAR"),
  ])
  func ofAnythingElseIsABinderError(argument: String, type: String) throws {
    let sql = "SELECT plan_period(\(argument)) FROM events LIMIT 1"
    let engine = try Engine(store: Self.demo.path)
    do {
      _ = try engine.run(sql)
      Issue.record("\(sql) ran")
    } catch {
      #expect(error.kind == .binder, "\(error)")
      #expect(
        error.message
          == "No function matches the given name and argument types 'plan_period(\(type))':"
          + " plan_period takes a DATE, a TIMESTAMP or a year (BIGINT)")
    }
  }

  /// Periods read from a store's own plans: a programme adopted from the middle of a year
  /// takes the years it is in force on most of.
  @Test func ofAProgrammeFromMidYear() throws {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let lines = [
      #"{"id":"u-vn","type":"unit.established","occurred_at":"2000-01-01T00:00:00+07:00","recorded_at":"2010-01-01T00:00:00+07:00","unit":"VN","data":{"name":"Việt Nam","level":"country"}}"#,
      #"{"id":"p-1","type":"plan.adopted","occurred_at":"2021-09-28T00:00:00+07:00","recorded_at":"2021-09-28T00:00:00+07:00","unit":"VN","data":{"plan":"1629/QĐ-TTg","title":"a","issuer":"b","level":"national","period_start":"2021-01-01","period_end":"2025-12-31","targets":[]}}"#,
      #"{"id":"p-2","type":"plan.adopted","occurred_at":"2026-05-01T00:00:00+07:00","recorded_at":"2026-05-01T00:00:00+07:00","unit":"VN","data":{"plan":"1/QĐ-TTg","title":"a","issuer":"b","level":"national","period_start":"2026-05-01","period_end":"2035-12-31","targets":[]}}"#,
    ]
    let appended = try store.run(["append", "-"], stdin: Array(lines.joined(separator: "\n").utf8))
    #expect(appended.status == 0, "\(appended.stderr)")
    let engine = try Engine(store: store.path)
    let row = try Self.values(
      engine,
      "SELECT plan_period(2025), plan_period(2026), plan_period(DATE '2026-02-01'),"
        + " plan_period(2035), plan_period(2036)")[0]
    #expect(
      row == [
        .text("2021-2025"), .text("2026-2035"), .text("2026-2035"), .text("2026-2035"),
        .text("2036"),
      ])
  }
}
