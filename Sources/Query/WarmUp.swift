import Foundation

extension Engine {
  /// Builds, on another thread, what the Swift runtime makes at the first use of a generic
  /// type in a process: the conformances a dictionary keyed by strings and the scan's sets
  /// of operands need. The runtime finds each by scanning every conformance record of every
  /// library loaded (Foundation's are many), a wait a new process's first statement would
  /// otherwise have for each (BENCHMARKS.md). `hoso query` and the shell start it before
  /// they open the store; nothing waits for it, and a statement that comes first only shares
  /// the runtime's lock with it.
  package static func warmUpInBackground() {
    DispatchQueue.global().async { warmUp() }
  }

  private struct Marker: Hashable { var x = 0 }

  /// Not the standard library's prespecialized `[String: Int]`: a value of a type of ours,
  /// so that the look-up of `String: Hashable` happens here.
  private static func warmUp() {
    var byName: [String: Marker] = [:]
    byName["a"] = Marker()
    var names: Set<String> = []
    names.insert("a")
    var numbers: [Int: Marker] = [:]
    numbers[1] = Marker()
    let o = FastAggregate.Operand(column: 0, transform: .none)
    var operands: Set<FastAggregate.Operand> = []
    operands.insert(o)
    var values: [FastAggregate.Operand: ([Int64], [Bool])] = [:]
    values[o] = ([], [])
    var markers: Set<Marker> = []
    markers.insert(Marker())
    _ = (byName.count, names.count, numbers.count, operands.count, values.count, markers.count)
  }
}
