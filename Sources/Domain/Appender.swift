import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// `hoso append`: validate a whole input, then append it atomically.
package enum Appender {
  package struct Result: Sendable {
    package var appended: Int
    package var seqs: ClosedRange<UInt64>?
    package var duplicates: Int
    /// What the writer's open had to repair after a crash, if anything.
    package var recovery: String?
  }

  package struct Options: Sendable {
    package var pseudonymize = false
    package var sync: LogWriter.SyncMode = .batch
    package var keyPath: String?
    package var now: Int64?
    package init() {}
  }

  /// Appends the NDJSON `input`. Throws `InputError` for bad input (nothing written), and
  /// `LogError` for a store that is missing, locked or damaged.
  package static func append(
    to store: Store, input: UnsafeRawBufferPointer, options: Options
  ) throws -> Result {
    let pseudonymizer =
      options.pseudonymize ? Pseudonymizer(key: try store.loadKey(override: options.keyPath)) : nil
    // The lock first: nothing may change between reading the state and appending.
    let writer = try LogWriter.open(at: store.logPath, options: .init(sync: options.sync))
    let reader = try LogReader(at: store.logPath)
    let state = try StoreState.load(from: reader)
    var ingest = Ingest(
      state: state, now: options.now ?? Timestamp.now(), pseudonymizer: pseudonymizer,
      collect: false)
    defer { ingest.finish() }
    // Records go to the log as they pass, without a commit mark: invisible to readers, taken
    // back if a later line is bad, cut by recovery after a crash.
    try writer.beginBatch()
    let seqs: ClosedRange<UInt64>?
    do {
      try forEachLine(input) { line, number in
        if try ingest.add(line: line, number: number) {
          try ingest.withPayload {
            _ = try writer.add(recordedAt: ingest.payloadRecordedAt, payload: $0)
          }
        }
      }
      seqs = try writer.commitBatch()
    } catch {
      writer.abortBatch()
      try? writer.close()
      throw error
    }
    try writer.close()
    return Result(
      appended: ingest.accepted, seqs: seqs, duplicates: ingest.duplicates,
      recovery: writer.recovery?.description)
  }

  /// Calls `body` with each non-blank line of `input` (without `\n` or `\r\n`) and its 1-based
  /// number. An empty input is an error: there is nothing to append.
  package static func forEachLine(
    _ input: UnsafeRawBufferPointer,
    _ body: (UnsafeRawBufferPointer, Int) throws -> Void
  ) throws {
    var start = 0
    var number = 0
    var events = 0
    let base = input.baseAddress
    while start < input.count {
      number += 1
      let p = memchr(base! + start, 0x0A, input.count - start)
      var end = p.map { base!.distance(to: UnsafeRawPointer($0)) } ?? input.count
      let next = end + 1
      if end > start && input[end - 1] == 0x0D { end -= 1 }
      let line = UnsafeRawBufferPointer(rebasing: input[start..<end])
      if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
        try body(line, number)
        events += 1
      }
      start = next
    }
    guard events > 0 else {
      throw InputError(line: max(number, 1), "the input holds no events (an empty file?)")
    }
  }
}
