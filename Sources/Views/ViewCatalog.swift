import EventLog
import Foundation
import Query

/// A view's definition: `queries/views/NAME.sql`, one `SELECT` under a comment header that says
/// what the view is and which rule it encodes.
package struct ViewDefinition: Sendable {
  package let name: String
  package let path: String
  package let sql: String
  /// The comment lines that open the file, without their `--`.
  package let header: [String]
  /// The views it reads, each with the byte offset in `sql` of the first mention.
  package let dependencies: [(name: String, offset: Int)]
  /// The output columns that identify a row, what a rebuild compares old and new rows by: a
  /// `-- key: a, b` line of the header, else a grouped view's leading keys; nil: none known
  /// (rows are compared whole: added and removed, none "changed").
  package let keys: [String]?
}

/// A problem with a view's file: where, and what. The other views still work.
package struct ViewProblem: Error, CustomStringConvertible, Sendable {
  package let view: String
  package let file: String
  package let line: Int
  package let column: Int
  package let message: String

  package var description: String { "\(file):\(line):\(column): \(message)" }

  /// The line and column (1-based, in characters) of byte `offset` in `text`.
  package static func at(_ text: String, _ offset: Int) -> (line: Int, column: Int) {
    let bytes = Array(text.utf8)
    let at = min(max(offset, 0), bytes.count)
    var lineStart = at
    while lineStart > 0 && bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
    let line = bytes[..<lineStart].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    let column = String(decoding: bytes[lineStart..<at], as: UTF8.self).count + 1
    return (line, column)
  }
}

