import Domain
import EventLog
import Foundation
import Projections
import Query
import Views

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `forget`: a data subject's deletion request, all or nothing.
///
/// The request is first written down, synced, as `FORGETTING` (the intent: the pseudonym, its
/// mask, the reason and the time). Before that nothing has changed: a crash leaves the person
/// fully present and the forget not acknowledged. From then on every step is one that can run
/// again and end the same way, and whichever command opens the store next runs them all
/// (`finishInterruptedForget`) before it reads anything, so a crash anywhere leaves the person
/// absent everywhere once that command has finished. The intent is removed only after no file
/// of the store holds the pseudonym; it is the one file that holds it meanwhile (it must: the
/// tables and the access log are masked by finding it), and it is the owner's only (0600).
///
/// The steps: the `person.forgotten` event appended, naming the mask, never the pseudonym
/// (an id fixed by the intent, so running it again finds a duplicate); the access log masked
/// and re-sealed; the log masked in place and re-sealed (`LogRedactor`, itself resumable); the
/// row groups of the tables and views masked; the tables caught up with the event, the views
/// refreshed; every file checked.
extension Warehouse {
  /// A forget under way, as `FORGETTING` holds it.
  package struct ForgetIntent: Sendable, Equatable {
    package var person: String
    package var mask: String
    package var reason: String
    /// When, in microseconds since 1970 (the event's occurred_at and the redaction's time).
    package var time: Int64
    package var user: String
    package var role: String
    /// The unit its event names: none, a forget being the store's act and not a
    /// jurisdiction's (a store of one province's data has no unit `VN`); `VN` for the intent
    /// of an older hoso (`hoso-forgetting 2`), whose event named it and may be in the log
    /// already, where only the same event again is a duplicate and not a conflict.
    package var unit: String? = nil

    package func encode() -> [UInt8] {
      let text =
        "hoso-forgetting \(unit == nil ? 3 : 2)\nmask \(mask)\nperson \(person)\ntime \(time)\n"
        + "user \(hex(Array(user.utf8)))\nrole \(role)\nreason \(hex(Array(reason.utf8)))\n"
      return Array(text.utf8)
    }

    package static func decode(_ bytes: [UInt8]) -> ForgetIntent? {
      let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
      guard lines.first == "hoso-forgetting 3" || lines.first == "hoso-forgetting 2" else {
        return nil
      }
      var fields: [String: String] = [:]
      for line in lines.dropFirst() {
        guard let space = line.firstIndex(of: " ") else { return nil }
        fields[String(line[..<space])] = String(line[line.index(after: space)...])
      }
      guard let mask = fields["mask"], let person = fields["person"],
        let time = fields["time"].flatMap({ Int64($0) }),
        let user = fields["user"].flatMap(unhex), let role = fields["role"],
        let reason = fields["reason"].flatMap(unhex),
        person.utf8.count == mask.utf8.count
      else { return nil }
      return ForgetIntent(
        person: person, mask: mask, reason: String(decoding: reason, as: UTF8.self), time: time,
        user: String(decoding: user, as: UTF8.self), role: role,
        unit: lines.first == "hoso-forgetting 2" ? "VN" : nil)
    }

    /// The event that records the request in the log: the mask stands for the person.
    var event: String {
      "{\"id\":\"\(mask)-\(time / 1_000_000)\",\"type\":\"person.forgotten\",\"occurred_at\":"
        + "\"\(Timestamp.format(time))\"" + (unit.map { ",\"unit\":\"\($0)\"" } ?? "")
        + ",\"data\":{\"person\":\"\(mask)\",\"reason\":\(Output.jsonString(reason))}}\n"
    }
  }

  /// What a forget did.
  package struct Forgotten {
    package var mask: String
    package var redaction: LogRedactor.Redaction?
    package var occurrences = 0
    package var accessRecords = 0
    package var tables = 0
    package var groups = 0
    package var seconds: [(String, Double)] = []
  }

  /// `FORGETTING`: the intent of a forget under way.
  package var forgetIntentPath: String { store.path + "/FORGETTING" }

  /// Whether a forget is under way, or its intent was cut short while it was written.
  var isForgetting: Bool {
    access(forgetIntentPath, F_OK) == 0 || access(forgetIntentPath + ".tmp", F_OK) == 0
  }

  /// The next mask: one number per person forgotten, as long as a pseudonym, so counts of
  /// distinct persons stay what they were.
  package func nextMask() throws -> String {
    let earlier = try LogRedactor.recorded(logPath: store.logPath).count
    let n = String(earlier + 1)
    return "forgotten-" + String(repeating: "0", count: max(0, 8 - n.count)) + n
  }

