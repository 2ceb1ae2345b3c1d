/// A view read as of a past system time (DESIGN.md, "As-of"): its materialized copy holds only
/// its last build, so as of another time it is computed again from its recorded definition
/// over the built-in tables as of then. A report as known at its deadline reads its views so.
extension Engine {
  /// View `name` as of `seq`, read like a stored table by the statement that names it at
  /// `at`. The analyst role reads it as it reads the materialized copy: its counts and sums of
  /// persons perturbed cell by cell (`ViewCellKeys`), its small counts suppressed in the
  /// statement's answer; the statement's analysis checked its definition beforehand.
  func viewAsOf(_ name: String, alias: String?, seq: UInt64, at: Int) throws(SQLError)
    -> Relation
  {
    let result = try computedView(name, seq: seq, at: at)
    var relation = materialized(result, name: alias ?? name)
    if policy != nil, let keys = viewCellKeys[name], keys.matches(result.names) {
      // Computed exact, as a build is: the noise comes as it is read, from the same cell keys
      // as the copy's, so that the view as of now shows what the copy shows.
      relation.scan = { needed, body throws(SQLError) in
        var b = result.rows
        self.perturb(&b, keys, view: name)
        try self.deliver(Batch(columns: needed.map { b.columns[$0] }, count: b.count), body)
      }
    }
    return relation
  }

  /// The rows of view `name` as of `seq`, as its build computes them: exact (no role's rules;
  /// those apply where the statement reads them), over whole tables, the views it reads
  /// computed as of `seq` too. Throws on a cycle of recorded definitions (the catalog builds
  /// none, but the copies may come from different builds), and when the view's definition is
  /// not on record; an error inside the definition names the view and where in it.
  func computedView(_ name: String, seq: UInt64, at: Int) throws(SQLError) -> QueryResult {
    let key = "\(name)@\(seq)"
    // A view read twice in one statement (`indicators` reads `cases` in two CTEs) is
    // computed once.
    if let known = viewsAsOf[key] { return known }
    if let i = viewsComputing.firstIndex(of: name) {
      let cycle = (viewsComputing[i...] + [name]).joined(separator: " -> ")
      throw SQLError(
        .binder,
        "views read each other in a cycle, as their builds recorded them: \(cycle); hoso"
          + " rebuild puts them in order", at: at)
    }
    guard let sql = storedViewDefinition(name) else {
      throw SQLError(
        .catalog,
        "view \(name) was built without its definition on record, so it cannot be computed as"
          + " of a past time: hoso rebuild \(name) records it", at: at)
    }
    guard case .select(let q)? = try? Parser.parse(sql).first else {
      throw SQLError(
        .catalog,
        "the recorded definition of view \(name) does not parse: hoso rebuild \(name)", at: at)
    }
    let saved = (policy, cellKeyRules, restrictedRows)
    // The analysis's notes of what to perturb are by offsets in the statement's text, which
    // the definition's offsets would meet by chance.
    (policy, cellKeyRules, restrictedRows) = (nil, [:], nil)
    viewsComputing.append(name)
    defer {
      viewsComputing.removeLast()
      (policy, cellKeyRules, restrictedRows) = saved
    }
    var r: QueryResult
    do {
      r = try execute(q, ctes: [:], asOf: seq)
    } catch {
      if error.kind == .interrupted || error.kind == .limit { throw error }
      var place = ""
      if let offset = error.offset {
        let (line, column) = Self.lineAndColumn(sql, offset)
        place = " (line \(line), column \(column) of its definition)"
      }
      throw SQLError(error.kind, "view \(name): \(error.message)\(place)", at: at)
    }
    r = Self.asStored(r)
    note(
      "VIEW \(name) as of seq \(seq == .max ? "now" : String(seq)): its definition over the"
        + " tables as of then, \(r.rows.count) rows")
    viewsComputedAsOf.insert(name)
    viewsAsOf[key] = r
    return r
  }

  /// `r` with its columns as a view's build stores them (`ViewStore`): an INTERVAL as its
  /// text, a column of bare NULLs as VARCHAR; so the view as of now is its copy.
  static func asStored(_ r: QueryResult) -> QueryResult {
    var r = r
    for c in r.types.indices where r.types[c] == .interval || r.types[c] == .null {
      var v = Vector(type: .varchar)
      v.reserve(r.rows.count)
      for i in 0..<r.rows.count {
        let x = r.rows.columns[c].value(i)
        v.append(x.isNull ? .null : .text(Cast.text(x)))
      }
      r.types[c] = .varchar
      r.rows.columns[c] = v
    }
    return r
  }

  /// The line and column (1-based, in characters) of byte `offset` in `text`.
  static func lineAndColumn(_ text: String, _ offset: Int) -> (line: Int, column: Int) {
    let bytes = Array(text.utf8)
    let at = min(max(offset, 0), bytes.count)
    var start = at
    while start > 0 && bytes[start - 1] != 0x0A { start -= 1 }
    let line = bytes[..<start].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
    return (line, String(decoding: bytes[start..<at], as: UTF8.self).count + 1)
  }
}
