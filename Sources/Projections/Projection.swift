import Domain
import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The built-in tables of a store (`<store>/views/`), kept up to date with its log.
package enum Projection {
  package struct Report: Sendable {
    /// Records applied.
    package var applied: UInt64 = 0
    /// Whether the tables were rebuilt from the first record (a unit merged or moved after
    /// rows naming it were stored, or tables of an older hoso).
    package var rebuilt = false
    package var checkpoint: UInt64 = 0
  }

  package static func folder(store: String) -> String { store + "/views" }

  /// The rules by which the log becomes the tables: raised whenever the same log would give
  /// other values (2: provinces known by their level; `events` with every data field). The
  /// tables record it (`views/RULES`) and are rebuilt when it differs, and the materialized
  /// views record it too, stale until rebuilt: both were computed by the old rules, and
  /// nothing in their schema need show it.
  package static let rules = 2

  static func rulesPath(_ views: String) -> String { views + "/RULES" }

  /// The rules the tables in `views` were made by (0: not recorded, an older hoso).
  package static func recordedRules(_ views: String) -> Int {
    guard let bytes = try? FileSystem.system.readFile(rulesPath(views)) else { return 0 }
    let text = String(decoding: bytes, as: UTF8.self)
    guard text.hasPrefix("hoso-rules ") else { return 0 }
    return Int(text.dropFirst(11).prefix { $0.isNumber }) ?? 0
  }

  static func recordRules(_ views: String, sync: Bool) throws {
    try FileSystem.system.writeAtomically(
      Array("hoso-rules \(rules)\n".utf8), to: rulesPath(views), directory: views, sync: sync)
  }

  /// Whether every table already reflects the whole log, known without opening the log: its
  /// clean-shutdown marker names the last seq (and the last segment's size, which must still
  /// match), and every manifest's checkpoint is that seq. A command that only reads (`query`,
  /// `audit`) then skips the writer's lock and the scan of the last segment. Any doubt (no
  /// marker, a writer at work, a rebuild left behind, an older format) answers false, and the
  /// caller catches up the usual way.
  package static func isCurrent(store: String) -> Bool {
    // With the C library's calls: Foundation's file attributes and string reading cost a
    // few tenths of a millisecond in a new process, on every query.
    let log = LogDirectory(store + "/log")
    var st = stat()
    guard let bytes = try? FileSystem.system.readFile(log.cleanPath),
      let marker = CleanMarker.decode(bytes),
      stat(log.segmentPath(marker.lastSegment), &st) == 0,
      Int64(st.st_size) == marker.segmentBytes
    else { return false }
    let views = folder(store: store)
    if access(views + ".rebuild", F_OK) == 0 || access(views + ".old", F_OK) == 0 {
      return false
    }
    if recordedRules(views) != rules { return false }
    let formats = Table.readable.map { Array(($0 + "\n").utf8) }
    let checkpoint = Array("\ncheckpoint \(marker.lastSeq)\n".utf8)
    func current(_ manifest: String, required: Bool) -> Bool {
      let read: [UInt8]?
      do { read = try FileSystem.system.readFile(manifest) } catch { return false }
      guard let text = read else { return !required }
      return formats.contains { text.starts(with: $0) }
        && text.withUnsafeBytes { firstOffset(of: checkpoint, in: $0) } != nil
    }
    for spec in BuiltinTables.all {
      let folder = views + "/" + spec.name
      if spec.backing == nil && !current(folder + "/MANIFEST", required: true) { return false }
      // A table of another schema (a field the catalog gained, a column `events` gained) is
      // rebuilt by a catch-up; read as it is, it would be no table at all.
      if spec.backing == nil && !hasSchema(folder + "/MANIFEST", spec.columns) { return false }
      if !current(folder + "/patches/MANIFEST", required: spec.backing != nil) { return false }
    }
    return true
  }

  /// Whether the manifest at `path` declares exactly `columns`, in order.
  private static func hasSchema(_ path: String, _ columns: [ColumnSchema]) -> Bool {
    guard let bytes = try? FileSystem.system.readFile(path) else { return false }
    let declared = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
      .filter { $0.hasPrefix("column ") }
    return declared.elementsEqual(columns.map { "column \($0.name) \($0.type.sqlName)" }) {
      $0 == $1
    }
  }

  /// Brings every table up to the log's last committed record: the records after the tables'
  /// checkpoint are applied in log order. The caller holds the store's writer lock (a second
  /// writer would race for the same files), so `append` does this before it lets go.
  ///
  /// A crash at any point leaves each table whole at its old or new checkpoint: the next
  /// catch-up goes on from there and ends with the same tables as a rebuild.
  ///
  /// `knownIds`, every id of the store with its seq and type (an append's validation has
  /// them), spares hashing every id again; it is used only if it ends where the log does (an
  /// append by another process may have come in between).
  package static func catchUp(
    store: String, reader: LogReader, sync: Bool = true,
    progress: ((UInt64, UInt64) -> Void)? = nil, knownIds: IdTable? = nil
  ) throws -> Report {
    let last = reader.lastSeq
    let views = folder(store: store)
    try recoverInterruptedRebuild(views)
    let ids = knownIds.flatMap { $0.count == Int(last) && $0.seqs.last == last ? $0 : nil }
    let projector = try ParallelProjector(folder: views, target: last, ids: ids)
    var report = Report(checkpoint: last)
    let from = projector.checkpoint
    if projector.highestCheckpoint > last {
      throw ProjectionError(
        "they hold events up to seq \(projector.highestCheckpoint), and the log ends at seq"
          + " \(last): the log lost events the tables had (run hoso verify), or the tables are"
          + " another log's")
    }
    // Tables made by other rules are made again, whole (an empty store's just get the mark).
    let sameRules = recordedRules(views) == rules
    if !sameRules && from > 0 {
      return try rebuild(store: store, reader: reader, progress: progress, ids: ids)
    }
    if from >= last {
      if !sameRules { try recordRules(views, sync: sync) }
      return report
    }
    // First pass: the range's unit events, so every row gets its province from everything
    // known. A merge or move that arrives after rows were stored changes rows already
    // written: then everything is rebuilt (rare: units change a few times a decade).
    var reshapes = false
    // With the log's ids and types at hand, the pass ends at the range's last unit event
    // (none: no pass).
    var unitsEnd = last
    if let ids {
      let codes = ids.typeCodes
      unitsEnd = from
      for seq in stride(from: last, to: from, by: -1) where Self.unitCodes[Int(codes[Int(seq - 1)])]
      {
        unitsEnd = seq
        break
      }
    }
    if unitsEnd > from {
      try reader.readRecords(in: (from + 1)...unitsEnd) { r in
        if projector.learnUnits(r) { reshapes = true }
      }
    }
    if (reshapes && from > 0) || projector.hasStaleTables {
      return try rebuild(store: store, reader: reader, progress: progress, ids: ids)
    }
    try apply((from + 1)...last, to: projector, reader: reader, progress: progress)
    if !sameRules { try recordRules(views, sync: sync) }
    report.applied = last - from
    return report
  }

  /// Per type code: whether it is a unit event.
  private static let unitCodes: [Bool] = (0..<256).map {
    $0 < Catalog.types.count && Catalog.types[$0].name.hasPrefix("unit.")
  }

  /// Every table anew from the whole log (after a unit reform, or after `forget` masked a
  /// pseudonym in the log, so that no table keeps it). Into a folder of its own, swapped in
  /// whole: a crash leaves the old tables (and the next catch-up decides again), never a mix
  /// of old and new. The caller holds the store's writer lock.
  package static func rebuild(
    store: String, reader: LogReader, progress: ((UInt64, UInt64) -> Void)? = nil,
    ids: IdTable? = nil
  ) throws -> Report {
    let last = reader.lastSeq
    let views = folder(store: store)
    let fresh = views + ".rebuild"
    try? FileSystem.system.removeTree(fresh)
    let rebuild = try ParallelProjector(folder: fresh, target: last, ids: ids)
    if last > 0 {
      try reader.readRecords(in: 1...last) { r in _ = rebuild.learnUnits(r) }
      try apply(1...last, to: rebuild, reader: reader, progress: progress)
    } else {
      try rebuild.commit()
    }
    try recordRules(fresh, sync: true)
    try swapIn(fresh, for: views)
    var report = Report(checkpoint: last)
    report.rebuilt = true
    report.applied = last
    return report
  }

  private static func apply(
    _ range: ClosedRange<UInt64>, to projector: ParallelProjector, reader: LogReader,
    progress: ((UInt64, UInt64) -> Void)?
  ) throws {
    var done: UInt64 = 0
    let total = UInt64(range.count)
    // Two batches in turn: the log's next records are read and copied into one while the
    // other is applied (in order, one batch at a time, when the fault tier counts calls).
    let batches = [RecordCopies(), RecordCopies()]
    var current = 0
    let applying = BackgroundBatch(projector, inBackground: !FaultInjection.isActive)
    func waitForApplied() throws {
      let applied = try applying.wait()
      if applied > 0 {
        done += UInt64(applied)
        progress?(done, total)
      }
    }
    func flush() throws {
      try waitForApplied()
      try applying.start(batches[current])
      current ^= 1
      batches[current].removeAll()
    }
    do {
      try reader.readRecords(in: range) { r in
        let batch = batches[current]
        batch.append(r)
        if batch.count == 32_768 || batch.byteCount >= 16 << 20 { try flush() }
      }
      if batches[current].count > 0 { try flush() }
      try waitForApplied()
    } catch {
      // A read that throws (damage) leaves no batch still being applied behind it, and the
      // groups handed over before the failure finish before anything else is written (a retry
      // in this process writes files of the same names); what they threw goes with this error.
      applying.settle()
      try? GroupWriter.shared.wait()
      throw error
    }
    try projector.commit()
  }

  /// Replaces `views` by `fresh`: `views` becomes `views.old`, `fresh` becomes `views`, then
  /// `views.old` goes. `recoverInterruptedRebuild` finishes or undoes a swap a crash cut short.
  /// `fresh` in place of `views` (a folder), in two renames; `recoverInterruptedRebuild`
  /// undoes a swap cut between them.
  package static func swapIn(_ fresh: String, for views: String) throws {
    let old = views + ".old"
    try? FileSystem.system.removeTree(old)
    if FileManager.default.fileExists(atPath: views) {
      guard FileSystem.system.rename(views, old) == 0 else {
        throw ProjectionError("cannot rename \(views)")
      }
    }
    guard FileSystem.system.rename(fresh, views) == 0 else {
      throw ProjectionError("cannot rename \(fresh)")
    }
    try syncFolder((views as NSString).deletingLastPathComponent)
    try? FileSystem.system.removeTree(old)
  }

  /// After a crash in a rebuild: a half-made `views.rebuild` goes; a swap cut between its two
  /// renames is undone (the old tables come back, and the catch-up decides again).
  package static func recoverInterruptedRebuild(_ views: String) throws {
    let fm = FileManager.default
    try? FileSystem.system.removeTree(views + ".rebuild")
    if !fm.fileExists(atPath: views) && fm.fileExists(atPath: views + ".old") {
      guard FileSystem.system.rename(views + ".old", views) == 0 else {
        throw ProjectionError("cannot rename \(views).old back")
      }
    }
    try? FileSystem.system.removeTree(views + ".old")
  }

}

