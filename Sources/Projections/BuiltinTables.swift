import Domain

/// The built-in tables of DESIGN.md ("Views"), their columns and what feeds them.
package struct TableSpec: Sendable {
  package let name: String
  package let columns: [ColumnSchema]
  /// VARCHAR columns with a hash index in every group (instant look-ups by value).
  package let indexed: [String]
  /// The event type whose records become rows (per-type tables), if any.
  package let eventType: String?
  /// The type's data fields, in column order after the common ones.
  package let fields: [ColumnSchema]
  /// A table stored as another's rows and leading columns (`events` is `events_raw` without
  /// the corrections and voids themselves, and without the voided events): only its patches
  /// are its own.
  package var backing: String? = nil

  package var indexedColumns: [Int] {
    indexed.map { n in columns.firstIndex { $0.name == n }! }
  }
}

package enum BuiltinTables {
  /// The columns every event table starts with. Times are Vietnam wall-clock TIMESTAMPs;
  /// `province` is the province the unit belonged to when the event occurred, `province_now`
  /// the one its territory belongs to today.
  package static let common: [ColumnSchema] = [
    ColumnSchema("seq", .bigint), ColumnSchema("id", .varchar), ColumnSchema("type", .varchar),
    ColumnSchema("occurred_at", .timestamp), ColumnSchema("recorded_at", .timestamp),
    ColumnSchema("year", .bigint), ColumnSchema("unit", .varchar),
    ColumnSchema("province", .varchar), ColumnSchema("province_now", .varchar),
    ColumnSchema("case_id", .varchar), ColumnSchema("establishment", .varchar),
    ColumnSchema("person", .varchar), ColumnSchema("actor", .varchar),
  ]

  /// Per event type: the table and the data fields that become columns.
  package static let perType: [(table: String, type: String, fields: [ColumnSchema])] = [
    (
      "tips", "tip.received", [ColumnSchema("source", .varchar), ColumnSchema("summary", .varchar)]
    ),
    (
      "verifications", "tip.verified",
      [ColumnSchema("finding", .varchar), ColumnSchema("classification", .varchar)]
    ),
    (
      "inspections", "inspection.done",
      [
        ColumnSchema("team", .varchar), ColumnSchema("result", .varchar),
        ColumnSchema("sanction", .varchar), ColumnSchema("fine_vnd", .bigint),
      ]
    ),
    (
      "referrals", "case.referred",
      [ColumnSchema("referred_to", .varchar), ColumnSchema("basis", .varchar)]
    ),
    ("closures", "case.closed", [ColumnSchema("outcome", .varchar)]),
    (
      "supports", "support.provided",
      [
        ColumnSchema("kind", .varchar), ColumnSchema("provider", .varchar),
        ColumnSchema("amount_vnd", .bigint),
      ]
    ),
    (
      "outreach", "outreach.held",
      [
        ColumnSchema("form", .varchar), ColumnSchema("audience", .varchar),
        ColumnSchema("reached", .bigint),
      ]
    ),
    (
      "trainings", "training.held",
      [
        ColumnSchema("audience", .varchar), ColumnSchema("participants", .bigint),
        ColumnSchema("level", .varchar),
      ]
    ),
    (
      "establishments", "establishment.registered",
      [
        ColumnSchema("kind", .varchar), ColumnSchema("name", .varchar),
        ColumnSchema("closed_at", .timestamp), ColumnSchema("close_reason", .varchar),
      ]
    ),
    (
      "plans", "plan.adopted",
      [
        ColumnSchema("plan", .varchar), ColumnSchema("title", .varchar),
        ColumnSchema("issuer", .varchar), ColumnSchema("level", .varchar),
        ColumnSchema("period_start", .date), ColumnSchema("period_end", .date),
        ColumnSchema("basis", .varchar),
      ]
    ),
    (
      "budgets", "budget.allocated",
      [
        ColumnSchema("plan", .varchar), ColumnSchema("line", .varchar),
        ColumnSchema("budget_year", .bigint), ColumnSchema("amount_million_vnd", .double),
      ]
    ),
  ]

  /// The column of `events` (and of the type's own table) that data field `field` of `type`
  /// fills (and of `events_raw`, for an amendment's fields), with its type; nil for a field
  /// that is not a column there (a list, a correction's `changes`, an amendment's `target`) or
  /// that fills a common column (`establishment`, `person`).
  package static func eventColumn(type: String, field: String) -> ColumnSchema? {
    eventColumnByField[type + "\u{0}" + field]
  }

  /// The data fields of every type as `events` carries them (DESIGN.md, "Views"): one column
  /// per field name, shared by the types that have it while their column types agree; a
  /// field named like a common column, or like another type's field of another column type,
  /// is prefixed by its type's first word (`budget_year`). Derived from the catalog, so a new
  /// type or optional field becomes a column of `events` with no change here; their order is
  /// the catalog's, first appearance first.
  package static let eventFields: [ColumnSchema] = eventFieldLayout.columns

  private static let eventColumnByField: [String: ColumnSchema] = eventFieldLayout.byField

  private static let eventFieldLayout: (columns: [ColumnSchema], byField: [String: ColumnSchema]) =
    {
      let commonNames = Set(common.map(\.name))
      // `establishment` and `person` are data fields that the common columns hold.
      let intoCommon: Set<String> = ["establishment", "person"]
      var columns: [ColumnSchema] = []
      var byName: [String: ColumnType] = [:]
      var byField: [String: ColumnSchema] = [:]
      // Every type, the amendments too: `events_raw` holds a correction's or a void's
      // reason; its target has a column of its own there.
      for t in Catalog.types {
        for f in t.fields where !intoCommon.contains(f.name) && f.kind != .event {
          guard let type = columnType(f.kind) else { continue }
          var name = f.name
          if commonNames.contains(name) || byName[name].map({ $0 != type }) ?? false {
            name = String(t.name.prefix { $0 != "." }) + "_" + f.name
          }
          if byName[name] == nil {
            byName[name] = type
            columns.append(ColumnSchema(name, type))
          }
          byField[t.name + "\u{0}" + f.name] = ColumnSchema(name, type)
        }
      }
      return (columns, byField)
    }()

  /// The column type of a catalog field's values; nil for a list or an object.
  private static func columnType(_ kind: Catalog.Kind) -> ColumnType? {
    switch kind {
    case .text, .choice, .identifier, .reference, .unit, .event, .person: .varchar
    case .count, .year: .bigint
    case .amount, .percent: .double
    case .date: .date
    case .changes, .targets: nil
    }
  }

  /// Every record as appended: the common columns, the data fields as `events` has them
  /// (uncorrected), then the JSON as recorded and an amendment's target. `events` reads
  /// the leading columns of these rows.
  package static let eventsRaw = TableSpec(
    name: "events_raw",
    columns: common + eventFields + [
      ColumnSchema("data", .varchar), ColumnSchema("target", .varchar),
    ],
    indexed: ["id", "case_id", "establishment", "person", "target"], eventType: nil, fields: [])

  /// The events as they stand: corrections applied, voided ones left out, with every data
  /// field of the catalog (NULL where a row's type has none).
  package static let events = TableSpec(
    name: "events", columns: common + eventFields, indexed: [], eventType: nil, fields: [],
    backing: "events_raw")

  /// Record types that are rows of `events_raw` but not of `events`.
  package static let amendmentTypes: Set<String> = ["event.corrected", "event.voided"]

  /// One row per target of each `plan.adopted`.
  package static let planTargets = TableSpec(
    name: "plan_targets",
    columns: [
      ColumnSchema("seq", .bigint), ColumnSchema("plan", .varchar), ColumnSchema("unit", .varchar),
      ColumnSchema("province", .varchar), ColumnSchema("province_now", .varchar),
      ColumnSchema("period_start", .date), ColumnSchema("period_end", .date),
      ColumnSchema("indicator", .varchar), ColumnSchema("min_percent", .double),
      ColumnSchema("year", .bigint),
    ], indexed: [], eventType: nil, fields: [])

  /// One row per `unit.*` event: the history that `province` and `province_now` come from.
  package static let unitEvents = TableSpec(
    name: "unit_events",
    columns: [
      ColumnSchema("seq", .bigint), ColumnSchema("type", .varchar),
      ColumnSchema("occurred_at", .timestamp), ColumnSchema("unit", .varchar),
      ColumnSchema("name", .varchar), ColumnSchema("level", .varchar),
      ColumnSchema("parent", .varchar), ColumnSchema("gso_code", .varchar),
      ColumnSchema("into", .varchar),
    ], indexed: [], eventType: nil, fields: [])

  /// One row per unit as it stands now.
  package static let units = TableSpec(
    name: "units",
    columns: [
      ColumnSchema("unit", .varchar), ColumnSchema("name", .varchar),
      ColumnSchema("level", .varchar), ColumnSchema("parent", .varchar),
      ColumnSchema("gso_code", .varchar), ColumnSchema("established_at", .timestamp),
      ColumnSchema("merged_into", .varchar), ColumnSchema("merged_at", .timestamp),
      ColumnSchema("province_now", .varchar),
    ], indexed: [], eventType: nil, fields: [])

  /// The corrections, voids and closings that change rows of a table after they were written:
  /// applied when the table is read, so that the state as of any seq can be had.
  package static let patches = [
    ColumnSchema("row", .bigint), ColumnSchema("seq", .bigint), ColumnSchema("column", .varchar),
    ColumnSchema("int", .bigint), ColumnSchema("double", .double), ColumnSchema("text", .varchar),
  ]

  package static let typeTables: [TableSpec] = perType.map { t in
    TableSpec(
      name: t.table, columns: common + t.fields,
      indexed: t.table == "establishments" ? ["establishment"] : [], eventType: t.type,
      fields: t.fields)
  }

  /// Every table `hoso query` sees, in the order `.tables` lists them.
  package static let all: [TableSpec] = [events, eventsRaw] + typeTables + [planTargets, units]
}
