import Domain
import EventLog
import Foundation

/// A mistake in how hoso was called: exit status 1.
struct UsageError: Error {
  var message: String
  init(_ message: String) { self.message = message }
}

/// The options every command takes, from flags, then the environment, then defaults
/// (DESIGN.md, "The CLI").
struct GlobalOptions {
  var store: String
  /// Whether `store` is the default, `./events`, neither `--store` nor `$HOSO_STORE` having
  /// named one: only there may the bare `hoso` make the demo store, so that a mistyped path
  /// is an error and not a new store.
  var storeIsDefault = false
  /// The folder of the view and report definitions (`queriesFolder`).
  var queries: String
  /// When no folder was named and none found: the folders looked in (`queries` is then the
  /// first, which is not there). Empty when `queries` is a folder.
  var queriesSearched: [String] = []
  var role: String
  var key: String?
  /// The analyst role's threshold: counts of persons from 1 to `minCell - 1` are suppressed.
  var minCell: Int = 5
}

/// The arguments after the command, with helpers to take flags and values from them.
struct Arguments {
  var rest: [String]

  /// Takes `--name VALUE` or `--name=VALUE`.
  mutating func value(_ name: String) throws -> String? {
    for (i, a) in rest.enumerated() {
      if a == name {
        guard i + 1 < rest.count else { throw UsageError("\(name) needs a value") }
        let v = rest[i + 1]
        rest.removeSubrange(i...(i + 1))
        return v
      }
      if a.hasPrefix(name + "=") {
        rest.remove(at: i)
        return String(a.dropFirst(name.count + 1))
      }
    }
    return nil
  }

  mutating func flag(_ name: String) -> Bool {
    guard let i = rest.firstIndex(of: name) else { return false }
    rest.remove(at: i)
    return true
  }

  /// Whether `a` looks like an option (`--name` or `--name=value`), not a value that starts
  /// with two dashes (a SQL statement opening with a `-- comment`).
  static func isOption(_ a: String) -> Bool {
    a.hasPrefix("--") && a.count > 2
      && !a.contains(where: { $0 == " " || $0 == "\n" || $0 == "\t" })
  }

  /// The remaining positional arguments; any leftover flag is an error.
  func positional(max: Int, command: String) throws -> [String] {
    if let f = rest.first(where: Self.isOption) {
      throw UsageError("unknown option \(f) for \(command); see hoso help")
    }
    guard rest.count <= max else {
      throw UsageError("too many arguments for \(command): \(rest.joined(separator: " "))")
    }
    return rest
  }
}

extension CommandLine {
  static let commands = [
    "init", "append", "verify", "dump", "generate", "demo", "audit", "query", "export", "views",
    "status",
    "rebuild", "report", "shell", "person", "access", "forget", "help",
  ]

  /// Runs hoso with `args`; returns the exit status.
  static func run(_ args: [String]) -> Int32 {
    do {
      // `--help` or `-h` anywhere asks for the usage, before anything touches the disk.
      if args.contains(where: { $0 == "--help" || $0 == "-h" }) { return help() }
      var a = Arguments(rest: args)
      // getenv, not ProcessInfo's environment: its dictionary costs a tenth of a millisecond.
      let env = Environment()
      let storeGiven = try a.value("--store") ?? env["HOSO_STORE"]
      let queries = try GlobalOptions.queriesFolder(
        flag: a.value("--queries"), environment: env["HOSO_QUERIES"])
      var global = GlobalOptions(
        store: storeGiven ?? "./events", storeIsDefault: storeGiven == nil,
        queries: queries.path, queriesSearched: queries.searched,
        role: try a.value("--role") ?? env["HOSO_ROLE"] ?? "analyst",
        key: try a.value("--key") ?? env["HOSO_KEY"])
      guard ["analyst", "auditor"].contains(global.role) else {
        throw UsageError("--role is analyst or auditor, not \(global.role)")
      }
      if let text = try a.value("--min-cell") ?? env["HOSO_MIN_CELL"] {
        // The threshold protects the persons counted: it may be raised, never lowered.
        guard let n = Int(text), n >= 5, n <= 1_000_000 else {
          throw UsageError(
            "--min-cell is a count from 5 up (5 by default; 11 for CMS's rule), not \(text)")
        }
        global.minCell = n
      }
      // A first word with one dash is the shell's flag (`hoso -csv`, as `duckdb -csv`).
      var command = a.rest.first(where: { !Arguments.isOption($0) })
      if command?.hasPrefix("-") ?? false { command = nil }
      if let command, let i = a.rest.firstIndex(of: command) { a.rest.remove(at: i) }
      switch command {
      case nil: return try openShell(global, &a)
      case "status": return try describe(global, &a)
      case "init": return try initStore(global, &a)
      case "append": return try append(global, &a)
      case "verify": return try verify(global, &a)
      case "dump": return try dump(global, &a)
      case "generate": return try generate(global, &a)
      case "demo": return try demo(global, &a)
      case "audit": return try audit(global, &a)
      case "query": return try query(global, &a)
      case "export": return try export(global, &a)
      case "views": return try views(global, &a)
      case "rebuild": return try rebuild(global, &a)
      case "report": return try report(global, &a)
      case "shell": return try shell(global, &a)
      case "person": return try person(global, &a)
      case "access": return try accessLog(global, &a)
      case "forget": return try forget(global, &a)
      case "help": return help()
      case let other?:
        let hint = Catalog.nearest(other, in: commands).map { "; did you mean \($0)?" } ?? ""
        throw UsageError("unknown command \"\(other)\"\(hint) (see hoso help)")
      }
    } catch let e as UsageError {
      return fail(e.message, status: 1)
    } catch let e as InputError {
      if let failure = e.storeFailure { return fail(failure.description, status: 2) }
      return fail(e.rendered(file: "input"), status: 1)
    } catch let e as LogError {
      return fail(e.description, status: e.kind == .invalidArgument ? 1 : 2)
    } catch {
      return fail("\(error)", status: 2)
    }
  }