/// Every view of a `queries/views` folder, in dependency order (a view after those it reads),
/// with the hash of each definition: its SQL text and, for a view over views, their hashes.
/// A file that does not parse, a view named like a built-in table, or a cycle between views is
/// a problem of those views alone.
package struct ViewCatalog: Sendable {
  package private(set) var definitions: [ViewDefinition] = []
  package private(set) var problems: [ViewProblem] = []
  /// Hex SHA-256 by view name.
  package private(set) var hashes: [String: String] = [:]

  package func definition(_ name: String) -> ViewDefinition? {
    definitions.first { $0.name == name }
  }

  package static func load(folder: String, builtin: Set<String>) -> ViewCatalog {
    var catalog = ViewCatalog()
    let files =
      ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
      .filter { $0.hasSuffix(".sql") }.sorted()
    var parsed: [String: ViewDefinition] = [:]
    let names = Set(files.map { String($0.dropLast(4)) })
    for file in files {
      let name = String(file.dropLast(4))
      let path = folder + "/" + file
      func problem(_ offset: Int, _ message: String, in text: String = "") {
        let (line, column) = ViewProblem.at(text, offset)
        catalog.problems.append(
          ViewProblem(view: name, file: path, line: line, column: column, message: message))
      }
      guard let data = FileManager.default.contents(atPath: path),
        let sql = String(data: data, encoding: .utf8)
      else {
        problem(0, "cannot read the file (it must be UTF-8 text)")
        continue
      }
      guard name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression) != nil else {
        problem(0, "a view's name is lowercase letters, digits and _: rename the file", in: sql)
        continue
      }
      if builtin.contains(name) {
        problem(0, "\(name) is a built-in table: name the view otherwise", in: sql)
        continue
      }
      let statements: [Statement]
      do {
        statements = try Parser.parse(sql)
      } catch {
        problem(error.offset ?? 0, "\(error.kind.rawValue): \(error.message)", in: sql)
        continue
      }
      guard statements.count == 1, case .select(let q) = statements[0] else {
        problem(0, "a view is one SELECT statement", in: sql)
        continue
      }
      var references: [(String, Int)] = []
      Self.tables(in: q, ctes: [], into: &references)
      var dependencies: [(name: String, offset: Int)] = []
      for (t, at) in references
      where names.contains(t) && !dependencies.contains(where: { $0.name == t }) {
        dependencies.append((t, at))
      }
      let header = sql.split(separator: "\n", omittingEmptySubsequences: false)
        .prefix { $0.hasPrefix("--") }.map {
          String($0.dropFirst(2)).trimmingCharacters(in: .whitespaces)
        }
      var keys: [String]?
      if let line = header.first(where: { $0.lowercased().hasPrefix("key:") }) {
        keys = line.dropFirst(4).split(separator: ",").map {
          $0.trimmingCharacters(in: .whitespaces)
        }
      } else if !q.groupBy.isEmpty || q.groupByAll {
        let leading = q.items.prefix { !Self.aggregates($0.expr) }
        if !leading.isEmpty {
          keys = leading.map { $0.alias ?? Self.outputName($0.expr) }
        }
      }
      parsed[name] = ViewDefinition(
        name: name, path: path, sql: sql, header: header, dependencies: dependencies,
        keys: keys)
    }
    // Dependency order; a view on a cycle, or over a view with a problem, has a problem.
    var state: [String: Int] = [:]  // 1: visiting, 2: done
    var failed = Set(catalog.problems.map(\.view))
    func visit(_ name: String, path: [String]) {
      guard let d = parsed[name], state[name] != 2 else { return }
      if state[name] == 1 {
        // Each view on the cycle, where it names the next one.
        let cycle = Array(path.drop { $0 != name }) + [name]
        for (view, next) in zip(cycle, cycle.dropFirst()) {
          let from = parsed[view]!
          let offset = from.dependencies.first { $0.name == next }?.offset ?? 0
          let (line, column) = ViewProblem.at(from.sql, offset)
          catalog.problems.append(
            ViewProblem(
              view: from.name, file: from.path, line: line, column: column,
              message: "views read each other in a cycle: "
                + cycle.joined(separator: " -> ")))
        }
        failed.formUnion(cycle)
        return
      }
      state[name] = 1
      for dep in d.dependencies { visit(dep.name, path: path + [name]) }
      state[name] = 2
      if let bad = d.dependencies.first(where: { failed.contains($0.name) }), !failed.contains(name)
      {
        let (line, column) = ViewProblem.at(d.sql, bad.offset)
        catalog.problems.append(
          ViewProblem(
            view: name, file: d.path, line: line, column: column,
            message: "reads view \(bad.name), which has a problem"))
        failed.insert(name)
      }
      if !failed.contains(name) {
        catalog.definitions.append(d)
        var text = Array(d.sql.utf8)
        for dep in d.dependencies.map(\.name).sorted() {
          text += Array("\n-- over \(dep) \(catalog.hashes[dep] ?? "")".utf8)
        }
        catalog.hashes[name] = SHA256.hash(text).map { String(format: "%02x", $0) }.joined()
      }
    }
    for name in parsed.keys.sorted() { visit(name, path: []) }
    return catalog
  }

  /// The table names a statement reads (not its CTEs), with where each is named.
  static func tables(in q: Select, ctes: [String], into out: inout [(String, Int)]) {
    var known = ctes
    for c in q.with {
      tables(in: c.query, ctes: known, into: &out)
      known.append(c.name)
    }
    func from(_ f: FromItem) {
      switch f {
      case .table(let name, _, _, let at): if !known.contains(name) { out.append((name, at)) }
      case .subquery(let s, _, _): tables(in: s, ctes: known, into: &out)
      case .join(let l, let r, _, let on, _):
        from(l)
        from(r)
        if let on { expr(on) }
      }
    }
    func expr(_ e: Expr) {
      switch e.kind {
      case .inQuery(_, let s, _), .subquery(let s): tables(in: s, ctes: known, into: &out)
      default: break
      }
      if case .function(let c) = e.kind, let f = c.filter { expr(f) }
      for x in e.children { expr(x) }
    }
    if let f = q.from { from(f) }
    for i in q.items { expr(i.expr) }
    for e in [q.whereClause, q.having].compactMap({ $0 }) + q.groupBy { expr(e) }
  }

  static func outputName(_ e: Expr) -> String {
    if case .column(_, let n) = e.kind { return n }
    return e.rendered
  }

  static func aggregates(_ e: Expr) -> Bool {
    if case .function(let c) = e.kind,
      ["count", "sum", "avg", "min", "max"].contains(c.name.lowercased()), c.over == nil
    {
      return true
    }
    return e.children.contains(where: aggregates)
  }
}
