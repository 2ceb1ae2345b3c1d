import Domain
import Foundation
import Projections

/// Running a plan: the workers over the row groups, the join, and their boxes.
extension FastAggregate {
  // MARK: - Running

  /// The grouped rows: the keys, then one column per aggregate, groups in the order first met.
  func run(cancelled: @escaping @Sendable () -> Bool, global: Bool) throws(SQLError) -> Batch {
    if let join { return try run(join, cancelled: cancelled, global: global) }
    let starts = groupStarts
    let count = starts.count
    // Two workers over interleaved row groups when there is enough to share: a second
    // thread takes a few tenths of a millisecond to start, as long as a group or two of a
    // selective scan takes (its zone maps leaving few of a table's groups to read).
    let toRead =
      condition.map { c in
        let strings = constants.map { Array(precomposed($0).utf8) }
        return view.table.groups.reduce(0) { $0 + (mayPass(c, in: $1, strings: strings) ? 1 : 0) }
      } ?? count
    let workers = toRead >= 4 && only == nil ? 2 : 1
    let firstRows = starts
    let partials = Array(repeating: Partial?.none, count: workers)
    let box = ResultBox(partials)
    let done = Counter()
    let failure = ErrorBox()
    let periods = PlanPeriods.current
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      PlanPeriods.with(periods) {
        var p = Partial(plan: self)
        do throws(SQLError) {
          var g = w
          while g < count {
            if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
            try p.add(group: view.table.groups[g], base: firstRows[g])
            try p.checkMemory()
            progress?(done.add(), count)
            g += workers
          }
          box.set(w, p)
        } catch {
          failure.set(error)
        }
      }
    }
    if let e = failure.error { throw e }
    var result = box.values[0]!
    for w in 1..<workers { try result.merge(box.values[w]!) }
    if global && result.table.count == 0 {
      let key = [Int64](repeating: 0, count: keys.count + 1)
      _ = key.withUnsafeBufferPointer { result.table.group($0.baseAddress!) }
      result.growStates()
    }
    return result.batch()
  }

  /// A hash join: the right table read first (its own conditions applied) into vectors of
  /// the columns used and a hash table from join key to its rows; then each row group of the
  /// left table looks its keys up, and the pairs (a left row with no match once, NULL on the
  /// right, in a LEFT JOIN) are grouped and aggregated as they come, a million at a time.
  /// Strings of both sides are interned in one pool, so the keys compare as integers.
  fileprivate func run(_ j: JoinSource, cancelled: @Sendable () -> Bool, global: Bool)
    throws(SQLError) -> Batch
  {
    var p = Partial(plan: self)
    let nl = j.leftColumns
    let rightColumns = Set(operands.map(\.column).filter { $0 >= nl }).sorted()
    let leftColumns = Set(operands.map(\.column).filter { $0 < nl }).sorted()
    // The build side's columns, by their place in `rightColumns`.
    var buildValues = [[Int64]](repeating: [], count: rightColumns.count)
    var buildNulls = [[Bool]](repeating: [], count: rightColumns.count)
    var keys = GroupTable(width: 1)
    // The right table's columns its own conditions read (a patch of another cannot make a
    // row meet them).
    var rightConditionColumns = [Bool](repeating: false, count: types.count - nl)
    for o in rightOperands where o.column >= nl { rightConditionColumns[o.column - nl] = true }
    var first: [Int32] = []
    var next: [Int32] = []
    var base = 0
    for g in j.right.table.groups {
      if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
      defer { base += g.rows }
      // A group whose zone map rules its own conditions out: only its corrected rows.
      var only: [Int]?
      if let rc = rightCondition, !mayPass(rc, in: g, strings: p.constantBytes, offset: nl) {
        only = j.right.patchedRows(from: base, count: g.rows, touching: rightConditionColumns)
        if only?.isEmpty ?? true { continue }
      }
      var sel = j.right.visibleRows(g, base: base, only: only)
      if sel.isEmpty { continue }
      // The right side's own conditions first, on the columns they read; then the rest of
      // the columns for the rows that pass.
      if let rc = rightCondition {
        var values: [Operand: ([Int64], [Bool])] = [:]
        for o in rightOperands {
          values[o] = p.transform(
            p.load(j.right, g, column: o.column - nl, type: types[o.column], base: base, sel), o)
        }
        let keep = p.evaluate(rc, values, count: sel.count)
        sel = sel.indices.filter { keep[$0] }.map { sel[$0] }
        if sel.isEmpty { continue }
      }
      var raw: [Int: ([Int64], [Bool])] = [:]
      for c in Set(rightColumns + [nl + j.rightKey]) {
        raw[c] = p.load(j.right, g, column: c - nl, type: types[c], base: base, sel)
      }
      let (kv, kn) = raw[nl + j.rightKey]!
      // The rows with a key, column by column into the build side; then into its table.
      let keyed = (0..<sel.count).filter { !kn[$0] }
      for (k, c) in rightColumns.enumerated() {
        let (v, n) = raw[c]!
        buildValues[k].append(contentsOf: keyed.lazy.map { v[$0] })
        buildNulls[k].append(contentsOf: keyed.lazy.map { n[$0] })
      }
      for i in keyed {
        let row = Int32(next.count)
        var k = kv[i]
        let n = keys.group(&k)
        if n == first.count { first.append(-1) }
        next.append(first[n])
        first[n] = row
      }
      try p.checkMemory(plus: next.count * (rightColumns.count * 9 + 8) + first.count * 4)
    }
    if next.count > Engine.maxJoinCells {
      throw SQLError(
        .limit, "the right side of the join holds more than \(Engine.maxJoinCells) rows")
    }
    // The left side's row groups in two workers, each with its own partial; the second's
    // pool a copy of the first's, where the build side's strings have their ids.
    let groupStarts = self.groupStarts
    let groupCount = groupStarts.count
    let workers = groupCount >= 2 ? 2 : 1
    // Each worker starts from its own partial, read from this array (never written); the
    // box only collects the results.
    let initial = Starts(
      partials: [p] + (1..<workers).map { _ in Partial(plan: self, pool: p.pool.copy()) })
    let partials = ResultBox(initial.partials)
    let failure = ErrorBox()
    var build: [Int: ([Int64], [Bool])] = [:]
    for (k, c) in rightColumns.enumerated() { build[c] = (buildValues[k], buildNulls[k]) }
    let shared = JoinBuild(source: j, keys: keys, first: first, next: next, build: build)
    let periods = PlanPeriods.current
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      PlanPeriods.with(periods) {
        var p = initial.partials[w]
        do throws(SQLError) {
          var k = w
          while k < groupCount {
            try probe(
              view.table.groups[k], base: groupStarts[k], into: &p, shared, leftColumns,
              rightColumns: rightColumns, cancelled: cancelled)
            k += workers
          }
          partials.set(w, p)
        } catch {
          failure.set(error)
        }
      }
    }
    if let e = failure.error { throw e }
    p = partials.values[0]!
    for w in 1..<workers { try p.merge(partials.values[w]!) }
    if global && p.table.count == 0 {
      let key = [Int64](repeating: 0, count: self.keys.count + 1)
      _ = key.withUnsafeBufferPointer { p.table.group($0.baseAddress!) }
      p.growStates()
    }
    return p.batch()
  }

  /// The first table row of each row group of the scanned table.
  var groupStarts: [Int] {
    var starts: [Int] = []
    var base = 0
    for g in view.table.groups {
      starts.append(base)
      base += g.rows
    }
    return starts
  }

  /// The partials the join's workers start from: each reads its own, none writes.
  struct Starts: @unchecked Sendable {
    let partials: [Partial]
  }

  /// The build side of a hash join, read by the workers that probe it.
  struct JoinBuild: @unchecked Sendable {
    let source: JoinSource
    let keys: GroupTable
    let first: [Int32]
    let next: [Int32]
    let build: [Int: ([Int64], [Bool])]
  }

  /// Probes the build side with the rows of one row group of the left table (which starts at
  /// table row `base`), and groups and aggregates the pairs into `p`.
  private func probe(
    _ g: GroupReader, base: Int, into p: inout Partial, _ shared: JoinBuild,
    _ leftColumns: [Int], rightColumns: [Int], cancelled: @Sendable () -> Bool
  ) throws(SQLError) {
    let j = shared.source
    let nl = j.leftColumns
    let (keys, first, next, build) = (shared.keys, shared.first, shared.next, shared.build)
    do {
      if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
      let sel = view.visibleRows(g, base: base, only: nil)
      if sel.isEmpty { return }
      var raw: [Int: ([Int64], [Bool])] = [:]
      // The key's bytes at each row, when it is read as text (nil: as ids).
      var keyText: [UnsafeRawBufferPointer]?
      defer {
        for b in p.textStorage { b.deallocate() }
        p.textStorage = []
        p.textRows = []
      }
      if p.joinTextKey {
        let nulls = p.loadText(view, g, column: j.leftKey, base: base, sel)
        let text = p.textRows
        let pool = p.pool
        // A string the pool lacks is no key of the right side: -1, an id nothing has.
        raw[j.leftKey] = (text.map { pool.find($0) ?? -1 }, nulls)
        keyText = text
      }
      for c in Set(leftColumns + [j.leftKey]) where raw[c] == nil {
        raw[c] = p.load(view, g, column: c, type: types[c], base: base, sel)
      }
      let (kv, kn) = raw[j.leftKey]!
      var lefts: [Int32] = []
      var rights: [Int32] = []
      func flush() throws(SQLError) {
        if lefts.isEmpty { return }
        var values: [Operand: ([Int64], [Bool])] = [:]
        for o in operands {
          let v: ([Int64], [Bool])
          if let keyText, o.column == j.leftKey {
            // The distinct count's strings: indices into the rows' bytes.
            p.textRows = lefts.map { keyText[Int($0)] }
            v = ((0..<Int64(lefts.count)).map { $0 }, lefts.map { kn[Int($0)] })
          } else if o.column < nl {
            let (x, nulls) = raw[o.column]!
            v = (lefts.map { x[Int($0)] }, lefts.map { nulls[Int($0)] })
          } else {
            let (x, nulls) = build[o.column]!
            v = (
              rights.map { $0 < 0 ? 0 : x[Int($0)] }, rights.map { $0 < 0 || nulls[Int($0)] }
            )
          }
          values[o] = p.transform(v, o)
        }
        try p.accumulate(values, count: lefts.count)
        try p.checkMemory(plus: next.count * (rightColumns.count * 9 + 8) + first.count * 4)
        lefts.removeAll(keepingCapacity: true)
        rights.removeAll(keepingCapacity: true)
        if cancelled() { throw SQLError(.interrupted, "Interrupted!") }
      }
      for i in 0..<sel.count {
        var match: Int?
        // (A text key the pool lacks, -1, matches nothing: no look-up.)
        if !kn[i] && (keyText == nil || kv[i] >= 0) {
          var k = kv[i]
          match = keys.find(&k)
        }
        if let match {
          var r = first[match]
          while r >= 0 {
            lefts.append(Int32(i))
            rights.append(r)
            r = next[Int(r)]
          }
        } else if j.outer {
          lefts.append(Int32(i))
          rights.append(-1)
        }
        if lefts.count >= 1 << 20 { try flush() }
      }
      try flush()
    }
  }

  final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Partial?]
    init(_ v: [Partial?]) { values = v }
    func set(_ i: Int, _ p: Partial) {
      lock.lock()
      values[i] = p
      lock.unlock()
    }
  }

  final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    /// One more; the count now.
    func add() -> Int {
      lock.lock()
      defer { lock.unlock() }
      n += 1
      return n
    }
  }

  final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: SQLError?
    func set(_ e: SQLError) {
      lock.lock()
      if error == nil { error = e }
      lock.unlock()
    }
  }

  /// One worker's groups and aggregate states.
}