  static func fail(_ message: String, status: Int32) -> Int32 {
    Console.error("hoso: \(message)\n")
    return status
  }

  static func note(_ message: String) {
    Console.error("hoso: \(message)\n")
  }

  static func help() -> Int32 {
    print(
      """
      usage: hoso [--store DIR] [--queries DIR] [--role analyst|auditor] [--key FILE]
                  [--min-cell N] COMMAND

        (none)                        the shell over the store (hoso shell); with no
                                      store at ./events yet, it first makes the demo
                                      store there
        status                        what the store holds: events, segments, times,
                                      tables
        init [--segment-size BYTES]   create an empty store
        append [--pseudonymize] [--sync batch|none] FILE|-
                                      validate NDJSON events, then append them atomically
        verify                        check every frame, the hash chain and the indexes
        dump [--from SEQ] [--to SEQ] [--since TIME]
                                      print committed records as NDJSON
        generate --seed N --count N [--from YEAR] [--to YEAR]
                                      synthetic events (with the committed plans and
                                      units) as NDJSON on stdout, sorted by recorded_at
        demo [--scale small|national] [--seed N] [--count N]
                                      a new store: committed and generated events
        audit CASE [--as-of TIME] [--format table|json] [--timing]
                                      every event of a case, corrections beside them
        query SQL [--format table|csv|json|markdown] [--timing]
                                      one or more SQL statements over the tables
        export --format csv|ndjson --out DIR
                                      every table, one file each, and schema.sql
        views                         the views of queries/views: fresh or stale, rows
        rebuild [--dry-run] [VIEW...]
                                      recompute stale (or the named) views, and say
                                      what changed against the old copies
        shell [-c SQL] [-f FILE] [-csv|-json|-markdown] [-bail]
                                      statements and dot commands (.help); from a
                                      pipe or a file: no prompt, stop at an error
        report NAME [--year Y] [--as-of TIME] [--format table|csv|json|markdown]
                                      a report of queries/reports, as known at its
                                      deadline (six_month, annual, plan_indicators,
                                      trend, budget_bac_kan_2011_2015)
        person RAW_ID                 the pseudonym of a raw identifier (auditor; needs
                                      the key)
        forget PERSON --reason TEXT   erase a pseudonym from every file of the store, for
                                      a data subject's deletion request (auditor)
        access [--since TIME]         the access log: who read what, when (auditor)

      The store is --store, else $HOSO_STORE, else ./events. With no store at ./events
      yet, `hoso` alone first makes the demo store there (demo --scale small); any other
      command, or a store named by --store or $HOSO_STORE, needs a store made by init or
      demo, and creates nothing.
      Views and reports are read from --queries, else $HOSO_QUERIES, else ./queries, else
      the queries folder of the source tree hoso was built from.
      Roles: analyst (the default, $HOSO_ROLE) sees aggregates, with counts of persons
      under --min-cell (5) shown as <5; auditor (who holds the key) sees person-level rows
      and runs audit, dump, person, forget and access. Every read is in access.log.
      Exit status: 0 success, 1 bad usage or input (nothing changed), 2 store damaged,
      locked or missing.
      """)
    return 0
  }
}

/// The process's environment variables, read one at a time by `getenv`.
struct Environment {
  subscript(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
}
