import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif
/// Turns log records into rows of the built-in tables.
///
/// A projection runs in two halves, one on each core, over the same records: `raw` writes
/// `events_raw` (every record, its every field: half the work), `rest` every other table
/// (the type's own, the units, the plans' targets, the corrections' patches). Each reads the
/// records itself and shares nothing mutable with the other; `ParallelProjector` runs them.
struct Projector {
  enum Part { case raw, rest }
  let part: Part
  let folder: String
  var tables: [String: TableState] = [:]
  var history = UnitHistory()
  var doc = JSONDocument()
  /// Ids of the records applied in this run (the committed ones are found through the
  /// `events_raw` index), or every id of the log when the caller had them (`idsComplete`).
  private var pendingIds = IdTable()
  private var idsComplete = false
  /// The tables every record goes to, and the per-type tables by type code.
  private let eventsRaw: TableState
  private let events: TableState
  private let unitEvents: TableState
  private let planTargets: TableState
  private let establishments: TableState
  private let byCode: [TableState?]

  let target: UInt64

  /// Tables in `folder`, to be brought up to seq `target`.
  init(folder: String, target: UInt64, part: Part, ids: IdTable? = nil) throws {
    self.folder = folder
    self.target = target
    self.part = part
    try makeFolder(folder)
    var tables: [String: TableState] = [:]
    var byCode: [TableState?] = Array(repeating: nil, count: 256)
    for spec in [
      BuiltinTables.events, BuiltinTables.eventsRaw, BuiltinTables.planTargets,
      BuiltinTables.unitEvents, BuiltinTables.units,
    ] + BuiltinTables.typeTables {
      let t = try TableState(
        spec: spec, folder: folder, target: target,
        owned: (spec.name == "events_raw") == (part == .raw))
      tables[spec.name] = t
      if let type = spec.eventType { byCode[Int(Catalog.byName[type]!.code)] = t }
    }
    self.tables = tables
    self.byCode = byCode
    eventsRaw = tables["events_raw"]!
    events = tables["events"]!
    events.backing = eventsRaw
    unitEvents = tables["unit_events"]!
    planTargets = tables["plan_targets"]!
    establishments = tables["establishments"]!
    if let ids {
      pendingIds = ids
      idsComplete = true
    } else if part == .rest {
      let from = checkpoint
      pendingIds.reserve(Int(min(target - min(from, target), 1 << 26)))
    }
    loadHistory()
  }

  /// The tables this half writes, but `units` (rewritten whole by every catch-up).
  private var ownTables: [TableState] {
    tables.values.filter { $0.owned && $0.spec.name != "units" }
  }

  /// The seq every table of this half has reached (the smallest of their checkpoints).
  var checkpoint: UInt64 { ownTables.map(\.checkpoint).min() ?? 0 }

  /// The highest seq any table of this half holds: above the log's last, the tables hold
  /// events the log does not, which no crash leaves (the log is written first).
  var highestCheckpoint: UInt64 {
    ownTables.map { max($0.openedCheckpoint, $0.table.checkpoint, $0.patches?.checkpoint ?? 0) }
      .max() ?? 0
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
  }

  /// Vietnam's offset: TIMESTAMP columns hold wall-clock time.
  static let offset: Int64 = 7 * 3600 * 1_000_000

  /// First pass over records to apply: their unit events, so that every row gets its province
  /// from the whole history known (a merge recorded after an event still counts for
  /// `province_now`). Returns whether a merge or move came that changes rows already stored.
  mutating func learnUnits(_ r: LogRecord) -> Bool {
    guard Self.mayBeUnitEvent(r.payload), let e = CanonicalEnvelope.peek(r.payload) else {
      return false
    }
    let type = String(decoding: UnsafeRawBufferPointer(rebasing: r.payload[e.type]), as: UTF8.self)
    // Both halves learn the units (every row has a province); the committed ones are loaded.
    guard type.hasPrefix("unit."), r.seq > unitEvents.table.checkpoint else { return false }
    guard (try? doc.parse(r.payload)) != nil else { return false }
    let p = r.payload
    scan(p)
    unitCodes = IdTable()
    unitStrings.removeAll()
    unitPlaces.removeAll()
    applyUnit(
      type: type, code: text(env.unit, p) ?? "", at: time(env.occurred, p),
      name: text(field("name", p), p), level: text(field("level", p), p),
      parent: text(field("parent", p), p), gso: text(field("gso_code", p), p),
      into: text(field("into", p), p))
    return type != "unit.established"
  }

