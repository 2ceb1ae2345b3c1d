import Domain
import EventLog
import Foundation
import Projections
import Query
import Warehouse

extension CommandLine {
  /// `hoso audit CASE [--as-of T] [--format table|json] [--timing]`
  static func audit(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let asOfText = try a.value("--as-of")
    let format = try a.value("--format") ?? "table"
    guard ["table", "json"].contains(format) else {
      throw UsageError("--format is table or json, not \(format)")
    }
    let timing = a.flag("--timing")
    let rest = try a.positional(max: 1, command: "audit")
    guard let caseId = rest.first else {
      throw UsageError("audit needs a case id, such as C-LS-2023-00012")
    }
    let store = try Store.open(at: g.store)
    try requireAuditor(g, store, for: "audit")
    try projectIfFree(store)
    var asOf = UInt64.max
    var asOfTime: Int64?
    if let asOfText {
      guard let t = parseAsOf(asOfText) else {
        throw UsageError(
          "--as-of takes a time such as 2023-06-10, 2023-06-10 23:59:59 (Vietnam time) or"
            + " 2023-06-10T23:59:59+07:00, not \(asOfText)")
      }
      asOfTime = t
      let reader = try LogReader(at: store.logPath)
      if let s = try reader.firstSeq(recordedAtOrAfter: t + 1) { asOf = s - 1 }
    }
    guard let audit = try CaseAudit(store: store.path, caseId: caseId, asOf: asOf) else {
      let when = asOfTime.map { " as of \(Timestamp.format($0))" } ?? ""
      throw UsageError(
        "no case \"\(caseId)\" in \(store.path)\(when); case ids look like C-LS-2023-00012")
    }
    if timing { note(String(format: "lookup: %.3f ms", audit.lookupSeconds * 1000)) }
    try recordAccess(
      g, store, "audit", "audit \(caseId)" + (asOfText.map { " --as-of \($0)" } ?? ""),
      rows: audit.entries.count)
    print(
      format == "json" ? auditJSON(audit, asOfTime) : auditTable(audit, asOfTime), terminator: "")
    return 0
  }

  /// A time for `--as-of`: ISO 8601 with an offset, or Vietnam wall-clock `YYYY-MM-DD[ HH:MM[:SS]]`
  /// (a bare date means the end of that day).
  static func parseAsOf(_ s: String) -> Int64? {
    if case .success(let t) = Timestamp.parse(Array(s.utf8)) { return t }
    let parts = s.split(separator: " ")
    guard let day = parts.first.flatMap({ Timestamp.parseDate(Array($0.utf8)) }), parts.count <= 2
    else { return nil }
    var seconds: Int64 = 86_399
    if parts.count == 2 {
      let hms = parts[1].split(separator: ":").compactMap { Int64($0) }
      guard (2...3).contains(hms.count), hms[0] < 24, hms[1] < 60, hms.count == 2 || hms[2] < 60
      else { return nil }
      seconds = hms[0] * 3600 + hms[1] * 60 + (hms.count == 3 ? hms[2] : 0)
    }
    let wall = (day * 86_400 + seconds) * 1_000_000 + (parts.count == 1 ? 999_999 : 0)
    return wall - 7 * 3600 * 1_000_000
  }

  /// Catches the tables up unless another process holds the store (then they are read as
  /// they are).
  static func projectIfFree(_ store: Store) throws {
    try warehouse(store).catchUpIfFree()
  }

  /// Vietnam wall-clock microseconds as `YYYY-MM-DD HH:MM:SS` (whole seconds).
  static func wall(_ micros: Int64) -> String {
    Cast.timestampText(micros - ((micros % 1_000_000) + 1_000_000) % 1_000_000)
  }

  static func days(_ from: Int64, _ to: Int64) -> String {
    let d = Double(to - from) / 86_400e6
    return String(format: "%.1f days", d)
  }