  /// Forgets `person`: writes the intent, then carries it out. The caller has checked the role,
  /// that the pseudonym is one and that some event holds it.
  package func forget(
    person: String, reason: String, user: String, role: String, views: ViewCatalog?,
    now: Int64
  ) throws -> Forgotten {
    try finishInterruptedForget()
    // Under the writer's lock: the mask is the next one, and no other forget is under way
    // (whose intent this would replace), nor a command taking a half-written intent for a
    // crashed one.
    let intent: ForgetIntent
    do {
      let writer = try LogWriter.open(at: store.logPath)
      defer { try? writer.close() }
      guard !isForgetting else {
        throw LogError(
          .locked, "another forget is under way; run the command again once it has finished")
      }
      intent = ForgetIntent(
        person: person, mask: try nextMask(), reason: reason, time: now, user: user, role: role)
      try FileSystem.system.writeAtomically(
        intent.encode(), to: forgetIntentPath, directory: store.path)
    }
    return try carryOut(intent, views: views)
  }

  /// Finishes a forget that a crash interrupted, if `FORGETTING` is there.
  @discardableResult
  package func finishInterruptedForget(views: ViewCatalog? = nil) throws -> Forgotten? {
    guard let bytes = try FileSystem.system.readFile(forgetIntentPath) else {
      // An intent whose writing a crash cut short: the forget never began, and its request
      // leaves no trace.
      let partial = forgetIntentPath + ".tmp"
      if access(partial, F_OK) == 0 {
        let writer = try LogWriter.open(at: store.logPath)
        defer { try? writer.close() }
        if access(forgetIntentPath, F_OK) != 0 {
          try FileSystem.system.removeTree(partial)
          try FileSystem.system.syncDirectory(store.path)
        }
      }
      return nil
    }
    guard let intent = ForgetIntent.decode(bytes) else {
      // An older hoso wrote `hoso-forgetting MASK` once it had appended the request's event
      // (which names the person), before it masked anything.
      let text = String(decoding: bytes, as: UTF8.self)
      if text.hasPrefix("hoso-forgetting forgotten-"),
        let mask = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().first
      {
        let done = try finishOlderForget(mask: String(mask), views: views)
        onNote(
          "an interrupted forget was finished: \(mask) masked in the log, the access log, the"
            + " tables and the views")
        return done
      }
      throw LogError(
        .damaged,
        "\(forgetIntentPath), the record of a forget under way, is damaged; the forget cannot"
          + " be finished: restore the store from a backup")
    }
    let done = try carryOut(intent, views: views)
    onNote(
      "an interrupted forget was finished: \(intent.mask) masked in the log, the access log,"
        + " the tables and the views")
    return done
  }

  /// A forget of an older hoso cut short: its intent held only the mask, and the request's
  /// event (id `MASK-…`) the person and the reason. Carried out as a forget of now is, but
  /// for the event, which is there already.
  private func finishOlderForget(mask: String, views: ViewCatalog?) throws -> Forgotten {
    let prefix = Array("{\"id\":\"\(mask)-".utf8)
    var found: [UInt8]?
    try LogReader(at: store.logPath).readRecords { r in
      if r.payload.starts(with: prefix) { found = Array(r.payload) }
    }
    guard let event = found,
      let object = try? JSONSerialization.jsonObject(with: Data(event)) as? [String: Any],
      let data = object["data"] as? [String: Any], let person = data["person"] as? String,
      let reason = data["reason"] as? String, let id = object["id"] as? String,
      let seconds = Int64(id.dropFirst(mask.count + 1)), person.utf8.count == mask.utf8.count
    else {
      throw LogError(
        .damaged,
        "\(forgetIntentPath) names \(mask), but the log holds no request of that forget to finish"
          + " it from; restore the store from a backup")
    }
    let intent = ForgetIntent(
      person: person, mask: mask, reason: reason, time: seconds * 1_000_000,
      user: AccessLog.currentUser(), role: "auditor")
    return try carryOut(intent, views: views, appendEvent: false, ownIntent: nil)
  }

