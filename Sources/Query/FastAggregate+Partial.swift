import Domain
import Foundation
import Projections

extension FastAggregate {
  struct Partial {
    let plan: FastAggregate
    let pool: StringPool
    var table: GroupTable
    /// The ids of `plan.constants` in `pool`.
    var constantIDs: [Int64] = []
    var counts: [[Int64]]
    var ints: [[Int64]]
    var doubles: [[Double]]
    var any: [[Bool]]
    /// For `count(DISTINCT x)` of a VARCHAR `x` read by nothing else: (group, string) pairs,
    /// the strings never interned, counted at the end (see `TextPairs`), with those of the
    /// workers merged here and the map of their groups to these. Nil for other aggregates.
    var textPairs: [TextPairs?]
    var mergedText: [[(TextPairs, [Int]?)]]
    /// That operand `x`, if the plan has one.
    let textOnly: Operand?
    /// Operands whose values nothing reads, only whether they are NULL (`count(x)`,
    /// `x IS [NOT] NULL`): their vectors hold zeros, and no string of theirs is interned.
    let nullOnly: Set<Operand>
    /// `x`'s bytes at the rows being accumulated (`values[x]` holds indices into it), and the
    /// copies of its patched values they point into.
    var textRows: [UnsafeRawBufferPointer] = []
    var textStorage: [UnsafeMutableRawBufferPointer] = []
    var periodIDs: [Int64: Int64] = [:]
    /// The bytes of `plan.constants` as the tables store them, for the zone maps.
    let constantBytes: [[UInt8]]
    /// Flags by column: those the WHERE clause reads (a patch of another cannot make a row
    /// meet it).
    let conditionColumns: [Bool]
    /// Flags by column: those the plan reads at all.
    let readColumns: [Bool]

    /// A partial over `pool` (a fresh one by default; a join's second worker gets a copy of
    /// the first's, so that the build side's ids mean the same strings in both).
    init(plan: FastAggregate, pool: StringPool = StringPool()) {
      self.plan = plan
      self.pool = pool
      table = GroupTable(width: plan.keys.count + 1)
      let n = plan.aggregates.count
      counts = Array(repeating: [], count: n)
      ints = Array(repeating: [], count: n)
      doubles = Array(repeating: [], count: n)
      any = Array(repeating: [], count: n)
      let textOnly = Self.textOnlyOperand(of: plan)
      self.textOnly = textOnly
      nullOnly = Self.nullOnlyOperands(of: plan).subtracting([textOnly].compactMap { $0 })
      // Each of two workers reads about half the table.
      let rows = plan.view.table.rowCount / 2
      textPairs = plan.aggregates.map {
        $0.distinct && $0.function == .count ? TextPairs(expected: rows) : nil
      }
      mergedText = Array(repeating: [], count: n)
      for c in plan.constants { constantIDs.append(pool.intern(precomposed(c))) }
      constantBytes = plan.constants.map { Array(precomposed($0).utf8) }
      var flags = [Bool](repeating: false, count: plan.types.count)
      for o in plan.condition.map(FastAggregate.operands(of:)) ?? [] { flags[o.column] = true }
      conditionColumns = flags
      for o in plan.operands { flags[o.column] = true }
      readColumns = flags
    }

    /// About how many bytes the groups, states, sets and strings hold.
    var memory: Int {
      table.memory + pool.memory
        + textPairs.reduce(0) { $0 + ($1?.memory ?? 0) }
        + table.count * plan.aggregates.count * 25
    }

    func checkMemory(plus extra: Int = 0) throws(SQLError) {
      if memory + extra > plan.memoryLimit { throw SQLError.memory(limit: plan.memoryLimit) }
    }

    mutating func growStates() {
      let n = table.count
      for j in plan.aggregates.indices where counts[j].count < n {
        let more = n - counts[j].count
        counts[j] += repeatElement(0, count: more)
        ints[j] += repeatElement(0, count: more)
        doubles[j] += repeatElement(0, count: more)
        any[j] += repeatElement(false, count: more)
      }
    }

    // MARK: One row group

