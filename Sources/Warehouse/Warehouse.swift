import Domain
import EventLog
import Foundation
import Projections
import Views

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The store's transactions in one place: the log and the tables brought level (after a crash,
/// after an interrupted forget), an append carried through the log, the tables and the views,
/// a forget that is all or nothing, and the access record of every read. The CLI and the shell call these; they never sequence
/// the layers themselves.
///
/// The invariants kept here:
/// - the tables never hold what the log does not (`Projection.catchUp` refuses, as damage);
/// - a forget, once its intent is on disk, is finished by whichever command opens the store
///   next, before that command reads anything;
/// - every step takes the writer's lock itself (`LogWriter.open`), so two processes never
///   change the same files at once.
package struct Warehouse {
  package let store: Store
  /// Where what the user should hear goes (the CLI: stderr, prefixed `hoso:`).
  package var onNote: @Sendable (String) -> Void

  package init(store: Store, onNote: @escaping @Sendable (String) -> Void = { _ in }) {
    self.store = store
    self.onNote = onNote
  }

  package static func open(
    at path: String, onNote: @escaping @Sendable (String) -> Void = { _ in }
  ) throws -> Warehouse {
    Warehouse(store: try Store.open(at: path), onNote: onNote)
  }

  /// Brings the tables up to the log, under the writer's lock, after finishing a forget that a
  /// crash interrupted. The log's own recovery (a torn tail cut, damage refused) happens as
  /// the writer opens.
  @discardableResult
  package func catchUp(
    sync: LogWriter.SyncMode = .batch, progress: ((UInt64, UInt64) -> Void)? = nil
  ) throws -> Projection.Report {
    try finishInterruptedForget()
    return try project(sync: sync, progress: progress)
  }

  /// `catchUp`, unless the tables are known current without opening the log, or another
  /// writer holds the lock (then its own catch-up follows, and this reads what is there).
  package func catchUpIfFree() throws {
    if Projection.isCurrent(store: store.path) && !isForgetting { return }
    do {
      try catchUp()
    } catch let e as LogError where e.kind == .locked {
      onNote("another process is appending; the tables may be behind the log")
    }
  }

  /// The tables caught up to the log, with nothing else: a forget under way calls it between
  /// its steps.
  @discardableResult
  func project(
    sync: LogWriter.SyncMode = .batch, progress: ((UInt64, UInt64) -> Void)? = nil,
    knownIds: IdTable? = nil
  ) throws -> Projection.Report {
    let writer = try LogWriter.open(at: store.logPath, options: .init(sync: sync))
    defer { try? writer.close() }
    if let recovery = writer.recovery { onNote(recovery.description) }
    let reader = try LogReader(at: store.logPath)
    do {
      return try Projection.catchUp(
        store: store.path, reader: reader, sync: sync == .batch, progress: progress,
        knownIds: knownIds)
    } catch let e as ProjectionError {
      throw LogError(
        .damaged,
        "the tables in \(store.path)/views: \(e.description); remove that folder to rebuild them")
    }
  }

  /// Views of the incremental shape brought up to the tables; the others turn stale until
  /// `rebuild`. Returns the names of those refreshed.
  package func refreshViews(_ catalog: ViewCatalog, sync: Bool = true) throws -> [String] {
    guard !catalog.definitions.isEmpty else { return [] }
    return try ViewStore.withLock(store: store.path) {
      try ViewStore.refreshAll(store: store.path, catalog: catalog, sync: sync)
    }
  }

  // MARK: - The record of every read

  /// Appends a read to `<store>/access.log`, synced, before anything of it is shown: an
  /// access that cannot be recorded is not given.
  package func recordAccess(
    role: String, command: String, statement: String, rows: Int?
  ) throws {
    try AccessLog.append(
      AccessLog.Entry(
        user: AccessLog.currentUser(), role: role, command: command, statement: statement,
        rows: rows), store: store.path)
  }

  /// `recordAccess` for an answer shown while its record is synced: the caller waits for the
  /// sync (`Sync.wait`) before it returns, or before the shell's next prompt.
  package func recordAccessSyncing(
    role: String, command: String, statement: String, rows: Int?
  ) throws -> AccessLog.Sync {
    try AccessLog.appendSyncing(
      AccessLog.Entry(
        user: AccessLog.currentUser(), role: role, command: command, statement: statement,
        rows: rows), store: store.path
    ).1
  }

  // MARK: - Append

  /// What an append did.
  package struct Appended {
    package var result: Appender.Result
    /// Views brought up to date with it.
    package var refreshedViews: [String] = []
  }

  /// Validates `input` whole and appends it as one atomic batch; once it is acknowledged
  /// (durable, with `--sync batch`: `acknowledged` is called then), the tables and the
  /// incremental views follow. A failure after the acknowledgement leaves the tables behind,
  /// and the next command catches them up: it is thrown as `AppendedButBehind`.
  package func append(
    _ input: UnsafeRawBufferPointer, options: Appender.Options, views: ViewCatalog?,
    project shouldProject: Bool = true, acknowledged: (Appender.Result) -> Void = { _ in }
  ) throws -> Appended {
    try finishInterruptedForget()
    let (result, ids) = try Appender.appendKeepingIds(to: store, input: input, options: options)
    // Said as soon as it is true, before the tables follow.
    acknowledged(result)
    var appended = Appended(result: result)
    guard result.seqs != nil, shouldProject else { return appended }
    do {
      try project(sync: options.sync, knownIds: ids)
      if let views {
        appended.refreshedViews = try refreshViews(views, sync: options.sync == .batch)
      }
    } catch {
      throw AppendedButBehind(appended: appended, error: error)
    }
    return appended
  }

  /// The events were appended and acknowledged; bringing the tables or views along failed.
  package struct AppendedButBehind: Error {
    package var appended: Appended
    package var error: Error
  }
}
