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
    /// Receives what the user should know besides the result, such as what recovery cut
    /// after a crash (told even when the append then fails).
    package var onNote: (@Sendable (String) -> Void)?
    package init() {}
  }

  /// Appends the NDJSON `input`. Throws `InputError` for bad input (nothing written), and
  /// `LogError` for a store that is missing, locked or damaged.
  package static func append(
    to store: Store, input: UnsafeRawBufferPointer, options: Options
  ) throws -> Result {
    try appendKeepingIds(to: store, input: input, options: options).result
  }

  /// `append`, and every id of the store afterwards with its seq and type (the table
  /// validation built): the projection that follows resolves corrections by it instead of
  /// hashing every id again.
  package static func appendKeepingIds(
    to store: Store, input: UnsafeRawBufferPointer, options: Options
  ) throws -> (result: Result, ids: IdTable) {
    let session = try Session(store: store, options: options, expectedBytes: input.count)
    let result: Result
    do {
      result = try session.append(input)
    } catch {
      try? session.close()
      throw error
    }
    try session.close()
    return (result, session.ids)
  }

  /// The writer's lock held and the store's state loaded once, for several atomic appends in a
  /// row (`hoso demo` appends a month at a time). After a failed append the session is over:
  /// close it.
  package final class Session {
    private let writer: LogWriter
    private var ingest: Ingest
    private let store: Store
    private let now: Int64
    private let pseudonymizer: Pseudonymizer?
    private var failed = false

    package init(store: Store, options: Options, expectedBytes: Int = 0) throws {
      self.store = store
      pseudonymizer =
        options.pseudonymize
        ? Pseudonymizer(key: try store.loadKey(override: options.keyPath)) : nil
      // The lock first: nothing may change between reading the state and appending.
      writer = try LogWriter.open(at: store.logPath, options: .init(sync: options.sync))
      if let recovery = writer.recovery { options.onNote?(recovery.description) }
      do {
        let reader = try LogReader(at: store.logPath)
        let state = try StoreState.load(from: reader)
        now = options.now ?? Timestamp.now()
        ingest = Ingest(
          state: state, now: now, pseudonymizer: pseudonymizer, collect: false,
          expectedBytes: expectedBytes)
      } catch {
        try? writer.close()
        throw error
      }
    }

    deinit { ingest.finish() }

    /// What the writer's open had to repair after a crash, if anything.
    package var recovery: String? { writer.recovery?.description }

    /// Every id of the store, with its seq and type, as of the last committed append.
    package var ids: IdTable { ingest.state.ids }

    /// Validates the whole NDJSON `input`, then appends it as one atomic batch.
    package func append(_ whole: UnsafeRawBufferPointer) throws -> Result {
      precondition(!failed, "an append session is over after a failed append")
      // A UTF-8 byte-order mark at the start is allowed and skipped (RFC 8259 §8.1 lets a
      // parser ignore it; editors on Windows write one).
      let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
      let input =
        whole.starts(with: bom) ? UnsafeRawBufferPointer(rebasing: whole[3...]) : whole
      ingest.reserve(bytes: input.count)
      let acceptedBefore = ingest.accepted
      let duplicatesBefore = ingest.duplicates
      // Records go to the log as they pass, without a commit mark: invisible to readers, taken
      // back if a later line is bad, cut by recovery after a crash.
      try writer.beginBatch()
      let seqs: ClosedRange<UInt64>?
      let prepared = PreparedInput(
        input, now: now, stamp: max(now, ingest.state.lastRecordedAt),
        pseudonymizer: pseudonymizer)
      defer { prepared.finish() }
      do {
        var firstLine = 0
        var events = 0
        var rest: Int?
        /// The full path for one line: validated here, on this thread, against everything.
        func addInFull(_ line: UnsafeRawBufferPointer, _ number: Int) throws {
          events += 1
          if try ingest.add(line: line, number: number) {
            try ingest.withPayload {
              _ = try writer.add(recordedAt: ingest.payloadRecordedAt, payload: $0)
            }
          }
        }
        for i in 0..<prepared.chunkCount {
          let c = prepared.chunk(i)
          try c.out.withUnsafeBytes { out in
            var start = 0
            for p in c.lines {
              let number = firstLine + p.number
              let line = prepared.line(p)
              let payload = UnsafeRawBufferPointer(rebasing: out[start..<p.payloadEnd])
              start = p.payloadEnd
              switch ingest.commitPrepared(p, payload: payload, line: line, number: number) {
              case .accepted:
                events += 1
                _ = try writer.add(recordedAt: p.recordedAt, payload: payload)
              case .duplicate:
                events += 1
              case .fullPath:
                try addInFull(line, number)
              }
            }
          }
          firstLine += c.lineCount
          if let stopped = c.stoppedAfter {
            rest = stopped
            break
          }
        }
        // Preparing stopped at a line the full path then accepted: go on line by line.
        if let rest, rest < input.count {
          try forEachLine(
            UnsafeRawBufferPointer(rebasing: input[rest...]), firstNumber: firstLine,
            requireEvents: false
          ) { line, number in try addInFull(line, number) }
        }
        guard events > 0 else {
          throw InputError(line: max(firstLine, 1), "the input holds no events (an empty file?)")
        }
        seqs = try writer.commitBatch()
      } catch {
        failed = true
        writer.abortBatch()
        throw error
      }
      if let seqs {
        let path = store.logPath
        ingest.batchCommitted(firstSeq: seqs.lowerBound, reader: { try LogReader(at: path) })
      }
      return Result(
        appended: ingest.accepted - acceptedBefore, seqs: seqs,
        duplicates: ingest.duplicates - duplicatesBefore, recovery: recovery)
    }

    package func close() throws { try writer.close() }
  }

  /// Calls `body` with each non-blank line of `input` (without `\n` or `\r\n`) and its 1-based
  /// number. An empty input is an error: there is nothing to append.
  package static func forEachLine(
    _ input: UnsafeRawBufferPointer, firstNumber: Int = 0, requireEvents: Bool = true,
    _ body: (UnsafeRawBufferPointer, Int) throws -> Void
  ) throws {
    var start = 0
    var number = firstNumber
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
    guard events > 0 || !requireEvents else {
      throw InputError(line: max(number, 1), "the input holds no events (an empty file?)")
    }
  }
}
