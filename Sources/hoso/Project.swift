import Domain
import EventLog
import Foundation
import Projections
import Query

extension CommandLine {
  /// Brings the store's tables up to its log, under the writer's lock. With `waitForLock`
  /// false, a store another writer holds is left as it is (its writer catches up itself).
  @discardableResult
  static func project(
    _ store: Store, sync: LogWriter.SyncMode = .batch, showProgress: Bool = false
  ) throws -> Projection.Report {
    let writer = try LogWriter.open(at: store.logPath, options: .init(sync: sync))
    defer { try? writer.close() }
    if let recovery = writer.recovery { note(recovery.description) }
    let reader = try LogReader(at: store.logPath)
    let progress = showProgress ? Progress(title: "projecting") : nil
    let started = Date()
    do {
      let report = try Projection.catchUp(
        store: store.path, reader: reader, sync: sync == .batch
      ) { done, total in progress?.update(Int(done), of: Int(total), label: "") }
      try finishInterruptedForget(store, reader: reader)
      if let progress, report.applied > 0 {
        progress.finish(
          "\(report.applied) events into the tables in "
            + String(format: "%.1f s", Date().timeIntervalSince(started)))
      }
      return report
    } catch let e as ProjectionError {
      throw LogError(
        .damaged,
        "the tables in \(store.path)/views: \(e.description); remove that folder to rebuild them")
    }
  }

  /// Where `forget` notes that it is under way: a crash before it has rebuilt the tables and
  /// views from the masked log would leave the pseudonym in them.
  static func forgetMarker(_ store: Store) -> String { store.path + "/FORGETTING" }

  /// After a `forget` cut short (its marker still there): the tables anew from the log, and
  /// the views removed (`hoso rebuild` makes them again). Under the writer's lock.
  static func finishInterruptedForget(_ store: Store, reader: LogReader) throws {
    let marker = forgetMarker(store)
    guard FileManager.default.fileExists(atPath: marker) else { return }
    _ = try Projection.rebuild(store: store.path, reader: reader)
    let views = Engine.viewsFolder(store: store.path)
    try? FileManager.default.removeItem(atPath: views)
    try FileManager.default.removeItem(atPath: marker)
    note(
      "an interrupted forget was finished: the tables were rebuilt from the masked log and the"
        + " views removed (hoso rebuild makes them again)")
  }
}
