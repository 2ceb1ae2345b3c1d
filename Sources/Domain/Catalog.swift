#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The event catalog, v1 (DESIGN.md, "Events"): every type, its fields, and what each field
/// may hold.
///
/// The catalog is data: validation, canonical encoding and (later) the per-type tables read
/// it, so adding a type or an optional field is one entry here.
package enum Catalog {
  /// What a field may hold.
  package enum Kind: Sendable, Equatable {
    /// Free text (checked for raw ID numbers).
    case text
    /// One of a fixed list of words.
    case choice([String])
    /// An identifier: 1–64 of `[A-Za-z0-9._:-]` (establishments).
    case identifier
    /// A document's number as it is written, e.g. `679/QĐ-TTg`: 1–128 characters, no
    /// control characters (plans and the plans they implement).
    case reference
    /// A jurisdiction code already established.
    case unit
    /// An event id already in the log or earlier in the input.
    case event
    /// A pseudonym `P-` + 16 hex digits.
    case person
    /// A non-negative integer.
    case count
    /// A non-negative number.
    case amount
    /// A percentage, 0 to 100.
    case percent
    /// A calendar year (2000–2100).
    case year
    /// A calendar date `YYYY-MM-DD`.
    case date
    /// The `changes` object of a correction: data fields of the target's type.
    case changes
    /// The `targets` list of a plan: objects `{indicator, min_percent, year?}`.
    case targets
  }

  package final class Field: Sendable {
    package let name: String
    package let kind: Kind
    package let required: Bool
    /// `name` as UTF-8, and a `.choice`'s words as UTF-8: validation compares bytes.
    package let nameBytes: [UInt8]
    package let choiceBytes: [[UInt8]]
    /// `"name":`, as canonical JSON writes the key.
    package let keyBytes: [UInt8]
    /// The same, for the hot path.
    package let info: FieldInfo

    package init(name: String, kind: Kind, required: Bool) {
      self.name = name
      self.kind = kind
      self.required = required
      nameBytes = Array(name.utf8)
      keyBytes = Array("\"\(name)\":".utf8)
      if case .choice(let words) = kind {
        choiceBytes = words.map { Array($0.utf8) }
      } else {
        choiceBytes = []
      }
      let choices = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(
        capacity: choiceBytes.count)
      for (i, c) in choiceBytes.enumerated() { choices[i] = Catalog.immortal(c) }
      info = FieldInfo(
        name: Catalog.immortal(nameBytes), key: Catalog.immortal(keyBytes), kind: KindCode(kind),
        required: required, choices: UnsafeBufferPointer(choices))
    }
  }

  /// Whether an event type needs `case` in its envelope.
  package enum CaseRule: Sendable { case required, optional }

  /// Immutable after init; its buffers are never written again, so sharing it is safe.
  package final class EventType: @unchecked Sendable {
    package let name: String
    package let code: UInt8
    package let fields: [Field]
    package let caseRule: CaseRule
    package let nameBytes: [UInt8]
    /// Field positions in byte order of their names: the order canonical JSON writes them in.
    package let canonicalOrder: [Int]
    /// The position of the field naming another event (a correction's or a void's target).
    package let targetField: Int?
    /// `fields` and `canonicalOrder` for the hot path: plain values, no reference counting.
    package let infos: UnsafeBufferPointer<FieldInfo>
    package let canonical: UnsafeBufferPointer<Int>

    package init(name: String, code: UInt8, fields: [Field], caseRule: CaseRule) {
      self.name = name
      self.code = code
      self.fields = fields
      self.caseRule = caseRule
      nameBytes = Array(name.utf8)
      canonicalOrder = fields.indices.sorted {
        fields[$0].nameBytes.lexicographicallyPrecedes(fields[$1].nameBytes)
      }
      targetField = fields.firstIndex { $0.kind == .event }
      let infos = UnsafeMutableBufferPointer<FieldInfo>.allocate(capacity: fields.count)
      for (i, f) in fields.enumerated() { infos[i] = f.info }
      self.infos = UnsafeBufferPointer(infos)
      let canonical = UnsafeMutableBufferPointer<Int>.allocate(capacity: fields.count)
      for (i, k) in canonicalOrder.enumerated() { canonical[i] = k }
      self.canonical = UnsafeBufferPointer(canonical)
      precondition(fields.count <= 8, "validation keeps at most 8 fields of an object")
    }

    package func field(_ name: String) -> Field? { fields.first { $0.name == name } }
  }

  /// The type whose name is `bytes`, or nil.
  package static func type(named bytes: UnsafeRawBufferPointer) -> EventType? {
    code(named: bytes).map { types[Int($0)] }
  }

  /// The code of the type whose name is `bytes`, or nil; compares plain bytes only.
  package static func code(named bytes: UnsafeRawBufferPointer) -> UInt8? {
    for i in 0..<typeNames.count where rawEqual(typeNames[i], bytes) { return UInt8(i) }
    return nil
  }

  /// The types' names for `code(named:)`, kept for the whole run; written once, then only read.
  nonisolated(unsafe) private static let typeNames: UnsafeBufferPointer<UnsafeRawBufferPointer> = {
    let p = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: types.count)
    for (i, t) in types.enumerated() { p[i] = immortal(t.nameBytes) }
    return UnsafeBufferPointer(p)
  }()

  /// The position of `bytes` in `envelope`, or nil.
  package static func envelopeIndex(_ bytes: UnsafeRawBufferPointer) -> Int? {
    for i in 0..<envelopeNames.count where rawEqual(envelopeNames[i], bytes) { return i }
    return nil
  }

  /// The envelope's names for `envelopeIndex(_:)`, kept for the whole run; written once, then
  /// only read.
  nonisolated(unsafe) private static let envelopeNames:
    UnsafeBufferPointer<UnsafeRawBufferPointer> = {
      let p = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: envelope.count)
      for (i, name) in envelope.enumerated() { p[i] = immortal(Array(name.utf8)) }
      return UnsafeBufferPointer(p)
    }()

  /// A `plan.adopted` target, validated like an event's data.
  package static let targetType = EventType(
    name: "a target", code: 255, fields: targetFields, caseRule: .optional)

  private static func f(_ name: String, _ kind: Kind, _ required: Bool = true) -> Field {
    Field(name: name, kind: kind, required: required)
  }

  package static let unitLevels = [
    "country", "province", "city", "district", "town", "commune", "ward",
  ]
  package static let establishmentKinds = [
    "karaoke", "massage", "hotel", "guesthouse", "bar", "dance_hall", "spa", "other",
  ]

  /// Every type, in a fixed order: `code` is its position, stored in indexes.
  package static let types: [EventType] = {
    let list: [(String, [Field], CaseRule)] = [
      (
        "unit.established",
        [
          f("name", .text), f("level", .choice(unitLevels)), f("parent", .unit, false),
          f("gso_code", .text, false),
        ], .optional
      ),
      ("unit.merged", [f("into", .unit)], .optional),
      ("unit.moved", [f("parent", .unit)], .optional),
      (
        "establishment.registered",
        [
          f("establishment", .identifier), f("kind", .choice(establishmentKinds)),
          f("name", .text, false),
        ], .optional
      ),
      (
        "establishment.closed", [f("establishment", .identifier), f("reason", .text, false)],
        .optional
      ),
      (
        "plan.adopted",
        [
          f("plan", .reference), f("title", .text), f("issuer", .text), f("level", .text),
          f("period_start", .date), f("period_end", .date), f("basis", .reference, false),
          f("targets", .targets),
        ], .optional
      ),
      (
        "budget.allocated",
        [
          f("plan", .reference), f("line", .text), f("year", .year),
          f("amount_million_vnd", .amount),
        ],
        .optional
      ),
      (
        "tip.received",
        [
          f("source", .choice(["citizen", "hotline", "police", "media", "worker", "other"])),
          f("establishment", .identifier, false), f("summary", .text, false),
        ], .required
      ),
      (
        "tip.verified",
        [
          f("finding", .choice(["substantiated", "unfounded"])),
          f(
            "classification", .choice(["administrative", "criminal", "trafficking", "minor"]), false
          ),
        ], .required
      ),
      (
        "inspection.done",
        [
          f("establishment", .identifier),
          f("team", .choice(["interagency_178", "police", "culture", "health"])),
          f("result", .choice(["compliant", "violation"])),
          f("sanction", .choice(["none", "warning", "fine", "suspension", "revocation"])),
          f("fine_vnd", .count, false),
        ], .optional
      ),
      (
        "case.referred",
        [
          f(
            "referred_to",
            .choice(["police", "procuracy", "court", "health", "social", "women_union"])),
          f("basis", .text, false),
        ], .required
      ),
      ("case.closed", [f("outcome", .text)], .required),
      (
        "support.provided",
        [
          f("person", .person),
          f(
            "kind",
            .choice([
              "vocational_training", "job_placement", "loan", "health", "hiv_services",
              "legal_aid", "counselling", "allowance",
            ])),
          f("provider", .text, false), f("amount_vnd", .count, false),
        ], .optional
      ),
      (
        "outreach.held",
        [
          f("form", .choice(["meeting", "broadcast", "leaflet", "online", "performance"])),
          f("audience", .choice(["residents", "students", "establishment_workers", "staff"])),
          f("reached", .count),
        ], .optional
      ),
      (
        "training.held",
        [
          f("audience", .choice(["staff", "collaborators", "police", "teachers"])),
          f("participants", .count), f("level", .text),
        ], .optional
      ),
      (
        "event.corrected", [f("target", .event), f("changes", .changes), f("reason", .text)],
        .optional
      ),
      ("event.voided", [f("target", .event), f("reason", .text)], .optional),
      ("person.forgotten", [f("person", .person), f("reason", .text)], .optional),
    ]
    return list.enumerated().map { i, t in
      EventType(name: t.0, code: UInt8(i), fields: t.1, caseRule: t.2)
    }
  }()

  package static let byName: [String: EventType] = Dictionary(
    uniqueKeysWithValues: types.map { ($0.name, $0) })

  /// The fields of the `targets` objects of `plan.adopted`.
  package static let targetFields: [Field] = [
    f("indicator", .text), f("min_percent", .percent), f("year", .year, false),
  ]

  /// The envelope's fields, in canonical order.
  package static let envelope = [
    "id", "type", "occurred_at", "recorded_at", "unit", "case", "actor", "data",
  ]

  package static func type(code: UInt8) -> EventType { types[Int(code)] }

  package static let corrected = byName["event.corrected"]!.code
  package static let voided = byName["event.voided"]!.code
  package static let forgotten = byName["person.forgotten"]!.code
  package static let unitEstablished = byName["unit.established"]!.code
  package static let planAdopted = byName["plan.adopted"]!.code

  /// The nearest of `candidates` to `name` by edit distance, for "did you mean" hints; nil when
  /// nothing is close enough to help.
  package static func nearest(_ name: String, in candidates: [String]) -> String? {
    let a = Array(name.utf8)
    var best: (String, Int)?
    for c in candidates {
      let b = Array(c.utf8)
      var row = Array(0...b.count)
      for i in 1...max(a.count, 1) where !a.isEmpty {
        var prev = row[0]
        row[0] = i
        for j in 1...max(b.count, 1) where !b.isEmpty {
          let cur = row[j]
          row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
          prev = cur
        }
      }
      let d = row[b.count]
      if best == nil || d < best!.1 { best = (c, d) }
    }
    guard let best, best.1 <= max(2, min(a.count, best.0.utf8.count) / 2) else { return nil }
    return best.0
  }
}

