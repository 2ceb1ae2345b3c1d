import Domain
import EventLog
import Foundation
import Projections
import Query

#if canImport(Glibc)
  import Glibc
#endif

/// The bar under a statement that runs long: drawn on stderr from the engine's progress,
/// every 0.2 s once two seconds have passed (`$HOSO_PROGRESS_AFTER` seconds), and wiped when
/// the statement ends.
final class ProgressBar: @unchecked Sendable {
  private let lock = NSLock()
  private var done = 0
  private var total = 0
  private var shown = false
  /// Whether a bar with the engine's progress in it has been asked for.
  private var requested = false
  private let queue = DispatchQueue(label: "hoso.progress")
  private let timer: DispatchSourceTimer
  private weak var engine: Engine?
  private let started = DispatchTime.now()
  private let after: Double

  init(_ engine: Engine) {
    self.engine = engine
    after = Double(ProcessInfo.processInfo.environment["HOSO_PROGRESS_AFTER"] ?? "") ?? 2
    timer = DispatchSource.makeTimerSource(queue: queue)
    engine.progress = { [weak self] d, t in self?.set(d, t) }
    timer.schedule(deadline: .now() + after, repeating: 0.2)
    timer.setEventHandler { [weak self] in self?.draw() }
    timer.resume()
  }

  private func set(_ d: Int, _ t: Int) {
    lock.lock()
    done = max(done, d)
    total = t
    // Past the delay, the first progress draws the bar at once (the timer may be later, or
    // have drawn it before there was any).
    let due =
      !requested
      && Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) >= after * 1e9
    if due { requested = true }
    lock.unlock()
    if due { queue.async { [weak self] in self?.draw() } }
  }

  private func draw() {
    lock.lock()
    let (d, t) = (done, total)
    shown = true
    lock.unlock()
    let width = 30
    let filled = t > 0 ? min(width, d * width / t) : 0
    let text =
      "\r\u{1B}[2Khoso: running " + String(repeating: "█", count: filled)
      + String(repeating: "░", count: width - filled) + (t > 0 ? " \(d)/\(t) row groups" : "")
      + " (Ctrl-C stops it)"
    FileHandle.standardError.write(Data(text.utf8))
  }

  func stop() {
    timer.cancel()
    queue.sync {}
    engine?.progress = nil
    if shown { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
  }
}

/// Bar and line charts of a result, in Unicode blocks.
enum Chart {
  static let eighths = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
  static let levels = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

  static func number(_ v: SQLValue) -> Double? { Cast.double(v) }

  static func draw(_ r: QueryResult, kind: String, x: Int, y: Int, series: Int?, width: Int)
    -> String
  {
    // Rows by series (one unnamed series without a SERIES column).
    var order: [String] = []
    var points: [String: [(String, Double)]] = [:]
    for i in 0..<r.rows.count {
      let s = series.map { Cast.text(r.rows.columns[$0].value(i)) } ?? ""
      let label = Cast.text(r.rows.columns[x].value(i))
      // A hidden cell is not drawn: its bar would show its value.
      guard !r.isSuppressed(y, i), let v = number(r.rows.columns[y].value(i)) else { continue }
      if points[s] == nil { order.append(s) }
      points[s, default: []].append((label, v))
    }
    let all = points.values.flatMap { $0.map(\.1) }
    let top = max(all.max() ?? 0, 0)
    let bottom = min(all.min() ?? 0, 0)
    var out = ""
    if kind == "bar" {
      let labelWidth = points.values.flatMap { $0.map { ($0.0 + " ").count } }.max() ?? 0
      let seriesWidth = series == nil ? 0 : (order.map(\.count).max() ?? 0) + 1
      let room = max(10, width - labelWidth - seriesWidth - 14)
      for s in order {
        for (label, v) in points[s]! {
          let cells = top > 0 ? max(0, v) / top * Double(room) : 0
          let whole = Int(cells)
          let part = Int((cells - Double(whole)) * 8)
          let bar = String(repeating: "█", count: whole) + eighths[part]
          let name = series == nil ? "" : s + String(repeating: " ", count: seriesWidth - s.count)
          out +=
            name + label + String(repeating: " ", count: labelWidth - label.count) + bar + " "
            + Cast.text(r.rows.columns[y].value(0)).prefix(0) + format(v) + "\n"
        }
      }
    } else {
      // A line per series: a block per point, its height the value's.
      let span = top - bottom
      let nameWidth = (order.map(\.count).max() ?? 0) + 1
      for s in order {
        let line = points[s]!.map { p -> String in
          let level = span > 0 ? Int((p.1 - bottom) / span * 7) : 0
          return levels[max(0, min(7, level))]
        }.joined()
        let name = series == nil ? "" : s + String(repeating: " ", count: nameWidth - s.count)
        out +=
          name + line + "  " + format(points[s]!.first!.1) + " → " + format(points[s]!.last!.1)
          + "\n"
      }
      if let first = points[order[0]]?.first?.0, let last = points[order[0]]?.last?.0 {
        let pad = series == nil ? 0 : nameWidth
        out += String(repeating: " ", count: pad) + first + " … " + last + "\n"
      }
    }
    return out
  }

  static func format(_ v: Double) -> String {
    if v == v.rounded() && abs(v) < 1e15 {
      return Output.thousands(Int64(v))
    }
    return String(format: "%.2f", v)
  }
}
