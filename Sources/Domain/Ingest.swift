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

  private let now: Int64
  private var validator: LineValidator
  private var out: [UInt8] = []
  private var lastRecordedAt: Int64

  /// - Parameters:
  ///   - now: the append's time: the stamp for events without `recorded_at`, and the latest
  ///     time an event may carry.
  ///   - pseudonymizer: set with `--pseudonymize`: raw identifiers in `person` become
  ///     pseudonyms; without it they are rejected.
  ///   - expectedBytes: the input's size, to reserve the batch's memory once.
  package init(
    state: StoreState, now: Int64, pseudonymizer: Pseudonymizer?, expectedBytes: Int = 0
  ) {
    self.state = state
    self.now = now
    validator = LineValidator(now: now, pseudonymizer: pseudonymizer)
    lastRecordedAt = state.lastRecordedAt
    out.reserveCapacity(4096)
    // Canonical JSON is never longer than its input, but for a stamped recorded_at.
    batch = RecordBatch(
      reservingCapacity: expectedBytes + expectedBytes / 4, records: expectedBytes / 200)
  }

  /// Releases the validator's scratch memory.
  package func finish() { validator.deallocate() }

  /// The largest line accepted: an event is at most 1 MiB of JSON.
  package static let maxLine = 1 << 20

  /// Validates one line (without its newline) and adds it to the batch.
  package mutating func add(line: UnsafeRawBufferPointer, number: Int) throws(InputError) {
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
    out.removeAll(keepingCapacity: true)
    let facts = try validator.validate(
      into: &out, state: state, stamp: max(now, lastRecordedAt))
    try commit(facts, number: number)
  }

  /// The checks that need the store and the rest of the input, then the batch.
  private mutating func commit(_ f: LineValidator.Facts, number: Int) throws(InputError) {
    // Duplicate ids: the same content is skipped, other content is an error.
    let contentHash = out.withUnsafeBytes {
      CanonicalEnvelope.contentHash($0, recordedAt: f.recordedAtRange)
    }
    let existing = out.withUnsafeBytes { o in
      state.ids.find(UnsafeRawBufferPointer(rebasing: o[f.idRange]))
    }
    if let e = existing {
      if state.ids.contentHashes[e] == contentHash && sameContent(entry: e, as: f) {
        duplicates += 1
        return
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
      state.units.insert(code, seq: 0, contentHash: 0, type: 0)
    }
    let entry = out.withUnsafeBytes { o in
      state.ids.insert(
        UnsafeRawBufferPointer(rebasing: o[f.idRange]), seq: 0, contentHash: contentHash,
        type: f.type)
    }
    pendingEntries.append(entry)
    lastRecordedAt = f.recordedAt
    batch.append(recordedAt: f.recordedAt, payload: out)
  }

  private func doc(_ node: Int) -> String { validator.doc.string(at: node, in: validator.line) }

  /// Whether the event at `entry` has exactly this content (all but `recorded_at`): the hash
  /// said so, the bytes decide.
  private func sameContent(entry: Int, as f: LineValidator.Facts) -> Bool {
    let mine = Array(out[..<f.recordedAtRange.lowerBound] + out[f.recordedAtRange.upperBound...])
    if state.ids.seqs[entry] == 0 {
      guard let i = pendingEntries.firstIndex(of: entry) else { return false }
      let other = Array(batch.bytes[batch.range(i)])
      return LineValidator.withoutRecordedAt(other) == mine
    }
    guard let other = state.payload(seq: state.ids.seqs[entry]) else { return false }
    return LineValidator.withoutRecordedAt(other) == mine
  }
}