  /// Every step of the forget, each of which finds its work done when it runs again.
  private func carryOut(
    _ intent: ForgetIntent, views: ViewCatalog?, appendEvent: Bool = true,
    ownIntent: [UInt8]? = []
  ) throws -> Forgotten {
    let ownIntent = ownIntent == [] ? intent.encode() : ownIntent
    var done = Forgotten(mask: intent.mask)
    var phase = Date()
    func lap(_ name: String) {
      done.seconds.append((name, Date().timeIntervalSince(phase)))
      phase = Date()
    }
    let pattern = Array(intent.person.utf8)
    let mask = Array(intent.mask.utf8)

    // 1. The request, as an event of the log. Refused as input (a reason holding what looks
    // like an ID number, say), nothing has changed: the intent goes, and the forget with it.
    var options = Appender.Options()
    options.onNote = onNote
    do {
      if appendEvent {
        _ = try Array(intent.event.utf8).withUnsafeBytes {
          try Appender.append(to: store, input: $0, options: options)
        }
      }
    } catch let e as InputError {
      if let failure = e.storeFailure { throw failure }
      try removeIntent(ifItIs: ownIntent)
      throw LogError(
        .invalidArgument,
        e.rendered(file: "--reason").replacingOccurrences(of: intent.person, with: intent.mask)
          + "; nothing was forgotten")
    }
    // 2. The access log.
    if fileHolds(AccessLog.path(store: store.path), pattern) {
      done.accessRecords = try AccessLog.redact(
        store: store.path, pattern: intent.person, mask: intent.mask, user: intent.user,
        role: intent.role)
    }
    // 3. The log: masked in place, re-sealed, recorded.
    let report = try LogRedactor.redact(
      logPath: store.logPath, pattern: pattern, mask: mask, reason: intent.reason,
      at: intent.time)
    if !report.redaction.seqs.isEmpty { done.redaction = report.redaction }
    done.occurrences = report.occurrences
    lap("log")
    // 4. The tables and views: the row groups that hold it, masked as the log is.
    let masked = try ViewStore.withLock(store: store.path) {
      let writer = try LogWriter.open(at: store.logPath)
      defer { try? writer.close() }
      // What a crash left half-written there (a row group's or a manifest's `.tmp`) is never
      // read, and may hold the person: it goes.
      for root in [store.path + "/views", store.path + "/matviews"] {
        try removeTemporaries(under: root)
      }
      return try Projection.redact(
        store: store.path, pattern: pattern, mask: mask, tag: intent.mask)
    }
    done.tables = masked.tables
    done.groups = masked.groups
    lap("tables")
    // 5. The request's event into the tables and the views, as an append brings them.
    try project()
    if let views { _ = try refreshViews(views) }
    lap("views")
    // 6. No file of the store may hold it any more, but the intent itself.
    if let file = Self.firstFile(under: store.path, holding: pattern, except: forgetIntentPath) {
      throw LogError(.damaged, "\(file) still holds the pseudonym after the redaction")
    }
    lap("check")
    try removeIntent(ifItIs: ownIntent)
    return done
  }

  /// Removes `FORGETTING` if it holds `bytes` (nil: whatever it holds), under the writer's
  /// lock: never another forget's intent.
  private func removeIntent(ifItIs bytes: [UInt8]?) throws {
    let writer = try LogWriter.open(at: store.logPath)
    defer { try? writer.close() }
    if let bytes, try FileSystem.system.readFile(forgetIntentPath) != bytes { return }
    try FileSystem.system.removeTree(forgetIntentPath)
    try FileSystem.system.syncDirectory(store.path)
  }

  private func removeTemporaries(under root: String) throws {
    guard let e = FileManager.default.enumerator(atPath: root) else { return }
    while let rel = e.nextObject() as? String {
      if rel.hasSuffix(".tmp") { try FileSystem.system.removeTree(root + "/" + rel) }
    }
  }

  private func fileHolds(_ path: String, _ pattern: [UInt8]) -> Bool {
    guard let mapped = try? MappedFile(path) else { return false }
    return mapped.withBytes { firstOffset(of: pattern, in: $0) != nil }
  }

  /// The first file under `root` whose bytes hold `pattern`, or nil.
  package static func firstFile(
    under root: String, holding pattern: [UInt8], except: String? = nil
  ) -> String? {
    guard let e = FileManager.default.enumerator(atPath: root) else { return nil }
    while let rel = e.nextObject() as? String {
      let path = root + "/" + rel
      var isDirectory: ObjCBool = false
      guard path != except,
        FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
        !isDirectory.boolValue, let mapped = try? MappedFile(path)
      else { continue }
      let found = mapped.withBytes { firstOffset(of: pattern, in: $0) != nil }
      if found { return path }
    }
    return nil
  }
}