    mutating func add(group g: GroupReader, base: Int) throws(SQLError) {
      let rows = rowsToRead(g, base: base)
      if rows.skip { return }
      // Every row read: counted straight from the columns, with no selection vector, when
      // the plan is of the histogram's shape; then only the rows with patches are left.
      var only = rows.only
      if only == nil, let visibility = plan.view.simpleVisibility(g, base: base) {
        let patchedHere = plan.view.patchedRows(from: base, count: g.rows)
        if try addDenseCounts(
          g, base: base, visibility: visibility, except: patchedHere.map { Int32($0 - base) })
        {
          if patchedHere.isEmpty { return }
          only = Array(patchedHere)
        }
      }
      if only == nil, let rows = prefiltered(g, base: base) {
        if rows.isEmpty { return }
        only = rows
      }
      var sel = plan.view.visibleRows(g, base: base, only: only)
      if sel.isEmpty { return }
      // The rows whose values a patch changes go the general way below; the others, when
      // the plan is of the shape, into the histogram of cells.
      let patched = plan.view.patchedRows(from: base, count: g.rows, touching: readColumns)
      if patched.isEmpty {
        if try addDenseCounts(g, base: base, sel) { return }
      } else {
        var (clean, changed): ([Int32], [Int32]) = ([], [])
        var p = 0
        for r in sel {
          while p < patched.count && patched[p] - base < Int(r) { p += 1 }
          if p < patched.count && patched[p] - base == Int(r) {
            changed.append(r)
          } else {
            clean.append(r)
          }
        }
        var counted = clean.isEmpty
        if !counted { counted = try addDenseCounts(g, base: base, clean) }
        if counted {
          sel = changed
          if sel.isEmpty { return }
        }
      }
      // The operands' values at the selected rows, patched rows read through the view: those
      // of the WHERE clause first, and the others only at the rows that pass it.
      var values: [Operand: ([Int64], [Bool])] = [:]
      var raw: [Int: ([Int64], [Bool])] = [:]
      defer {
        for b in textStorage { b.deallocate() }
        textStorage = []
        textRows = []
      }
      func read(_ operands: [Operand]) {
        for o in operands {
          if o == textOnly {
            let nulls = loadText(plan.view, g, column: o.column, base: base, sel)
            values[o] = ((0..<Int64(sel.count)).map { $0 }, nulls)
            continue
          }
          if nullOnly.contains(o) {
            values[o] = ([Int64](repeating: 0, count: sel.count), loadNulls(g, o.column, base, sel))
            continue
          }
          if raw[o.column] == nil {
            raw[o.column] = load(
              plan.view, g, column: o.column, type: plan.types[o.column], base: base, sel)
          }
          values[o] = transform(raw[o.column]!, o)
        }
      }
      if let c = plan.condition {
        let first = FastAggregate.operands(of: c)
        read(plan.operands.filter { first.contains($0) })
        let mask = evaluate(c, values, count: sel.count)
        let kept = sel.indices.filter { mask[$0] }
        if kept.isEmpty { return }
        // A selective condition: the rest is read at the rows kept. Otherwise at every row,
        // and the mask says which count.
        if kept.count * 4 < sel.count {
          sel = kept.map { sel[$0] }
          for (o, v) in values { values[o] = (kept.map { v.0[$0] }, kept.map { v.1[$0] }) }
          for (c, v) in raw { raw[c] = (kept.map { v.0[$0] }, kept.map { v.1[$0] }) }
          read(plan.operands.filter { !first.contains($0) })
          try accumulate(values, count: sel.count, passing: nil)
        } else {
          read(plan.operands.filter { !first.contains($0) })
          try accumulate(values, count: sel.count, passing: kept)
        }
      } else {
        read(plan.operands)
        try accumulate(values, count: sel.count)
      }
    }

    /// Whether each of the rows `sel` of group `g` passes `condition`.
    mutating func passing(_ condition: Predicate, _ g: GroupReader, base: Int, _ sel: [Int32])
      -> [Bool]
    {
      var values: [Operand: ([Int64], [Bool])] = [:]
      var raw: [Int: ([Int64], [Bool])] = [:]
      for o in plan.operands {
        if raw[o.column] == nil {
          raw[o.column] = load(
            plan.view, g, column: o.column, type: plan.types[o.column], base: base, sel)
        }
        values[o] = transform(raw[o.column]!, o)
      }
      return evaluate(condition, values, count: sel.count)
    }