/// The batch being applied on other threads while the caller reads the next: `start` hands
/// one over, `wait` returns its records once applied (throwing what applying it threw). Not
/// in the background, `start` applies the batch before it returns.
private final class BackgroundBatch: @unchecked Sendable {
  private let projector: ParallelProjector
  private let inBackground: Bool
  private let group = DispatchGroup()
  private var failure: Error?
  /// The records of the batch in hand (0: none).
  private var count = 0

  init(_ projector: ParallelProjector, inBackground: Bool) {
    self.projector = projector
    self.inBackground = inBackground
  }

  func start(_ batch: RecordCopies) throws {
    count = batch.count
    guard inBackground else { return try projector.apply(batch) }
    group.enter()
    batchQueue.async { [self] in
      defer { group.leave() }
      do { try projector.apply(batch) } catch { failure = error }
    }
  }

  /// Waits for the batch in hand, if any, and forgets what it threw.
  func settle() { group.wait() }

  func wait() throws -> Int {
    group.wait()
    defer { count = 0 }
    if let failure {
      self.failure = nil
      throw failure
    }
    return count
  }
}

/// Records copied out of the log, a batch at a time: both halves of a projection read them
/// while the reader has gone on (its segment may be unmapped by then).
final class RecordCopies: @unchecked Sendable {
  private var bytes: [UInt8] = []
  private var records: [(seq: UInt64, recordedAt: Int64, start: Int, count: Int)] = []