  static func auditTable(_ a: CaseAudit, _ asOf: Int64?) -> String {
    let n = a.entries.count
    var out = "case \(a.caseId): \(n) \(n == 1 ? "event" : "events")"
    out +=
      asOf.map { ", as known at \(wall($0 + 7 * 3_600_000_000)) (Vietnam time)" }
      ?? ", as known now"
    out += "\n\n"
    for e in a.entries {
      out += "seq \(e.seq)  \(e.type)  \(e.id)\(e.voided != nil ? "  [VOIDED]" : "")\n"
      out += "  occurred \(wall(e.occurredAt))   recorded \(wall(e.recordedAt))\n"
      out += "  unit \(e.unit)\(e.province.map { " (\($0))" } ?? "")"
      out += e.actor.map { "   by \($0)" } ?? ""
      out += "\n  data \(e.data)\n"
      for c in e.corrections {
        out +=
          "  corrected by seq \(c.seq) (\(c.id)), recorded \(wall(c.recordedAt)): \(c.changes ?? "{}")"
        out += c.reason.map { "; reason: \($0)" } ?? ""
        out += "\n"
      }
      if !e.corrections.isEmpty { out += "  now  \(e.correctedData)\n" }
      if let v = e.voided {
        out += "  voided by seq \(v.seq) (\(v.id)), recorded \(wall(v.recordedAt))"
        out += v.reason.map { "; reason: \($0)" } ?? ""
        out += "\n"
      }
      out += "\n"
    }
    let s = a.state
    var lines: [String] = []
    if let o = s.opened { lines.append("opened    \(wall(o))") }
    if let v = s.verified {
      lines.append(
        "verified  \(wall(v))" + (s.opened.map { " (\(days($0, v)) after the tip)" } ?? "")
          + (s.finding.map { ", \($0)" } ?? ""))
    } else {
      lines.append("verified  not yet")
    }
    if let i = s.inspected { lines.append("inspected \(wall(i))") }
    if let r = s.referred {
      lines.append("referred  \(wall(r))" + (s.referredTo.map { " to \($0)" } ?? ""))
    }
    if let c = s.closed {
      lines.append(
        "closed    \(wall(c))" + (s.outcome.map { ", \($0)" } ?? "")
          + (s.opened.map { "; \(days($0, c)) in all" } ?? ""))
    } else {
      lines.append("closed    not yet (open)")
    }
    out += "state\n" + lines.map { "  " + $0 }.joined(separator: "\n") + "\n"
    return out
  }

  static func auditJSON(_ a: CaseAudit, _ asOf: Int64?) -> String {
    func q(_ s: String) -> String { Output.jsonString(s) }
    func t(_ v: Int64?) -> String { v.map { q(wall($0)) } ?? "null" }
    func amendment(_ m: CaseAudit.Amendment) -> String {
      "{\"seq\":\(m.seq),\"id\":\(q(m.id)),\"recorded_at\":\(t(m.recordedAt))"
        + (m.changes.map { ",\"changes\":\($0)" } ?? "")
        + ",\"reason\":\(m.reason.map(q) ?? "null")}"
    }
    var out =
      "{\"case\":\(q(a.caseId)),\"as_of\":\(t(asOf.map { $0 + 7 * 3_600_000_000 })),\"events\":["
    out += a.entries.map { e in
      "{\"seq\":\(e.seq),\"id\":\(q(e.id)),\"type\":\(q(e.type)),\"occurred_at\":\(t(e.occurredAt)),"
        + "\"recorded_at\":\(t(e.recordedAt)),\"unit\":\(q(e.unit)),"
        + "\"province\":\(e.province.map(q) ?? "null"),\"actor\":\(e.actor.map(q) ?? "null"),"
        + "\"data\":\(e.data),\"corrected_data\":\(e.correctedData),"
        + "\"corrections\":[\(e.corrections.map(amendment).joined(separator: ","))],"
        + "\"voided\":\(e.voided.map(amendment) ?? "null")}"
    }.joined(separator: ",")
    let s = a.state
    out += "],\"state\":{\"opened\":\(t(s.opened)),\"verified\":\(t(s.verified)),"
    out += "\"finding\":\(s.finding.map(q) ?? "null"),\"inspected\":\(t(s.inspected)),"
    out += "\"referred\":\(t(s.referred)),\"referred_to\":\(s.referredTo.map(q) ?? "null"),"
    out += "\"closed\":\(t(s.closed)),\"outcome\":\(s.outcome.map(q) ?? "null"),"
    let daysTaken = s.opened.flatMap { o in s.closed.map { Double($0 - o) / 86_400e6 } }
    out += "\"days\":\(daysTaken.map { String(format: "%.1f", $0) } ?? "null")}}\n"
    return out
  }
}
