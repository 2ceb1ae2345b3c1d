import Testing

@testable import Query

/// INTERVAL: DuckDB's reading of its literals and its text for them.
@Suite struct IntervalTests {
  @Test(arguments: [
    ("20 days", "20 days"),
    ("1 day", "1 day"),
    ("3 months", "3 months"),
    ("14 months", "1 year 2 months"),
    ("1 year 2 months 3 days 04:05:06.5", "1 year 2 months 3 days 04:05:06.5"),
    ("-90 minutes", "-01:30:00"),
    ("2 weeks", "14 days"),
    ("1 hour 30 minutes", "01:30:00"),
    ("0 days", "00:00:00"),
    ("36 hours", "36:00:00"),
    ("1.5 seconds", "00:00:01.5"),
  ])
  func readsAndWritesAsDuckDB(text: String, shown: String) {
    #expect(Interval.parse(text)?.text == shown)
  }

  @Test func rejectsWhatIsNotAnInterval() {
    for bad in ["", "days", "20", "20 fortnights", "1.5 months", "25:61", "three days"] {
      #expect(Interval.parse(bad) == nil, "\(bad)")
    }
  }

  @Test func ordersAsDuckDBNormalizes() {
    let month = SQLValue.interval(Interval.parse("1 month")!)
    let thirtyDays = SQLValue.interval(Interval.parse("30 days")!)
    let day = SQLValue.interval(Interval.parse("24 hours")!)
    #expect(Evaluator.compareValues(month, thirtyDays) == 0)
    #expect(Evaluator.compareValues(day, SQLValue.interval(Interval.parse("1 day")!)) == 0)
    #expect(Evaluator.compareValues(day, month) < 0)
  }
}