  var count: Int { records.count }
  var byteCount: Int { bytes.count }

  func append(_ r: LogRecord) {
    records.append((r.seq, r.recordedAt, bytes.count, r.payload.count))
    bytes.append(contentsOf: r.payload.bindMemory(to: UInt8.self))
  }

  func removeAll() {
    bytes.removeAll(keepingCapacity: true)
    records.removeAll(keepingCapacity: true)
  }

  func eachRecord(_ body: (LogRecord) throws -> Void) rethrows {
    try eachRecord(in: 0..<records.count, body)
  }

  func eachRecord(in range: Range<Int>, _ body: (LogRecord) throws -> Void) rethrows {
    try bytes.withUnsafeBytes { b in
      for r in records[range] {
        try body(
          LogRecord(
            seq: r.seq, recordedAt: r.recordedAt,
            payload: UnsafeRawBufferPointer(rebasing: b[r.start..<(r.start + r.count)])))
      }
    }
  }
}

/// The two halves of a projection (`Projector.Part`) over the same records, each batch on
/// both cores at once. A class, so that each half is reached from its own thread without
/// copying: the two never touch the same table or the same state.
final class ParallelProjector: @unchecked Sendable {
  private var raw: Projector
  private var rest: Projector

  /// `ids`: every id of the log through `target`, with seqs and types (or nil: the half
  /// that resolves corrections collects them as it goes).
  init(folder: String, target: UInt64, ids: IdTable? = nil) throws {
    raw = try Projector(folder: folder, target: target, part: .raw)
    rest = try Projector(folder: folder, target: target, part: .rest, ids: ids)
  }

