import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// One table being brought up to date: the table as committed, the rows being added, and the
/// patches (corrections, voids, closings) that change rows already there.
final class TableState {
  let spec: TableSpec
  private(set) var table: Table
  var rows: TableAppender
  /// The seqs of the rows added in this catch-up, in order (tables whose column 0 is `seq`).
  private(set) var pendingSeqs: [UInt64] = []
  var patches: Table?
  var patchRows: TableAppender?

  let target: UInt64

  init(spec: TableSpec, folder: String, target: UInt64) throws {
    self.target = target
    self.spec = spec
    let path = folder + "/" + spec.name
    table =
      try Table.open(name: spec.name, schema: spec.columns, folder: path)
      ?? Table.empty(name: spec.name, schema: spec.columns, folder: path)
    rows = TableAppender(table, indexed: spec.indexedColumns, target: target)
    if spec.name != "events_raw" && spec.columns.first?.name == "seq"
      && spec.name != "plan_targets"
    {
      let p =
        try Table.open(name: "patches", schema: BuiltinTables.patches, folder: path + "/patches")
        ?? Table.empty(name: "patches", schema: BuiltinTables.patches, folder: path + "/patches")
      // Patches and rows are committed together; a crash between them leaves the patches
      // behind, and they are redone from the table's checkpoint.
      patches = p
      patchRows = TableAppender(p, target: target)
    }
  }

  var checkpoint: UInt64 { min(table.checkpoint, patches?.checkpoint ?? .max) }

  /// Whether record `seq` is still to be applied to this table.
  func wants(_ seq: UInt64) -> Bool { seq > checkpoint }

  func endRow(seq: UInt64) throws {
    try rows.endRow()
    pendingSeqs.append(seq)
  }

  /// The row holding the record `seq`, committed or pending: rows are in seq order.
  func row(ofSeq seq: UInt64) -> Int? {
    if let first = pendingSeqs.first, seq >= first {
      var lo = 0
      var hi = pendingSeqs.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if pendingSeqs[mid] < seq { lo = mid + 1 } else { hi = mid }
      }
      return lo < pendingSeqs.count && pendingSeqs[lo] == seq ? table.rowCount + lo : nil
    }
    // Groups in order; the seq column (0) increases through them.
    var base = 0
    for g in table.groups {
      let c = g.columns[0]
      if g.rows > 0 && UInt64(c.int64(g.rows - 1)) >= seq {
        var lo = 0
        var hi = g.rows
        while lo < hi {
          let mid = (lo + hi) / 2
          if UInt64(c.int64(mid)) < seq { lo = mid + 1 } else { hi = mid }
        }
        return lo < g.rows && UInt64(c.int64(lo)) == seq ? base + lo : nil
      }
      base += g.rows
    }
    return nil
  }

  /// Adds a patch: `column` of `row` is `value` from record `seq` on (a NULL column: the row
  /// is voided).
  func patch(row: Int, seq: UInt64, column: String?, value: PatchValue) throws {
    guard patchRows != nil, let patches, seq > patches.checkpoint else { return }
    try appendPatch(row: row, seq: seq, column: column, value: value, to: &patchRows!)
  }

  private func appendPatch(
    row: Int, seq: UInt64, column: String?, value: PatchValue, to p: inout TableAppender
  ) throws {
    p.builders[0].append(Int64(row))
    p.builders[1].append(Int64(seq))
    if let column { p.builders[2].append(column) } else { p.builders[2].appendNull() }
    switch value {
    case .null:
      p.builders[3].appendNull()
      p.builders[4].appendNull()
      p.builders[5].appendNull()
    case .int(let v):
      p.builders[3].append(v)
      p.builders[4].appendNull()
      p.builders[5].appendNull()
    case .double(let v):
      p.builders[3].appendNull()
      p.builders[4].append(v)
      p.builders[5].appendNull()
    case .text(let v):
      p.builders[3].appendNull()
      p.builders[4].appendNull()
      p.builders[5].append(v)
    }
    try p.endRow()
  }

  /// Makes the rows and patches added durable, with the checkpoint `target`.
  func commit() throws {
    if table.checkpoint < target {
      table = try rows.commit()
      pendingSeqs.removeAll()
    }
    if patchRows != nil, let old = patches, old.checkpoint < target {
      patches = try patchRows!.commit()
    }
  }
}

