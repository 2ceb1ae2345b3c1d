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
    /// In a join whose left key is VARCHAR and read by no operand but `textOnly`: the probe
    /// reads the key's bytes and finds them in the pool, adding none (the left table's ids,
    /// mostly of keys with no match, were most of a join's time).
    var joinTextKey: Bool {
      guard let j = plan.join, plan.types[j.leftKey] == .varchar,
        plan.types[j.leftColumns + j.rightKey] == .varchar
      else { return false }
      return plan.operands.allSatisfy { $0.column != j.leftKey || $0 == textOnly }
    }

    /// A column the WHERE clause requires to hold a value (`x IS NOT NULL`, alone or
    /// ANDed): a group's scan starts from its rows with one.
    let requiredColumn: Int?
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
      requiredColumn = plan.condition.flatMap(Self.requiredColumn)
      textPairs = plan.aggregates.map { $0.distinct && $0.function == .count ? TextPairs() : nil }
      mergedText = Array(repeating: [], count: n)
      for c in plan.constants { constantIDs.append(pool.intern(precomposed(c))) }
      constantBytes = plan.constants.map { Array(precomposed($0).utf8) }
      var flags = [Bool](repeating: false, count: plan.types.count)
      for o in plan.condition.map(FastAggregate.operands(of:)) ?? [] { flags[o.column] = true }
      conditionColumns = flags
      for o in plan.operands { flags[o.column] = true }
      readColumns = flags
    }

    /// The operand of `count(DISTINCT x)` that can skip the string pool: a VARCHAR column
    /// read with no transform, by no key, other aggregate, or condition or FILTER but for
    /// `IS [NOT] NULL`, in a plan without a join (whose rows carry interned ids).
    ///
    /// In a join, the left table's join key may be that operand: the probe then looks each
    /// row's key up in the pool without adding it (see `joinTextKey`).
    static func textOnlyOperand(of plan: FastAggregate) -> Operand? {
      let distinct = Set(plan.aggregates.filter(\.distinct).compactMap(\.operand)).filter { o in
        plan.join.map { o.column == $0.leftKey } ?? true
      }
      guard distinct.count == 1, let o = distinct.first, o.transform == .none,
        plan.types[o.column] == .varchar, !plan.keys.contains(where: { $0.column == o.column })
      else { return nil }
      // Conditions may test it for NULL only (its values are then indices, not ids).
      func onlyNullTests(_ p: Predicate) -> Bool {
        switch p {
        case .isNull: return true
        case .int(let x, _, _), .double(let x, _, _), .member(let x, _, _, _):
          return x.column != o.column
        case .and(let parts), .or(let parts): return parts.allSatisfy(onlyNullTests)
        case .never: return true
        }
      }
      let conditions = [plan.condition].compactMap { $0 } + plan.aggregates.compactMap(\.filter)
      guard conditions.allSatisfy(onlyNullTests) else { return nil }
      for a in plan.aggregates where a.operand?.column == o.column {
        guard a.distinct, a.function == .count, a.operand == o else { return nil }
      }
      guard plan.operands.filter({ $0.column == o.column }).count == 1 else { return nil }
      return o
    }

    /// The rows of group `g` (table rows) that may meet the WHERE clause, found from its
    /// conjuncts that compare a column with constants (a dictionary code, an integer range)
    /// in one pass over the stored values each: the rows whose stored values meet them and
    /// the rows with patches of those columns (the clause is still tested on every row
    /// returned). Nil when no conjunct is of the kind.
    func prefiltered(_ g: GroupReader, base: Int) -> [Int]? {
      guard let c = plan.condition else { return nil }
      let parts: [Predicate]
      if case .and(let p) = c { parts = p } else { parts = [c] }
      var rows: [Int32]?
      var flags = [Bool](repeating: false, count: plan.types.count)
      for p in parts {
        switch p {
        case .member(let o, let set, let strings, negated: false)
        where o.transform == .none && plan.types[o.column] == .varchar && set.isEmpty:
          let column = g.columns[o.column]
          guard column.isDictionary else { continue }
          var keep = [Bool](repeating: false, count: column.dictionaryCount)
          for i in strings {
            if let k = constantBytes[i].withUnsafeBytes({ column.dictionaryCode(of: $0) }) {
              keep[k] = true
            }
          }
          column.select(&rows, codes: keep)
          flags[o.column] = true
        case .int(let o, let op, let x)
        where o.transform == .none && plan.types[o.column] != .varchar
          && plan.types[o.column] != .double:
          let range: (Int64, Int64)
          switch op {
          case .eq: range = (x, x)
          case .lt: range = x == .min ? (1, 0) : (.min, x - 1)
          case .le: range = (.min, x)
          case .gt: range = x == .max ? (1, 0) : (x + 1, .max)
          case .ge: range = (x, .max)
          case .ne: continue
          }
          g.columns[o.column].select(&rows, low: range.0, high: range.1)
          flags[o.column] = true
        default: continue
        }
      }
      guard let rows else { return nil }
      var out = rows.map { base + Int($0) }
      let patched = plan.view.patchedRows(from: base, count: g.rows, touching: flags)
      if !patched.isEmpty { out = Array(Set(out).union(patched)).sorted() }
      return out
    }

    /// A column that `p` holds only where it has a value.
    static func requiredColumn(_ p: Predicate) -> Int? {
      switch p {
      case .isNull(let o, negated: true) where o.transform == .none: return o.column
      case .and(let parts): return parts.lazy.compactMap(requiredColumn).first
      default: return nil
      }
    }

    /// The operands read for their NULLs alone: a column with no transform, in no key, that
    /// aggregates only as `count(x)` (not DISTINCT) and conditions only test for NULL, in a
    /// plan without a join.
    static func nullOnlyOperands(of plan: FastAggregate) -> Set<Operand> {
      guard plan.join == nil else { return [] }
      var out: Set<Operand> = []
      for o in Set(plan.operands) where o.transform == .none {
        guard plan.operands.filter({ $0.column == o.column }).count == 1,
          !plan.keys.contains(where: { $0.column == o.column }),
          plan.aggregates.allSatisfy({
            $0.operand?.column != o.column || ($0.function == .count && !$0.distinct)
          })
        else { continue }
        func onlyNullTests(_ p: Predicate) -> Bool {
          switch p {
          case .isNull, .never: return true
          case .int(let x, _, _), .double(let x, _, _), .member(let x, _, _, _):
            return x.column != o.column
          case .and(let parts), .or(let parts): return parts.allSatisfy(onlyNullTests)
          }
        }
        let conditions = [plan.condition].compactMap { $0 } + plan.aggregates.compactMap(\.filter)
        if conditions.allSatisfy(onlyNullTests) { out.insert(o) }
      }
      return out
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
      } else if only == nil, let c = requiredColumn,
        let valid = g.columns[c].validRows(base: base)
      {
        // Only the rows with a value (or a patch that may give one) can pass.
        var flags = [Bool](repeating: false, count: plan.types.count)
        flags[c] = true
        let patched = plan.view.patchedRows(from: base, count: g.rows, touching: flags)
        only = patched.isEmpty ? valid : Array(Set(valid).union(patched)).sorted()
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

    /// The rows of group `g` a scan reads (table-wide, as `plan.only`; nil: all): all of
    /// `plan.only`, unless the group's zone map says that no stored value meets the
    /// condition, when only its corrected rows may (and `skip` when it has none).
    func rowsToRead(_ g: GroupReader, base: Int) -> (skip: Bool, only: [Int]?) {
      guard let c = plan.condition, !plan.mayPass(c, in: g, strings: constantBytes) else {
        return (false, plan.only)
      }
      var rows = plan.view.patchedRows(from: base, count: g.rows, touching: conditionColumns)
      if let only = plan.only { rows = rows.filter { TableView.contains(only, $0) } }
      return (rows.isEmpty, rows)
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

    /// The bytes of a VARCHAR column at `sel`, into `textRows` (patched values copied into
    /// `textStorage`); its NULLs.
    mutating func loadText(
      _ view: TableView, _ g: GroupReader, column: Int, base: Int, _ sel: [Int32]
    ) -> [Bool] {
      let reader = g.columns[column]
      if sel.count > 4096 { reader.populate() }
      var rows = [UnsafeRawBufferPointer](
        repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: sel.count)
      var nulls = [Bool](repeating: false, count: sel.count)
      sel.withUnsafeBufferPointer { s in
        rows.withUnsafeMutableBufferPointer { o in
          if reader.isDictionary {
            let entries = (0..<reader.dictionaryCount).map { reader.dictionaryEntry($0) }
            let codes = [Int64](unsafeUninitializedCapacity: s.count) { b, n in
              let identity = (0..<Int64(entries.count)).map { $0 } + [0]
              identity.withUnsafeBufferPointer {
                reader.gatherCodes(s, through: $0, into: b.baseAddress!)
              }
              n = s.count
            }
            if !entries.isEmpty {
              for i in 0..<s.count { o[i] = entries[Int(codes[i])] }
            }
          } else {
            reader.forEachString(s) { i, bytes in o[i] = bytes }
          }
        }
        nulls.withUnsafeMutableBufferPointer { reader.gatherNulls(s, into: $0.baseAddress!) }
      }
      if view.isPatched(column: column) {
        /// A patched value's bytes, copied where they outlive this call.
        func keep(_ text: String) -> UnsafeRawBufferPointer {
          let copy = UnsafeMutableRawBufferPointer.allocate(
            byteCount: text.utf8.count, alignment: 1)
          copy.copyBytes(from: text.utf8)
          textStorage.append(copy)
          return UnsafeRawBufferPointer(copy)
        }
        for (p, row) in view.patched(among: sel, base: base, count: g.rows) {
          switch view.patchedValue(row, column) {
          case nil: break
          case .null?: nulls[p] = true
          case .text(let text)?:
            nulls[p] = false
            rows[p] = keep(text)
          case .int(let x)?:
            nulls[p] = false
            rows[p] = keep(String(x))
          case .double?:
            preconditionFailure("a DOUBLE patch in a VARCHAR column")
          }
        }
      }
      textRows = rows
      return nulls
    }

    /// Whether column `column` is NULL at each of the rows `sel` of group `g`, as corrected.
    func loadNulls(_ g: GroupReader, _ column: Int, _ base: Int, _ sel: [Int32]) -> [Bool] {
      var nulls = [Bool](repeating: false, count: sel.count)
      sel.withUnsafeBufferPointer { s in
        nulls.withUnsafeMutableBufferPointer {
          g.columns[column].gatherNulls(s, into: $0.baseAddress!)
        }
      }
      let view = plan.view
      guard view.isPatched(column: column) else { return nulls }
      for (p, row) in view.patched(among: sel, base: base, count: g.rows) {
        switch view.patchedValue(row, column) {
        case nil: break
        case .null?: nulls[p] = true
        case .some: nulls[p] = false
        }
      }
      return nulls
    }

    /// A column's values at `sel`: integers, a DOUBLE's bits, or a VARCHAR's id in `pool`.
    /// Column `column` of `view`'s row group `g` (of SQL type `type`) at the rows `sel`.
    mutating func load(
      _ view: TableView, _ g: GroupReader, column: Int, type: SQLType, base: Int, _ sel: [Int32]
    ) -> ([Int64], [Bool]) {
      let reader = g.columns[column]
      if sel.count > 4096 { reader.populate() }
      var out = [Int64](repeating: 0, count: sel.count)
      var nulls = [Bool](repeating: false, count: sel.count)
      sel.withUnsafeBufferPointer { s in
        out.withUnsafeMutableBufferPointer { o in
          if type != .varchar {
            reader.gatherInt64(s, into: o.baseAddress!)
          } else if reader.isDictionary {
            let ids =
              (0..<reader.dictionaryCount).map { pool.intern(reader.dictionaryEntry($0)) } + [0]
            ids.withUnsafeBufferPointer { reader.gatherCodes(s, through: $0, into: o.baseAddress!) }
          } else {
            let pool = self.pool
            let out = o.baseAddress.unsafelyUnwrapped
            reader.forEachString(s) { i, bytes in out[i] = pool.intern(bytes) }
          }
        }
        nulls.withUnsafeMutableBufferPointer { reader.gatherNulls(s, into: $0.baseAddress!) }
      }
      // Rows a correction changed.
      guard view.isPatched(column: column) else { return (out, nulls) }
      for (p, row) in view.patched(among: sel, base: base, count: g.rows) {
        switch view.patchedValue(row, column) {
        case nil: break
        case .null?: nulls[p] = true
        case .int(let x)?:
          nulls[p] = false
          // A number set in a VARCHAR column is its text (ids of the pool, not numbers).
          out[p] = type == .varchar ? pool.intern(String(x)) : x
        case .double(let d)?:
          nulls[p] = false
          out[p] = Int64(bitPattern: d.bitPattern)
        case .text(let s)?:
          nulls[p] = false
          out[p] = pool.intern(s)
        }
      }
      return (out, nulls)
    }

    mutating func transform(_ v: ([Int64], [Bool]), _ o: Operand) -> ([Int64], [Bool]) {
      let t = o.transform
      if t == .none { return v }
      var (out, nulls) = v
      // Days from the column's values: timestamps are microseconds, dates days.
      let micros = plan.types[o.column] == .timestamp
      if let table = transformedDays(&out, nulls, micros: micros, t) {
        // The days span a few years: each day's value from a table made by stepping through
        // the calendar, where the calendar per row was most of a query by plan period.
        out.withUnsafeMutableBufferPointer { out in
          table.values.withUnsafeBufferPointer { values in
            for i in 0..<out.count where !nulls[i] { out[i] = values[Int(out[i] - table.first)] }
          }
        }
        return (out, nulls)
      }
      var lastDays = Int64.min
      var last: Int64 = 0
      for i in out.indices where !nulls[i] {
        let days = micros ? floorDiv(out[i], 86_400_000_000) : out[i]
        if days != lastDays {
          lastDays = days
          let (y, m, d) = Timestamp.civilFromDays(days)
          switch t {
          case .year: last = y
          case .month: last = m
          case .quarter: last = (m - 1) / 3 + 1
          case .day: last = d
          case .planPeriod:
            if let id = periodIDs[y] {
              last = id
            } else {
              let id = pool.intern(PlanPeriods.period(ofYear: y))
              periodIDs[y] = id
              last = id
            }
          case .none: break
          }
        }
        out[i] = last
      }
      nulls = v.1
      return (out, nulls)
    }

    /// When the values not NULL span at most 4,096 days: `out` holds each one's day, and
    /// the table of the transform of each day of the span, the first day first. Nil (and
    /// `out` as it was) otherwise.
    mutating func transformedDays(
      _ out: inout [Int64], _ nulls: [Bool], micros: Bool, _ t: Operand.Transform
    ) -> (first: Int64, values: [Int64])? {
      var lo = Int64.max
      var hi = Int64.min
      for i in out.indices where !nulls[i] {
        lo = min(lo, out[i])
        hi = max(hi, out[i])
      }
      if micros {
        (lo, hi) = (floorDiv(lo, 86_400_000_000), floorDiv(hi, 86_400_000_000))
      }
      guard lo <= hi, case (let span, false) = hi.subtractingReportingOverflow(lo), span < 4096
      else { return nil }
      if micros {
        for i in out.indices where !nulls[i] { out[i] = floorDiv(out[i], 86_400_000_000) }
      }
      var (y, m, d) = Timestamp.civilFromDays(lo)
      var values: [Int64] = []
      values.reserveCapacity(Int(hi - lo) + 1)
      var lastYear = Int64.min
      var period: Int64 = 0
      for _ in lo...hi {
        switch t {
        case .year: values.append(y)
        case .month: values.append(m)
        case .quarter: values.append((m - 1) / 3 + 1)
        case .day: values.append(d)
        case .planPeriod:
          if y != lastYear {
            lastYear = y
            if let id = periodIDs[y] {
              period = id
            } else {
              period = pool.intern(PlanPeriods.period(ofYear: y))
              periodIDs[y] = period
            }
          }
          values.append(period)
        case .none: values.append(0)
        }
        d += 1
        if d > Timestamp.daysInMonth(y, m) {
          d = 1
          m += 1
          if m > 12 {
            m = 1
            y += 1
          }
        }
      }
      return (lo, values)
    }

    /// Whether `p` is true at each position.
    func evaluate(_ p: Predicate, _ values: [Operand: ([Int64], [Bool])], count n: Int) -> [Bool] {
      switch p {
      case .never: return [Bool](repeating: false, count: n)
      case .and(let parts):
        var out = [Bool](repeating: true, count: n)
        for q in parts {
          let m = evaluate(q, values, count: n)
          for i in 0..<n where !m[i] { out[i] = false }
        }
        return out
      case .or(let parts):
        var out = [Bool](repeating: false, count: n)
        for q in parts {
          let m = evaluate(q, values, count: n)
          for i in 0..<n where m[i] { out[i] = true }
        }
        return out
      case .isNull(let o, let negated):
        let nulls = values[o]!.1
        return negated ? nulls.map { !$0 } : nulls
      case .member(let o, let set, let strings, let negated):
        let (v, nulls) = values[o]!
        let ids = set.union(strings.map { constantIDs[$0] })
        var out = [Bool](repeating: false, count: n)
        if ids.count == 1, let only = ids.first {
          for i in 0..<n where !nulls[i] { out[i] = (v[i] == only) != negated }
        } else {
          for i in 0..<n where !nulls[i] { out[i] = ids.contains(v[i]) != negated }
        }
        return out
      case .int(let o, let op, let c):
        let (v, nulls) = values[o]!
        var out = [Bool](repeating: false, count: n)
        for i in 0..<n where !nulls[i] { out[i] = Self.test(v[i], op, c) }
        return out
      case .double(let o, let op, let c):
        let (v, nulls) = values[o]!
        let isDouble = plan.types[o.column] == .double && o.transform == .none
        var out = [Bool](repeating: false, count: n)
        for i in 0..<n where !nulls[i] {
          let x = isDouble ? Double(bitPattern: UInt64(bitPattern: v[i])) : Double(v[i])
          out[i] = Self.test(x, op, c)
        }
        return out
      }
    }

    @inline(__always)
    static func test<T: Comparable>(_ x: T, _ op: Op, _ c: T) -> Bool {
      switch op {
      case .eq: x == c
      case .ne: x != c
      case .lt: x < c
      case .le: x <= c
      case .gt: x > c
      case .ge: x >= c
      }
    }

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