  /// Per type code: the data fields that are columns of `events_raw` (and so of `events`),
  /// with the data's key, the column and its type.
  private static let wideSlots: [[(key: [UInt8], column: Int, type: ColumnType)]] = {
    let columns = BuiltinTables.eventsRaw.columns
    return Catalog.types.map { t in
      t.fields.compactMap { f in
        guard let c = BuiltinTables.eventColumn(type: t.name, field: f.name),
          let i = columns.firstIndex(where: { $0.name == c.name })
        else { return nil }
        return (f.nameBytes, i, c.type)
      }
    }
  }()

  /// `events_raw`'s `data` column; `target` follows it.
  private static let rawDataColumn = BuiltinTables.eventsRaw.columns.firstIndex {
    $0.name == "data"
  }!

  var env = Envelope()
  /// The nodes of the record just parsed (taken once: each `doc.nodes` retains the tape).
  var nodes = JSONDocument().nodes
  /// The data object's members: key and value nodes.
  var dataMembers: [(key: Int, value: Int)] = []
  /// Per unit code (by bytes): its code as a String, made once.
  var unitCodes = IdTable()
  var unitStrings: [String] = []
  /// Whether the record just read was read by the quick scan (its nodes in `quickNodes`, its
  /// data's members in `quickMembers`, where `ScannedRecords` keeps them; `doc` holds another
  /// record).
  var quick = false
  /// The record's type and times as its scan worked them out (nil: read here).
  var facts: ScannedRecords.Facts?
  var quickNodes = UnsafeBufferPointer<Node>(start: nil, count: 0)
  var quickMembers = UnsafeBufferPointer<(key: Int, value: Int)>(start: nil, count: 0)

  /// The unit code of the record as a String, made once per distinct code, and its
  /// position among them (-1 for a record with no unit).
  private mutating func unitString(_ p: UnsafeRawBufferPointer) -> (String, Int) {
    guard env.unit >= 0 else { return ("", -1) }
    let bytes = raw(env.unit, p)
    let h = IdTable.hash(bytes)
    if let e = unitCodes.find(bytes, hash: h) { return (unitStrings[e], e) }
    unitCodes.insert(bytes, hash: h, seq: 0, type: 0)
    unitStrings.append(String(decoding: bytes, as: UTF8.self))
    unitPlaces.append(history.places(unitStrings[unitStrings.count - 1]))
    return (unitStrings[unitStrings.count - 1], unitStrings.count - 1)
  }

  /// Per unit of `unitStrings`: its provinces through time, from the history as it stands
  /// while records are applied (`learnUnits` runs before, over the whole range, and drops
  /// them when it changes the history).
  private var unitPlaces: [(now: String?, spans: [(from: Int64, name: String?)])?] = []

  /// The province of unit `u` (of `unitStrings`) at `t`, and its province now.
  private func provinces(_ u: Int, at t: Int64) -> (then: String?, now: String?) {
    guard u >= 0, let places = unitPlaces[u] else { return (nil, nil) }
    var name: String? = nil
    for s in places.spans where s.from <= t { name = s.name }
    return (name, places.now)
  }

