import Domain
import Foundation
import Projections

extension FastAggregate.Partial {
  // MARK: Merging and the result

  /// Folds another worker's groups into these.
  mutating func merge(_ other: Self) throws(SQLError) {
    // The other pool's ids, as ids of this one.
    var ids: [Int64] = []
    ids.reserveCapacity(other.pool.count)
    for i in 0..<other.pool.count { ids.append(pool.intern(Int64(i), of: other.pool)) }
    let kinds = plan.keyTypes.map { $0 == .varchar }
    let w = table.width
    var mapped = [Int]()
    var key = [Int64](repeating: 0, count: w)
    for g in 0..<other.table.count {
      for k in 0..<w {
        let x = other.table.keys[g * w + k]
        let isNull = k < w - 1 && other.table.keys[g * w + w - 1] & (1 << k) != 0
        key[k] = k < w - 1 && kinds[k] && !isNull ? ids[Int(x)] : x
      }
      mapped.append(key.withUnsafeBufferPointer { table.group($0.baseAddress!) })
    }
    growStates()
    for (j, a) in plan.aggregates.enumerated() {
      let isDouble =
        a.operand.map { plan.types[$0.column] == .double && $0.transform == .none }
        ?? false
      let isString = a.operand.map(yieldsString) ?? false
      if a.distinct {
        continue  // below: the other's pairs, counted with these at the end
      }
      for (og, g) in mapped.enumerated() {
        let n = other.counts[j][og]
        if n == 0 { continue }
        switch a.function {
        case .count: counts[j][g] += n
        case .keySum:
          counts[j][g] += n
          ints[j][g] = ints[j][g] &+ other.ints[j][og]
        case .sum, .avg:
          if isDouble || a.function == .avg {
            doubles[j][g] += other.doubles[j][og]
          } else {
            let (s, o) = ints[j][g].addingReportingOverflow(other.ints[j][og])
            if o { throw SQLError.sumOverflow }
            ints[j][g] = s
          }
          counts[j][g] += n
        case .min, .max:
          let first = counts[j][g] == 0
          counts[j][g] += n
          if isDouble {
            let d = other.doubles[j][og]
            if first || (a.function == .min ? d < doubles[j][g] : d > doubles[j][g]) {
              doubles[j][g] = d
            }
          } else if isString {
            let x = ids[Int(other.ints[j][og])]
            if first || (x != ints[j][g] && pool.less(x, ints[j][g]) == (a.function == .min)) {
              ints[j][g] = x
            }
          } else {
            let x = other.ints[j][og]
            if first || (a.function == .min ? x < ints[j][g] : x > ints[j][g]) { ints[j][g] = x }
          }
        }
      }
    }
    for (j, a) in plan.aggregates.enumerated() where a.distinct {
      if let others = other.textPairs[j] {
        // Counted at the end, all workers' pairs together.
        mergedText[j].append((others, mapped))
        for (set, map) in other.mergedText[j] {
          mergedText[j].append((set, map.map { $0.map { mapped[$0] } } ?? mapped))
        }
        continue
      }
    }
  }

  /// The groups and their aggregates (the distinct strings of `textPairs` counted first).
  mutating func batch() -> Batch {
    for (j, pairs) in textPairs.enumerated() {
      guard let pairs else { continue }
      var keys = [Int64](repeating: 0, count: counts[j].count)
      TextPairs.count([(pairs, nil)] + mergedText[j], into: &counts[j], keys: &keys)
      for (k, a) in plan.aggregates.enumerated() where a.twin == j { ints[k] = keys }
      textPairs[j] = nil
      mergedText[j] = []
    }
    let w = table.width
    var columns = plan.keyTypes.map { Vector(type: $0) }
    for g in 0..<table.count {
      let nulls = table.keys[g * w + w - 1]
      for k in 0..<(w - 1) {
        if nulls & (1 << k) != 0 {
          columns[k].append(.null)
          continue
        }
        let x = table.keys[g * w + k]
        switch plan.keyTypes[k] {
        case .varchar: columns[k].append(.text(pool.string(x)))
        case .double: columns[k].append(.double(Double(bitPattern: UInt64(bitPattern: x))))
        case .timestamp: columns[k].append(.timestamp(x))
        case .date: columns[k].append(.date(x))
        case .boolean: columns[k].append(.bool(x != 0))
        default: columns[k].append(.int(x))
        }
      }
    }
    for (j, a) in plan.aggregates.enumerated() {
      var v = Vector(type: a.type)
      let isDouble =
        a.operand.map { plan.types[$0.column] == .double && $0.transform == .none }
        ?? false
      for g in 0..<table.count {
        let n = counts[j][g]
        switch a.function {
        case .count: v.append(.int(n))
        case .keySum: v.append(.int(ints[j][g]))
        case .sum:
          v.append(n == 0 ? .null : isDouble ? .double(doubles[j][g]) : .int(ints[j][g]))
        case .avg: v.append(n == 0 ? .null : .double(doubles[j][g] / Double(n)))
        case .min, .max:
          if n == 0 {
            v.append(.null)
          } else if isDouble {
            v.append(.double(doubles[j][g]))
          } else if a.type == .varchar {
            v.append(.text(pool.string(ints[j][g])))
          } else {
            let x = ints[j][g]
            switch a.type {
            case .timestamp: v.append(.timestamp(x))
            case .date: v.append(.date(x))
            case .boolean: v.append(.bool(x != 0))
            default: v.append(.int(x))
            }
          }
        }
      }
      columns.append(v)
    }
    return Batch(columns: columns, count: table.count)
  }
}