/// What kind of value a field holds, without the payload of `Catalog.Kind`.
package enum KindCode: UInt8, Sendable {
  case text, choice, reference, identifier, event, unit, person, count, amount, percent, year
  case date, changes, targets

  init(_ kind: Catalog.Kind) {
    switch kind {
    case .text: self = .text
    case .choice: self = .choice
    case .reference: self = .reference
    case .identifier: self = .identifier
    case .event: self = .event
    case .unit: self = .unit
    case .person: self = .person
    case .count: self = .count
    case .amount: self = .amount
    case .percent: self = .percent
    case .year: self = .year
    case .date: self = .date
    case .changes: self = .changes
    case .targets: self = .targets
    }
  }
}

/// A field as validation's hot path reads it: plain values, and pointers to bytes the catalog
/// keeps for the whole run (allocated once, never freed), so reading one costs no reference
/// counting.
package struct FieldInfo: @unchecked Sendable {
  package var name: UnsafeRawBufferPointer
  package var key: UnsafeRawBufferPointer
  package var kind: KindCode
  package var required: Bool
  package var choices: UnsafeBufferPointer<UnsafeRawBufferPointer>
}

extension Catalog {
  /// A copy of `bytes` that lives as long as the program: catalog entries are built once.
  static func immortal(_ bytes: [UInt8]) -> UnsafeRawBufferPointer {
    let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
    bytes.withUnsafeBytes { p.copyMemory(from: $0) }
    return UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[0..<bytes.count])
  }
}

/// Whether two byte buffers are equal: length, then `memcmp`.
@inline(__always)
package func rawEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
  a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}
