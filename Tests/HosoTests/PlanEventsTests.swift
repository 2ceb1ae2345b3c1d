import Foundation
import TestSupport
import Testing

/// The committed plans, `events/plans/*.ndjson`: Bắc Kạn's budget table adds up as the
/// document's does, every file is in time order, the plans name only committed parents, the
/// national programmes cover 2011–2025 exactly, and the whole set appends to a fresh store.
@Suite struct PlanEventsTests {
  static let plans = packageRoot + "/events/plans"
  /// The jurisdictions; until this file is committed the test makes up the units it needs.
  static let units = packageRoot + "/events/reference/units.ndjson"

  /// One event of a plan file, decoded, with where it came from.
  struct Event {
    var file: String
    var line: Int
    var text: String
    var object: [String: Any]

    var id: String { object["id"] as? String ?? "" }
    var type: String { object["type"] as? String ?? "" }
    var data: [String: Any] { object["data"] as? [String: Any] ?? [:] }
    var recordedAt: String { object["recorded_at"] as? String ?? "" }
    var occurredAt: String { object["occurred_at"] as? String ?? "" }
    var place: String { "\(file):\(line)" }
  }

  /// The plan files, in name order.
  static func planFiles() throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: plans)
      .filter { $0.hasSuffix(".ndjson") }.sorted()
  }

  /// The events of an NDJSON text, one per non-blank line.
  static func events(of text: String, file: String) throws -> [Event] {
    var out: [Event] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where !line.trimmingCharacters(in: .whitespaces).isEmpty {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
      let dictionary = try #require(object as? [String: Any], "\(file):\(i + 1) is not an object")
      out.append(Event(file: file, line: i + 1, text: String(line), object: dictionary))
    }
    return out
  }

  /// Every plan file's events, by file name.
  static func planEvents() throws -> [(file: String, events: [Event])] {
    try planFiles().map { name in
      let text = try String(contentsOfFile: plans + "/" + name, encoding: .utf8)
      return (name, try events(of: text, file: name))
    }
  }

  /// An ISO 8601 time with an offset (seconds, or a fraction of them) as an instant.
  static func instant(_ text: String) -> Date? {
    let plain = ISO8601DateFormatter()
    if let date = plain.date(from: text) { return date }
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return fractional.date(from: text)
  }

  @Test func theBacKanBudgetTableAddsUpAsTheDocumentsDoes() throws {
    let budgets = try Self.planEvents().flatMap(\.events).filter {
      $0.type == "budget.allocated" && $0.data["plan"] as? String == "1513/QĐ-UBND"
    }
    #expect(budgets.count == 25)
    var byYear: [Int: Double] = [:]
    var linesByYear: [Int: Set<String>] = [:]
    for b in budgets {
      let year = try #require(b.data["year"] as? Int, "\(b.place): year")
      let amount = try #require(b.data["amount_million_vnd"] as? Double, "\(b.place): amount")
      let line = try #require(b.data["line"] as? String, "\(b.place): line")
      byYear[year, default: 0] += amount
      linesByYear[year, default: []].insert(line)
    }
    #expect(byYear.values.reduce(0, +) == 2500)
    #expect(byYear == [2011: 220, 2012: 580, 2013: 580, 2014: 600, 2015: 520])
    #expect(linesByYear.count == 5)
    for (year, lines) in linesByYear { #expect(lines.count == 5, "\(year): \(lines.count) lines") }
    #expect(Set(linesByYear.values.flatMap { $0 }).count == 5, "the same 5 lines every year")
  }

  @Test func everyFileIsInTimeOrderAndEveryIdIsUsedOnce() throws {
    var seen: [String: String] = [:]
    let files = try Self.planEvents()
    #expect(!files.isEmpty)
    for (file, events) in files {
      #expect(!events.isEmpty, "\(file) is empty")
      var previous: Date?
      for e in events {
        let recorded = try #require(Self.instant(e.recordedAt), "\(e.place): recorded_at")
        let occurred = try #require(Self.instant(e.occurredAt), "\(e.place): occurred_at")
        #expect(occurred <= recorded, "\(e.place): occurred_at after recorded_at")
        if let previous { #expect(previous <= recorded, "\(e.place): recorded_at goes back") }
        previous = recorded
        #expect(seen[e.id] == nil, "\(e.place): id \(e.id) also at \(seen[e.id] ?? "")")
        seen[e.id] = e.place
      }
      let plansInFile = events.filter { $0.type == "plan.adopted" }
      #expect(plansInFile.count == 1, "\(file): one plan.adopted per file")
    }
  }

  @Test func everyBasisIsAPlanCommittedInAnotherFile() throws {
    let files = try Self.planEvents()
    var fileOfPlan: [String: String] = [:]
    for (file, events) in files {
      for e in events where e.type == "plan.adopted" {
        let plan = try #require(e.data["plan"] as? String, "\(e.place): plan")
        #expect(fileOfPlan[plan] == nil, "\(e.place): \(plan) adopted twice")
        fileOfPlan[plan] = file
      }
    }
    // A basis that is not committed must be listed as such in the README.
    let readme = try String(contentsOfFile: Self.plans + "/README.md", encoding: .utf8)
    let notCommitted = readme.components(separatedBy: "that are not committed").dropFirst()
      .joined()
    for (file, events) in files {
      for e in events where e.type == "plan.adopted" {
        guard let basis = e.data["basis"] as? String else { continue }
        if let parent = fileOfPlan[basis] {
          #expect(parent != file, "\(e.place): \(basis) is its own basis")
        } else {
          #expect(notCommitted.contains(basis), "\(e.place): basis \(basis) is not committed")
        }
      }
    }
  }

  @Test func everyTargetIsAPercentageOfADocumentedIndicator() throws {
    let readme = try String(contentsOfFile: packageRoot + "/events/README.md", encoding: .utf8)
    let indicators = try #require(
      readme.components(separatedBy: "## Indicators").dropFirst().first, "no ## Indicators")
    for e in try Self.planEvents().flatMap(\.events) where e.type == "plan.adopted" {
      let targets = try #require(e.data["targets"] as? [[String: Any]], "\(e.place): targets")
      for t in targets {
        let name = try #require(t["indicator"] as? String, "\(e.place): indicator")
        let percent = try #require(t["min_percent"] as? Double, "\(e.place): min_percent")
        #expect((0...100).contains(percent), "\(e.place): \(name) \(percent)")
        #expect(
          name.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) },
          "\(e.place): \(name) is not snake_case")
        #expect(indicators.contains("`\(name)`"), "\(e.place): \(name) not in ## Indicators")
      }
    }
  }

  @Test func theNationalProgrammesCover2011To2025WithoutGapOrOverlap() throws {
    let national = try Self.planEvents().flatMap(\.events).filter {
      $0.type == "plan.adopted" && $0.data["level"] as? String == "national"
    }
    let periods = national.compactMap { e -> (start: String, end: String)? in
      guard let start = e.data["period_start"] as? String,
        let end = e.data["period_end"] as? String
      else { return nil }
      return (start, end)
    }.sorted { $0.start < $1.start }
    #expect(periods.count == 3)
    #expect(periods.first?.start == "2011-01-01")
    #expect(periods.last?.end == "2025-12-31")
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    let day = DateFormatter()
    day.calendar = calendar
    day.timeZone = calendar.timeZone
    day.locale = Locale(identifier: "en_US_POSIX")
    day.dateFormat = "yyyy-MM-dd"
    for (a, b) in zip(periods, periods.dropFirst()) {
      let end = try #require(day.date(from: a.end), "period_end \(a.end)")
      let next = try #require(calendar.date(byAdding: .day, value: 1, to: end))
      #expect(day.string(from: next) == b.start, "\(a.end) is not followed by \(b.start)")
    }
    for p in periods { #expect(p.start <= p.end, "\(p.start)..\(p.end)") }
  }

  /// The units the plans name, established as `events/reference/units.ndjson` will: those of
  /// 2011 before the first plan, the 2025 ward on 1 July 2025.
  static let madeUpUnits: [(code: String, name: String, level: String, parent: String?)] = [
    ("VN", "Việt Nam", "country", nil),
    ("VN-BK", "Bắc Kạn", "province", "VN"),
    ("VN-KT", "Kon Tum", "province", "VN"),
    ("VN-LS", "Lạng Sơn", "province", "VN"),
    ("VN-BG", "Bắc Giang", "province", "VN"),
    ("VN-NB", "Ninh Bình", "province", "VN"),
    ("VN-BG-LUCNAM", "Lục Nam", "district", "VN-BG"),
    ("VN-NB-DUYTIEN", "Duy Tiên", "ward", "VN-NB"),
  ]

  /// The units input: the committed file when there is one, else `madeUpUnits`.
  static func unitEvents() throws -> [Event] {
    if FileManager.default.fileExists(atPath: units) {
      return try events(of: String(contentsOfFile: units, encoding: .utf8), file: "units.ndjson")
    }
    let lines = madeUpUnits.map { u -> String in
      let time =
        u.code == "VN-NB-DUYTIEN" ? "2025-07-01T08:00:00+07:00" : "2010-12-01T08:00:00+07:00"
      let parent = u.parent.map { #", "parent": "\#($0)""# } ?? ""
      return #"{"id": "u:\#(u.code)", "type": "unit.established", "occurred_at": "\#(time)", "#
        + #""recorded_at": "\#(time)", "unit": "\#(u.code)", "#
        + #""data": {"name": "\#(u.name)", "level": "\#(u.level)"\#(parent)}}"#
    }
    return try events(of: lines.joined(separator: "\n"), file: "units (made up)")
  }

  @Test func thePlansAppendToAFreshStoreAfterTheUnits() throws {
    let all = try Self.unitEvents() + Self.planEvents().flatMap(\.events)
    // Stable: equal times keep the units first, then the files' name order.
    let merged = try all.enumerated().map { i, e in
      (i, try #require(Self.instant(e.recordedAt), "\(e.place): recorded_at"), e)
    }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.2)
    let input = merged.map(\.text).joined(separator: "\n") + "\n"
    let store = TestStore()
    let created = try store.run(["init"])
    #expect(created.status == 0, "\(created.stderr)")
    let r = try store.run(["append", "-"], stdin: Array(input.utf8))
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "appended \(merged.count) events, seq 1..\(merged.count)\n")
  }
}