    /// Groups and aggregates `n` rows whose operands hold `values` (each `n` long).
    /// `passing`: the positions that passed the WHERE clause, when the caller knows them (nil
    /// and no condition checked here: every row passed).
    mutating func accumulate(
      _ values: [Operand: ([Int64], [Bool])], count n: Int, passing: [Int]?? = .none
    ) throws(SQLError) {
      // WHERE: the positions (into `sel`) that pass.
      var positions: [Int32]
      if case .some(let known) = passing {
        positions = known.map { $0.map { Int32($0) } } ?? Array(0..<Int32(n))
      } else if let c = plan.condition {
        let mask = evaluate(c, values, count: n)
        positions = []
        positions.reserveCapacity(n)
        for i in 0..<n where mask[i] { positions.append(Int32(i)) }
      } else {
        positions = [Int32](unsafeUninitializedCapacity: n) { b, count in
          for i in 0..<n { b[i] = Int32(i) }
          count = n
        }
      }
      if positions.isEmpty { return }
      // The group of each position. When every key spans a short range in this row group
      // (a year, a type, a unit), the keys index a small array of groups directly and the hash
      // table is asked once per distinct key; otherwise once per row.
      let w = plan.keys.count + 1
      var groupOf = [Int32](repeating: 0, count: positions.count)
      let keyColumns = plan.keys.map { values[$0]! }
      var key = [Int64](repeating: 0, count: w)
      func keyOf(_ p: Int) {
        var nulls: Int64 = 0
        for (k, c) in keyColumns.enumerated() {
          if c.1[p] {
            nulls |= 1 << k
            key[k] = 0
          } else {
            key[k] = c.0[p]
          }
        }
        key[w - 1] = nulls
      }
      var lows: [Int64] = []
      var nullSlots: [Int] = []
      var strides: [Int] = []
      var total = 1
      var dense = true
      for c in keyColumns {
        var lo = Int64.max
        var hi = Int64.min
        var hasNull = false
        c.0.withUnsafeBufferPointer { v in
          c.1.withUnsafeBufferPointer { nulls in
            for p in positions {
              let i = Int(p)
              if nulls[i] {
                hasNull = true
              } else {
                lo = min(lo, v[i])
                hi = max(hi, v[i])
              }
            }
          }
        }
        if lo > hi { (lo, hi) = (0, -1) }
        let (span, overflow) = hi.subtractingReportingOverflow(lo)
        guard !overflow, span < 1 << 16 else {
          dense = false
          break
        }
        lows.append(lo)
        nullSlots.append(Int(span) + 1)
        strides.append(total)
        total *= Int(span) + 1 + (hasNull ? 1 : 0)
        if total > 1 << 16 {
          dense = false
          break
        }
      }
      if dense {
        // Each key adds its offset to the row's slot, a column at a time on raw pointers.
        var slots = [Int](repeating: 0, count: positions.count)
        slots.withUnsafeMutableBufferPointer { slots in
          positions.withUnsafeBufferPointer { positions in
            for (k, c) in keyColumns.enumerated() {
              let (low, nullSlot, stride) = (lows[k], nullSlots[k], strides[k])
              c.0.withUnsafeBufferPointer { v in
                c.1.withUnsafeBufferPointer { nulls in
                  for i in 0..<positions.count {
                    let p = Int(positions[i])
                    slots[i] &+= (nulls[p] ? nullSlot : Int(v[p] &- low)) &* stride
                  }
                }
              }
            }
          }
        }
        var local = [Int32](repeating: -1, count: total)
        local.withUnsafeMutableBufferPointer { local in
          groupOf.withUnsafeMutableBufferPointer { groupOf in
            for i in 0..<positions.count {
              var g = local[slots[i]]
              if g < 0 {
                keyOf(Int(positions[i]))
                g = Int32(key.withUnsafeBufferPointer { table.group($0.baseAddress!) })
                local[slots[i]] = g
              }
              groupOf[i] = g
            }
          }
        }
      } else {
        for (i, p) in positions.enumerated() {
          keyOf(Int(p))
          groupOf[i] = Int32(key.withUnsafeBufferPointer { table.group($0.baseAddress!) })
        }
      }
      growStates()
      for (j, a) in plan.aggregates.enumerated() {
        var filter: [Bool]?
        if let f = a.filter { filter = evaluate(f, values, count: n) }
        try update(j, a, values: a.operand.map { values[$0]! }, filter, positions, groupOf)
      }
    }