package enum PatchValue {
  case null
  case int(Int64)
  case double(Double)
  case text(String)
}

/// Turns log records into rows of the built-in tables.
struct Projector {
  let folder: String
  var tables: [String: TableState] = [:]
  var byType: [String: TableState] = [:]
  var history = UnitHistory()
  private var doc = JSONDocument()
  /// Ids of the records applied in this run (the committed ones are found through the
  /// `events_raw` index).
  private var pendingIds: [String: UInt64] = [:]
  private var pendingTypes: [UInt64: String] = [:]
  private var unitsChanged = false

  let target: UInt64

  /// Tables in `folder`, to be brought up to seq `target`.
  init(folder: String, target: UInt64) throws {
    self.folder = folder
    self.target = target
    try makeFolder(folder)
    for spec in [
      BuiltinTables.events, BuiltinTables.eventsRaw, BuiltinTables.planTargets,
      BuiltinTables.unitEvents, BuiltinTables.units,
    ] + BuiltinTables.typeTables {
      let t = try TableState(spec: spec, folder: folder, target: target)
      tables[spec.name] = t
      if let type = spec.eventType { byType[type] = t }
    }
    loadHistory()
  }

  /// The seq every table has reached (the smallest of their checkpoints; `units` is rewritten
  /// whole by every catch-up and does not count).
  var checkpoint: UInt64 {
    tables.values.filter { $0.spec.name != "units" }.map(\.checkpoint).min() ?? 0
  }

  /// The unit history from the committed `unit_events`.
  private mutating func loadHistory() {
    let t = tables["unit_events"]!.table
    for g in t.groups {
      for r in 0..<g.rows {
        let c = g.columns
        applyUnit(
          type: c[1].string(r)!, code: c[3].string(r)!, at: c[2].int64(r) - Self.offset,
          name: c[4].string(r), level: c[5].string(r), parent: c[6].string(r),
          gso: c[7].string(r), into: c[8].string(r))
      }
    }
  }

  private mutating func applyUnit(
    type: String, code: String, at t: Int64, name: String?, level: String?, parent: String?,
    gso: String?, into: String?
  ) {
    switch type {
    case "unit.established":
      history.established(
        code, name: name ?? code, level: level ?? "", parent: parent, gsoCode: gso, at: t)
    case "unit.merged":
      if let into { history.merged(code, into: into, at: t) }
    case "unit.moved":
      if let parent { history.moved(code, parent: parent, at: t) }
    default: break
    }
    unitsChanged = true
  }

  /// Vietnam's offset: TIMESTAMP columns hold wall-clock time.
  static let offset: Int64 = 7 * 3600 * 1_000_000

  /// First pass over records to apply: their unit events, so that every row gets its province
  /// from the whole history known (a merge recorded after an event still counts for
  /// `province_now`). Returns whether a merge or move came that changes rows already stored.
  mutating func learnUnits(_ r: LogRecord) -> Bool {
    guard let e = CanonicalEnvelope.peek(r.payload) else { return false }
    let type = String(decoding: UnsafeRawBufferPointer(rebasing: r.payload[e.type]), as: UTF8.self)
    guard type.hasPrefix("unit."), tables["unit_events"]!.wants(r.seq) else { return false }
    guard (try? doc.parse(r.payload)) != nil else { return false }
    let f = fields(r.payload)
    applyUnit(
      type: type, code: f.unit, at: f.occurred, name: f.data["name"], level: f.data["level"],
      parent: f.data["parent"], gso: f.data["gso_code"], into: f.data["into"])
    return type != "unit.established"
  }

