import Domain

/// `hoso generate`: deterministic synthetic events that behave like the programme's, on top of
/// the committed units and plans.
///
/// The model is written at national scale (anchored to published figures: about 87,000
/// establishments, so that about 26,000 are inspected in 2012 with a third in violation) and
/// scaled down by `count`: `count` = 5 M over 2011–2026 is the whole country, 100 k a 2 %
/// sample. Establishments open and close; routine inspections cover a share scattered around
/// the plans' 20–30 % targets; tips open cases that are verified (mostly within the 20-day
/// limit of Criminal Procedure Code art. 147, some late, some never), inspected, referred and
/// closed; persons (pseudonyms) receive support of several kinds over the years; outreach and
/// training go on everywhere; about 0.5 % of events are corrected or voided later. Events are
/// recorded hours to weeks after they happen, a fifth held back until the next 6-month or
/// annual reporting deadline. After 1 July 2025 events carry the merged units, and from
/// 1 March 2025 the provincial Departments of Health report instead of those of Labour.
///
/// Everything is generated in memory (about 60 bytes an event plus its `data`), sorted by
/// `recorded_at`, and written merged with the committed events: the output appends to a fresh
/// store as it is. The same arguments give the same bytes.
package struct Generator {
  package struct Options: Sendable {
    package var seed: UInt64 = 1
    /// The number of generated events (the committed ones come on top).
    package var count = 10_000
    package var fromYear = 2011
    package var toYear = 2026
    package init(seed: UInt64 = 1, count: Int = 10_000) {
      self.seed = seed
      self.count = count
    }
  }

  /// The generator's history ends here (a fixed day, so that the output does not depend on
  /// the day it is made).
  package static let lastDay = local(2026, 10, 31, 23, 59, 59)
  /// The scale of the model: generated events over 2011–2026 for the whole country.
  package static let nationalCount = 5_000_000
  static let nationalEstablishments = 87_000.0

  static let moh = local(2025, 3, 1)  // Decree 42/2025/NĐ-CP: the Ministry of Health takes over
  static let reform = local(2025, 7, 1)  // Resolution 202/2025/QH15: 34 provinces, no districts
  static let penalCode2015 = local(2018, 1, 1)
  static let decree167 = local(2013, 12, 30)
  static let decree144 = local(2022, 1, 1)
  static let day: Int64 = 86_400

  /// Epoch seconds of a Vietnam local wall-clock time.
  static func local(
    _ y: Int, _ m: Int, _ d: Int, _ hh: Int = 0, _ mm: Int = 0, _ ss: Int = 0
  ) -> Int64 {
    Timestamp.daysFromCivil(Int64(y), Int64(m), Int64(d)) * day + Int64(hh * 3600 + mm * 60 + ss)
      - 7 * 3600
  }

  // MARK: - The model's state

  struct Unit {
    var code: String
    var name: String
    var level: String
    var parent: Int?
    /// When it came into being (seconds).
    var established: Int64 = .min
    /// From when on the unit's territory belongs to another (merges, in time order).
    var merges: [(at: Int64, into: Int)] = []
  }

  final class Province {
    let unit: Int
    let key: String  // the code without "VN-", for ids
    let weight: Double
    /// How strongly this province inspects: some provinces stay above the targets, some below.
    var inspectionBias = 1.0
    /// The lowest committed units inside it, and the share of events that fall in them (the
    /// rest is reported at province level).
    var places: [Int] = []
    var placeShare = 0.0
    var establishments: [Int] = []
    var persons: [(person: String, unit: Int)] = []
    var caseNumbers: [Int: Int] = [:]
    var establishmentNumber = 0

    init(unit: Int, key: String, weight: Double) {
      self.unit = unit
      self.key = key
      self.weight = weight
    }
  }

  struct Establishment {
    var id: String
    var kind: Int
    var name: String
    var unit: Int
    /// Registered (recorded) from then on: inspections and tips come after.
    var available: Int64
    var closed: Int64?
  }

  /// A generated event, compact: its `data` is canonical JSON in `arena`.
  struct Event {
    var recorded: Int64
    var occurred: Int64
    var type: UInt8
    var unit: Int32
    var actor: Int32
    var caseNumber: Int32
    var caseKey: Int32  // the province of the case id, or -1
    var caseYear: Int16
    var dataStart: Int
    var dataCount: Int32
    /// For corrections and voids: the index of the target event (`data` then lacks `target`).
    var target: Int32
  }

  static let types = [
    "establishment.registered", "establishment.closed", "tip.received", "tip.verified",
    "inspection.done", "case.referred", "case.closed", "support.provided", "outreach.held",
    "training.held", "event.corrected", "event.voided",
  ]
  enum T {
    static let registered: UInt8 = 0
    static let closed: UInt8 = 1
    static let tip: UInt8 = 2
    static let verified: UInt8 = 3
    static let inspection: UInt8 = 4
    static let referred: UInt8 = 5
    static let caseClosed: UInt8 = 6
    static let support: UInt8 = 7
    static let outreach: UInt8 = 8
    static let training: UInt8 = 9
    static let corrected: UInt8 = 10
    static let voided: UInt8 = 11
  }

  let options: Options
  let reference: Reference
  var random: Random
  var units: [Unit] = []
  var unitIndex: [String: Int] = [:]
  var provinces: [Province] = []
  var establishments: [Establishment] = []
  var events: [Event] = []
  var arena: [UInt8] = []
  var actors: [String] = []
  var actorIndex: [String: Int32] = [:]
  let end: Int64
  let scale: Double

  package struct Failure: Error, CustomStringConvertible {
    package var description: String
  }

  package init(reference: Reference, options: Options) throws(Failure) {
    guard options.count >= 0 else { throw Failure(description: "--count must be 0 or more") }
    guard (2011...2026).contains(options.fromYear), (2011...2026).contains(options.toYear),
      options.fromYear <= options.toYear
    else {
      throw Failure(
        description:
          "--from and --to are years from 2011 to 2026 (the generator's history ends on 2026-10-31), --from not after --to"
      )
    }
    self.options = options
    self.reference = reference
    random = Random(seed: options.seed)
    end = min(Self.lastDay, Self.local(options.toYear, 12, 31, 23, 59, 59))
    let years = Double(options.toYear - options.fromYear + 1)
    scale = Double(options.count) / (Double(Self.nationalCount) * years / 16)
    try buildUnits()
  }

  // MARK: - Units, from the committed events

  private mutating func buildUnits() throws(Failure) {
    for e in reference.events where e.type.hasPrefix("unit.") {
      switch e.type {
      case "unit.established":
        let parent = (e.data["parent"] as? String).flatMap { unitIndex[$0] }
        unitIndex[e.unit] = units.count
        units.append(
          Unit(
            code: e.unit, name: e.data["name"] as? String ?? e.unit,
            level: e.data["level"] as? String ?? "", parent: parent,
            established: e.occurredAt / 1_000_000))
      case "unit.merged":
        guard let u = unitIndex[e.unit],
          let into = (e.data["into"] as? String).flatMap({ unitIndex[$0] })
        else { throw Failure(description: "\(e.origin): a merge of units not established before") }
        units[u].merges.append((e.occurredAt / 1_000_000, into))
      default:
        break  // unit.moved changes a parent, not where events are reported
      }
    }
    guard let country = unitIndex["VN"] else {
      throw Failure(description: "\(reference.root)/reference: the country VN is not established")
    }
    let start = Self.local(2011, 1, 1)
    for (i, u) in units.enumerated()
    where u.parent == country && (u.level == "province" || u.level == "city")
      && u.established <= start && !(u.merges.first.map { $0.at <= start } ?? false)
    {
      let w = Vocabulary.provinceWeights[u.code] ?? (1.0, 1.0)
      provinces.append(
        Province(unit: i, key: String(u.code.dropFirst(3)), weight: w.population * w.hot))
    }
    guard !provinces.isEmpty else {
      throw Failure(description: "\(reference.root)/reference: no provinces established")
    }
    // Places: the lowest committed units of each province, and the share of the province
    // they stand for (a province whose districts are all committed: all of it).
    var children = Array(repeating: [Int](), count: units.count)
    for (i, u) in units.enumerated() where u.established <= start {
      if let p = u.parent { children[p].append(i) }
    }
    for p in provinces {
      var leaves: [Int] = []
      func walk(_ u: Int) {
        if children[u].isEmpty { leaves.append(u) } else { children[u].forEach(walk) }
      }
      children[p.unit].forEach(walk)
      // Units established after 2011 (the 2025 wards) come in through merges, not as places.
      p.places = leaves.filter {
        units[$0].established <= start && units[$0].merges.allSatisfy { $0.at > start }
      }
      p.placeShare = p.places.isEmpty ? 0 : min(1, Double(children[p.unit].count) / 10)
      p.inspectionBias = random.uniform(0.7, 1.3)
    }
  }

  /// The unit whose territory `u` belongs to at `t`, after merges.
  func unit(_ u: Int, at t: Int64) -> Int {
    var u = u
    for _ in 0..<8 {
      guard let m = units[u].merges.last(where: { $0.at <= t }) else { return u }
      u = m.into
    }
    return u
  }

  /// "tỉnh Lạng Sơn", "thành phố Huế": the province (as it stood at `t`) for an actor's name.
  func display(_ p: Province, at t: Int64) -> String {
    let u = units[unit(p.unit, at: t)]
    if u.name.hasPrefix("Thành phố ") { return "thành phố " + u.name.dropFirst(10) }
    return (u.level == "city" ? "thành phố " : "tỉnh ") + u.name
  }

  func department(_ p: Province, at t: Int64) -> String {
    (t < Self.moh ? "Sở LĐTBXH " : "Sở Y tế ") + display(p, at: t)
  }

  func actor(at u: Int, _ p: Province, _ t: Int64) -> String {
    let unit = units[u]
    switch unit.level {
    case "commune", "ward":
      return "UBND " + lowerFirst(unit.name)
    case "district", "town":
      if unit.name.hasPrefix("Thị trấn") { return "UBND " + lowerFirst(unit.name) }
      return (t < Self.moh ? "Phòng LĐTBXH " : "Phòng Văn hóa - Xã hội ") + lowerFirst(unit.name)
    default:
      return department(p, at: t)
    }
  }

  func lowerFirst(_ s: String) -> String {
    guard let f = s.first else { return s }
    return f.lowercased() + s.dropFirst()
  }

  /// Where an event in province `p` happens: one of its committed places, or the province.
  mutating func place(in p: Province) -> Int {
    if !p.places.isEmpty && random.chance(p.placeShare) { return random.pick(p.places) }
    return p.unit
  }

  // MARK: - Time

  /// When an act is entered: hours to weeks later, and a fifth held back until the next
  /// 6-month (June) or annual (December) reporting deadline.
  mutating func recordTime(_ occurred: Int64) -> Int64 {
    let r = random.double()
    var lag: Int64
    if r < 0.55 {
      lag = random.int64(600...(8 * 3600))
    } else if r < 0.90 {
      lag = random.int64((8 * 3600)...(5 * Self.day))
    } else {
      lag = random.int64((5 * Self.day)...(30 * Self.day))
    }
    var recorded = occurred + lag
    if random.chance(0.2) {
      let days = (occurred + 7 * 3600) / Self.day
      let (y, m, _) = Timestamp.civilFromDays(days)
      let deadline =
        m <= 5
        ? Self.local(Int(y), 6, 10)
        : m <= 11 ? Self.local(Int(y), 12, 10) : Self.local(Int(y) + 1, 6, 10)
      let at = deadline - random.int64(0...(6 * Self.day)) + random.int64((8 * 3600)...(17 * 3600))
      recorded = max(recorded, at)
    }
    return recorded
  }

  /// A working-hours local time in [t0, t1) (any time when the span is short).
  mutating func workTime(_ t0: Int64, _ t1: Int64) -> Int64 {
    if t1 - t0 < 2 * Self.day { return random.int64(t0...max(t0, t1 - 1)) }
    let ts = random.int64(t0...(t1 - 1))
    var d = (ts + 7 * 3600) / Self.day
    let weekday = (d + 3) % 7  // 0 = Monday (1970-01-01 was a Thursday)
    if weekday >= 5 && random.chance(0.75) { d -= weekday - 4 }
    let t = d * Self.day - 7 * 3600 + random.int64((7 * 3600 + 1800)...(17 * 3600 + 1800))
    return min(max(t, t0), t1 - 1)
  }

  // MARK: - Events

  mutating func actorCode(_ name: String) -> Int32 {
    if let a = actorIndex[name] { return a }
    let a = Int32(actors.count)
    actors.append(name)
    actorIndex[name] = a
    return a
  }

  @discardableResult
  mutating func emit(
    _ recorded: Int64, _ occurred: Int64, _ type: UInt8, unit: Int, actor: String,
    case c: (province: Int, year: Int, number: Int)? = nil, data: JSONObject, target: Int = -1
  ) -> Int {
    let start = arena.count
    data.write(to: &arena, closed: target < 0)
    let a = actorCode(actor)
    events.append(
      Event(
        recorded: recorded, occurred: occurred, type: type, unit: Int32(unit), actor: a,
        caseNumber: Int32(c?.number ?? 0), caseKey: Int32(c?.province ?? -1),
        caseYear: Int16(c?.year ?? 0), dataStart: start, dataCount: Int32(arena.count - start),
        target: Int32(target)))
    return events.count - 1
  }

  /// Now and then an event is corrected or voided later (about 0.5 % of events in all).
  mutating func maybeAmend(
    _ index: Int, _ type: String, correction changes: (inout Random) -> JSONObject?,
    voidable: Bool
  ) {
    let r = random.double()
    let e = events[index]
    if r < 0.004, let reasons = Vocabulary.correctionReasons[type],
      let changes = changes(&random)
    {
      let recorded = min(end, e.recorded + random.int64(3600...(90 * Self.day)))
      let occurred = recorded - random.int64(0...min(3600, recorded - e.occurred))
      var d = JSONObject()
      d.object("changes", changes)
      d.string("reason", random.pick(reasons))
      emitAmendment(recorded, occurred, T.corrected, target: index, data: d)
    } else if voidable && r >= 0.004 && r < 0.005 {
      let recorded = min(end, e.recorded + random.int64(600...(30 * Self.day)))
      let occurred = recorded - random.int64(0...min(600, recorded - e.occurred))
      var d = JSONObject()
      d.string("reason", random.pick(Vocabulary.voidReasons))
      emitAmendment(recorded, occurred, T.voided, target: index, data: d)
    }
  }

  private mutating func emitAmendment(
    _ recorded: Int64, _ occurred: Int64, _ type: UInt8, target: Int, data: JSONObject
  ) {
    let e = events[target]
    let start = arena.count
    data.write(to: &arena, closed: false)
    // Amended by the body that reported the event, as it is named when amending: the
    // Labour offices' work went to Health on 1 March 2025.
    var actor = actors[Int(e.actor)]
    if occurred >= Self.moh {
      actor = actor.replacingPrefix("Sở LĐTBXH ", "Sở Y tế ")
        .replacingPrefix("Phòng LĐTBXH ", "Phòng Văn hóa - Xã hội ")
    }
    let a = actorCode(actor)
    events.append(
      Event(
        recorded: recorded, occurred: occurred, type: type,
        unit: Int32(unit(Int(e.unit), at: occurred)), actor: a, caseNumber: e.caseNumber,
        caseKey: e.caseKey, caseYear: e.caseYear, dataStart: start,
        dataCount: Int32(arena.count - start), target: Int32(target)))
  }
}