    @inline(__always)
    mutating func update(
      _ j: Int, _ a: Aggregate, values: ([Int64], [Bool])?, _ filter: [Bool]?,
      _ positions: [Int32], _ groupOf: [Int32]
    ) throws(SQLError) {
      let isDouble =
        a.operand.map { plan.types[$0.column] == .double && $0.transform == .none }
        ?? false
      let isString = a.operand.map(yieldsString) ?? false
      // The states moved out while they are updated (no copy on write per row).
      var counts = self.counts[j]
      var ints = self.ints[j]
      var doubles = self.doubles[j]
      self.counts[j] = []
      self.ints[j] = []
      self.doubles[j] = []
      defer {
        self.counts[j] = counts
        self.ints[j] = ints
        self.doubles[j] = doubles
      }
      guard let (v, nulls) = values else {
        // count(*)
        counts.withUnsafeMutableBufferPointer { counts in
          for (i, p) in positions.enumerated() where filter?[Int(p)] ?? true {
            counts[Int(groupOf[i])] += 1
          }
        }
        return
      }
      // A DISTINCT sum of keys is made with its twin's count, at the end.
      if a.function == .keySum && a.distinct { return }
      if a.function == .count && !a.distinct {
        counts.withUnsafeMutableBufferPointer { counts in
          for (i, p) in positions.enumerated()
          where !nulls[Int(p)] && filter?[Int(p)] ?? true {
            counts[Int(groupOf[i])] += 1
          }
        }
        return
      }
      if let pairs = textPairs[j] {
        // The pairs' bytes: the string's (from the rows read, or the pool), or the value's
        // eight (a DOUBLE's -0 as 0, which compares equal to it).
        let text = a.operand == textOnly
        let string = !text && isString
        textRows.withUnsafeBufferPointer { rows in
          for (i, p32) in positions.enumerated() {
            let p = Int(p32)
            if let filter, !filter[p] { continue }
            if nulls[p] { continue }
            let g = Int(groupOf[i])
            if text {
              pairs.insert(g, rows[Int(v[p])])
            } else if string {
              pairs.insert(g, pool.bytes(v[p]))
            } else {
              var x = v[p]
              if isDouble && x == Int64(bitPattern: (-0.0).bitPattern) { x = 0 }
              withUnsafeBytes(of: &x) { pairs.insert(g, $0) }
            }
          }
        }
        return
      }
      for (i, p32) in positions.enumerated() {
        let p = Int(p32)
        if let filter, !filter[p] { continue }
        if nulls[p] { continue }
        let g = Int(groupOf[i])
        let x = v[p]
        switch a.function {
        case .count:
          preconditionFailure("count(DISTINCT) counts its pairs at the end")
        case .keySum:
          counts[g] += 1
          ints[g] = Int64(bitPattern: UInt64(bitPattern: ints[g]) &+ CellKey.recordKey(x))
        case .sum, .avg:
          counts[g] += 1
          if isDouble {
            doubles[g] += Double(bitPattern: UInt64(bitPattern: x))
          } else if a.function == .avg {
            doubles[g] += Double(x)
          } else {
            let (s, o) = ints[g].addingReportingOverflow(x)
            if o { throw SQLError.sumOverflow }
            ints[g] = s
          }
        case .min, .max:
          let first = counts[g] == 0
          counts[g] += 1
          if isDouble {
            let d = Double(bitPattern: UInt64(bitPattern: x))
            if first || (a.function == .min ? d < doubles[g] : d > doubles[g]) { doubles[g] = d }
          } else if isString {
            if first || (x != ints[g] && (pool.less(x, ints[g]) == (a.function == .min))) {
              ints[g] = x
            }
          } else if first || (a.function == .min ? x < ints[g] : x > ints[g]) {
            ints[g] = x
          }
        }
      }
    }

    /// Whether an operand's values are ids in `pool`.
    func yieldsString(_ o: Operand) -> Bool {
      o.transform == .planPeriod || (o.transform == .none && plan.types[o.column] == .varchar)
    }
  }
}
