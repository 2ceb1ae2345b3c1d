import Domain
import EventLog
import Foundation
import Projections
import Warehouse

extension CommandLine {
  /// The store's transactions, with notes on stderr.
  static func warehouse(_ store: Store) -> Warehouse {
    Warehouse(store: store, onNote: { note($0) })
  }

  /// Brings the store's tables up to its log, under the writer's lock (`Warehouse.catchUp`),
  /// with a bar on a terminal when asked.
  @discardableResult
  static func project(
    _ store: Store, sync: LogWriter.SyncMode = .batch, showProgress: Bool = false
  ) throws -> Projection.Report {
    let progress = showProgress ? Progress(title: "projecting") : nil
    let started = Date()
    let report = try warehouse(store).catchUp(sync: sync) { done, total in
      progress?.update(Int(done), of: Int(total), label: "")
    }
    if let progress, report.applied > 0 {
      progress.finish(
        "\(report.applied) events into the tables in "
          + String(format: "%.1f s", Date().timeIntervalSince(started)))
    }
    return report
  }
}