  /// Applies one record to every table that has not seen it yet.
  mutating func apply(_ r: LogRecord, scanned: (ScannedRecords.BatchView, Int)? = nil) throws {
    let p = r.payload
    try read(r, scanned: scanned)
    let known = facts.flatMap { $0.code >= 0 ? $0 : nil }
    guard env.type >= 0, env.data >= 0,
      let code = known.map({ UInt8($0.code) }) ?? Catalog.code(named: raw(env.type, p))
    else {
      throw ProjectionError("record seq \(r.seq) is not an event of the catalog")
    }
    let type = Catalog.type(code: code).name
    let seq = r.seq
    let dataNode = node(env.data)
    let dataBytes = UnsafeRawBufferPointer(
      rebasing: p[Int(dataNode.start)..<Int(dataNode.end)])
    let (unit, unitIndex) = unitString(p)
    let occurred = known?.occurred ?? time(env.occurred, p)
    let (province, provinceNow) = provinces(unitIndex, at: occurred)
    let occurredLocal = occurred + Self.offset
    let recordedLocal = (known?.recorded ?? time(env.recorded, p)) + Self.offset
    let year = Timestamp.civilFromDays(floorDiv(occurredLocal, 86_400_000_000)).year
    let establishment = field("establishment", p)
    let person = field("person", p)
    let env = self.env

    func common(_ b: inout [ColumnBuilder]) {
      b[0].append(Int64(seq))
      putText(&b[1], env.id, p)
      b[2].append(type)
      b[3].append(occurredLocal)
      b[4].append(recordedLocal)
      b[5].append(year)
      // No unit (a `person.forgotten`, the store's own act) is NULL, not an empty code.
      if env.unit >= 0 { b[6].append(unit) } else { b[6].appendNull() }
      Self.put(&b[7], province)
      Self.put(&b[8], provinceNow)
      putText(&b[9], env.caseId, p)
      putText(&b[10], establishment, p)
      putText(&b[11], person, p)
      putText(&b[12], env.actor, p)
    }

    if part == .rest && !idsComplete && env.id >= 0 {
      pendingIds.insert(raw(env.id, p), seq: seq, type: code)
    }
    if case let t = eventsRaw, t.wants(seq) {
      t.withBuilders { b in
        common(&b)
        // The data fields: only those of the record's type are touched; the rest of the
        // wide row is NULL, padded in runs (`ColumnBuilder.padNulls`).
        let row = b[0].count - 1
        for slot in Self.wideSlots[Int(code)] {
          let node = field(slot.key, p)
          guard node >= 0 else { continue }
          b[slot.column].padNulls(to: row)
          put(&b[slot.column], node, as: slot.type, p)
        }
        let d = Self.rawDataColumn
        b[d].padNulls(to: row)
        b[d].append(dataBytes)
        b[d + 1].padNulls(to: row)
        putText(&b[d + 1], field("target", p), p)
      }
      try t.endRow(seq: seq)
    }
    guard part == .rest else { return }
    // What follows reads lists and objects (a plan's targets, a correction's changes) from the
    // parsed document: a record the quick scan read is parsed here (it declines those today).
    if quick && (code == Catalog.planAdopted || code == Catalog.corrected) {
      do { try doc.parse(p) } catch {
        throw ProjectionError("record seq \(r.seq) is not JSON: \(error)")
      }
      scan(p)
    }
    switch type {
    case "event.corrected", "event.voided":
      try amend(seq: seq, type: type, target: text(field("target", p), p), payload: p)
      return
    case "unit.established", "unit.merged", "unit.moved":
      if case let t = unitEvents, t.wants(seq) {
        t.rows.builders[0].append(Int64(seq))
        t.rows.builders[1].append(type)
        t.rows.builders[2].append(occurredLocal)
        t.rows.builders[3].append(unit)
        putText(&t.rows.builders[4], field("name", p), p)
        putText(&t.rows.builders[5], field("level", p), p)
        putText(&t.rows.builders[6], field("parent", p), p)
        putText(&t.rows.builders[7], field("gso_code", p), p)
        putText(&t.rows.builders[8], field("into", p), p)
        try t.endRow(seq: seq)
      }
    case "establishment.closed":
      if case let t = establishments, t.wantsPatch(seq), let e = text(establishment, p),
        let row = establishmentRow(e, in: t)
      {
        try t.patch(row: row, seq: seq, column: "closed_at", value: .int(occurredLocal))
        try t.patch(
          row: row, seq: seq, column: "close_reason",
          value: text(field("reason", p), p).map { .text($0) } ?? .null)
      }
    default: break
    }
    if let t = byCode[Int(code)], t.wants(seq) {
      t.withBuilders { b in
        common(&b)
        let n = BuiltinTables.common.count
        for (i, c) in t.spec.fields.enumerated() {
          put(&b[n + i], field(t.fieldKeys[i], p), as: c.type, p)
        }
      }
      try t.endRow(seq: seq)
      if type == "establishment.registered", let e = text(establishment, p) {
        pendingEstablishments[e] = t.row(ofSeq: seq)
      }
    }
    if type == "plan.adopted", case let t = planTargets, t.wants(seq) {
      guard let targets = doc.member("targets", ofObject: env.data, in: p) else { return }
      let start = field("period_start", p)
      let end = field("period_end", p)
      let plan = field("plan", p)
      for element in doc.elements(ofArray: targets) {
        var b = [ColumnBuilder]()
        swap(&b, &t.rows.builders)
        b[0].append(Int64(seq))
        putText(&b[1], plan, p)
        b[2].append(unit)
        Self.put(&b[3], province)
        Self.put(&b[4], provinceNow)
        put(&b[5], start, as: .date, p)
        put(&b[6], end, as: .date, p)
        var indicator = -1
        var percent = -1
        var year = -1
        for (k, v) in doc.members(ofObject: element) {
          let key = raw(k, p)
          if Self.equals(key, "indicator") {
            indicator = v
          } else if Self.equals(key, "min_percent") {
            percent = v
          } else if Self.equals(key, "year") {
            year = v
          }
        }
        putText(&b[7], indicator, p)
        put(&b[8], percent, as: .double, p)
        put(&b[9], year, as: .bigint, p)
        swap(&b, &t.rows.builders)
        try t.endRow(seq: seq)
      }
    }
  }

