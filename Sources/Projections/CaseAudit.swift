import Foundation

/// The full history of a case, for an auditor: every record of it in log order, each
/// correction beside the event it corrects, each void marked, and the case's state at the end,
/// as known at a seq (the log prefix recorded until a past moment) or now.
package struct CaseAudit {
  package struct Amendment: Sendable {
    package var seq: UInt64
    package var id: String
    package var recordedAt: Int64
    /// The correction's changes (JSON), nil for a void.
    package var changes: String?
    package var reason: String?
  }

  package struct Entry: Sendable {
    package var seq: UInt64
    package var id: String
    package var type: String
    package var occurredAt: Int64
    package var recordedAt: Int64
    package var unit: String
    package var province: String?
    package var actor: String?
    /// The data as recorded, and as it stands after the corrections.
    package var data: String
    package var correctedData: String
    package var corrections: [Amendment] = []
    package var voided: Amendment?
  }

  package struct State: Sendable {
    package var opened: Int64?
    package var verified: Int64?
    package var finding: String?
    package var inspected: Int64?
    package var referred: Int64?
    package var referredTo: String?
    package var closed: Int64?
    package var outcome: String?
  }

  package let caseId: String
  package let asOf: UInt64
  package private(set) var entries: [Entry] = []
  package private(set) var state = State()
  /// How long the look-up in the tables took, in seconds.
  package private(set) var lookupSeconds = 0.0

  /// The audit of `caseId` in the store's tables as of `asOf`; nil when no record of the case
  /// was recorded by then.
  package init?(store: String, caseId: String, asOf: UInt64 = .max) throws {
    self.caseId = caseId
    self.asOf = asOf
    guard let raw = try TableView.open(store: store, spec: BuiltinTables.eventsRaw) else {
      return nil
    }
    let started = DispatchTime.now().uptimeNanoseconds
    let s = BuiltinTables.eventsRaw.columns
    func col(_ name: String) -> Int { s.firstIndex { $0.name == name }! }
    let (cSeq, cId, cType, cOcc, cRec, cUnit, cProv, cCase, cActor, cData, cTarget) = (
      col("seq"), col("id"), col("type"), col("occurred_at"), col("recorded_at"), col("unit"),
      col("province"), col("case_id"), col("actor"), col("data"), col("target")
    )
    func find(_ column: Int, _ value: String) -> [Int] {
      raw.rows(where: column, equals: value) ?? []
    }
    func text(_ row: Int, _ c: Int) -> String? {
      if case .text(let s) = raw.base(row, c) { return s }
      return nil
    }
    func int(_ row: Int, _ c: Int) -> Int64 {
      if case .int(let v) = raw.base(row, c) { return v }
      return 0
    }
    var rows = find(cCase, caseId)
    // Corrections and voids of the case's events, whether or not they name the case.
    var amendments = Set(rows)
    for r in rows {
      guard let id = text(r, cId) else { continue }
      for a in find(cTarget, id) where amendments.insert(a).inserted { rows.append(a) }
    }
    rows = rows.filter { UInt64(int($0, cSeq)) <= asOf }.sorted()
    guard !rows.isEmpty else { return nil }
    var byId: [String: Int] = [:]
    for r in rows {
      let type = text(r, cType) ?? ""
      let data = text(r, cData) ?? "{}"
      let id = text(r, cId) ?? ""
      if type == "event.corrected" || type == "event.voided" {
        guard let target = text(r, cTarget), let i = byId[target] else { continue }
        let members = Dictionary(JSONMerge.split(data), uniquingKeysWith: { a, _ in a })
        let reason = members["reason"].map(Self.unquote)
        let a = Amendment(
          seq: UInt64(int(r, cSeq)), id: id, recordedAt: int(r, cRec),
          changes: type == "event.corrected" ? members["changes"] : nil, reason: reason)
        if type == "event.voided" {
          entries[i].voided = a
        } else {
          entries[i].corrections.append(a)
          entries[i].correctedData = JSONMerge.merge(entries[i].correctedData, a.changes ?? "{}")
        }
        continue
      }
      byId[id] = entries.count
      entries.append(
        Entry(
          seq: UInt64(int(r, cSeq)), id: id, type: type, occurredAt: int(r, cOcc),
          recordedAt: int(r, cRec), unit: text(r, cUnit) ?? "", province: text(r, cProv),
          actor: text(r, cActor), data: data, correctedData: data))
    }
    for e in entries where e.voided == nil {
      let d = Dictionary(JSONMerge.split(e.correctedData), uniquingKeysWith: { a, _ in a })
      switch e.type {
      case "tip.received": state.opened = state.opened ?? e.occurredAt
      case "tip.verified":
        if state.verified == nil {
          state.verified = e.occurredAt
          state.finding = d["finding"].map(Self.unquote)
        }
      case "inspection.done": state.inspected = state.inspected ?? e.occurredAt
      case "case.referred":
        if state.referred == nil {
          state.referred = e.occurredAt
          state.referredTo = d["referred_to"].map(Self.unquote)
        }
      case "case.closed":
        state.closed = e.occurredAt
        state.outcome = d["outcome"].map(Self.unquote)
      default: break
      }
    }
    lookupSeconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
  }

  static func unquote(_ json: String) -> String {
    guard json.hasPrefix("\""), json.hasSuffix("\""), json.count >= 2 else { return json }
    let inner = String(json.dropFirst().dropLast())
    guard inner.contains("\\"),
      let s = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
        as? String
    else { return inner }
    return s
  }
}
