import Domain
import EventLog
import Foundation
import Query
import Warehouse

#if canImport(Glibc)
  import Glibc
#endif

/// Roles, the access log, `person` and the store's permissions (DESIGN.md, "Privacy and
/// access").
extension CommandLine {
  /// An engine for `store` under the caller's role: the analyst's rules (aggregates only,
  /// small counts suppressed) unless the role is auditor.
  static func engine(_ g: GlobalOptions, _ store: Store) throws -> Engine {
    if g.role == "auditor" { try requireAuditor(g, store, for: "reading as the auditor") }
    let e = try Engine(store: store.path)
    configure(e, g)
    return e
  }

  static func configure(_ e: Engine, _ g: GlobalOptions) {
    e.policy = g.role == "auditor" ? nil : PrivacyPolicy(minCell: g.minCell)
  }

  /// Refuses a command the analyst role may not run. The auditor role is the one that holds
  /// the pseudonym key: claiming it without being able to read the key is refused too.
  static func requireAuditor(_ g: GlobalOptions, _ store: Store, for what: String) throws {
    guard g.role == "auditor" else {
      throw UsageError(
        "\(what) shows person-level data: it needs --role auditor (DESIGN.md, Privacy and"
          + " access); the analyst role sees aggregates")
    }
    let key: [UInt8]
    do {
      key = try store.loadKey(override: g.key)
    } catch let e as LogError {
      throw UsageError(
        "the auditor role is the one that holds the pseudonym key, and it cannot be read: "
          + e.message)
    }
    guard store.accepts(key: key) else {
      throw UsageError(
        "the auditor role is the one that holds the pseudonym key, and \(g.key ?? store.keyPath)"
          + " is not this store's key")
    }
  }

  /// Appends the access to `<store>/access.log` (`Warehouse.recordAccess`); a command whose
  /// access cannot be recorded shows nothing.
  static func recordAccess(
    _ g: GlobalOptions, _ store: Store, _ command: String, _ statement: String, rows: Int?
  ) throws {
    try warehouse(store).recordAccess(
      role: g.role, command: command, statement: statement, rows: rows)
  }

  /// `recordAccess` for an answer shown while its record is synced: the caller waits for
  /// the sync before it returns.
  static func recordAccessSyncing(
    _ g: GlobalOptions, _ store: Store, _ command: String, _ statement: String, rows: Int?
  ) throws -> AccessLog.Sync {
    try warehouse(store).recordAccessSyncing(
      role: g.role, command: command, statement: statement, rows: rows)
  }

  /// Prints the note that cells were suppressed: below a table, or on stderr beside CSV and
  /// JSON, which stay data.
  static func noteSuppression(_ results: [QueryResult], format: Output.Format) {
    for r in results {
      guard let line = r.suppressionNote else { continue }
      if format == .table || format == .markdown {
        try? Console.out("(\(line))\n")
      } else {
        note(line)
      }
    }
  }

  /// `hoso person RAW_ID`: the pseudonym of a raw identifier (auditor, with the key), for a
  /// case worker who must find a person's history. The raw identifier is not recorded.
  static func person(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let rest = try a.positional(max: 1, command: "person")
    guard let raw = rest.first, !raw.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw UsageError("person needs the raw identifier (an ID card number) to look up")
    }
    let store = try Store.open(at: g.store)
    try requireAuditor(g, store, for: "person")
    let key = try store.loadKey(override: g.key)
    let pseudonym = Pseudonymizer(key: key).pseudonym(of: Array(raw.utf8))
    try recordAccess(g, store, "person", "person <raw identifier withheld> → \(pseudonym)", rows: 1)
    print(pseudonym)
    return 0
  }

  /// `hoso access [--since T]`: the access log, checked (auditor).
  static func accessLog(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let sinceText = try a.value("--since")
    _ = try a.positional(max: 0, command: "access")
    var since: String?
    if let sinceText {
      guard let t = parseAsOf(sinceText) else {
        throw UsageError(
          "--since takes a time such as 2026-12-01, 2026-12-01 08:00 (Vietnam time) or"
            + " 2026-12-01T08:00:00+07:00, not \(sinceText)")
      }
      // A bare date is from the start of that day (parseAsOf gives its end, for --as-of).
      let start = sinceText.contains(" ") || sinceText.contains("T") ? t : t - 86_399_999_999
      since = AccessLog.timestamp(Date(timeIntervalSince1970: Double(start) / 1e6))
    }
    let store = try Store.open(at: g.store)
    try requireAuditor(g, store, for: "access")
    let entries = try AccessLog.read(store: store.path).filter { since == nil || $0.at >= since! }
    try recordAccess(
      g, store, "access", "access" + (sinceText.map { " --since \($0)" } ?? ""),
      rows: entries.count)
    for e in entries {
      let rows = e.rows.map { "\($0) rows" } ?? "-"
      print("\(e.number)\t\(e.at)\t\(e.user)\t\(e.role)\t\(e.command)\t\(rows)\t\(e.statement)")
    }
    return 0
  }

  /// Files and folders of the store readable or writable by others than its owner, each with
  /// its mode (DESIGN.md: the store 0700, its files 0600).
  static func looserPermissions(_ root: String) -> [String] {
    var out: [String] = []
    func check(_ path: String) {
      var st = stat()
      guard lstat(path, &st) == 0 else { return }
      if st.st_mode & 0o077 != 0 {
        out.append("\(path) (\(String(st.st_mode & 0o777, radix: 8)))")
      }
    }
    check(root)
    let e = FileManager.default.enumerator(atPath: root)
    while let rel = e?.nextObject() as? String { check(root + "/" + rel) }
    return out
  }

  /// One warning line for `init` and `verify` when the store (or the key) is open to others.
  static func permissionWarning(_ root: String, what: String = "the store") -> String? {
    let loose = looserPermissions(root)
    guard let first = loose.first else { return nil }
    let n = loose.count == 1 ? "1 file or folder" : "\(loose.count) files or folders"
    return
      "warning: \(n) of \(what) can be read or written by others than its owner (first:"
      + " \(first)); it guards sensitive personal data: run chmod -R go-rwx \(root)"
  }
}