  var checkpoint: UInt64 { min(raw.checkpoint, rest.checkpoint) }
  var highestCheckpoint: UInt64 { max(raw.highestCheckpoint, rest.highestCheckpoint) }
  var hasStaleTables: Bool { rest.hasStaleTables }

  func learnUnits(_ r: LogRecord) -> Bool {
    let a = raw.learnUnits(r)
    let b = rest.learnUnits(r)
    return a || b
  }

  /// Each batch's records scanned once, for both halves.
  private let scans = ScannedRecords()

  /// The batch's records to one half, each with its scan.
  private func apply(
    _ part: Projector.Part, _ batch: RecordCopies, _ view: ScannedRecords.BatchView
  ) throws {
    var k = 0
    try batch.eachRecord { r in
      if part == .raw {
        try raw.apply(r, scanned: (view, k))
      } else {
        try rest.apply(r, scanned: (view, k))
      }
      k += 1
    }
  }

  func apply(_ batch: RecordCopies) throws {
    // The fault tier counts the calls that change the disk and must meet them in the same
    // order on every run: one half after the other.
    let parallel = !FaultInjection.isActive
    let view = scans.scan(batch, parallel: parallel)
    if !parallel {
      try apply(.raw, batch, view)
      try apply(.rest, batch, view)
      return
    }
    let failures = FailureBox()
    bothAtOnce { [self] i in
      do {
        try apply(i == 0 ? .raw : .rest, batch, view)
      } catch {
        failures.set(i, error)
      }
    }
    if let e = failures.first { throw e }
  }

