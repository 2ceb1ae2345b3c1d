import Foundation
import TestSupport
import Testing

/// The committed jurisdictions, `events/reference/units.ndjson`: they append to a fresh store,
/// and replaying them gives the 63 provinces in force until 30 June 2025 and the 34 from
/// 1 July 2025 (Resolution 202/2025/QH15), with every lower unit ending up in one of the 34.
@Suite struct ReferenceUnitsTests {
  static let path = packageRoot + "/events/reference/units.ndjson"

  /// The two-letter codes of the 63 provinces (tools/gen_events.py), before Huế.
  static let provinces63: Set<String> = Set(
    [
      "HN", "HG", "CB", "BK", "TQ", "LC", "DB", "LU", "SL", "YB", "HB", "TN", "LS", "QN", "BG",
      "PT", "VP", "BN", "HD", "HP", "HY", "TB", "HM", "ND", "NB", "TH", "NA", "HT", "QB", "QT",
      "TT", "DN", "QM", "QG", "BD", "PY", "KH", "NT", "BT", "KT", "GL", "DL", "DO", "LD", "BP",
      "TY", "BU", "DI", "VT", "HC", "LA", "TG", "BE", "TV", "VL", "DT", "AG", "KG", "CT", "HU",
      "ST", "BL", "CM",
    ].map { "VN-" + $0 })

  /// The 34 provinces and centrally-run cities from 1 July 2025.
  static let provinces34: Set<String> = Set(
    [
      "TQ", "LC", "TN", "PT", "BN", "HY", "HP", "NB", "QT", "DN", "QG", "GL", "KH", "LD", "DL",
      "HC", "DI", "TY", "CT", "VL", "DT", "CM", "AG", "HN", "HUE", "LU", "DB", "SL", "LS", "QN",
      "TH", "NA", "HT", "CB",
    ].map { "VN-" + $0 })

  /// Resolution 202/2025/QH15 (and 1314/NQ-UBTVQH15 for Thừa Thiên Huế): what each province
  /// that disappears is merged into.
  static let mergedInto: [String: String] = [
    "HG": "TQ", "YB": "LC", "BK": "TN", "VP": "PT", "HB": "PT", "BG": "BN", "TB": "HY",
    "HD": "HP", "HM": "NB", "ND": "NB", "QB": "QT", "QM": "DN", "KT": "QG", "BD": "GL",
    "NT": "KH", "DO": "LD", "BT": "LD", "PY": "DL", "BU": "HC", "VT": "HC", "BP": "DI",
    "LA": "TY", "ST": "CT", "HU": "CT", "BE": "VL", "TV": "VL", "TG": "DT", "BL": "CM",
    "KG": "AG", "TT": "HUE",
  ]

  /// The prefixes a lower unit's name drops in its code.
  static let prefixes = ["Thành phố ", "Thị xã ", "Thị trấn ", "Huyện ", "Quận ", "Xã ", "Phường "]

  struct Event {
    var line: Int
    var id: String
    var type: String
    var occurredAt: Date
    var recordedAt: Date
    var unit: String
    var data: [String: Any]
  }

  /// A unit as the replay leaves it.
  struct Unit {
    var name: String
    var level: String
    var parent: String?
    var established: Date
    var merged: (into: String, at: Date)?
    var moves: [(at: Date, parent: String)] = []

    func parent(at t: Date) -> String? {
      moves.last { $0.at <= t }?.parent ?? parent
    }
    /// Whether the unit exists at `t`: established and not yet merged away.
    func inForce(at t: Date) -> Bool {
      established <= t && !(merged.map { $0.at <= t } ?? false)
    }
  }

  static func date(_ text: String) throws -> Date {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return try #require(f.date(from: text), "not an ISO 8601 time: \(text)")
  }

