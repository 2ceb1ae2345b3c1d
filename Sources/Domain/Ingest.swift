import EventLog

/// Validates an input of events line by line against the catalog and the store, and turns it
/// into a batch of canonical records for the log.
///
/// Nothing is written until the whole input has passed: the first problem ends the ingest
/// with an `InputError` naming its line, column and field.
package struct Ingest {
  /// What is known of the store before the input: built by `StoreState.load`.
  package var state: StoreState
  /// The records to append, in input order, duplicates left out.
  package private(set) var batch = RecordBatch()
  /// Inputs whose id was already in the store or the input with the same content.
  package private(set) var duplicates = 0
  /// The input's events by seq-to-be: entries of `state.ids` created by this input.
  private var pendingEntries: [Int] = []

  private let now: Int64
  private let pseudonymizer: Pseudonymizer?
  private var doc = JSONDocument()
  private var out: [UInt8] = []
  private var text: [UInt8] = []
  private var lastRecordedAt: Int64

  /// - Parameters:
  ///   - now: the append's time: the stamp for events without `recorded_at`, and the latest
  ///     time an event may carry.
  ///   - pseudonymizer: set with `--pseudonymize`: raw identifiers in `person` become
  ///     pseudonyms; without it they are rejected.
  package init(state: StoreState, now: Int64, pseudonymizer: Pseudonymizer?) {
    self.state = state
    self.now = now
    self.pseudonymizer = pseudonymizer
    lastRecordedAt = state.lastRecordedAt
    out.reserveCapacity(4096)
  }

  /// The largest line accepted: an event is at most 1 MiB of JSON.
  package static let maxLine = 1 << 20

  // MARK: - One line

  /// Validates one line (without its newline) and adds it to the batch.
  package mutating func add(line: UnsafeRawBufferPointer, number: Int) throws(InputError) {
    guard line.count <= Self.maxLine else {
      throw InputError(
        line: number, "the line is \(line.count) bytes; an event is at most 1 MiB of JSON")
    }
    do {
      try doc.parse(line)
    } catch {
      throw InputError(
        line: number, column: characterColumn(ofByteOffset: error.offset, in: line),
        "invalid JSON: \(error.message)")
    }
    var v = LineValidator(
      doc: doc, line: line, number: number, now: now, pseudonymizer: pseudonymizer)
    out.removeAll(keepingCapacity: true)
    let facts = try v.validate(into: &out, state: state, stamp: max(now, lastRecordedAt))
    try commit(facts, line: line, number: number, validator: v)
  }

  /// The checks that need the store and the rest of the input, then the batch.
  private mutating func commit(
    _ f: LineValidator.Facts, line: UnsafeRawBufferPointer, number: Int, validator v: LineValidator
  ) throws(InputError) {
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
      throw InputError(
        line: number, column: v.column(of: f.idNode), field: "id",
        "id \"\(state.ids.id(e))\" is already used by a different event (\(whereText)); "
          + "to change an event, append an event.corrected that targets it")
    }
    // recorded_at never goes backwards along the log.
    if f.recordedAt < lastRecordedAt {
      throw InputError(
        line: number, column: f.recordedAtNode.map { v.column(of: $0) }, field: "recorded_at",
        "recorded_at \(Timestamp.format(f.recordedAt)) is earlier than the log's last, "
          + "\(Timestamp.format(lastRecordedAt)); recorded_at never goes backwards")
    }
    // Units: named only once established; established only once.
    for (code, node, field) in f.unitReferences where !state.units.contains(code) {
      throw InputError(
        line: number, column: v.column(of: node), field: field,
        "unit \"\(code)\" is not established; append its unit.established first"
          + (Catalog.nearest(code, in: Array(state.units)).map { " (did you mean \"\($0)\"?)" }
            ?? ""))
    }
    if let code = f.establishes {
      guard !state.units.contains(code) else {
        throw InputError(
          line: number, column: v.column(of: f.unitNode), field: "unit",
          "unit \"\(code)\" is already established")
      }
      state.units.insert(code)
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

  /// Gives the batch's entries their seqs once the log has assigned them.
  package mutating func assignSeqs(first: UInt64) {
    for (i, e) in pendingEntries.enumerated() { state.ids.setSeq(e, first + UInt64(i)) }
    pendingEntries.removeAll()
    batch = RecordBatch()
  }
}