/// A JSON object written in canonical form: keys in byte order, no whitespace.
struct JSONObject {
  private var members: [(key: String, value: [UInt8])] = []

  mutating func string(_ key: String, _ value: String) {
    var v: [UInt8] = [0x22]
    for b in value.utf8 {
      switch b {
      case 0x22: v += [0x5C, 0x22]
      case 0x5C: v += [0x5C, 0x5C]
      case 0x0A: v += [0x5C, 0x6E]
      case 0..<0x20: v += Array("\\u00\(b < 16 ? "0" : "")\(String(b, radix: 16))".utf8)
      default: v.append(b)
      }
    }
    v.append(0x22)
    members.append((key, v))
  }

  mutating func int(_ key: String, _ value: Int) {
    members.append((key, Array(String(value).utf8)))
  }

  mutating func object(_ key: String, _ value: JSONObject) {
    var v: [UInt8] = []
    value.write(to: &v, closed: true)
    members.append((key, v))
  }

  var isEmpty: Bool { members.isEmpty }

  /// Writes `{…}`; with `closed` false the closing brace is left for a last member (a
  /// correction's `target`, known only when the output is sorted).
  func write(to out: inout [UInt8], closed: Bool) {
    out.append(0x7B)
    for (i, m) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
      .enumerated()
    {
      if i > 0 { out.append(0x2C) }
      out.append(0x22)
      out.append(contentsOf: m.key.utf8)
      out.append(contentsOf: [0x22, 0x3A])
      out.append(contentsOf: m.value)
    }
    if closed { out.append(0x7D) }
  }
}