  /// `events_raw` last: what reads its checkpoint as the tables' (a view's refresh) must not
  /// see it ahead of `events`' patches or the type tables.
  func commit() throws {
    try rest.handOver()
    try raw.handOver()
    try rest.commit()
    try raw.commit()
  }
}

/// Runs `body(0)` on this thread and `body(1)` on a thread of its own, at once, and returns
/// when both have. Not `concurrentPerform`: its second iteration waits for a worker of the
/// shared pool, which the background group writers may all hold, and then the halves ran one
/// after the other.
func bothAtOnce(_ body: @escaping @Sendable (Int) -> Void) {
  let done = DispatchGroup()
  secondHalf.async(group: done) { body(1) }
  body(0)
  done.wait()
}

/// Serial queues, so each a thread of its own whenever it has work, not a worker of the
/// shared pool: the group writers' jobs take those, and a batch waiting for a writer's slot on
/// a pool worker could hold the only one a machine of one core has.
private let secondHalf = DispatchQueue(label: "hoso.projection.second-half")
private let batchQueue = DispatchQueue(label: "hoso.projection.batch")

/// The errors of the two halves: the first half's first, as a run of one thread would say.
private final class FailureBox: @unchecked Sendable {
  private let lock = NSLock()
  private var errors: [Int: Error] = [:]
  func set(_ i: Int, _ e: Error) { lock.withLock { errors[i] = e } }
  var first: Error? { lock.withLock { errors.keys.min().flatMap { errors[$0] } } }
}

extension Projector {
  /// Whether some table's manifest is from another schema (hoso changed its tables): its
  /// folder held a manifest that `Table.open` refused.
  var hasStaleTables: Bool {
    tables.values.contains { t in
      t.table.checkpoint == 0
        && FileManager.default.fileExists(atPath: t.table.folder + "/" + Table.manifestName)
    }
  }
}

extension Projection {
  package struct Check: Sendable {
    package var tables = 0
    package var groups = 0
    package var bytes = 0
    /// Tables that have no manifest yet (caught up by the next command) or are of an older
    /// format (rebuilt by it).
    package var behind: [String] = []
  }

  /// Reads every group of every table and checks its checksum. Throws `ProjectionError`
  /// naming the first damaged file.
  package static func verify(store: String, logLastSeq: UInt64? = nil) throws -> Check {
    var check = Check()
    let views = folder(store: store)
    for spec in BuiltinTables.all {
      let folder = views + "/" + spec.name
      var tables: [(String, [ColumnSchema], String)] = [
        ("patches", BuiltinTables.patches, folder + "/patches")
      ]
      if spec.backing == nil { tables.insert((spec.name, spec.columns, folder), at: 0) }
      for (name, schema, path) in tables {
        guard FileManager.default.fileExists(atPath: path + "/" + Table.manifestName) else {
          if name == spec.name { check.behind.append(spec.name) }
          continue
        }
        guard let t = try Table.open(name: name, schema: schema, folder: path) else {
          check.behind.append(spec.name)
          continue
        }
        if let logLastSeq, t.checkpoint > logLastSeq {
          throw ProjectionError(
            "\(path) holds events up to seq \(t.checkpoint), and the log ends at seq"
              + " \(logLastSeq): the tables hold events the log does not")
        }
        check.tables += name == spec.name ? 1 : 0
        for g in t.groupNames {
          let file = try MappedFile(path + "/" + g)
          _ = try file.withBytes {
            try GroupReader($0, schema: schema, path: file.path, verify: true)
          }
          check.groups += 1
          check.bytes += file.count
        }
      }
    }
    return check
  }
}
