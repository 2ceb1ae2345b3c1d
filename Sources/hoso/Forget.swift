import Domain
import EventLog
import Foundation
import Projections
import Query
import Views
import Warehouse

extension CommandLine {
  /// `hoso forget PERSON --reason TEXT` (auditor): a data subject's deletion request carried
  /// out. A `person.forgotten` event goes into the log; then the pseudonym is masked, in every
  /// record and access record that holds it, by `forgotten-NNNNNNNN` (as long as a pseudonym,
  /// one number per person forgotten, so counts of distinct persons stay what they were); the
  /// log's chain and the access log's are re-sealed and the redaction recorded; the row groups
  /// of the tables and views that held it are masked alike. The aggregate facts stay (a
  /// support was given); nothing in the store links them to the person any more.
  static func forget(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    let reason = try a.value("--reason")
    let rest = try a.positional(max: 1, command: "forget")
    guard let person = rest.first else {
      throw UsageError("forget needs the pseudonym of the person to forget, and --reason TEXT")
    }
    // Whatever was given is not echoed: it might be a raw identifier.
    guard Pseudonymizer.isPseudonym(Array(person.utf8)) else {
      throw UsageError(
        "forget takes a pseudonym (P- and 16 hex digits); hoso person RAW_ID gives a person's")
    }
    guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw UsageError(
        "forget needs --reason TEXT: the request it carries out (a date, a reference)")
    }
    guard !reason.contains(person) else {
      throw UsageError("the reason may not name the pseudonym: it is kept after it is gone")
    }
    let store = try Store.open(at: g.store)
    try requireAuditor(g, store, for: "forget")
    try projectIfFree(store)
    let auditor = try Engine(store: store.path)
    let held: Int
    do {
      let r = try auditor.run("SELECT count(*) FROM events_raw WHERE person = '\(person)'")
      guard case .int(let n) = r[0].rows.columns[0].value(0) else { return 2 }
      held = Int(n)
    } catch {
      throw UsageError("cannot read the tables: \(error.message)")
    }
    guard held > 0 else {
      throw UsageError("no event carries \(person); there is nothing to forget")
    }
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
    let done = try warehouse(store).forget(
      person: person, reason: reason, user: AccessLog.currentUser(), role: g.role,
      views: viewCatalog(g), now: now)
    let seqs = done.redaction?.seqs.count ?? 0
    try recordAccess(g, store, "forget", "forget \(done.mask) --reason \(reason)", rows: seqs)
    let seconds = done.seconds.map { $0.0 + String(format: " %.2f s", $0.1) }
    print(
      "forgot \(person) as \(done.mask): \(seqs) records masked in the log"
        + " (\(done.occurrences) occurrences), \(done.accessRecords) in the access log;"
        + " \(done.groups) row groups masked in \(done.tables) tables and views"
        + " (\(seconds.joined(separator: ", ")))")
    if let redaction = done.redaction { print(redaction.description) }
    note(
      "copies outside the store are not reached: earlier exports, backups, and shell"
        + " histories (~/.hoso_history) may still hold the pseudonym")
    return 0
  }
}