  static func events() throws -> [Event] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var out: [Event] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where !line.isEmpty {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      let o = try #require(object, "line \(i + 1) is not a JSON object")
      out.append(
        Event(
          line: i + 1, id: try #require(o["id"] as? String),
          type: try #require(o["type"] as? String),
          occurredAt: try date(try #require(o["occurred_at"] as? String)),
          recordedAt: try date(try #require(o["recorded_at"] as? String, "line \(i + 1)")),
          unit: try #require(o["unit"] as? String),
          data: try #require(o["data"] as? [String: Any])))
    }
    return out
  }

  /// Replays the unit events in file order.
  static func replay(_ events: [Event]) throws -> [String: Unit] {
    var units: [String: Unit] = [:]
    for e in events {
      switch e.type {
      case "unit.established":
        units[e.unit] = Unit(
          name: try #require(e.data["name"] as? String),
          level: try #require(e.data["level"] as? String),
          parent: e.data["parent"] as? String, established: e.occurredAt)
      case "unit.merged":
        units[e.unit]?.merged = (try #require(e.data["into"] as? String), e.occurredAt)
      case "unit.moved":
        units[e.unit]?.moves.append((e.occurredAt, try #require(e.data["parent"] as? String)))
      default:
        Issue.record("line \(e.line): \(e.type) is not a unit event")
      }
    }
    return units
  }

  static func isProvince(_ u: Unit) -> Bool {
    (u.level == "province" || u.level == "city") && u.parent == "VN"
  }

  /// The provinces and centrally-run cities in force at `t`.
  static func provinces(_ units: [String: Unit], at t: String) throws -> Set<String> {
    let time = try date(t)
    return Set(units.filter { isProvince($0.value) && $0.value.inForce(at: time) }.keys)
  }

  /// The province a unit's territory belongs to today: follow `into`, then parents.
  static func provinceNow(_ code: String, _ units: [String: Unit]) -> String? {
    let far = Date.distantFuture
    var current = code
    var seen: Set<String> = []
    while seen.insert(current).inserted, let u = units[current] {
      if let m = u.merged {
        current = m.into
      } else if isProvince(u) {
        return current
      } else if let p = u.parent(at: far) {
        current = p
      } else {
        return nil
      }
    }
    return nil
  }

  /// A name as its code spells it: no prefix, no accents (đ → d), no spaces, upper case.
  static func slug(_ name: String) -> String {
    var rest = Substring(name)
    if let p = prefixes.first(where: { rest.hasPrefix($0) }) { rest = rest.dropFirst(p.count) }
    let plain = rest.replacingOccurrences(of: "đ", with: "d")
      .replacingOccurrences(of: "Đ", with: "D")
    let scalars = plain.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
      $0.properties.generalCategory != .nonspacingMark && $0 != " " && $0 != "'"
    }
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view).uppercased()
  }

  @Test func theFileAppendsToAFreshStoreAndVerifies() throws {
    let count = try Self.events().count
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let r = try store.run(["append", Self.path])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("appended \(count) events, seq 1..\(count)"), "\(r.stdout)")
    let v = try store.run(["verify"])
    #expect(v.status == 0, "\(v.stderr)")
    #expect(v.stdout.contains("ok: \(count) events"), "\(v.stdout)")
  }

  @Test func sixtyThreeProvincesUntilTheMergerAndThirtyFourFromIt() throws {
    let units = try Self.replay(try Self.events())
    let before = Self.provinces63
    let withHue = before.subtracting(["VN-TT"]).union(["VN-HUE"])
    #expect(try Self.provinces(units, at: "2011-01-01T00:00:00+07:00") == before)
    #expect(try Self.provinces(units, at: "2024-12-31T23:59:59+07:00") == before)
    #expect(try Self.provinces(units, at: "2025-01-02T00:00:00+07:00") == withHue)
    #expect(try Self.provinces(units, at: "2025-06-30T23:59:59+07:00") == withHue)
    for t in [
      "2025-07-01T00:00:00+07:00", "2026-01-01T00:00:00+07:00", "2030-01-01T00:00:00+07:00",
    ] {
      #expect(try Self.provinces(units, at: t) == Self.provinces34, "at \(t)")
    }
    #expect(units["VN-HUE"]?.level == "city")
    #expect(units["VN-HUE"]?.established == (try Self.date("2025-01-01T00:00:00+07:00")))
  }

  @Test func everyOldProvinceEndsInExactlyOneNewOneAndEveryNewOneGetsOne() throws {
    let units = try Self.replay(try Self.events())
    let old = Self.provinces63.union(["VN-HUE"])
    var covered: Set<String> = []
    for code in old {
      let now = Self.provinceNow(code, units)
      #expect(
        now.map { Self.provinces34.contains($0) } == true, "\(code) -> \(String(describing: now))")
      if let now { covered.insert(now) }
    }
    #expect(covered == Self.provinces34)
    // Each one that disappears is merged directly into its survivor, as the resolutions say.
    for code in old {
      let key = String(code.dropFirst(3))
      let expected = Self.mergedInto[key].map { "VN-" + $0 }
      #expect(units[code]?.merged?.into == expected, "\(code)")
      #expect(Self.provinceNow(code, units) == expected ?? code, "\(code)")
    }
    #expect(Self.provinceNow("VN-TT", units) == "VN-HUE")
    #expect(Self.provinceNow("VN-BK", units) == "VN-TN")
    #expect(Self.provinceNow("VN-HM", units) == "VN-NB")
    #expect(Self.provinceNow("VN-KT", units) == "VN-QG")
  }

  @Test func everyLowerUnitHasAProvinceAfterTheReform() throws {
    let units = try Self.replay(try Self.events())
    let lower = units.filter { $0.value.level != "country" && !Self.isProvince($0.value) }
    #expect(lower.count > 50)
    for (code, _) in lower {
      let now = Self.provinceNow(code, units)
      #expect(
        now.map { Self.provinces34.contains($0) } == true, "\(code) -> \(String(describing: now))")
    }
    // Districts were abolished: a unit in force from 1 July 2025 sits directly under one of
    // the 34, and no unit of district level established before then is still in force.
    let reform = try Self.date("2025-07-01T00:00:00+07:00")
    for (code, u) in lower where u.inForce(at: reform) {
      let parent = u.parent(at: reform)
      #expect(
        parent.map { Self.provinces34.contains($0) } == true, "\(code) under \(parent ?? "-")")
    }
    for (code, u) in lower where u.established < reform {
      if let p = u.parent, let pu = units[p], Self.isProvince(pu) {
        #expect(!u.inForce(at: reform), "district \(code) still in force")
      }
    }
    #expect(Self.provinceNow("VN-HM-DUYTIEN-HOAMAC", units) == "VN-NB")
    #expect(units["VN-NB-DUYTIEN"]?.parent == "VN-NB")
    #expect(units["VN-NB-DUYTIEN"]?.level == "ward")
  }

