#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Redaction in place: masks every occurrence of a value (a pseudonym, for `hoso forget`) in the
/// records' payloads, re-seals the hash chain, and records that it did so in `REDACTIONS`.
///
/// The mask is exactly as long as the value, so no record moves: the `.idx` and `.tix` indexes
/// (seqs, offsets and times, never payload bytes) stay valid, and so does the clean-shutdown
/// marker (sizes and seqs). What changes is the bytes of the masked records and their CRC32C,
/// and the chain hash of every sealed segment from the first touched one to the end, because
/// each footer's hash covers the hash before it.
///
/// The steps, each safe to interrupt:
///
/// 1. Plan (reads only, under the writer lock): find every occurrence, check the CRC of every
///    touched frame and the SHA-256 of every segment that will be re-sealed (a re-seal must
///    never launder damage that was already there), and compute every new byte: masked payload
///    runs, CRCs, footers.
/// 2. Write the plan to `REDACTING` (atomically, synced). It holds the positions and the new
///    bytes, not the pattern, so a crash leaves no copy of what is being removed.
/// 3. Touched segments: a full copy with the new bytes (`NAME.seg.redact`), synced, renamed over
///    the segment, and the directory synced. A reader sees the old file or the new one, never a
///    frame half masked. Masking in place could leave one, and in the last segment recovery
///    would cut it as a torn tail, taking committed events with it.
/// 4. Untouched sealed segments after the first touched one: only their footer changes. It is
///    rewritten in place (112 bytes, synced). A copy would rewrite gigabytes to change a few
///    hundred bytes. A crash can tear that footer, but `REDACTING` says what every byte must
///    become, and the next writer finishes the job (`resume`) after checking that the
///    segment's body still has the hash it had before. A reader that opens the log at the very
///    moment a footer is written may find it damaged and fail. It never reads a wrong record,
///    and opening again succeeds.
/// 5. Append the record to `REDACTIONS` (synced), then delete `REDACTING`.
///
/// Whoever opens the log for writing next (`LogWriter.open`, and so `redact` itself) first
/// finishes an interrupted redaction. Each planned segment is found either as it was before
/// (then it is rewritten) or as planned (then it is left alone); anything else is damage.
package enum LogRedactor {
  /// The shortest pattern accepted. A pattern this long, of printable ASCII, cannot match the
  /// binary fields around the payloads (a seq, an offset or a time has zero high bytes) except by
  /// an accident that `redact` detects and refuses, rather than leaving a match behind.
  package static let minimumPatternLength = 8

  /// One re-sealed segment: its chain hash before and after the redaction.
  package struct Reseal: Sendable, Equatable {
    /// The segment's first seq.
    package var segment: UInt64
    package var oldHash: [UInt8]
    package var newHash: [UInt8]

    package init(segment: UInt64, oldHash: [UInt8], newHash: [UInt8]) {
      self.segment = segment
      self.oldHash = oldHash
      self.newHash = newHash
    }
  }

  /// A redaction, as one line of `REDACTIONS` records it.
  package struct Redaction: Sendable, Equatable, CustomStringConvertible {
    /// When, in microseconds since 1970-01-01T00:00:00Z (the unit of recorded_at).
    package var time: Int64
    package var mask: String
    package var reason: String
    /// The seqs of the records whose payload changed, ascending.
    package var seqs: [UInt64]
    /// The segments copied with masked records (their first seqs), ascending.
    package var rewritten: [UInt64]
    /// Every segment that was sealed at the time, from the first touched one to the end, with
    /// its chain hash before and after.
    package var resealed: [Reseal]

    package init(
      time: Int64, mask: String, reason: String, seqs: [UInt64] = [], rewritten: [UInt64] = [],
      resealed: [Reseal] = []
    ) {
      self.time = time
      self.mask = mask
      self.reason = reason
      self.seqs = seqs
      self.rewritten = rewritten
      self.resealed = resealed
    }

    /// The file names of the rewritten segments.
    package var rewrittenNames: [String] { rewritten.map { SegmentName.base($0) + ".seg" } }

    /// One line for `verify` and `forget`: what was masked, where, when and why.
    package var description: String {
      let records = "\(seqs.count) record\(seqs.count == 1 ? "" : "s")"
      var text =
        "redacted: mask \(mask) in \(records) (seq \(LogRedactor.ranges(seqs, limit: 8)))"
        + " at \(LogRedactor.formatTime(time)), reason \(LogRedactor.quote(reason))"
      if let first = resealed.first {
        text += "; chain re-sealed from segment \(SegmentName.base(first.segment))"
      } else if let segment = rewritten.first {
        text += "; segment \(SegmentName.base(segment)) rewritten (not sealed yet)"
      }
      return text
    }
  }

  /// What one call of `redact` did.
  package struct Report: Sendable {
    /// What was masked and re-sealed. Its `seqs` are empty when the pattern occurs nowhere;
    /// then no byte was changed and nothing was recorded.
    package var redaction: Redaction
    /// The occurrences masked (a record may hold more than one).
    package var occurrences: Int
    /// An earlier redaction, interrupted by a crash, that opening the log finished first.
    package var finishedEarlier: Redaction?
    /// What opening the log had to recover, if the last writer did not shut down cleanly.
    package var recovery: LogRecovery.Report?
  }

  // MARK: - Redacting

  /// Replaces every occurrence of `pattern` in the payloads of the log at `logPath` by `mask`,
  /// fixes each touched frame's CRC32C, re-seals every sealed segment from the first touched one
  /// to the end of the chain, and appends the record of it to `REDACTIONS`.
  ///
  /// Takes the writer lock itself, by opening the log as its writer (`LogWriter.open`, which also
  /// recovers a torn tail and finishes an interrupted redaction), and holds it until it returns.
  /// Leaves the clean-shutdown marker as it was: a same-length rewrite keeps it true.
  ///
  /// Throws `.invalidArgument` (nothing changed) when the mask is not as long as the pattern,
  /// either is not printable ASCII, the pattern is shorter than `minimumPatternLength`, the
  /// reason is empty or contains the pattern, or the pattern also occurs outside a payload;
  /// `.locked` when another writer holds the log; `.damaged` when a touched frame or a segment
  /// to re-seal is not what was written (then nothing changed either); `.io` and `.syncFailed`
  /// when the disk fails mid-way, which the next writer's open finishes.
  package static func redact(
    logPath: String, pattern: [UInt8], mask: [UInt8], reason: String, at time: Int64,
    fileSystem fs: FileSystem = .system
  ) throws -> Report {
    try checkArguments(pattern: pattern, mask: mask, reason: reason)
    let writer = try LogWriter.open(at: logPath, options: .init(fileSystem: fs))
    // The writer is the lock: it must live until the redaction is done.
    return try withExtendedLifetime(writer) { () throws -> Report in
      let dir = writer.directory
      var report = Report(
        redaction: Redaction(
          time: time, mask: String(decoding: mask, as: UTF8.self), reason: reason),
        occurrences: 0, finishedEarlier: writer.finishedRedaction, recovery: writer.recovery)
      // A damaged record of the earlier redactions stops this one before it changes anything.
      _ = try readRecordLog(dir, fs, allowTornTail: false)
      let plan = try makePlan(dir, pattern: pattern, mask: mask)
      guard !plan.seqs.isEmpty else { return report }
      report.occurrences = plan.occurrences
      report.redaction.seqs = plan.seqs
      report.redaction.rewritten = plan.segments.filter(\.copy).map(\.firstSeq)
      report.redaction.resealed = plan.segments.filter(\.sealed).map {
        Reseal(segment: $0.firstSeq, oldHash: $0.oldHash, newHash: $0.newHash)
      }
      let record = report.redaction.encoded()
      guard find(pattern, in: record) == nil else {
        throw LogError(
          .invalidArgument,
          "the reason contains the pattern: the record of a redaction must not hold what it"
            + " removes; nothing was changed")
      }
      let intent = Intent(record: record, segments: plan.segments)
      try fs.writeAtomically(intent.encode(), to: dir.redactingPath, directory: dir.path)
      try apply(intent, dir, fs, checked: true)
      return report
    }
  }

  /// Finishes an interrupted redaction of the log at `logPath`, if there is one, by opening the
  /// log as its writer (which takes the lock and recovers the tail too). Returns what it
  /// finished.
  package static func resume(logPath: String, fileSystem fs: FileSystem = .system) throws
    -> Redaction?
  {
    let writer = try LogWriter.open(at: logPath, options: .init(fileSystem: fs))
    return withExtendedLifetime(writer) { writer.finishedRedaction }
  }

  /// Finishes an interrupted redaction, if `REDACTING` is there; `LogWriter.open` calls it,
  /// with the lock held, before it looks at the segments (whose chain is not whole until then).
  ///
  /// Throws `.damaged` when a planned segment is neither as it was before the redaction nor as
  /// planned, or when `REDACTING` or `REDACTIONS` is damaged.
  package static func resume(directory dir: LogDirectory, fileSystem fs: FileSystem) throws
    -> Redaction?
  {
    // A plan whose atomic write never finished: nothing was changed after it.
    let unwritten = dir.redactingPath + ".tmp"
    if access(unwritten, F_OK) == 0, fs.unlink(unwritten) != 0, errno != ENOENT {
      throw LogError(SystemCallError("unlink", path: unwritten))
    }
    guard let bytes = try fs.readFile(dir.redactingPath) else { return nil }
    let intent = try Intent.decode(bytes, path: dir.redactingPath)
    for name in directoryEntries(dir.path) ?? [] where name.hasSuffix(copySuffix) {
      let path = dir.path + "/" + name
      if fs.unlink(path) != 0 && errno != ENOENT {
        throw LogError(SystemCallError("unlink", path: path))
      }
    }
    return try apply(intent, dir, fs, checked: false)
  }

  /// The redactions recorded in the log at `logPath`, oldest first, after checking the chain of
  /// `REDACTIONS`. Throws `.damaged` when a line was changed, removed or cut.
  package static func recorded(logPath: String, fileSystem fs: FileSystem = .system) throws
    -> [Redaction]
  {
    let dir = LogDirectory(logPath)
    _ = try dir.readFormat(fs)
    return try readRecordLog(dir, fs, allowTornTail: false).redactions
  }

  // MARK: - Arguments

  private static func checkArguments(pattern: [UInt8], mask: [UInt8], reason: String) throws {
    // The messages never quote the pattern: it is the personal data being removed.
    guard mask.count == pattern.count else {
      throw LogError(
        .invalidArgument,
        "the mask is \(mask.count) bytes long and the pattern \(pattern.count): a redaction keeps"
          + " every byte where it is, so they must be equally long; nothing was changed")
    }
    guard pattern.count >= minimumPatternLength else {
      throw LogError(
        .invalidArgument,
        "the pattern is shorter than \(minimumPatternLength) bytes: it could match other bytes"
          + " of the log by chance; nothing was changed")
    }
    let printable: (UInt8) -> Bool = { $0 >= 0x20 && $0 <= 0x7E }
    guard pattern.allSatisfy(printable), mask.allSatisfy(printable) else {
      throw LogError(
        .invalidArgument, "the pattern and the mask must be printable ASCII; nothing was changed")
    }
    guard mask != pattern else {
      throw LogError(.invalidArgument, "the mask is the pattern itself; nothing was changed")
    }
    guard !reason.isEmpty else {
      throw LogError(.invalidArgument, "a redaction needs a reason; nothing was changed")
    }
  }
}

extension LogDirectory {
  /// `REDACTIONS`: the record of every redaction, one hash-chained line each (append-only).
  package var redactionsPath: String { path + "/REDACTIONS" }
  /// `REDACTING`: the plan of a redaction under way; present only until it is finished.
  package var redactingPath: String { path + "/REDACTING" }
}
