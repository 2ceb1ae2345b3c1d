import Foundation

/// The types of the engine, as DuckDB names them.
package enum SQLType: String, Sendable, Equatable {
  case bigint = "BIGINT"
  case double = "DOUBLE"
  case boolean = "BOOLEAN"
  case varchar = "VARCHAR"
  /// Microseconds since 1970-01-01 of a wall clock (no zone).
  case timestamp = "TIMESTAMP"
  /// Days since 1970-01-01.
  case date = "DATE"
  /// The type of a bare NULL, until something gives it one.
  case null = "NULL"

  var isNumeric: Bool { self == .bigint || self == .double }
  /// Stored in `ints`.
  var isInteger: Bool { self == .bigint || self == .timestamp || self == .date || self == .boolean }
}

/// One value, for constants and results.
package enum SQLValue: Equatable, Hashable, Sendable {
  case null
  case int(Int64)
  case double(Double)
  case bool(Bool)
  case text(String)
  case timestamp(Int64)
  case date(Int64)

  package var isNull: Bool { self == .null }
}

/// A column of a batch: one array per representation, and which rows are NULL.
package struct Vector: Sendable {
  package var type: SQLType
  package var ints: [Int64] = []
  package var doubles: [Double] = []
  package var strings: [String] = []
  /// nil: no NULLs.
  package var nulls: [Bool]?

  package init(type: SQLType) { self.type = type }

  package var count: Int {
    switch type {
    case .double: doubles.count
    case .varchar: strings.count
    case .null: nulls?.count ?? 0
    default: ints.count
    }
  }

  @inline(__always)
  package func isNull(_ i: Int) -> Bool { nulls?[i] ?? false }

  package mutating func reserve(_ n: Int) {
    switch type {
    case .double: doubles.reserveCapacity(n)
    case .varchar: strings.reserveCapacity(n)
    case .null: break
    default: ints.reserveCapacity(n)
    }
  }

  /// Appends a value (of this vector's type, or NULL).
  package mutating func append(_ v: SQLValue) {
    let row = count
    var null = false
    switch (type, v) {
    case (_, .null):
      null = true
      switch type {
      case .double: doubles.append(0)
      case .varchar: strings.append("")
      case .null: break
      default: ints.append(0)
      }
    case (.double, .double(let d)): doubles.append(d)
    case (.double, .int(let i)): doubles.append(Double(i))
    case (.varchar, .text(let s)): strings.append(s)
    case (.boolean, .bool(let b)): ints.append(b ? 1 : 0)
    case (_, .int(let i)), (_, .timestamp(let i)), (_, .date(let i)): ints.append(i)
    case (_, .bool(let b)): ints.append(b ? 1 : 0)
    default: preconditionFailure("\(v) into a \(type.rawValue) vector")
    }
    if null {
      if nulls == nil { nulls = Array(repeating: false, count: row) }
      nulls!.append(true)
    } else if nulls != nil {
      nulls!.append(false)
    }
  }

  package func value(_ i: Int) -> SQLValue {
    if isNull(i) || type == .null { return .null }
    switch type {
    case .bigint: return .int(ints[i])
    case .double: return .double(doubles[i])
    case .boolean: return .bool(ints[i] != 0)
    case .varchar: return .text(strings[i])
    case .timestamp: return .timestamp(ints[i])
    case .date: return .date(ints[i])
    case .null: return .null
    }
  }

  /// The rows of `selection`, in that order.
  package func gather(_ selection: [Int]) -> Vector {
    var out = Vector(type: type)
    switch type {
    case .double: out.doubles = selection.map { doubles[$0] }
    case .varchar: out.strings = selection.map { strings[$0] }
    case .null: break
    default: out.ints = selection.map { ints[$0] }
    }
    if let nulls { out.nulls = selection.map { nulls[$0] } }
    if type == .null { out.nulls = Array(repeating: true, count: selection.count) }
    return out
  }

  static func nulls(_ type: SQLType, count: Int) -> Vector {
    var v = Vector(type: type)
    for _ in 0..<count { v.append(.null) }
    if type == .null { v.nulls = Array(repeating: true, count: count) }
    return v
  }
}

/// Rows of a few columns: what operators pass to one another.
package struct Batch: Sendable {
  package var columns: [Vector]
  package var count: Int

  package init(columns: [Vector], count: Int) {
    self.columns = columns
    self.count = count
  }

  package func gather(_ selection: [Int]) -> Batch {
    Batch(columns: columns.map { $0.gather(selection) }, count: selection.count)
  }
}
