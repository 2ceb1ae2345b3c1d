import Domain

extension Generator {
  /// The generated events in output order: sorted by `recorded_at` (ties in the order they
  /// were made), cut to `count`. A correction is always recorded after its target, so a cut
  /// never leaves one without it.
  package mutating func run() -> Output {
    simulate()
    var order = Array(0..<events.count)
    order.sort { (events[$0].recorded, $0) < (events[$1].recorded, $1) }
    if order.count > options.count { order.removeLast(order.count - options.count) }
    return Output(generator: self, order: order)
  }

  /// The NDJSON: the committed events and the generated ones, merged by `recorded_at`.
  package struct Output {
    let generator: Generator
    let order: [Int]

    package var generatedCount: Int { order.count }
    package var committedCount: Int { generator.reference.events.count }

    /// Calls `body` with each line (without its `\n`) and its `recorded_at` in microseconds, in
    /// output order.
    package func forEachLine(_ body: (UnsafeRawBufferPointer, Int64) throws -> Void) rethrows {
      let g = generator
      var position = Array(repeating: Int32(-1), count: g.events.count)
      for (p, e) in order.enumerated() { position[e] = Int32(p) }
      let width = max(7, String(order.count).count)
      let prefix = Array("g\(g.options.seed)-".utf8)
      let types = Generator.types.map { Array($0.utf8) }
      let codes = g.units.map { Array($0.code.utf8) }
      let actors = g.actors.map { Array($0.utf8) }
      var line: [UInt8] = []
      line.reserveCapacity(1024)
      var committed = 0
      let reference = g.reference.events

      func appendId(_ p: Int) {
        line += prefix
        let s = String(p + 1)
        for _ in s.utf8.count..<width { line.append(0x30) }
        line += s.utf8
      }

      for (p, index) in order.enumerated() {
        let e = g.events[index]
        let micros = e.recorded * 1_000_000
        while committed < reference.count && reference[committed].recordedAt <= micros {
          try reference[committed].line.withUnsafeBytes {
            try body($0, reference[committed].recordedAt)
          }
          committed += 1
        }
        line.removeAll(keepingCapacity: true)
        line += #"{"id":""#.utf8
        appendId(p)
        line += #"","type":""#.utf8
        line += types[Int(e.type)]
        line += #"","occurred_at":""#.utf8
        Timestamp.append(e.occurred * 1_000_000, to: &line)
        line += #"","recorded_at":""#.utf8
        Timestamp.append(micros, to: &line)
        line += #"","unit":""#.utf8
        line += codes[Int(e.unit)]
        if e.caseKey >= 0 {
          line += #"","case":"C-"#.utf8
          line += g.provinces[Int(e.caseKey)].key.utf8
          line += "-\(e.caseYear)-".utf8
          line += pad(Int(e.caseNumber), 5).utf8
        }
        line += #"","actor":""#.utf8
        line += actors[Int(e.actor)]
        line += #"","data":"#.utf8
        line += g.arena[e.dataStart..<(e.dataStart + Int(e.dataCount))]
        if e.target >= 0 {
          line += #","target":""#.utf8
          appendId(Int(position[Int(e.target)]))
          line += #""}"#.utf8
        }
        line.append(0x7D)
        try line.withUnsafeBytes { try body($0, micros) }
      }
      while committed < reference.count {
        try reference[committed].line.withUnsafeBytes {
          try body($0, reference[committed].recordedAt)
        }
        committed += 1
      }
    }
  }
}
