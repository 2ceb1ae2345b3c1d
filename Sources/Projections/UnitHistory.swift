/// The jurisdictions through time, from the `unit.*` events: which province a unit belonged to
/// at any moment (`province`), and which one its territory belongs to now (`province_now`).
package struct UnitHistory {
  package struct Unit {
    package var code: String
    package var name: String
    package var level: String
    package var gsoCode: String?
    package var establishedAt: Int64
    /// Parents through time: (from, parent index), in time order.
    package var parents: [(at: Int64, parent: Int?)]
    /// Merges: from `at` on, the territory belongs to `into`.
    package var merges: [(at: Int64, into: Int)] = []
  }

  package private(set) var units: [Unit] = []
  package private(set) var index: [String: Int] = [:]
  /// Bumped by every change: cached answers are dropped.
  private var cache: [Int: (now: String?, spans: [(from: Int64, name: String?)])] = [:]

  package init() {}

  package mutating func established(
    _ code: String, name: String, level: String, parent: String?, gsoCode: String?, at t: Int64
  ) {
    let p = parent.flatMap { index[$0] }
    if let i = index[code] {
      units[i].name = name
      units[i].level = level
      units[i].parents = [(t, p)]
    } else {
      index[code] = units.count
      units.append(
        Unit(
          code: code, name: name, level: level, gsoCode: gsoCode, establishedAt: t,
          parents: [(t, p)]))
    }
    cache.removeAll()
  }

  package mutating func merged(_ code: String, into: String, at t: Int64) {
    guard let i = index[code], let j = index[into] else { return }
    units[i].merges.append((t, j))
    units[i].merges.sort { $0.at < $1.at }
    cache.removeAll()
  }

  package mutating func moved(_ code: String, parent: String, at t: Int64) {
    guard let i = index[code], let j = index[parent] else { return }
    units[i].parents.append((t, j))
    units[i].parents.sort { $0.at < $1.at }
    cache.removeAll()
  }

  /// Whether `u` was a province at `t`. The catalog makes `parent` optional, so the level
  /// decides: a unit of level `province` is one wherever it hangs, and a `city` is one unless
  /// it lies under something other than the country (a provincial city is in its province).
  private func isProvince(_ u: Unit, at t: Int64) -> Bool {
    switch u.level {
    case "province": return true
    case "city":
      guard let p = (u.parents.last { $0.at <= t } ?? u.parents.first)?.parent else {
        return true
      }
      return units[p].level == "country"
    default: return false
    }
  }

  /// The province (index) unit `u` lay in at time `t`: up through parents as they stood
  /// then, across merges that had taken effect.
  package func provinceIndex(_ u: Int, at t: Int64) -> Int? {
    var u = u
    for _ in 0..<32 {
      if let m = units[u].merges.last(where: { $0.at <= t }) {
        u = m.into
        continue
      }
      if isProvince(units[u], at: t) { return u }
      guard let p = units[u].parents.last(where: { $0.at <= t }) ?? units[u].parents.first,
        let parent = p.parent
      else { return nil }
      u = parent
    }
    return nil
  }

  /// Where unit `code` lies through time: the moments its province changes (the province
  /// from each on), and its province now; nil for a unit never established. For a caller
  /// that looks many times at one unit while the history stands still.
  package mutating func places(_ code: String) -> (
    now: String?, spans: [(from: Int64, name: String?)]
  )? {
    index[code].map { spans($0) }
  }

  /// The name of the province the territory of `code` belongs to now.
  package mutating func provinceNow(_ code: String) -> String? {
    guard let u = index[code] else { return nil }
    return spans(u).now
  }

  /// The answers for one unit, computed once per change of the history: the moments its
  /// province changes, and its province now.
  private mutating func spans(_ u: Int) -> (now: String?, spans: [(from: Int64, name: String?)]) {
    if let c = cache[u] { return c }
    var moments: Set<Int64> = [Int64.min]
    var stack = [u]
    var seen: Set<Int> = []
    while let x = stack.popLast(), seen.insert(x).inserted {
      for m in units[x].merges {
        moments.insert(m.at)
        stack.append(m.into)
      }
      for p in units[x].parents {
        moments.insert(p.at)
        if let q = p.parent { stack.append(q) }
      }
    }
    var spans: [(from: Int64, name: String?)] = []
    for t in moments.sorted() {
      let name = provinceIndex(u, at: t).map { units[$0].name }
      if spans.last.map({ $0.name != name }) ?? true { spans.append((t, name)) }
    }
    let now = provinceIndex(u, at: .max).map { units[$0].name }
    cache[u] = (now, spans)
    return (now, spans)
  }
}
