import Foundation

/// A result as text: an aligned table (as DuckDB's shell draws it), CSV (RFC 4180, with a
/// header), JSON (an array of objects) or Markdown.
package enum Output {
  package enum Format: String, Sendable, CaseIterable {
    case table, csv, json, markdown
  }

  package static func render(_ r: QueryResult, as format: Format) -> String {
    switch format {
    case .table: return table(r)
    case .csv: return csv(r)
    case .json: return json(r)
    case .markdown: return markdown(r)
    }
  }

  static func cell(_ v: SQLValue) -> String? { v.isNull ? nil : Cast.text(v) }

  /// The text of column `c` in row `i`: nil for NULL, the label for a suppressed cell.
  static func cell(_ r: QueryResult, _ c: Int, _ i: Int) -> String? {
    r.isSuppressed(c, i) ? r.suppressedText(c, i) : cell(r.rows.columns[c].value(i))
  }

  /// Columns as wide as their widest text in characters (a Vietnamese letter with its marks
  /// is one), numbers right-aligned, NULL shown as NULL. For the shell: `maxWidth`, the widest
  /// columns cut (with …) until the table fits; `separators`, thousands separated in numbers
  /// (not in a year or a seq, which are names more than amounts).
  package static func table(_ r: QueryResult, maxWidth: Int? = nil, separators: Bool = false)
    -> String
  {
    let n = r.names.count
    let grouped = (0..<n).map { c -> Bool in
      let name = r.names[c].lowercased()
      return separators && r.types[c] == .bigint && !name.hasSuffix("year") && name != "seq"
        && !name.hasSuffix("_id")
    }
    var cells: [[String]] = []
    for i in 0..<r.rows.count {
      cells.append(
        (0..<n).map { c in
          let v = r.rows.columns[c].value(i)
          if r.isSuppressed(c, i) { return r.suppressedText(c, i) }
          if grouped[c], case .int(let x) = v, abs(x) >= 10_000 { return thousands(x) }
          return cell(v) ?? "NULL"
        })
    }
    let typeNames = r.types.map { $0 == .bigint ? "int64" : $0.rawValue.lowercased() }
    var widths = (0..<n).map { max(r.names[$0].count, typeNames[$0].count) }
    for row in cells { for (c, s) in row.enumerated() { widths[c] = max(widths[c], s.count) } }
    if let maxWidth {
      // Borders take 3 per column and 1; the widest column gives way first.
      while widths.reduce(1, { $0 + $1 + 3 }) > maxWidth,
        let i = widths.indices.max(by: {
          widths[$0] < widths[$1]
        }), widths[i] > 5
      {
        widths[i] -= 1
      }
    }
    func fit(_ s: String, _ w: Int) -> String { s.count <= w ? s : String(s.prefix(w - 1)) + "…" }
    func line(_ l: String, _ m: String, _ rgt: String) -> String {
      l + widths.map { String(repeating: "─", count: $0 + 2) }.joinedText(m) + rgt + "\n"
    }
    func row(_ values: [String], right: [Bool]) -> String {
      "│"
        + values.enumerated().map { c, s in
          let s = fit(s, widths[c])
          let pad = String(repeating: " ", count: widths[c] - s.count)
          return " " + (right[c] ? pad + s : s + pad) + " "
        }.joinedText("│") + "│\n"
    }
    let numeric = r.types.map(\.isNumeric)
    var out = line("┌", "┬", "┐")
    out += row(r.names, right: Array(repeating: false, count: n))
    out += row(typeNames, right: Array(repeating: false, count: n))
    out += line("├", "┼", "┤")
    if cells.isEmpty {
      out += row(Array(repeating: "", count: n), right: numeric)
    }
    for values in cells { out += row(values, right: numeric) }
    out += line("└", "┴", "┘")
    return out
  }

  /// `12,345,678`.
  package static func thousands(_ x: Int64) -> String {
    let digits = Array(String(x.magnitude))
    var out = ""
    for (i, d) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(d)
    }
    return (x < 0 ? "-" : "") + out
  }

  /// An export of `r` in pieces of at most `rowsPerPiece` rows, each handed to `write`: CSV
  /// for loading elsewhere (an empty string quoted, `""`, so that it is not read back as NULL)
  /// or NDJSON (one object per line). A table of 10 M rows is never one string.
  package static func export(
    _ r: QueryResult, ndjson: Bool, rowsPerPiece: Int = 65_536, _ write: (String) throws -> Void
  ) rethrows {
    if !ndjson { try write(csv(r, quoteEmpty: true, rows: 0..<0)) }
    var start = 0
    while start < r.rows.count {
      let range = start..<min(r.rows.count, start + rowsPerPiece)
      if ndjson {
        try write(jsonRows(r, range).map { $0 + "\n" }.joinedText(""))
      } else {
        try write(csv(r, quoteEmpty: true, rows: range, header: false))
      }
      start = range.upperBound
    }
  }

  static func csv(
    _ r: QueryResult, quoteEmpty: Bool = false, rows: Range<Int>? = nil, header: Bool = true
  ) -> String {
    func field(_ s: String) -> String {
      // By bytes: "\r\n" is one Character, equal to neither "\r" nor "\n".
      if (quoteEmpty && s.isEmpty)
        || s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D })
      {
        return "\"" + s.replacingAll("\"", "\"\"") + "\""
      }
      return s
    }
    var out = header ? r.names.map(field).joinedText(",") + "\r\n" : ""
    for i in rows ?? 0..<r.rows.count {
      out += r.rows.columns.indices.map { cell(r, $0, i).map(field) ?? "" }.joinedText(",")
      out += "\r\n"
    }
    return out
  }

  package static func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          out += String(format: "\\u%04x", u.value)
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    return out + "\""
  }

  static func json(_ r: QueryResult) -> String {
    "[" + jsonRows(r).joinedText(",\n") + "]\n"
  }

  static func jsonRows(_ r: QueryResult, _ range: Range<Int>? = nil) -> [String] {
    var rows: [String] = []
    for i in range ?? 0..<r.rows.count {
      let members = r.names.enumerated().map { c, name -> String in
        let v = r.rows.columns[c].value(i)
        let text: String
        switch v {
        case _ where r.isSuppressed(c, i): text = jsonString(r.suppressedText(c, i))
        case .null: text = "null"
        case .int(let x): text = String(x)
        // inf, -inf and nan have no JSON number: their text, as a string.
        case .double(let d): text = d.isFinite ? Cast.text(v) : jsonString(Cast.text(v))
        case .bool(let b): text = b ? "true" : "false"
        default: text = jsonString(Cast.text(v))
        }
        return jsonString(name) + ":" + text
      }
      rows.append("{" + members.joinedText(",") + "}")
    }
    return rows
  }

  static func markdown(_ r: QueryResult) -> String {
    func esc(_ s: String) -> String { s.replacingAll("|", "\\|") }
    var out = "| " + r.names.map(esc).joinedText(" | ") + " |\n"
    out += "|" + r.types.map { $0.isNumeric ? "---:" : "---" }.joinedText("|") + "|\n"
    for i in 0..<r.rows.count {
      out +=
        "| " + r.rows.columns.indices.map { esc(cell(r, $0, i) ?? "NULL") }.joinedText(" | ")
        + " |\n"
    }
    return out
  }
}