  /// A correction or a void: patches on the target's rows in `events` and its type's table.
  private mutating func amend(
    seq: UInt64, type: String, target: String?, payload p: UnsafeRawBufferPointer
  ) throws {
    guard let target, let targetSeq = seqOf(id: target) else {
      throw ProjectionError("record seq \(seq): its target \(target ?? "?") is not in the log")
    }
    let targetType = pendingType(targetSeq) ?? typeOf(seq: targetSeq)
    var affected: [TableState] = [events]
    if let t = targetType.flatMap({ Catalog.byName[$0]?.code }).flatMap({ byCode[Int($0)] }) {
      affected.append(t)
    }
    for t in affected where t.wantsPatch(seq) {
      guard let row = t.row(ofSeq: targetSeq) else { continue }
      if type == "event.voided" {
        try t.patch(row: row, seq: seq, column: nil, value: .null)
        continue
      }
      guard let dataNode = doc.member("data", ofObject: 0, in: p),
        let changes = doc.member("changes", ofObject: dataNode, in: p)
      else { continue }
      for (k, v) in doc.members(ofObject: changes) {
        let name = doc.string(at: k, in: p)
        // `events` and the type's table name a field alike (`budget_year`); a field held by
        // a common column (`establishment`) keeps its name.
        let column =
          targetType.flatMap { BuiltinTables.eventColumn(type: $0, field: name) }?.name
          ?? name
        guard let c = t.spec.columns.first(where: { $0.name == column }) else { continue }
        let node = nodes[v]
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
    var key = Array(id.utf8)
    if let e = key.withUnsafeMutableBytes({ pendingIds.find(UnsafeRawBufferPointer($0)) }) {
      return pendingIds.seqs[e]
    }
    let raw = eventsRaw.table
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

  /// The type of a record applied in this run, by its seq (ids are added in seq order).
  private func pendingType(_ seq: UInt64) -> String? {
    let seqs = pendingIds.seqs
    var lo = 0
    var hi = seqs.count
    while lo < hi {
      let mid = (lo + hi) / 2
      if seqs[mid] < seq { lo = mid + 1 } else { hi = mid }
    }
    guard lo < seqs.count, seqs[lo] == seq else { return nil }
    return Catalog.type(code: pendingIds.typeCodes[lo]).name
  }

  private func typeOf(seq: UInt64) -> String? {
    let t = eventsRaw
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
    guard let t = tables["units"], t.owned else { return }
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

  /// Hands every table's last groups to the background writer, before any commit waits.
  func handOver() throws {
    for name in tables.keys.sorted() where name != "units" && tables[name]!.owned {
      try tables[name]!.handOver()
    }
  }

  /// Commits every table at `target`.
  mutating func commit() throws {
    for name in tables.keys.sorted() where name != "units" && tables[name]!.owned {
      try tables[name]!.commit()
    }
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