  /// The envelope and the data's string and number fields of the record just parsed.
  private func fields(_ p: UnsafeRawBufferPointer) -> (
    id: String, type: String, occurred: Int64, recorded: Int64, unit: String, caseId: String?,
    actor: String?, dataNode: Int, data: [String: String]
  ) {
    var id = ""
    var type = ""
    var occurred: Int64 = 0
    var recorded: Int64 = 0
    var unit = ""
    var caseId: String?
    var actor: String?
    var dataNode = -1
    var data: [String: String] = [:]
    for (k, v) in doc.members(ofObject: 0) {
      let key = doc.string(at: k, in: p)
      switch key {
      case "id": id = doc.string(at: v, in: p)
      case "type": type = doc.string(at: v, in: p)
      case "occurred_at":
        if case .success(let t) = Timestamp.parse(Array(doc.string(at: v, in: p).utf8)) {
          occurred = t
        }
      case "recorded_at":
        if case .success(let t) = Timestamp.parse(Array(doc.string(at: v, in: p).utf8)) {
          recorded = t
        }
      case "unit": unit = doc.string(at: v, in: p)
      case "case": caseId = doc.string(at: v, in: p)
      case "actor": actor = doc.string(at: v, in: p)
      case "data": dataNode = v
      default: break
      }
    }
    if dataNode >= 0 {
      for (k, v) in doc.members(ofObject: dataNode) {
        let node = doc.nodes[v]
        switch node.kind {
        case .string: data[doc.string(at: k, in: p)] = doc.string(at: v, in: p)
        case .number:
          data[doc.string(at: k, in: p)] = String(
            decoding: UnsafeRawBufferPointer(rebasing: p[Int(node.start)..<Int(node.end)]),
            as: UTF8.self)
        default: break
        }
      }
    }
    return (id, type, occurred, recorded, unit, caseId, actor, dataNode, data)
  }

  /// Applies one record to every table that has not seen it yet.
  mutating func apply(_ r: LogRecord) throws {
    let p = r.payload
    do { try doc.parse(p) } catch {
      throw ProjectionError("record seq \(r.seq) is not JSON: \(error)")
    }
    let f = fields(p)
    let seq = r.seq
    let dataNode = doc.nodes[f.dataNode]
    let dataBytes = UnsafeRawBufferPointer(
      rebasing: p[Int(dataNode.start)..<Int(dataNode.end)])
    let province = history.province(f.unit, at: f.occurred)
    let provinceNow = history.provinceNow(f.unit)
    let occurredLocal = f.occurred + Self.offset
    let year = Timestamp.civilFromDays(floorDiv(occurredLocal, 86_400_000_000)).year

    func putCommon(_ t: TableState) { common(&t.rows.builders) }
    func common(_ b: inout [ColumnBuilder]) {
      b[0].append(Int64(seq))
      b[1].append(f.id)
      b[2].append(f.type)
      b[3].append(occurredLocal)
      b[4].append(f.recorded + Self.offset)
      b[5].append(year)
      b[6].append(f.unit)
      Self.put(&b[7], province)
      Self.put(&b[8], provinceNow)
      Self.put(&b[9], f.caseId)
      Self.put(&b[10], f.data["establishment"])
      Self.put(&b[11], f.data["person"])
      Self.put(&b[12], f.actor)
    }

    pendingIds[f.id] = seq
    pendingTypes[seq] = f.type
    if let t = tables["events_raw"], t.wants(seq) {
      putCommon(t)
      t.rows.builders[13].append(dataBytes)
      Self.put(&t.rows.builders[14], f.data["target"])
      try t.endRow(seq: seq)
    }
    switch f.type {
    case "event.corrected", "event.voided":
      try amend(seq: seq, type: f.type, target: f.data["target"], payload: p)
      return
    case "unit.established", "unit.merged", "unit.moved":
      if let t = tables["unit_events"], t.wants(seq) {
        t.rows.builders[0].append(Int64(seq))
        t.rows.builders[1].append(f.type)
        t.rows.builders[2].append(occurredLocal)
        t.rows.builders[3].append(f.unit)
        for (i, k) in ["name", "level", "parent", "gso_code", "into"].enumerated() {
          Self.put(&t.rows.builders[4 + i], f.data[k])
        }
        try t.endRow(seq: seq)
      }
    case "establishment.closed":
      if let t = tables["establishments"], t.wants(seq), let e = f.data["establishment"],
        let row = establishmentRow(e, in: t)
      {
        try t.patch(row: row, seq: seq, column: "closed_at", value: .int(occurredLocal))
        try t.patch(
          row: row, seq: seq, column: "close_reason",
          value: f.data["reason"].map { .text($0) } ?? .null)
      }
    default: break
    }
    if let t = tables["events"], t.wants(seq) {
      putCommon(t)
      t.rows.builders[13].append(dataBytes)
      try t.endRow(seq: seq)
    }
    if let t = byType[f.type], t.wants(seq) {
      putCommon(t)
      let n = BuiltinTables.common.count
      for (i, c) in t.spec.fields.enumerated() {
        let key = c.name == "budget_year" ? "year" : c.name
        Self.put(&t.rows.builders[n + i], f.data[key], as: c.type)
      }
      try t.endRow(seq: seq)
      if f.type == "establishment.registered", let e = f.data["establishment"] {
        pendingEstablishments[e] = t.row(ofSeq: seq)
      }
    }
    if f.type == "plan.adopted", let t = tables["plan_targets"], t.wants(seq) {
      guard let targets = doc.member("targets", ofObject: f.dataNode, in: p) else { return }
      let start = f.data["period_start"].flatMap { Timestamp.parseDate(Array($0.utf8)) }
      let end = f.data["period_end"].flatMap { Timestamp.parseDate(Array($0.utf8)) }
      for element in doc.elements(ofArray: targets) {
        target(element, start, end, &t.rows.builders)
        try t.endRow(seq: seq)
      }
    }

    func target(_ element: Int, _ start: Int64?, _ end: Int64?, _ b: inout [ColumnBuilder]) {
      b[0].append(Int64(seq))
      Self.put(&b[1], f.data["plan"])
      b[2].append(f.unit)
      Self.put(&b[3], province)
      Self.put(&b[4], provinceNow)
      if let start { b[5].append(start) } else { b[5].appendNull() }
      if let end { b[6].append(end) } else { b[6].appendNull() }
      var indicator: String?
      var percent: Double?
      var year: Int64?
      for (k, v) in doc.members(ofObject: element) {
        switch doc.string(at: k, in: p) {
        case "indicator": indicator = doc.string(at: v, in: p)
        case "min_percent": percent = doc.double(at: v, in: p)
        case "year": year = doc.int64(at: v, in: p)
        default: break
        }
      }
      Self.put(&b[7], indicator)
      if let percent { b[8].append(percent) } else { b[8].appendNull() }
      if let year { b[9].append(year) } else { b[9].appendNull() }
    }
  }

