import Domain
import EventLog
import Foundation
import Projections
import Query
import Views

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
    let earlier = try LogRedactor.recorded(logPath: store.logPath).count
    let mask = "forgotten-" + String(format: "%08d", earlier + 1)
    let now = Int64(Date().timeIntervalSince1970 * 1_000_000)

    // 1. The request, as an event of the log (its pseudonym is masked with the others).
    let event =
      "{\"id\":\"\(mask)-\(now / 1_000_000)\",\"type\":\"person.forgotten\",\"occurred_at\":"
      + "\"\(Timestamp.format(now))\",\"unit\":\"VN\",\"data\":{\"person\":\"\(person)\","
      + "\"reason\":\(Output.jsonString(reason))}}\n"
    var options = Appender.Options()
    options.onNote = { note($0) }
    do {
      _ = try Array(event.utf8).withUnsafeBytes {
        try Appender.append(to: store, input: $0, options: options)
      }
    } catch let e as InputError {
      if let failure = e.storeFailure { throw failure }
      throw UsageError(e.rendered(file: "--reason") + "; nothing was forgotten")
    }

    // Until the tables and views are masked as the log is, they hold the pseudonym: a
    // crash before then is finished by the next command that catches the tables up.
    try FileSystem.system.writeAtomically(
      Array("hoso-forgetting \(mask)\n".utf8), to: forgetMarker(store), directory: store.path)
    // 2. The access log (first: a crash before the log's redaction leaves the log as it was,
    // and forget, run again, finds the person and the same mask).
    let accessRecords = try AccessLog.redact(
      store: store.path, pattern: person, mask: mask, user: AccessLog.currentUser(),
      role: g.role)
    // 3. The log: masked in place, re-sealed, recorded.
    var phase = Date()
    var seconds: [String] = []
    func lap(_ name: String) {
      seconds.append(name + String(format: " %.2f s", Date().timeIntervalSince(phase)))
      phase = Date()
    }
    let report = try LogRedactor.redact(
      logPath: store.logPath, pattern: Array(person.utf8), mask: Array(mask.utf8),
      reason: reason, at: now)
    lap("log")
    // For the crash test of forget: the process ends here, as a crash would end it.
    if ProcessInfo.processInfo.environment["HOSO_TEST_FORGET_STOP"] == "after-log" { _exit(9) }
    // 4. The tables and views: the row groups that hold it, masked as the log is (what a
    // rebuild from the masked log would give, for a few groups' writing).
    let masked = try ViewStore.withLock(store: store.path) {
      let writer = try LogWriter.open(at: store.logPath)
      defer { try? writer.close() }
      return try Projection.redact(
        store: store.path, pattern: Array(person.utf8), mask: Array(mask.utf8), tag: mask)
    }
    lap("tables")
    try FileManager.default.removeItem(atPath: forgetMarker(store))
    // 5. The request's event into the tables and the views, as an append brings them.
    try project(store)
    let catalog = viewCatalog(g)
    if !catalog.definitions.isEmpty {
      _ = try ViewStore.withLock(store: store.path) {
        try ViewStore.refreshAll(store: store.path, catalog: catalog, sync: true)
      }
    }
    lap("views")
    // 6. No file of the store may hold it any more.
    if let file = firstFile(under: store.path, holding: Array(person.utf8)) {
      throw LogError(.damaged, "\(file) still holds the pseudonym after the redaction")
    }
    lap("check")
    try recordAccess(
      g, store, "forget", "forget \(mask) --reason \(reason)", rows: report.redaction.seqs.count)
    print(
      "forgot \(person) as \(mask): \(report.redaction.seqs.count) records masked in the log"
        + " (\(report.occurrences) occurrences), \(accessRecords) in the access log;"
        + " \(masked.groups) row groups masked in \(masked.tables) tables and views"
        + " (\(seconds.joined(separator: ", ")))")
    print(report.redaction.description)
    note(
      "copies outside the store are not reached: earlier exports, backups, and shell"
        + " histories (~/.hoso_history) may still hold the pseudonym")
    return 0
  }

  /// The first file under `root` whose bytes hold `pattern`, or nil.
  static func firstFile(under root: String, holding pattern: [UInt8]) -> String? {
    guard let e = FileManager.default.enumerator(atPath: root) else { return nil }
    while let rel = e.nextObject() as? String {
      let path = root + "/" + rel
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        !isDirectory.boolValue, let mapped = try? MappedFile(path)
      else { continue }
      let found = mapped.withBytes { firstOffset(of: pattern, in: $0) != nil }
      if found { return path }
    }
    return nil
  }
}
