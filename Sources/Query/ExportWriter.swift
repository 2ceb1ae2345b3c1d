import Domain

/// Rows as CSV (RFC 4180: CRLF, fields quoted when they hold a comma, a quote or a line
/// break, and an empty string quoted so that it differs from NULL, which is empty) or NDJSON
/// (one object per line), written as bytes a column vector at a time: the export of a 10 M-row
/// table writes tens of millions of cells, too many for a `String` and a format call each.
/// The text of each value is `Cast.text`'s, so both agree with `hoso query`.
package enum ExportWriter {
  package static func csvHeader(_ names: [String], into out: inout [UInt8]) {
    for (c, n) in names.enumerated() {
      if c > 0 { out.append(UInt8(ascii: ",")) }
      field(n, quoteEmpty: true, into: &out)
    }
    out += [0x0D, 0x0A]
  }

  package static func csv(_ r: QueryResult, into out: inout [UInt8]) {
    let columns = r.rows.columns
    for i in 0..<r.rows.count {
      for (c, v) in columns.enumerated() {
        if c > 0 { out.append(UInt8(ascii: ",")) }
        if r.isSuppressed(c, i) {
          field(r.suppressedText(c, i), quoteEmpty: true, into: &out)
          continue
        }
        if v.isNull(i) || v.type == .null { continue }
        switch v.type {
        case .varchar: field(v.strings[i], quoteEmpty: true, into: &out)
        default: value(v, i, json: false, into: &out)
        }
      }
      out += [0x0D, 0x0A]
    }
  }

  package static func ndjson(_ r: QueryResult, into out: inout [UInt8]) {
    let columns = r.rows.columns
    let keys = r.names.map { name -> [UInt8] in
      var k: [UInt8] = []
      string(name, into: &k)
      k.append(UInt8(ascii: ":"))
      return k
    }
    for i in 0..<r.rows.count {
      out.append(UInt8(ascii: "{"))
      for (c, v) in columns.enumerated() {
        if c > 0 { out.append(UInt8(ascii: ",")) }
        out += keys[c]
        if r.isSuppressed(c, i) {
          string(r.suppressedText(c, i), into: &out)
          continue
        }
        if v.isNull(i) || v.type == .null {
          out += Array("null".utf8)
          continue
        }
        switch v.type {
        case .varchar: string(v.strings[i], into: &out)
        case .bigint, .double, .boolean: value(v, i, json: true, into: &out)
        default:
          out.append(UInt8(ascii: "\""))
          value(v, i, json: true, into: &out)
          out.append(UInt8(ascii: "\""))
        }
      }
      out += [UInt8(ascii: "}"), 0x0A]
    }
  }

  /// A non-NULL value that is not VARCHAR.
  static func value(_ v: Vector, _ i: Int, json: Bool, into out: inout [UInt8]) {
    switch v.type {
    case .bigint: integer(v.ints[i], into: &out)
    case .boolean: out += Array((v.ints[i] != 0 ? "true" : "false").utf8)
    case .timestamp: timestamp(v.ints[i], into: &out)
    case .date: date(v.ints[i], into: &out)
    case .double:
      let d = v.doubles[i]
      // inf, -inf and nan have no JSON number: their text, as a string.
      if json && !d.isFinite {
        string(Cast.text(.double(d)), into: &out)
      } else {
        out += Array(Cast.text(.double(d)).utf8)
      }
    case .interval: out += Array(Cast.text(v.value(i)).utf8)
    case .varchar, .null: break
    }
  }

  static func integer(_ x: Int64, into out: inout [UInt8]) {
    if x < 0 {
      out.append(UInt8(ascii: "-"))
      if x == .min {
        out += Array("9223372036854775808".utf8)
        return
      }
    }
    var v = x.magnitude
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, as room on the stack
    withUnsafeMutableBytes(of: &digits) { b in
      var n = 0
      repeat {
        b[23 - n] = UInt8(ascii: "0") + UInt8(v % 10)
        v /= 10
        n += 1
      } while v > 0
      out.append(contentsOf: b[(24 - n)...])
    }
  }

  static func two(_ x: Int64, into out: inout [UInt8]) {
    out.append(UInt8(ascii: "0") + UInt8(x / 10))
    out.append(UInt8(ascii: "0") + UInt8(x % 10))
  }

  static func date(_ days: Int64, into out: inout [UInt8]) {
    let (y, m, d) = Timestamp.civilFromDays(days)
    guard (0...9999).contains(y) else {
      out += Array(Cast.text(.date(days)).utf8)
      return
    }
    two(y / 100, into: &out)
    two(y % 100, into: &out)
    out.append(UInt8(ascii: "-"))
    two(m, into: &out)
    out.append(UInt8(ascii: "-"))
    two(d, into: &out)
  }

  /// `YYYY-MM-DD HH:MM:SS[.ffffff]`, trailing zeros of the fraction dropped: as `Cast.text`.
  static func timestamp(_ t: Int64, into out: inout [UInt8]) {
    let seconds = floorDiv(t, 1_000_000)
    let micros = t - seconds * 1_000_000
    let days = floorDiv(seconds, 86_400)
    let rest = seconds - days * 86_400
    let (y, _, _) = Timestamp.civilFromDays(days)
    guard (0...9999).contains(y) else {
      out += Array(Cast.text(.timestamp(t)).utf8)
      return
    }
    date(days, into: &out)
    out.append(UInt8(ascii: " "))
    two(rest / 3600, into: &out)
    out.append(UInt8(ascii: ":"))
    two(rest / 60 % 60, into: &out)
    out.append(UInt8(ascii: ":"))
    two(rest % 60, into: &out)
    if micros != 0 {
      out.append(UInt8(ascii: "."))
      var f = micros
      var width = 6
      while f % 10 == 0 {
        f /= 10
        width -= 1
      }
      var divisor: Int64 = 1
      for _ in 1..<width { divisor *= 10 }
      while divisor > 0 {
        out.append(UInt8(ascii: "0") + UInt8(f / divisor % 10))
        divisor /= 10
      }
    }
  }

  static func field(_ s: String, quoteEmpty: Bool, into out: inout [UInt8]) {
    var s = s
    s.withUTF8 { b in
      let quote =
        (quoteEmpty && b.isEmpty)
        || b.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
      if !quote {
        out.append(contentsOf: b)
        return
      }
      out.append(0x22)
      for c in b {
        out.append(c)
        if c == 0x22 { out.append(0x22) }
      }
      out.append(0x22)
    }
  }

  /// A JSON string, as `Output.jsonString` writes it.
  static func string(_ s: String, into out: inout [UInt8]) {
    var s = s
    s.withUTF8 { b in
      out.append(0x22)
      for c in b {
        switch c {
        case 0x22: out += [0x5C, 0x22]
        case 0x5C: out += [0x5C, 0x5C]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        case 0..<0x20:
          let hex = Array("0123456789abcdef".utf8)
          out += Array("\\u00".utf8)
          out.append(hex[Int(c >> 4)])
          out.append(hex[Int(c & 15)])
        default: out.append(c)
        }
      }
      out.append(0x22)
    }
  }
}

extension Engine {
  /// Every visible row of a built-in table (corrections applied), a row group at a time, as
  /// results of `SELECT *`: what `export` writes without holding the table in memory.
  package func stream(
    table name: String, _ body: (QueryResult) throws -> Void
  ) throws {
    let relation = try self.relation(
      .table(name: name, alias: nil, asOf: nil, at: 0), ctes: [:], asOf: nil)
    let names = relation.columns.map(\.name)
    let types = relation.columns.map(\.type)
    var failure: Error?
    try relation.scan(Array(relation.columns.indices)) { batch throws(SQLError) in
      do {
        try body(QueryResult(names: names, types: types, rows: batch))
        return true
      } catch {
        failure = error
        return false
      }
    }
    if let failure { throw failure }
  }

  /// The names and types of a built-in table's columns.
  package func columns(of table: String) throws(SQLError) -> [(String, SQLType)] {
    try relation(.table(name: table, alias: nil, asOf: nil, at: 0), ctes: [:], asOf: nil)
      .columns.map { ($0.name, $0.type) }
  }
}