  /// A correction or a void: patches on the target's rows in `events` and its type's table.
  private mutating func amend(
    seq: UInt64, type: String, target: String?, payload p: UnsafeRawBufferPointer
  ) throws {
    guard let target, let targetSeq = seqOf(id: target) else {
      throw ProjectionError("record seq \(seq): its target \(target ?? "?") is not in the log")
    }
    let targetType = pendingTypes[targetSeq] ?? typeOf(seq: targetSeq)
    var affected: [TableState] = [tables["events"]!]
    if let t = targetType.flatMap({ byType[$0] }) { affected.append(t) }
    for t in affected where t.wants(seq) {
      guard let row = t.row(ofSeq: targetSeq) else { continue }
      if type == "event.voided" {
        try t.patch(row: row, seq: seq, column: nil, value: .null)
        continue
      }
      guard let dataNode = doc.member("data", ofObject: 0, in: p),
        let changes = doc.member("changes", ofObject: dataNode, in: p)
      else { continue }
      if t.spec.name == "events" {
        let node = doc.nodes[changes]
        try t.patch(
          row: row, seq: seq, column: "data",
          value: .text(
            String(
              decoding: UnsafeRawBufferPointer(rebasing: p[Int(node.start)..<Int(node.end)]),
              as: UTF8.self)))
        continue
      }
      for (k, v) in doc.members(ofObject: changes) {
        let name = doc.string(at: k, in: p)
        let column = name == "year" && t.spec.name == "budgets" ? "budget_year" : name
        guard let c = t.spec.columns.first(where: { $0.name == column }) else { continue }
        let node = doc.nodes[v]
        let value: PatchValue
        switch (node.kind, c.type) {
        case (.string, .varchar): value = .text(doc.string(at: v, in: p))
        case (.number, .double): value = .double(doc.double(at: v, in: p))
        case (.number, _): value = doc.int64(at: v, in: p).map { .int($0) } ?? .null
        case (.string, .date):
          value =
            Timestamp.parseDate(Array(doc.string(at: v, in: p).utf8)).map { .int($0) } ?? .null
        default: value = .null
        }
        try t.patch(row: row, seq: seq, column: column, value: value)
      }
    }
  }

