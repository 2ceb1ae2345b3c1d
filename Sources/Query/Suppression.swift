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
    guard primary > 0 else { return r }

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

    var complementary = 0
    func isHidden(_ x: Cell) -> Bool { hidden[x.column]?.contains(x.row) ?? false }
    /// Hides the smallest shown, non-zero cell of `candidates`; whether there was one.
    func hideSmallest(_ candidates: [Cell]) -> Bool {
      let shown = candidates.filter { !isHidden($0) && (value($0.column, $0.row) ?? 0) > 0 }
      guard let pick = shown.min(by: { value($0.column, $0.row)! < value($1.column, $1.row)! })
      else { return false }
      hidden[pick.column, default: []].insert(pick.row)
      complementary += 1
      return true
    }
    var changed = true
    while changed {
      changed = false
      for line in lines where line.filter(isHidden).count == 1 {
        if hideSmallest(line) { changed = true }
      }
      if dims.count == 2 {
        for c in counts {
          let cells = (0..<r.rows.count).filter { active(c, $0) }.map { Cell(column: c, row: $0) }
          if let fix = bridgeFix(
            cells, isHidden: isHidden, rowKey: { key($0, without: dims[1]) },
            columnKey: { key($0, without: dims[0]) })
          {
            if hideSmallest(fix) { changed = true }
          }
        }
      }
    }
    r.suppressed = hidden
    r.primarySuppressed = primary
    r.complementarySuppressed = complementary
    return r
  }

  /// For the first hidden cell that is a bridge between the rows and columns its hidden cells
  /// connect, the shown cells that would put it on a cycle (one from each side); nil when
  /// there is no bridge.
  private static func bridgeFix(
    _ cells: [Cell], isHidden: (Cell) -> Bool, rowKey: (Int) -> [String],
    columnKey: (Int) -> [String]
  ) -> [Cell]? {
    // Vertices: row keys then column keys; edges: hidden cells.
    var vertex: [String: Int] = [:]
    func id(_ s: String) -> Int {
      if let v = vertex[s] { return v }
      vertex[s] = vertex.count
      return vertex.count - 1
    }
    let ends = cells.map { c in
      (
        id("r" + rowKey(c.row).joined(separator: "\u{1}")),
        id("c" + columnKey(c.row).joined(separator: "\u{1}"))
      )
    }
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
    var bridge: Int?
    for start in 0..<vertex.count where order[start] < 0 && bridge == nil {
      var stack: [(v: Int, parentEdge: Int, next: Int)] = [(start, -1, 0)]
      order[start] = counter
      low[start] = counter
      counter += 1
      while let top = stack.last, bridge == nil {
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
            if low[top.v] > order[parent.v] { bridge = top.parentEdge }
          }
        }
      }
    }
    guard let bridge else { return nil }
    // The two sides of the bridge: the vertices reached from each end without it.
    func side(_ from: Int) -> Set<Int> {
      var seen: Set<Int> = [from]
      var todo = [from]
      while let v = todo.popLast() {
        for (w, e) in adjacent[v] where e != bridge && !seen.contains(w) {
          seen.insert(w)
          todo.append(w)
        }
      }
      return seen
    }
    let a = side(ends[bridge].0)
    let b = side(ends[bridge].1)
    return cells.indices.filter { i in
      !isHidden(cells[i])
        && ((a.contains(ends[i].0) && b.contains(ends[i].1))
          || (b.contains(ends[i].0) && a.contains(ends[i].1)))
    }.map { cells[$0] }
  }

  /// A cell of a result.
  struct Cell: Hashable {
    var column: Int
    var row: Int
  }
}
