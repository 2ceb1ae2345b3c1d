import EventLog

/// Validates an input of events line by line against the catalog and the store, and turns it
/// into a batch of canonical records for the log.
///
/// Nothing is written until the whole input has passed: the first problem ends the ingest
/// with an `InputError` naming its line, column and field.
package struct Ingest {
  /// What is known of the store before the input: built by `StoreState.load`, and extended
  /// by each accepted line (its id, the unit it establishes).
  package var state: StoreState
  /// The records to append, in input order, duplicates left out.
  package private(set) var batch = RecordBatch()
  /// Inputs whose id was already in the store or the input with the same content.
  package private(set) var duplicates = 0
  /// The `state.ids` entries this input created, in batch order.
  private var pendingEntries: [Int] = []
  /// The input lines of those entries, to compare a later duplicate with (the input stays
  /// mapped for the whole append).
  private var pendingLines: [(start: UnsafeRawPointer?, count: Int, number: Int)] = []
  /// Whether accepted records are kept in `batch` (tests), or only handed out one by one.
  private let collect: Bool
  /// The record just accepted by `add`, and its recorded_at.
  package private(set) var payloadRecordedAt: Int64 = 0
  package private(set) var accepted = 0

  private let now: Int64
  private var validator: LineValidator
  private var out = ByteBuffer(capacity: 4096)
  private var lastRecordedAt: Int64

  /// - Parameters:
  ///   - now: the append's time: the stamp for events without `recorded_at`, and the latest
  ///     time an event may carry.
  ///   - pseudonymizer: set with `--pseudonymize`: raw identifiers in `person` become
  ///     pseudonyms; without it they are rejected.
  ///   - expectedBytes: the input's size, to reserve the batch's memory once.
  package init(
    state: StoreState, now: Int64, pseudonymizer: Pseudonymizer?, collect: Bool = true,
    expectedBytes: Int = 0
  ) {
    self.state = state
    self.collect = collect
    self.pseudonymizer = pseudonymizer
    self.now = now
    validator = LineValidator(now: now, pseudonymizer: pseudonymizer)
    lastRecordedAt = state.lastRecordedAt
    // Slots for an event every 256 bytes spare most rehashing on the way (realistic events
    // are 250-300 bytes; a guess too low only means the table grows as before).
    reserve(bytes: expectedBytes)
    if collect {
      // Canonical JSON is never longer than its input, but for a stamped recorded_at.
      batch = RecordBatch(
        reservingCapacity: expectedBytes + expectedBytes / 4, records: expectedBytes / 200)
    }
  }

  private let pseudonymizer: Pseudonymizer?

  /// The canonical JSON of the record `add` just accepted.
  package func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try out.withUnsafeBytes(body)
  }

  /// Releases the validator's scratch memory and the record buffer.
  package func finish() {
    out.deallocate()
    validator.deallocate()
    recheck?.deallocate()
  }

  /// A second validator, for validating an earlier line again when a duplicate of it comes.
  private var recheck: LineValidator?

  /// Expects about `bytes` more of input: sizes the id table once.
  package mutating func reserve(bytes: Int) {
    state.ids.reserve(state.ids.count + bytes / 256)
  }

  /// The batch of the lines accepted so far is in the log from `firstSeq` on: their ids get
  /// their seqs, and the next input starts a new batch (`reader` opens a reader that sees the
  /// new records, for the comparison behind a duplicate; called only if one is needed).
  package mutating func batchCommitted(
    firstSeq: UInt64, reader: @escaping () throws -> LogReader
  ) {
    for (k, e) in pendingEntries.enumerated() { state.ids.setSeq(e, firstSeq + UInt64(k)) }
    if let last = pendingEntries.indices.last { state.lastSeq = firstSeq + UInt64(last) }
    state.lastRecordedAt = max(state.lastRecordedAt, lastRecordedAt)
    state.replaceReader(opening: reader)
    pendingEntries.removeAll(keepingCapacity: true)
    pendingLines.removeAll(keepingCapacity: true)
    batch = RecordBatch()
  }

  /// The largest line accepted: an event is at most 1 MiB of JSON.
  package static let maxLine = 1 << 20

  /// Validates one line (without its newline). Returns true when it is a new record (then
  /// `withPayload` gives its canonical JSON), false for a duplicate that is skipped.
  @discardableResult
  package mutating func add(line: UnsafeRawBufferPointer, number: Int) throws(InputError) -> Bool {
    guard line.count <= Self.maxLine else {
      throw InputError(
        line: number, "the line is \(line.count) bytes; an event is at most 1 MiB of JSON")
    }
    do {
      try validator.parse(line, number: number)
    } catch {
      throw InputError(
        line: number, column: characterColumn(ofByteOffset: error.offset, in: line),
        "invalid JSON: \(error.message)")
    }
    out.removeAll()
    let facts = try validator.validate(
      into: &out, state: state, stamp: max(now, lastRecordedAt))
    return try commit(facts, line: line, number: number)
  }

  /// The checks that need the store and the rest of the input, then the batch.
  private mutating func commit(
    _ f: LineValidator.Facts, line: UnsafeRawBufferPointer, number: Int
  ) throws(InputError) -> Bool {
    // Duplicate ids: the same content is skipped, other content is an error.
    let id = out.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[f.idRange]) }
    let h = IdTable.hash(id)
    if let e = state.ids.find(id, hash: h) {
      var failure: InputError?
      let same = out.withUnsafeBytes { b -> Bool in
        do throws(InputError) {
          return try sameContent(entry: e, as: b, line: number)
        } catch {
          failure = error
          return false
        }
      }
      if let failure { throw failure }
      if same {
        duplicates += 1
        return false
      }
      let whereText = state.ids.seqs[e] > 0 ? "seq \(state.ids.seqs[e])" : "an earlier line"
      throw validator.fail(
        f.idNode, "id",
        "id \"\(state.ids.id(e))\" is already used by a different event (\(whereText)); "
          + "to change an event, append an event.corrected that targets it")
    }
    // recorded_at never goes backwards along the log.
    if f.recordedAt < lastRecordedAt {
      throw validator.fail(
        f.recordedAtNode, "recorded_at",
        "recorded_at \(Timestamp.format(f.recordedAt)) is earlier than the log's last, "
          + "\(Timestamp.format(lastRecordedAt)); recorded_at never goes backwards")
    }
    // Units: named only once established; established only once.
    for (node, path) in validator.unitReferences
    where state.units.find(validator.bytes(node)) == nil {
      let code = doc(node)
      let hint = Catalog.nearest(code, in: state.units.allIds).map { " (did you mean \"\($0)\"?)" }
      throw validator.fail(
        node, path,
        "unit \"\(code)\" is not established; append its unit.established first" + (hint ?? ""))
    }
    if let node = f.establishes {
      let code = validator.bytes(node)
      guard state.units.find(code) == nil else {
        throw validator.fail(node, "unit", "unit \"\(doc(node))\" is already established")
      }
      state.units.insert(code, seq: 0, type: 0)
    }
    out.withUnsafeBytes { o in
      accept(
        id: UnsafeRawBufferPointer(rebasing: o[f.idRange]), hash: h, type: f.type,
        recordedAt: f.recordedAt, payload: o, line: line, number: number)
    }
    return true
  }

  /// Records an accepted line: its id (seq 0 until the log assigns one), where it is in the
  /// input (or, in tests, its payload), and its recorded_at as the new last.
  private mutating func accept(
    id: UnsafeRawBufferPointer, hash: UInt64, type: UInt8, recordedAt: Int64,
    payload: UnsafeRawBufferPointer, line: UnsafeRawBufferPointer, number: Int
  ) {
    pendingEntries.append(state.ids.insert(id, hash: hash, seq: 0, type: type))
    lastRecordedAt = recordedAt
    payloadRecordedAt = recordedAt
    accepted += 1
    if collect {
      batch.append(recordedAt: recordedAt, payload: payload)
    } else {
      pendingLines.append((line.baseAddress, line.count, number))
    }
  }

  /// What `commitPrepared` did with a line.
  package enum PreparedVerdict {
    /// A new record: its payload goes to the log.
    case accepted
    /// Already in the store with the same content: skipped and counted.
    case duplicate
    /// Not decided here: the full path (`add`) judges the line.
    case fullPath
  }

  /// Commits a line that `PreparedInput` validated and encoded on another thread, when the
  /// store-level checks decide at once: a new id, recorded_at not going backwards, a known
  /// unit; or an id already in the store with exactly this content. Anything else goes the
  /// full path (`add`), which accepts it or produces the exact error.
  package mutating func commitPrepared(
    _ p: PreparedLine, payload: UnsafeRawBufferPointer, line: UnsafeRawBufferPointer,
    number: Int
  ) -> PreparedVerdict {
    guard !p.deferred else { return .fullPath }
    let id = UnsafeRawBufferPointer(rebasing: payload[p.idRange])
    let h = IdTable.hash(id)
    if let e = state.ids.find(id, hash: h) {
      // A re-import of the same event is skipped here; anything else is judged in full.
      guard (try? sameContent(entry: e, as: payload, line: number)) == true else {
        return .fullPath
      }
      duplicates += 1
      return .duplicate
    }
    guard p.recordedAt >= lastRecordedAt,
      state.units.find(UnsafeRawBufferPointer(rebasing: payload[p.unitRange])) != nil
    else { return .fullPath }
    accept(
      id: id, hash: h, type: p.type, recordedAt: p.recordedAt, payload: payload, line: line,
      number: number)
    return .accepted
  }

  private func doc(_ node: Int) -> String { validator.doc.string(at: node, in: validator.line) }

  /// Whether the event at `entry` (in the store, or earlier in the input) has exactly the
  /// content of `payload`, all but `recorded_at`: duplicates are rare, so their bytes are
  /// compared rather than hashes kept for every event.
  /// Throws, as the store's failure, when the log cannot be read for the comparison.
  private mutating func sameContent(
    entry: Int, as payload: UnsafeRawBufferPointer, line number: Int
  ) throws(InputError) -> Bool {
    if state.ids.seqs[entry] == 0 {
      // Entries are created in input order: a binary search finds the line.
      var lo = 0
      var hi = pendingEntries.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if pendingEntries[mid] < entry { lo = mid + 1 } else { hi = mid }
      }
      guard lo < pendingEntries.count, pendingEntries[lo] == entry else { return false }
      let i = lo
      let other: [UInt8]
      if collect {
        other = Array(batch.bytes[batch.range(i)])
      } else {
        // Validate the earlier line again, with a validator of its own: same line, same bytes.
        let (start, count, number) = pendingLines[i]
        var again = recheck ?? LineValidator(now: now, pseudonymizer: pseudonymizer)
        defer { recheck = again }
        var bytes = ByteBuffer(capacity: count + count / 4)
        defer { bytes.deallocate() }
        guard
          (try? again.parse(UnsafeRawBufferPointer(start: start, count: count), number: number))
            != nil,
          (try? again.validate(into: &bytes, state: state, stamp: max(now, state.lastRecordedAt)))
            != nil
        else { return false }
        other = bytes.array
      }
      return other.withUnsafeBytes { CanonicalEnvelope.sameContent($0, payload) }
    }
    let seq = state.ids.seqs[entry]
    let stored: [UInt8]?
    do {
      stored = try state.payload(seq: seq)
    } catch {
      let failure = LogError(
        (error as? LogError)?.kind ?? .io,
        "cannot read seq \(seq) of the log to compare line \(number), which repeats its id: "
          + ((error as? LogError)?.message ?? "\(error)"))
      throw InputError(line: number, failure.message, storeFailure: failure)
    }
    guard let other = stored else { return false }
    return other.withUnsafeBytes { CanonicalEnvelope.sameContent($0, payload) }
  }
}