  @Test func linesAreSortedIdsUniqueAndCodesFollowTheRule() throws {
    let events = try Self.events()
    var ids: Set<String> = []
    var established: Set<String> = []
    var previous = Date.distantPast
    for e in events {
      #expect(e.recordedAt >= previous, "line \(e.line): recorded_at goes backwards")
      previous = e.recordedAt
      #expect(e.occurredAt <= e.recordedAt, "line \(e.line): occurred after recorded")
      #expect(ids.insert(e.id).inserted, "line \(e.line): id \(e.id) used twice")
      let kind = e.type.split(separator: ".").last.map(String.init) ?? ""
      #expect(e.id.hasPrefix("u:\(e.unit):\(kind)"), "line \(e.line): id \(e.id)")
      let named = [e.data["parent"], e.data["into"]].compactMap { $0 as? String }
      for code in named + (e.type == "unit.established" ? [] : [e.unit]) {
        #expect(
          established.contains(code), "line \(e.line): \(code) named before it is established")
      }
      guard e.type == "unit.established" else { continue }
      #expect(established.insert(e.unit).inserted, "line \(e.line): \(e.unit) established twice")
      let parent = e.data["parent"] as? String
      let name = e.data["name"] as? String ?? ""
      let level = e.data["level"] as? String ?? ""
      switch parent {
      case nil:
        #expect(e.unit == "VN" && level == "country", "line \(e.line)")
      case "VN":
        #expect(
          Self.provinces63.contains(e.unit) || e.unit == "VN-HUE", "line \(e.line): \(e.unit)")
        #expect(["province", "city"].contains(level), "line \(e.line)")
      case let parent?:
        #expect(e.unit == parent + "-" + Self.slug(name), "line \(e.line): \(e.unit) for \(name)")
      }
    }
    #expect(Self.slug("Thị xã Duy Tiên") == "DUYTIEN")
    #expect(Self.slug("Huyện Ia H'Drai") == "IAHDRAI")
    #expect(Self.slug("Xã Đọi Sơn") == "DOISON")
  }
}