  /// The seq of the event `id`: applied in this run, or found through `events_raw`'s index.
  private func seqOf(id: String) -> UInt64? {
    if let s = pendingIds[id] { return s }
    let raw = tables["events_raw"]!.table
    var bytes = Array(id.utf8)
    return bytes.withUnsafeMutableBytes { b -> UInt64? in
      let value = UnsafeRawBufferPointer(b)
      for g in raw.groups {
        if let rows = g.rows(where: 1, equals: value), let r = rows.first {
          return UInt64(g.columns[0].int64(r))
        }
      }
      return nil
    }
  }

  private func typeOf(seq: UInt64) -> String? {
    let t = tables["events_raw"]!
    guard let row = t.row(ofSeq: seq), row < t.table.rowCount else { return nil }
    let (g, r) = t.table.locate(row)
    return t.table.groups[g].columns[2].string(r)
  }

  private func establishmentRow(_ id: String, in t: TableState) -> Int? {
    // Pending rows first (registered in this run), then the committed groups' index.
    if let p = pendingEstablishments[id] { return p }
    let column = t.spec.columns.firstIndex { $0.name == "establishment" }!
    var found: Int?
    var bytes = Array(id.utf8)
    bytes.withUnsafeMutableBytes { raw in
      let value = UnsafeRawBufferPointer(raw)
      var base = 0
      for g in t.table.groups {
        if let rows = g.rows(where: column, equals: value), let r = rows.last { found = base + r }
        base += g.rows
      }
    }
    return found
  }

  /// Where the establishments registered in this run went.
  private var pendingEstablishments: [String: Int] = [:]

  /// Rewrites `units` from the history: a few hundred rows, written whole every time.
  mutating func writeUnits() throws {
    guard let t = tables["units"] else { return }
    let empty = Table.empty(name: "units", schema: t.spec.columns, folder: t.table.folder)
    var a = TableAppender(empty, target: target)
    for u in history.units {
      unitRow(u, &a.builders)
      try a.endRow()
    }
    _ = try a.commit()
  }

  private mutating func unitRow(_ u: UnitHistory.Unit, _ b: inout [ColumnBuilder]) {
    b[0].append(u.code)
    b[1].append(u.name)
    b[2].append(u.level)
    Self.put(&b[3], u.parents.last?.parent.map { history.units[$0].code })
    Self.put(&b[4], u.gsoCode)
    b[5].append(u.establishedAt + Self.offset)
    if let m = u.merges.last {
      b[6].append(history.units[m.into].code)
      b[7].append(m.at + Self.offset)
    } else {
      b[6].appendNull()
      b[7].appendNull()
    }
    Self.put(&b[8], history.provinceNow(u.code))
  }

  /// Commits every table at `target`.
  mutating func commit() throws {
    for name in tables.keys.sorted() where name != "units" { try tables[name]!.commit() }
    try writeUnits()
  }

  static func put(_ b: inout ColumnBuilder, _ v: String?, as type: ColumnType = .varchar) {
    guard let v else { return b.appendNull() }
    switch type {
    case .varchar: b.append(v)
    case .bigint, .timestamp:
      if let i = Int64(v) { b.append(i) } else { b.appendNull() }
    case .double:
      if let d = Double(v) { b.append(d) } else { b.appendNull() }
    case .date:
      if let d = Timestamp.parseDate(Array(v.utf8)) { b.append(d) } else { b.appendNull() }
    case .boolean:
      b.append(v == "true")
    }
  }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
  let q = a / b
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
