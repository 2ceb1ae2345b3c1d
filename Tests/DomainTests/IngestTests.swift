import EventLog
import Foundation
import TestSupport
import Testing

@testable import Domain

/// Validation of single events against the catalog, through `Ingest` with an empty store
/// that knows the units VN and VN-LS.
@Suite struct IngestTests {
  static let now = try! Timestamp.parse("2026-11-22T12:00:00+07:00".utf8).get()

  private func ingest(_ lines: [String], pseudonymize: Bool = false) throws(InputError) -> Ingest {
    var state = StoreState()
    state.units.insert("VN")
    state.units.insert("VN-LS")
    var i = Ingest(
      state: state, now: Self.now,
      pseudonymizer: pseudonymize ? Pseudonymizer(key: Array(repeating: 7, count: 32)) : nil)
    for (n, line) in lines.enumerated() {
      var bytes = Array(line.utf8)
      let count = bytes.count
      _ = try bytes.withUnsafeMutableBufferPointer { (b) throws(InputError) in
        try i.add(line: UnsafeRawBufferPointer(start: b.baseAddress, count: count), number: n + 1)
      }
    }
    return i
  }

  private func event(
    _ type: String, _ data: String, id: String = "e1", extra: String = ""
  ) -> String {
    #"{"id":"\#(id)","type":"\#(type)","occurred_at":"2024-05-01T08:00:00+07:00","unit":"VN-LS"\#(extra),"data":\#(data)}"#
  }

