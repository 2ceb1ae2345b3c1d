/// Small-cell suppression, as statistical offices publish tables about persons (CMS suppresses
/// counts of 1 to 10, NHS Digital 1 to 7): a count of persons from 1 to the threshold less one
/// is shown as `<N` (primary suppression), and further cells are hidden beside it so that it
/// cannot be computed back from the totals of its row or column (complementary suppression).
///
/// The table is the result as it comes: its dimensions are the columns that are neither counts
/// nor other aggregates, its cells the counts. A line is a set of cells whose sum another query
/// gives away: every cell along one dimension with the others fixed (a row total, a column
/// total; the grand total when there is one dimension), and the count columns of one row (a
/// `supports` beside its parts by kind). No line may hold exactly one hidden cell; with two
/// dimensions, no hidden cell may be a bridge of the graph whose vertices are the rows and
/// columns and whose edges are the hidden cells, since such a cell is fixed by the totals
/// (every hidden cell on a cycle leaves each of them free).
package enum Suppression {
  /// `r` with its small counts of persons (by `shape`) suppressed under `policy`.
  package static func apply(_ r: QueryResult, _ shape: PrivacyShape, _ policy: PrivacyPolicy)
    -> QueryResult
  {
    var r = r
    r.suppressedLabel = "<\(policy.minCell)"
    let n = r.names.count
    // A shape that does not match is not trusted: every integer column counts as a count.
    let lineage: [Lineage] =
      shape.lineage.count == n
      ? shape.lineage
      : r.types.map { $0 == .bigint ? [.personCount, .aggregate] : [] }
    let counts = (0..<n).filter { lineage[$0].isCount }
    guard !counts.isEmpty, r.rows.count > 0 else { return r }
    let typeColumn = (0..<n).first { lineage[$0].contains(.eventType) }
    let dims = (0..<n).filter { !lineage[$0].contains(.aggregate) && !lineage[$0].isCount }

    // The cells that are counts of persons in their row, with their values.
    func value(_ c: Int, _ i: Int) -> Int64? {
      if case .int(let v) = r.rows.columns[c].value(i) { return v }
      return nil
    }
    func active(_ c: Int, _ i: Int) -> Bool {
      guard value(c, i) != nil else { return false }
      if lineage[c].contains(.personCount) { return true }
      guard let t = typeColumn, case .text(let type) = r.rows.columns[t].value(i) else {
        return true
      }
      return PrivacyPolicy.personTypes.contains(type)
    }
    var hidden: [Int: Set<Int>] = [:]
    var primary = 0
    for c in counts {
      for i in 0..<r.rows.count where active(c, i) {
        if let v = value(c, i), v >= 1 && v < Int64(policy.minCell) {
          hidden[c, default: []].insert(i)
          primary += 1
        }
      }
    }
    var beside: [Int: Set<Int>] = [:]
    /// Whether two counts differ by a small count (from 1 to the threshold less one). Counts
    /// perturbed (`CellKey`) may each be 2 off: two whose true difference is small differ by
    /// up to 4 more, and are taken as close too; and two perturbed to the same value may hide
    /// a small true difference (595 and 592 both shown as 594), so equal is close then.
    let reach = UInt64(policy.minCell) + (r.perturbed > 0 ? 2 * UInt64(CellKey.maxCountNoise) : 0)
    func close(_ x: Int64, _ y: Int64) -> Bool {
      let (d, overflow) = x.subtractingReportingOverflow(y)
      return !overflow && (d != 0 || r.perturbed > 0) && d.magnitude < reach
    }
    // Nothing small, and no two counts of a row close: nothing to hide.
    // Two counts of a row differ by a subset's count, unless one counts persons and the other
    // rows (supports beside persons supported).
    func related(_ a: Int, _ b: Int) -> Bool {
      lineage[a].contains(.distinct) == lineage[b].contains(.distinct)
    }
    let anyClose =
      counts.count >= 2
      && (0..<r.rows.count).contains { i in
        let cells = counts.filter { active($0, i) && value($0, i) != nil }
        return cells.indices.contains { k in
          cells[(k + 1)...].contains {
            related(cells[k], $0) && close(value(cells[k], i)!, value($0, i)!)
          }
        }
      }
    guard primary > 0 || anyClose else { return r }

    func key(_ i: Int, without d: Int?) -> [String] {
      dims.filter { $0 != d }.map { Cast.text(r.rows.columns[$0].value(i)) }
    }
    var lines: [[Cell]] = []
    if counts.count >= 2 {
      for i in 0..<r.rows.count {
        let line = counts.filter { active($0, i) }.map { Cell(column: $0, row: i) }
        if line.count >= 2 { lines.append(line) }
      }
    }
    for c in counts {
      if dims.isEmpty || dims.count == 1 {
        lines.append((0..<r.rows.count).filter { active(c, $0) }.map { Cell(column: c, row: $0) })
        continue
      }
      for d in dims {
        var groups: [[String]: [Cell]] = [:]
        for i in 0..<r.rows.count where active(c, i) {
          groups[key(i, without: d), default: []].append(Cell(column: c, row: i))
        }
        lines += groups.values.filter { $0.count >= 2 }
      }
    }

    // A cell alone along a dimension is given away by that line's total, which is shown: it
    // hides nothing as a complementary cell.
    var published: Set<Cell> = []
    if !dims.isEmpty {
      for c in counts {
        for d in dims {
          var groups: [[String]: [Int]] = [:]
          for i in 0..<r.rows.count where active(c, i) {
            groups[key(i, without: d), default: []].append(i)
          }
          for rows in groups.values where rows.count == 1 {
            published.insert(Cell(column: c, row: rows[0]))
          }
        }
      }
    }
    var complementary = 0
    func isHidden(_ x: Cell) -> Bool { hidden[x.column]?.contains(x.row) ?? false }
    /// Hides the smallest shown, non-zero cell of `candidates`; whether there was one.
    func hideSmallest(_ candidates: [Cell]) -> Bool {
      let shown = candidates.filter {
        !isHidden($0) && !published.contains($0) && (value($0.column, $0.row) ?? 0) > 0
      }
      guard let pick = shown.min(by: { value($0.column, $0.row)! < value($1.column, $1.row)! })
      else { return false }
      hidden[pick.column, default: []].insert(pick.row)
      beside[pick.column, default: []].insert(pick.row)
      complementary += 1
      return true
    }
    var changed = true
    while changed {
      changed = false
      // Two counts of one row that differ by less than the threshold give that small count
      // as their difference (`count(*)` beside `count(*) FILTER (…)`): the smaller goes.
      if counts.count >= 2 {
        for i in 0..<r.rows.count {
          let shown = counts.filter { active($0, i) && !isHidden(Cell(column: $0, row: i)) }
          for (k, a) in shown.enumerated() {
            for b in shown[(k + 1)...] {
              let (x, y) = (value(a, i)!, value(b, i)!)
              guard related(a, b), close(x, y) else { continue }
              let pick = Cell(column: x < y ? a : b, row: i)
              guard !isHidden(pick) else { continue }
              hidden[pick.column, default: []].insert(i)
              beside[pick.column, default: []].insert(i)
              complementary += 1
              changed = true
            }
          }
        }
      }
      for line in lines where line.filter(isHidden).count == 1 {
        if hideSmallest(line) { changed = true }
      }
      if dims.count == 2 {
        for c in counts {
          let cells = (0..<r.rows.count).filter { active(c, $0) }.map { Cell(column: c, row: $0) }
          if let path = bridgeFix(
            cells, minCell: Int64(policy.minCell), isHidden: isHidden,
            usable: { !published.contains($0) },
            value: { value($0.column, $0.row) ?? 0 },
            rowKey: { key($0, without: dims[1]) }, columnKey: { key($0, without: dims[0]) })
          {
            for x in path {
              hidden[x.column, default: []].insert(x.row)
              beside[x.column, default: []].insert(x.row)
              complementary += 1
            }
            changed = true
          }
        }
      }
    }
    // A sum or average of a person's amounts is hidden where the count of what it adds up is
    // hidden, for any reason; one whose pair is unknown, wherever any count of its row is.
    let values = (0..<n).filter { lineage[$0].contains(.personValue) && !lineage[$0].isCount }
    for i in 0..<r.rows.count {
      for c in values where !(hidden[c]?.contains(i) ?? false) {
        let small =
          shape.pairs[c].map { hidden[$0]?.contains(i) ?? false }
          ?? counts.contains { hidden[$0]?.contains(i) ?? false }
        guard small else { continue }
        hidden[c, default: []].insert(i)
        beside[c, default: []].insert(i)
        complementary += 1
      }
    }
    r.suppressed = hidden
    r.complementary = beside
    r.primarySuppressed = primary
    r.complementarySuppressed = complementary
    return sortingHiddenLast(r, by: shape.orderColumns, dims: dims)
  }

  /// Rows sorted by a count whose value is hidden would give its value away by their place:
  /// they go last, in the order of their other columns.
  static func sortingHiddenLast(_ r: QueryResult, by order: [Int], dims: [Int]) -> QueryResult {
    let n = r.rows.count
    let hiddenKey = (0..<n).map { i in order.contains { r.isSuppressed($0, i) } }
    guard hiddenKey.contains(true) else { return r }
    func text(_ i: Int) -> [String] { dims.map { Cast.text(r.rows.columns[$0].value(i)) } }
    let rest = (0..<n).filter { hiddenKey[$0] }.sorted {
      text($0).lexicographicallyPrecedes(text($1))
    }
    let permutation = (0..<n).filter { !hiddenKey[$0] } + rest
    var at = [Int](repeating: 0, count: n)
    for (new, old) in permutation.enumerated() { at[old] = new }
    var out = r
    out.rows = r.rows.gather(permutation)
    out.suppressed = r.suppressed.mapValues { Set($0.map { at[$0] }) }
    out.complementary = r.complementary.mapValues { Set($0.map { at[$0] }) }
    return out
  }

  /// For a hidden cell that is a bridge between the rows and columns the hidden cells connect
  /// (fixed by the totals), the shown cells to hide so that it lies on a cycle: the cheapest
  /// path between its row and its column through the table's other cells (hidden ones cost
  /// nothing, shown ones their value). nil when no bridge can be closed so.
  private static func bridgeFix(
    _ cells: [Cell], minCell: Int64, isHidden: (Cell) -> Bool, usable: (Cell) -> Bool,
    value: (Cell) -> Int64, rowKey: (Int) -> [String], columnKey: (Int) -> [String]
  ) -> [Cell]? {
    // Vertices: the rows' keys and the columns' keys; edges: cells.
    var vertex: [String: Int] = [:]
    func id(_ s: String) -> Int {
      if let v = vertex[s] { return v }
      vertex[s] = vertex.count
      return vertex.count - 1
    }
    let raw = cells.map { c in
      (
        id("r" + rowKey(c.row).joined(separator: "\u{1}")),
        id("c" + columnKey(c.row).joined(separator: "\u{1}"))
      )
    }
    // A row or column whose total is itself suppressed (1 to minCell - 1) is not known: no
    // equation holds there. All such are one vertex, the open one: a hidden cell is free when
    // it lies on a cycle, or on a path between two open lines.
    var total = [Int64](repeating: 0, count: vertex.count)
    for (i, (a, b)) in raw.enumerated() {
      total[a] += value(cells[i])
      total[b] += value(cells[i])
    }
    let open = vertex.count
    func merged(_ v: Int) -> Int { total[v] >= 1 && total[v] < minCell ? open : v }
    let ends = raw.map { (merged($0.0), merged($0.1)) }
    vertex["\u{0}open"] = open
    let edges = cells.indices.filter { isHidden(cells[$0]) }
    guard !edges.isEmpty else { return nil }
    var adjacent = [[(to: Int, edge: Int)]](repeating: [], count: vertex.count)
    for e in edges {
      adjacent[ends[e].0].append((ends[e].1, e))
      adjacent[ends[e].1].append((ends[e].0, e))
    }
    // Tarjan's bridges, iteratively.
    var order = [Int](repeating: -1, count: vertex.count)
    var low = [Int](repeating: 0, count: vertex.count)
    var counter = 0
    var bridges: [Int] = []
    for start in 0..<vertex.count where order[start] < 0 {
      var stack: [(v: Int, parentEdge: Int, next: Int)] = [(start, -1, 0)]
      order[start] = counter
      low[start] = counter
      counter += 1
      while let top = stack.last {
        if top.next < adjacent[top.v].count {
          stack[stack.count - 1].next += 1
          let (w, e) = adjacent[top.v][top.next]
          if e == top.parentEdge { continue }
          if order[w] < 0 {
            order[w] = counter
            low[w] = counter
            counter += 1
            stack.append((w, e, 0))
          } else {
            low[top.v] = min(low[top.v], order[w])
          }
        } else {
          stack.removeLast()
          if let parent = stack.last {
            low[parent.v] = min(low[parent.v], low[top.v])
            if low[top.v] > order[parent.v] { bridges.append(top.parentEdge) }
          }
        }
      }
    }
    guard !bridges.isEmpty else { return nil }
    // Every cell of the table, for the paths that close a bridge.
    var all = [[(to: Int, edge: Int)]](repeating: [], count: vertex.count)
    for e in cells.indices {
      all[ends[e].0].append((ends[e].1, e))
      all[ends[e].1].append((ends[e].0, e))
    }
    for bridge in bridges {
      let (from, to) = ends[bridge]
      // Dijkstra, on arrays: tables are small.
      var cost = [Int64](repeating: .max, count: vertex.count)
      var via = [Int](repeating: -1, count: vertex.count)
      var done = [Bool](repeating: false, count: vertex.count)
      cost[from] = 0
      while let v = (0..<vertex.count).filter({ !done[$0] && cost[$0] < .max }).min(by: {
        cost[$0] < cost[$1]
      }) {
        done[v] = true
        if v == to { break }
        for (w, e) in all[v]
        where e != bridge && !done[w] && (isHidden(cells[e]) || usable(cells[e])) {
          let step = isHidden(cells[e]) ? 0 : max(1, value(cells[e]))
          if cost[v] + step < cost[w] {
            cost[w] = cost[v] + step
            via[w] = e
          }
        }
      }
      guard cost[to] < .max else { continue }
      var path: [Cell] = []
      var v = to
      while v != from {
        let e = via[v]
        if !isHidden(cells[e]) { path.append(cells[e]) }
        v = ends[e].0 == v ? ends[e].1 : ends[e].0
      }
      if !path.isEmpty { return path }
    }
    return nil
  }

  /// A cell of a result.
  struct Cell: Hashable {
    var column: Int
    var row: Int
  }
}
