import Domain
import Foundation
import Projections
import Query
import Views

extension CommandLine {
  /// The views of `--queries` (`queries/views/*.sql`).
  static func viewCatalog(_ g: GlobalOptions) -> ViewCatalog {
    ViewCatalog.load(
      folder: g.queries + "/views", builtin: Set(BuiltinTables.all.map(\.name)))
  }

  /// `hoso views`: every view, fresh or stale (and why), its checkpoint, rows, size and last
  /// build; a view whose file has a problem says where.
  static func views(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    _ = try a.positional(max: 0, command: "views")
    let store = try Store.open(at: g.store)
    try projectIfFree(store)
    let catalog = viewCatalog(g)
    let statuses = ViewStore.status(store: store.path, catalog: catalog)
    if statuses.isEmpty {
      print(g.noDefinitions("views", add: "SELECT statements as NAME.sql"))
      return 0
    }
    let formatter = DateFormatter()
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    formatter.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")
    var rows: [[String]] = [["view", "status", "checkpoint", "rows", "size", "built"]]
    for s in statuses {
      if case .problem(let p) = s.state {
        rows.append([s.name, "error", "", "", "", ""])
        note(p)
        continue
      }
      rows.append([
        s.name, s.state.text, s.checkpoint.map { String($0) } ?? "",
        s.rows.map { String($0) } ?? "", s.bytes > 0 ? size(s.bytes) : "",
        s.built.map { formatter.string(from: $0) } ?? "",
      ])
    }
    let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
    for r in rows {
      print(
        zip(r, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(
          separator: "  "
        ).trimmingCharacters(in: .whitespaces))
    }
    // Which definitions these are: found by a search (`--queries`, `$HOSO_QUERIES`,
    // `./queries`, the source tree), so the folder is said, not assumed.
    print("\n(the views of \(g.queries)/views)")
    return statuses.contains { if case .problem = $0.state { true } else { false } } ? 1 : 0
  }

  static func size(_ bytes: Int) -> String {
    bytes >= 1 << 20
      ? String(format: "%.1f MB", Double(bytes) / 1e6)
      : String(format: "%.1f kB", Double(bytes) / 1e3)
  }

  /// `hoso rebuild [--dry-run] [VIEW…]`: the stale views (or the named ones), in dependency
  /// order, each into a new copy swapped in whole; what the rebuild changed against the old
  /// copy. `--dry-run` shows that and keeps the old copies.
  static func rebuild(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let dryRun = a.flag("--dry-run")
    let names = try a.positional(max: 1000, command: "rebuild")
    let store = try Store.open(at: g.store)
    try projectIfFree(store)
    let catalog = viewCatalog(g)
    let plan: [ViewDefinition]
    do {
      // Under the lock: what a killed rebuild left is put right before the views are judged.
      plan = try ViewStore.withLock(store: store.path) {
        try ViewStore.plan(store: store.path, catalog: catalog, names: names)
      }
    } catch let e as ViewProblem {
      throw UsageError(e.description)
    } catch let e as ViewError {
      throw UsageError(e.description)
    }
    for p in catalog.problems where names.isEmpty || names.contains(p.view) {
      note(p.description)
    }
    if plan.isEmpty {
      // With no views at all, "fresh" would hide that the folder is not the one meant.
      let none = catalog.definitions.isEmpty && catalog.problems.isEmpty
      print(
        none
          ? g.noDefinitions("views", add: "SELECT statements as NAME.sql") : "every view is fresh")
      return catalog.problems.isEmpty ? 0 : 1
    }
    // An analyst builds only views that the analyst's rules allow as statements: a view is
    // read with the rules of its definition, and building one prints its rows' count. Each is
    // checked when the views it reads are built.
    let analyst = g.role != "auditor"
    let checker = analyst ? try engine(g, store) : nil
    func check(_ d: ViewDefinition) throws {
      guard let checker else { return }
      do {
        guard case .select(let q)? = try Parser.parse(d.sql).first else { return }
        _ = try checker.privacyShape(q)
      } catch {
        let (line, column) = ViewProblem.at(d.sql, error.offset ?? 0)
        throw UsageError("\(d.path):\(line):\(column): \(error.kind.rawValue): \(error.message)")
      }
    }
    try recordAccess(
      g, store, "rebuild", "rebuild " + plan.map(\.name).joined(separator: " "), rows: nil)
    var failed = false
    // On a terminal, a bar over the views (each one's line printed when it is done).
    let bar = isatty(2) == 1 ? Progress(title: "rebuilding") : nil
    func clearBar() { bar?.clear() }
    try ViewStore.withLock(store: store.path) {
      // A dry run's new copies, read by the views over them, then removed.
      var copies: [String: String] = [:]
      defer { ViewStore.discard(copies.values) }
      for (i, d) in plan.enumerated() {
        bar?.update(i, of: plan.count, label: d.name)
        try check(d)
        do {
          let r = try ViewStore.build(
            d, hash: catalog.hashes[d.name]!, store: store.path, dryRun: dryRun,
            newCopies: copies)
          copies[d.name] = r.copy
          clearBar()
          var line =
            "\(dryRun ? "would rebuild" : "rebuilt") \(r.name): \(r.rows) rows"
            + String(format: " in %.2f s", r.seconds)
          if let added = r.added, let removed = r.removed, let changed = r.changed {
            line += "; against the old copy: \(added) added, \(removed) removed, \(changed) changed"
          } else {
            line += " (first build)"
          }
          print(line)
          // Rows of a view are shown to the auditor only: a view may hold person-level data.
          if g.role == "auditor" {
            for e in r.examples { print("  " + e) }
          } else if !r.examples.isEmpty {
            print("  (examples of the rows that changed: --role auditor)")
          }
        } catch let e as ViewProblem {
          clearBar()
          // Its message may quote a value of the data: the analyst learns where, not what.
          note(
            analyst
              ? "\(e.file):\(e.line):\(e.column): the view could not be built (an error about a"
                + " value in the data; the auditor role sees which)" : e.description)
          failed = true
        } catch {
          clearBar()
          throw error
        }
      }
    }
    return failed ? 1 : 0
  }

  /// After a query: a warning for each stale view it read (the answer came from the old copy).
  static func warnStaleViews(_ g: GlobalOptions, _ store: Store, _ engine: Engine) {
    guard !engine.viewsRead.isEmpty || !engine.viewsComputedAsOf.isEmpty else { return }
    let catalog = viewCatalog(g)
    for s in ViewStore.status(store: store.path, catalog: catalog) {
      if engine.viewsRead.contains(s.name) && !s.state.isFresh {
        note(
          "warning: view \(s.name) is \(s.state.text); this answer is from its last build"
            + " (hoso rebuild \(s.name) brings it up to date)")
      } else if engine.viewsComputedAsOf.contains(s.name) && s.state == .definitionChanged {
        // As of a time it is computed from the tables, but by the definition it was built with.
        note(
          "warning: view \(s.name) is \(s.state.text); this answer computes it by the"
            + " definition of its last build (hoso rebuild \(s.name) brings in the new one)")
      }
    }
  }
}