  private func expectError(
    _ lines: [String], line: Int = 1, field: String?, _ words: String..., pseudonymize: Bool = false
  ) {
    do {
      _ = try ingest(lines, pseudonymize: pseudonymize)
      Issue.record("accepted: \(lines.last!)")
    } catch {
      #expect(error.line == line)
      #expect(error.field == field, "\(error)")
      for w in words { #expect(error.message.contains(w), "\(w) not in: \(error.message)") }
    }
  }

  /// A line that repeats the id of an event committed earlier in the same append is
  /// compared with the log's record of it: when the log cannot be read for that, the store
  /// is at fault (exit status 2), and the line is not called a different event.
  @Test func aDuplicateThatCannotBeComparedIsTheStoresFailure() throws {
    var state = StoreState()
    state.units.insert("VN")
    state.units.insert("VN-LS")
    var i = Ingest(state: state, now: Self.now, pseudonymizer: nil)
    func add(_ line: String, _ number: Int) throws(InputError) -> Bool {
      var bytes = Array(line.utf8)
      let count = bytes.count
      return try bytes.withUnsafeMutableBufferPointer { (b) throws(InputError) in
        try i.add(line: UnsafeRawBufferPointer(start: b.baseAddress, count: count), number: number)
      }
    }
    let first = event("outreach.held", #"{"form":"online","audience":"staff","reached":5}"#)
    #expect(try add(first, 1))
    i.batchCommitted(firstSeq: 1, reader: { throw LogError(.io, "segment 1 cannot be opened") })
    let changed = event("outreach.held", #"{"form":"online","audience":"staff","reached":6}"#)
    do {
      _ = try add(changed, 2)
      Issue.record("accepted a line whose id the log holds, unread")
    } catch {
      #expect(error.storeFailure?.kind == .io, "\(error)")
      #expect(error.message.contains("cannot read seq 1 of the log"), "\(error.message)")
      #expect(error.message.contains("segment 1 cannot be opened"), "\(error.message)")
      #expect(!error.message.contains("different event"), "\(error.message)")
    }
  }

  @Test func canonicalFormIsTheSameWhateverTheSpellingOfTheInput() throws {
    let a = try ingest([
      #"{"data":{"reached":5,"audience":"staff","form":"online"},"unit":"VN-LS","occurred_at":"2024-05-01T01:00:00Z","type":"outreach.held","id":"e1"}"#
    ])
    let b = try ingest([
      #"  { "id" : "e1", "type":"outreach.held", "occurred_at":"2024-05-01T08:00:00+07:00", "unit":"VN-\u004cS", "data":{"form":"online","audience":"staff","reached":5} }"#
    ])
    #expect(a.batch.bytes == b.batch.bytes)
    let text = String(decoding: a.batch.bytes, as: UTF8.self)
    #expect(
      text
        == #"{"id":"e1","type":"outreach.held","occurred_at":"2024-05-01T08:00:00+07:00","recorded_at":"2026-11-22T12:00:00+07:00","unit":"VN-LS","data":{"audience":"staff","form":"online","reached":5}}"#
    )
  }

  /// A `person.forgotten` may name no unit: a forget is the store's act, not a
  /// jurisdiction's (finding 6 of issue 18). Every other type must name one, and a unit named
  /// is still one established.
  @Test func onlyTheRecordOfAForgetMayNameNoUnit() throws {
    let forget =
      #"{"id":"f1","type":"person.forgotten","occurred_at":"2024-05-01T08:00:00+07:00","data":{"person":"P-0123456789abcdef","reason":"r"}}"#
    let i = try ingest([forget])
    #expect(
      String(decoding: i.batch.bytes, as: UTF8.self)
        == #"{"id":"f1","type":"person.forgotten","occurred_at":"2024-05-01T08:00:00+07:00","recorded_at":"2026-11-22T12:00:00+07:00","data":{"person":"P-0123456789abcdef","reason":"r"}}"#
    )
    #expect(
      try ingest([event("person.forgotten", #"{"person":"P-0123456789abcdef","reason":"r"}"#)])
        .accepted == 1)
    expectError(
      [forget.replacingOccurrences(of: #""data""#, with: #""unit":"VN-XX","data""#)],
      field: "unit", "not established")
    expectError(
      [
        #"{"id":"e1","type":"outreach.held","occurred_at":"2024-05-01T08:00:00+07:00","data":{"form":"online","audience":"staff","reached":5}}"#
      ], field: "unit", "missing field \"unit\"")
  }

  @Test func envelopeRules() {
    expectError([#"{"id":"e1"}"#], field: "type", "missing")
    expectError([#"[1,2]"#], field: nil, "JSON object")
    expectError([event("outreach.held", "{}", id: "bad id")], field: "id", "1 to 64")
    expectError(
      [event("outreach.held", "{}", extra: #","color":"red""#)], field: "color", "unknown field")
    expectError(
      [
        #"{"id":"e1","type":"outreach.held","occurred_at":"2024-05-01T08:00:00+07:00","unit":"VN-HN","data":{"form":"online","audience":"staff","reached":5}}"#
      ],
      field: "unit", "not established")
    expectError(
      [event("tip.received", #"{"source":"citizen"}"#)], field: "case", "belongs to a case")
    expectError(
      [
        event(
          "outreach.held", #"{"form":"online","audience":"staff","reached":5}"#,
          extra: #","recorded_at":"2024-04-01T00:00:00+07:00""#)
      ],
      field: "occurred_at", "later than recorded_at")
    expectError(
      [
        #"{"id":"e1","type":"outreach.held","occurred_at":"2027-05-01T08:00:00+07:00","unit":"VN-LS","data":{"form":"online","audience":"staff","reached":5}}"#
      ],
      field: "occurred_at", "future")
    expectError(
      [
        #"{"id":"e1","type":"outreach.held","occurred_at":"1999-05-01T08:00:00+07:00","unit":"VN-LS","data":{"form":"online","audience":"staff","reached":5}}"#
      ],
      field: "occurred_at", "2000-01-01")
  }

  @Test func dataRules() {
    expectError(
      [event("outreach.held", #"{"form":"online","audience":"staff","reached":-1}"#)],
      field: "data.reached", "0 or more")
    expectError(
      [event("outreach.held", #"{"form":"online","audience":"staff","reached":1.5}"#)],
      field: "data.reached", "whole number")
    expectError(
      [event("outreach.held", #"{"form":"online","audience":"staff","reached":"5"}"#)],
      field: "data.reached")
    expectError(
      [event("outreach.held", #"{"form":"radio","audience":"staff","reached":5}"#)],
      field: "data.form", "expected one of")
    expectError(
      [event("outreach.held", #"{"form":"online","audience":"staff"}"#)], field: "data.reached",
      "missing")
    expectError(
      [event("budget.allocated", #"{"plan":"P","line":"x","year":1999,"amount_million_vnd":5}"#)],
      field: "data.year")
    expectError(
      [
        event(
          "plan.adopted",
          #"{"plan":"P","title":"t","issuer":"i","level":"province","period_start":"2021-01-01","period_end":"2020-12-31","targets":[]}"#
        )
      ],
      field: "data.period_end", "before")
    expectError(
      [
        event(
          "plan.adopted",
          #"{"plan":"P","title":"t","issuer":"i","level":"province","period_start":"2021-01-01","period_end":"2025-12-31","targets":[{"indicator":"x","min_percent":130}]}"#
        )
      ],
      field: "data.targets[0].min_percent", "0 and 100")
    expectError(
      [
        event(
          "plan.adopted",
          #"{"plan":"P","title":"t","issuer":"i","level":"province","period_start":"2021-01-01","period_end":"2025-12-31","targets":[{"min_percent":30}]}"#
        )
      ],
      field: "data.targets[0].indicator", "missing")
    expectError(
      [
        event(
          "tip.received", #"{"source":"citizen","summary":"CMND 123456789 của người báo"}"#,
          extra: #","case":"C1""#)
      ], field: "data.summary", "9-digit")
  }

  /// Text is refused exactly when it holds a number of 9 or 12 digits, as one run or in
  /// groups (`IdentityNumbersTests.reference`), wherever it falls against the eight-byte words
  /// the check reads. Random texts of ASCII and Vietnamese letters, separators and digit
  /// groups; replay with HOSO_TEST_SEED.
  @Test func idNumbersInTextAreFoundAtEveryOffset() {
    for seed in testSeeds(fixed: 0x1D_9_12) {
      var random = SplitMix64(seed: seed)
      for round in 0..<400 {
        let text = IdentityNumbersTests.randomText(&random)
        let expected = IdentityNumbersTests.reference(text)
        let line = event(
          "tip.received", #"{"source":"citizen","summary":"\#(text)"}"#, extra: #","case":"C1""#)
        let refused = (try? ingest([line])) == nil
        guard refused == expected else {
          Issue.record("round \(round): \(text) refused: \(refused); seed \(seed)")
          return
        }
      }
    }
  }

  /// An ID number written in groups is refused with the message of one written as a run, in
  /// any text field; numbers of other shapes beside it are not.
  @Test func idNumbersWithSeparatorsAreRefused() throws {
    for (number, digits) in [
      ("001 203 004 567", 12), ("0012-0300-4567", 12), ("001.203.004.567", 12),
      ("123 456 789", 9),
    ] {
      expectError(
        [
          event(
            "tip.received", #"{"source":"citizen","summary":"CCCD \#(number) của người báo"}"#,
            extra: #","case":"C1""#)
        ], field: "data.summary", "the text holds a \(digits)-digit number",
        "may be a national ID number")
      expectError(
        [
          event(
            "tip.received", #"{"source":"citizen"}"#,
            extra: #","case":"C1","actor":"cán bộ \#(number)""#)
        ],
        field: "actor", "\(digits)-digit")
    }
    _ = try ingest([
      event(
        "tip.received",
        #"{"source":"citizen","summary":"ngày 2025-07-01 9 giờ, gọi 0912 345 678, thiệt hại 3.000.000 đồng, vụ C-LS-2023-00012"}"#,
        extra: #","case":"C1""#)
    ])
  }

  @Test func personsArePseudonymsOrPseudonymized() throws {
    expectError(
      [event("support.provided", #"{"person":"Trần Văn B","kind":"loan"}"#)], field: "data.person",
      "--pseudonymize")
    let i = try ingest(
      [event("support.provided", #"{"person":"Trần Văn B","kind":"loan"}"#)], pseudonymize: true)
    let text = String(decoding: i.batch.bytes, as: UTF8.self)
    #expect(!text.contains("Trần"))
    #expect(text.contains(#""person":"P-"#))
  }

  @Test func duplicatesAndCorrections() throws {
    let base = event("outreach.held", #"{"form":"online","audience":"staff","reached":5}"#)
    let i = try ingest([base, base])
    #expect(i.batch.count == 1)
    #expect(i.duplicates == 1)
    expectError(
      [base, event("outreach.held", #"{"form":"online","audience":"staff","reached":6}"#)],
      line: 2, field: "id", "different event")
    let fix = event(
      "event.corrected", #"{"target":"e1","changes":{"reached":7},"reason":"typo"}"#, id: "c1")
    #expect(try ingest([base, fix]).batch.count == 2)
    expectError(
      [
        base,
        event(
          "event.corrected", #"{"target":"e1","changes":{"reachd":7},"reason":"typo"}"#, id: "c1"),
      ],
      line: 2, field: "data.changes.reachd", "did you mean \"reached\"")
    expectError(
      [
        base,
        event(
          "event.corrected", #"{"target":"e1","changes":{"reached":-7},"reason":"typo"}"#, id: "c1"),
      ],
      line: 2, field: "data.changes.reached")
    expectError(
      [event("event.voided", #"{"target":"nope","reason":"x"}"#, id: "v1")], field: "data.target",
      "no event")
  }

  @Test func unitsAreEstablishedOnce() throws {
    let est =
      #"{"id":"u1","type":"unit.established","occurred_at":"2011-01-01T00:00:00+07:00","unit":"VN-BK","data":{"name":"Bắc Kạn","level":"province","parent":"VN"}}"#
    let use =
      #"{"id":"o1","type":"outreach.held","occurred_at":"2012-01-01T00:00:00+07:00","unit":"VN-BK","data":{"form":"online","audience":"staff","reached":5}}"#
    #expect(try ingest([est, use]).batch.count == 2)
    expectError([use], field: "unit", "not established")
    let again = est.replacingOccurrences(of: "\"u1\"", with: "\"u2\"")
    expectError([est, again], line: 2, field: "unit", "already established")
    let orphan = est.replacingOccurrences(of: "\"VN\"", with: "\"VN-XX\"")
    expectError([orphan], field: "data.parent", "not established")
  }
}
