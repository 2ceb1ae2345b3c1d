#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The single writer of a log: appends batches durably and atomically.
///
/// Opening it takes the advisory lock on `LOCK`, recovers a torn tail left by a crash (see
/// `LogRecovery`), and checks the structure of the sealed segments (footers, sequence ranges,
/// hash chain links), which costs one small read per segment. The frames of sealed segments
/// are not re-read: `verify` does that, and so does anything that reads them.
///
/// After an error the writer refuses further appends: the disk state is rolled back where that
/// is possible and left to the next open's recovery where it is not.
package final class LogWriter {
  package static let minimumSegmentSize = 4096
  package static let defaultSegmentSize = 64 << 20

  /// When an append reaches the disk.
  package enum SyncMode: String, Sendable {
    /// `fsync` once per batch, before `append` returns: the batch survives a power cut.
    case batch
    /// No `fsync`: a crash of the process loses nothing, a crash of the machine may lose the
    /// batch. For bulk loads that can be redone.
    case none
  }

  package struct Options: Sendable {
    package var sync: SyncMode = .batch
    package var fileSystem: FileSystem = .system
    package init(sync: SyncMode = .batch, fileSystem: FileSystem = .system) {
      self.sync = sync
      self.fileSystem = fileSystem
    }
  }

  /// The segment being appended to.
  private struct Active {
    var fd: Int32
    var firstSeq: UInt64
    var size: Int64
    var frames: Int
    var firstRecordedAt: Int64
    var index: [IndexEntry]
    var indexWritten: Int
    var lastIndexed: Int64
  }

  package let directory: LogDirectory
  package let segmentSize: Int
  package let sync: SyncMode
  private let fs: FileSystem
  private(set) var lockFD: Int32
  // The writer is used from one thread, and none of its methods re-enters another while it
  // holds a property: the properties touched for every frame skip the run-time exclusivity
  // check, which cost about 5 % of an append's main-thread time.
  @exclusivity(unchecked) package private(set) var lastSeq: UInt64 = 0
  @exclusivity(unchecked) package private(set) var lastRecordedAt: Int64 = .min
  /// The sealing of full segments, on a queue of its own: hashing a segment (SHA-256 runs at
  /// about 500 MB/s) overlaps with writing the next one. A batch commits only after every
  /// segment it filled is sealed and synced.
  private let sealer = Sealer()
  @exclusivity(unchecked) private var active: Active?
  private var failure: LogError?
  private var closed = false
  /// Whether `CLEAN` is on disk: removed (and the removal synced) before the first change, so
  /// it is never there while it could be false, and an open that changes nothing leaves the
  /// directory as it was.
  private var cleanMarkerPresent = false
  @exclusivity(unchecked) private var buffer: [UInt8] = []
  /// `ACKED`, rewritten as each batch is acknowledged.
  private var ackedFile: AckedFile?
  /// What the open had to repair, if anything.
  package private(set) var recovery: LogRecovery.Report?
  /// A redaction that a crash interrupted and the open finished, if any.
  package private(set) var finishedRedaction: LogRedactor.Redaction?

  // MARK: - Creating and opening

  /// Creates an empty log in `path` (which may exist but must not hold a log).
  package static func create(
    at path: String, segmentSize: Int = defaultSegmentSize, fileSystem fs: FileSystem = .system
  ) throws {
    guard segmentSize >= minimumSegmentSize, segmentSize <= 1 << 40 else {
      throw LogError(
        .invalidArgument,
        "segment size \(segmentSize) is out of range (\(minimumSegmentSize) to 1 TiB)")
    }
    if fs.mkdir(path, 0o700) != 0 && errno != EEXIST {
      throw LogError(SystemCallError("mkdir", path: path))
    }
    let dir = LogDirectory(path)
    if access(dir.formatPath, F_OK) == 0 {
      throw LogError(.invalidArgument, "\(path) already holds an event log")
    }
    // `ACKED` first: a log is a log once `FORMAT` is there, and from then on it keeps one.
    try AckedExtent.create(AckedExtent(), dir, fs)
    let format = LogDirectory.Format(version: 1, segmentSize: segmentSize, acked: true)
    try fs.writeAtomically(format.encode(), to: dir.formatPath, directory: path)
  }

  /// Opens the log in `path` for appending.
  ///
  /// Throws `.missing` when there is no log, `.locked` when another writer holds it, `.damaged`
  /// when a sealed segment or the chain is broken or a torn tail hides committed records.
  package static func open(at path: String, options: Options = Options()) throws
    -> LogWriter
  {
    let dir = LogDirectory(path)
    let fs = options.fileSystem
    let format = try dir.readFormat(fs)
    let lockFD = try takeLock(dir, fs)
    let writer = LogWriter(
      directory: dir, segmentSize: format.segmentSize, sync: options.sync, fs: fs, lockFD: lockFD)
    // An interrupted redaction first: until it is finished the chain is not whole.
    writer.finishedRedaction = try LogRedactor.resume(directory: dir, fileSystem: fs)
    try writer.load(format)
    return writer
  }

  private init(
    directory: LogDirectory, segmentSize: Int, sync: SyncMode, fs: FileSystem, lockFD: Int32
  ) {
    self.directory = directory
    self.segmentSize = segmentSize
    self.sync = sync
    self.fs = fs
    self.lockFD = lockFD
  }

  deinit {
    if let active { _ = fs.close(active.fd) }
    if lockFD >= 0 { Self.releaseLock(lockFD, fs) }
  }

  /// Unlocks, then closes, the lock's descriptor. A process started meanwhile holds a copy of
  /// it between its fork and its exec (close-on-exec closes it only at the exec), and a
  /// `flock` lock lasts while any copy is open: without the unlock, the next writer could
  /// find the log locked by nobody.
  private static func releaseLock(_ fd: Int32, _ fs: FileSystem) {
    _ = flock(fd, LOCK_UN)
    _ = fs.close(fd)
  }

  /// Takes the writer lock without waiting. The lock file's content never changes, so an
  /// open that appends nothing leaves every byte of the store as it was. `flock(2)` with
  /// `LOCK_EX | LOCK_NB`.
  private static func takeLock(_ dir: LogDirectory, _ fs: FileSystem) throws -> Int32 {
    let fd = fs.open(dir.lockPath, O_RDWR | O_CREAT, 0o600)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: dir.lockPath)) }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      _ = fs.close(fd)
      if code == EWOULDBLOCK {
        throw LogError(
          .locked,
          "the store is locked by another writer; wait for it to finish, or stop it")
      }
      throw LogError(SystemCallError("flock", path: dir.lockPath, errno: code))
    }
    return fd
  }

  /// Finds where the log ends, recovering the tail when the last shutdown was not clean, and
  /// checks the sealed segments' structure. Damage is found before anything is changed: a
  /// recovery that would cut what `ACKED` says was acknowledged is refused.
  private func load(_ format: LogDirectory.Format) throws {
    let segments = directory.segments()
    let marker: CleanMarker?
    do {
      marker = try fs.readFile(directory.cleanPath).flatMap(CleanMarker.decode)
    }
    let acked = try AckedExtent.read(directory, fs, format: format)

    var plan: LogRecovery.TailPlan
    if let marker, let last = segments.last, marker.lastSegment == last,
      marker.lastSeq >= acked?.lastSeq ?? 0,
      let fast = try LogRecovery.cleanTail(directory, fs, marker: marker)
    {
      plan = LogRecovery.TailPlan()
      plan.tail = fast
      plan.segments = segments
      plan.keptSeq = marker.lastSeq
    } else {
      plan = try LogRecovery.planTail(directory, fs, segments: segments)
    }
    if let acked { try LogRecovery.checkAcknowledged(&plan, acked: acked, directory, fs) }
    let tail = plan.tail
    let sealed = tail.active == nil ? plan.segments : Array(plan.segments.dropLast())
    let check = try LogRecovery.checkSealed(directory, fs, sealed: sealed, acked: acked)
    if let t = tail.active {
      if let previous = check.lastFooter, previous.lastSeq + 1 != t.firstSeq {
        throw LogError(
          .damaged, "segments do not follow each other: seq \(previous.lastSeq + 1) is missing",
          segment: directory.segmentName(t.firstSeq))
      } else if check.lastFooter == nil && t.firstSeq != 1 {
        throw LogError(
          .damaged, "the first segment does not start at seq 1",
          segment: directory.segmentName(t.firstSeq))
      }
      if let acked, t.firstSeq == acked.segment, check.chainHash != acked.chain {
        throw LogRecovery.chainReplaced(directory, segment: t.firstSeq)
      }
    }
    try LogRecovery.execute(plan, directory, fs)
    recovery = plan.report
    cleanMarkerPresent = access(directory.cleanPath, F_OK) == 0
    sealer.chainHash = check.chainHash
    if let lastSealed = check.lastFooter {
      lastSeq = lastSealed.lastSeq
      lastRecordedAt = lastSealed.lastRecordedAt
    }
    if let t = tail.active {
      let path = directory.segmentPath(t.firstSeq)
      let fd = fs.open(path, O_RDWR, 0)
      guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
      active = Active(
        fd: fd, firstSeq: t.firstSeq, size: t.size, frames: t.frames,
        firstRecordedAt: t.firstRecordedAt, index: t.index, indexWritten: t.index.count,
        lastIndexed: t.index.last?.offset ?? -SegmentIndex.interval)
      if t.frames > 0 {
        lastSeq = t.lastSeq
        lastRecordedAt = t.lastRecordedAt
      }
      if t.rewriteIndex { try writeIndexFiles(t.firstSeq, t.index) }
    }
    try keepAcknowledged(acked, plan: plan, check: check, format: format)
  }

  /// Opens `ACKED` for the batches to come, after moving it up to the end the open found when
  /// that lies beyond it: committed batches a crash left before their record was written (they
  /// are whole and now seen by readers, so from now on they are guarded too), or a log of an
  /// older hoso, which gets its first record.
  private func keepAcknowledged(
    _ acked: AckedExtent?, plan: LogRecovery.TailPlan,
    check: (chainHash: [UInt8], lastFooter: SegmentFooter?), format: LogDirectory.Format
  ) throws {
    if acked != nil, !format.acked {
      // `ACKED` made by an upgrade that a crash cut short before `FORMAT` said so.
      try markAcked(format)
    }
    // Kept as it is when it names the end and, for a synced writer, every record is synced;
    // rewritten when the end moved (committed batches it did not name, or `--sync none`
    // batches a crash lost) or when records of `--sync none` are to be made durable now.
    if let acked, acked.lastSeq == lastSeq, sync == .none || acked.durableSeq == lastSeq {
      ackedFile = try AckedFile(directory, fs, current: acked)
      return
    }
    if sync == .batch { try syncSegments(above: acked?.durableSeq ?? 0) }
    var e = AckedExtent()
    if lastSeq > 0 {
      // The segment of the last record: the active one, or the last sealed one.
      let segment = active?.firstSeq ?? plan.segments.last!
      var frame = plan.keptFrame
      if plan.keptSeq != lastSeq || plan.keptSegment != segment || frame.isEmpty {
        let bytes = try directory.readSegment(segment, fs)
        let scan = bytes.withUnsafeBytes { SegmentScan.scan($0, expectedFirstSeq: segment) }
        guard scan.commitSeq == lastSeq else {
          throw LogError(
            .damaged, "the last committed record is not where the segment's end says",
            segment: directory.segmentName(segment), seq: lastSeq)
        }
        frame = scan.commitFrameOffset..<scan.commitEnd
      }
      e.segment = segment
      e.frameOffset = frame.lowerBound
      e.end = frame.upperBound
      e.lastSeq = lastSeq
      e.lastRecordedAt = lastRecordedAt
      e.durableSeq = sync == .batch ? lastSeq : min(acked?.durableSeq ?? 0, lastSeq)
      e.chain = active == nil ? check.lastFooter!.previousHash : check.chainHash
    }
    if let acked {
      let file = try AckedFile(directory, fs, current: acked)
      try file.write(e, sync: true)
      ackedFile = file
    } else {
      try AckedExtent.create(e, directory, fs)
      try markAcked(format)
      ackedFile = try AckedFile(directory, fs, current: e)
    }
  }

  /// `FORMAT` with `acked 1`: from now on a missing `ACKED` is damage.
  private func markAcked(_ format: LogDirectory.Format) throws {
    var upgraded = format
    upgraded.acked = true
    try fs.writeAtomically(upgraded.encode(), to: directory.formatPath, directory: directory.path)
  }

  /// Syncs every segment that may hold records above `seq` (written with `--sync none`, or
  /// found by the open), and the folder: only then may `ACKED` call them durable.
  private func syncSegments(above seq: UInt64) throws {
    let all = directory.segments()
    guard let first = all.lastIndex(where: { $0 <= seq + 1 }) ?? all.indices.first else { return }
    for s in all[first...] {
      if let a = active, a.firstSeq == s {
        guard fs.fsync(a.fd) == 0 else {
          throw LogError(SystemCallError("fsync", path: directory.segmentPath(s)))
        }
        continue
      }
      let path = directory.segmentPath(s)
      let fd = fs.open(path, O_RDONLY, 0)
      guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
      defer { _ = fs.close(fd) }
      guard fs.fsync(fd) == 0 else { throw LogError(SystemCallError("fsync", path: path)) }
    }
    try fs.syncDirectory(directory.path)
  }

  // MARK: - Appending

  /// Appends `batch` atomically: after a crash either every record is in the log or none is.
  ///
  /// Returns the seqs the records received. With `.batch` sync it returns only once the batch
  /// is on disk. Throws `.invalidArgument` for a record over `Frame.maxPayload` or a
  /// `recordedAt` earlier than the log's last, `.syncFailed` when `fsync` fails, `.io` for any
  /// other failed call.
  @discardableResult
  package func append(_ batch: RecordBatch) throws -> ClosedRange<UInt64> {
    guard !batch.isEmpty else { throw LogError(.invalidArgument, "an empty batch") }
    try beginBatch()
    do {
      try batch.bytes.withUnsafeBytes { all in
        for i in 0..<batch.count {
          try add(
            recordedAt: batch.recordedAt[i],
            payload: UnsafeRawBufferPointer(rebasing: all[batch.range(i)]))
        }
      }
      return try commitBatch()!
    } catch {
      abortBatch()
      throw error
    }
  }

  /// Where the log stood when the open batch began: what `abortBatch` restores.
  private struct Rollback {
    var segment: UInt64?
    var size: Int64?
    var indexCount: Int
    var seq: UInt64
    var time: Int64
    var chain: [UInt8]
    var cleanMarker: [UInt8]?
  }
  private var rollback: Rollback?
  /// Where the most recent frame starts in `buffer`: it is held back until the batch either
  /// goes on (then it is an ordinary frame) or commits (then it gets the commit mark).
  @exclusivity(unchecked) private var lastFrameStart: Int?

  /// Starts a batch: records are then given one by one with `add` (written to the log as they
  /// come, without a commit mark, invisible to readers) and made durable by `commitBatch`, or
  /// taken back by `abortBatch`, which leaves every file as it was.
  ///
  /// Streaming a batch keeps memory flat whatever its size, and lets validation and writing
  /// overlap; a crash before the commit leaves records that the next open cuts.
  package func beginBatch() throws {
    if let failure { throw failure }
    guard !closed else { throw LogError(.invalidArgument, "the log writer is closed") }
    guard rollback == nil else { throw LogError(.invalidArgument, "a batch is already open") }
    var marker: [UInt8]?
    if cleanMarkerPresent {
      marker = try fs.readFile(directory.cleanPath)
      if fs.unlink(directory.cleanPath) != 0 && errno != ENOENT {
        throw LogError(SystemCallError("unlink", path: directory.cleanPath))
      }
      try fs.syncDirectory(directory.path)
      cleanMarkerPresent = false
    }
    rollback = Rollback(
      segment: active?.firstSeq, size: active?.size, indexCount: active?.indexWritten ?? 0,
      seq: lastSeq, time: lastRecordedAt, chain: sealer.chainHash, cleanMarker: marker)
  }

  /// The number of records added to the open batch so far.
  package var batchCount: Int { rollback.map { Int(lastSeq - $0.seq) } ?? 0 }

  /// Adds a record to the open batch; returns its seq.
  @discardableResult
  package func add(recordedAt time: Int64, payload: UnsafeRawBufferPointer) throws -> UInt64 {
    guard rollback != nil else { throw LogError(.invalidArgument, "no batch is open") }
    if let failure { throw failure }
    guard time >= lastRecordedAt else {
      throw LogError(.invalidArgument, "recorded_at goes backwards", seq: lastSeq + 1)
    }
    guard payload.count <= Frame.maxPayload else {
      throw LogError(.invalidArgument, "a record is longer than 1 MiB", seq: lastSeq + 1)
    }
    do {
      try writeFrame(recordedAt: time, payload: payload)
    } catch let error as LogError {
      failure = error
      throw error
    }
    return lastSeq
  }

  /// Makes the open batch durable: the last record gets the commit mark, every segment the
  /// batch filled is sealed, and (with `.batch` sync) the active segment is synced. Returns
  /// the batch's seqs, or nil for an empty batch (which writes nothing).
  @discardableResult
  package func commitBatch() throws -> ClosedRange<UInt64>? {
    guard let r = rollback else { throw LogError(.invalidArgument, "no batch is open") }
    if let failure { throw failure }
    guard lastSeq > r.seq, let last = lastFrameStart else {
      abortBatch()
      return nil
    }
    do {
      // Every segment the batch filled is sealed and synced before the commit mark can reach
      // the disk: a commit mark never follows a segment without its footer.
      try sealer.wait()
      buffer.withUnsafeMutableBytes { b in Frame.markCommit(b.baseAddress! + last) }
      let frameOffset = active!.size + Int64(last)
      lastFrameStart = nil
      try flush()
      if let a = active {
        if sync == .batch {
          guard fs.fsync(a.fd) == 0 else {
            throw LogError(SystemCallError("fsync", path: directory.segmentPath(a.firstSeq)))
          }
        }
        try writeIndexTail()
        // The batch is acknowledged once this record is: after the sync above, so that it
        // never names a record the disk may not have.
        if let file = ackedFile {
          // Earlier `--sync none` batches may lie in segments that were sealed unsynced.
          if sync == .batch && file.current.durableSeq < r.seq {
            try syncSegments(above: file.current.durableSeq)
          }
          var e = AckedExtent()
          e.segment = a.firstSeq
          e.frameOffset = frameOffset
          e.end = a.size
          e.lastSeq = lastSeq
          e.lastRecordedAt = lastRecordedAt
          e.durableSeq = sync == .batch ? lastSeq : file.current.durableSeq
          e.chain = sealer.chainHash
          do {
            try file.write(e, sync: sync == .batch)
          } catch let error as LogError {
            // The record may have reached the page cache, naming this batch: the batch is
            // synced and whole, so it stays (never acknowledged, but not taken back, which
            // would leave the record naming what is gone). The writer takes no more.
            failure = error
            rollback = nil
            throw error
          }
        }
      }
    } catch let error as LogError {
      if failure == nil || rollback != nil {
        failure = error
        abortBatch()
      }
      throw error
    }
    rollback = nil
    return (r.seq + 1)...lastSeq
  }

  /// Takes the open batch back: segments it created are removed, the one it began in is cut
  /// back to its size (and index) at the start, the clean-shutdown marker is put back. The
  /// writer must be opened again afterwards.
  package func abortBatch() {
    guard let r = rollback else { return }
    rollback = nil
    lastFrameStart = nil
    _ = try? sealer.wait()
    undo(to: r.segment, size: r.size, created: r.seq + 1)
    if let segment = r.segment {
      for path in [directory.seqIndexPath(segment), directory.timeIndexPath(segment)] {
        let fd = fs.open(path, O_RDWR, 0)
        if fd >= 0 {
          _ = fs.ftruncate(fd, Int64(r.indexCount * SegmentIndex.entrySize))
          _ = fs.close(fd)
        }
      }
    }
    if let marker = r.cleanMarker {
      try? fs.writeAtomically(marker, to: directory.cleanPath, directory: directory.path)
    }
    lastSeq = r.seq
    lastRecordedAt = r.time
    sealer.chainHash = r.chain
    if failure == nil {
      failure = LogError(.invalidArgument, "the batch was aborted; open the log again")
    }
  }

  /// Encodes one frame into the buffer (rolling over to a new segment first when it does not
  /// fit), flushing whatever precedes the held-back last frame when the buffer is full.
  private func writeFrame(recordedAt time: Int64, payload: UnsafeRawBufferPointer) throws {
    let frameSize = Frame.headerSize + payload.count
    if let a = active, a.frames > 0,
      a.size + Int64(buffer.count + frameSize + SegmentFooter.size) > Int64(segmentSize)
    {
      lastFrameStart = nil  // the held frame is not the batch's last: write it as it is
      try flush()
      try seal()
    }
    if active == nil { try startSegment() }
    let offset = active!.size + Int64(buffer.count)
    let seq = lastSeq + 1
    let start = buffer.count
    Frame.encode(seq: seq, recordedAt: time, commit: false, payload: payload, appendingTo: &buffer)
    lastFrameStart = start
    if active!.frames == 0 { active!.firstRecordedAt = time }
    if offset - active!.lastIndexed >= SegmentIndex.interval {
      active!.lastIndexed = offset
      active!.index.append(IndexEntry(seq: seq, offset: offset, recordedAt: time))
    }
    active!.frames += 1
    lastSeq = seq
    lastRecordedAt = time
    if buffer.count >= 4 << 20 { try flush() }
  }

  /// Writes the buffered frames at the end of the active segment, all but a held-back last
  /// frame of an open batch.
  private func flush() throws {
    guard var a = active else { return }
    let count = lastFrameStart ?? buffer.count
    guard count > 0 else { return }
    let path = directory.segmentPath(a.firstSeq)
    try buffer.withUnsafeBytes { b in
      try fs.writeAll(a.fd, UnsafeRawBufferPointer(rebasing: b[0..<count]), at: a.size, path: path)
    }
    a.size += Int64(count)
    active = a
    buffer.removeSubrange(0..<count)
    if lastFrameStart != nil { lastFrameStart = 0 }
  }

  /// Creates the next segment: header written, directory synced so the file survives a crash.
  private func startSegment() throws {
    let firstSeq = lastSeq + 1
    let path = directory.segmentPath(firstSeq)
    let fd = fs.open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
    guard fd >= 0 else { throw LogError(SystemCallError("create", path: path)) }
    let header = SegmentHeader.encode(firstSeq: firstSeq)
    active = Active(
      fd: fd, firstSeq: firstSeq, size: 0, frames: 0, firstRecordedAt: 0, index: [],
      indexWritten: 0, lastIndexed: -SegmentIndex.interval)
    do {
      try header.withUnsafeBytes { (b) in
        try fs.writeAll(fd, b, at: 0, path: path)
      }
      active!.size = Int64(header.count)
      for p in [directory.seqIndexPath(firstSeq), directory.timeIndexPath(firstSeq)] {
        let ifd = fs.open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard ifd >= 0 else { throw SystemCallError("create", path: p) }
        _ = fs.close(ifd)
      }
      if sync == .batch { try fs.syncDirectory(directory.path) }
    }
  }

  /// Ends the active segment: its indexes are written here, its footer (which needs the
  /// SHA-256 of all its bytes) by the sealer, in the background.
  private func seal() throws {
    guard let a = active else { return }
    try writeIndexTail()
    active = nil
    sealer.seal(
      Sealer.Job(
        fd: a.fd, path: directory.segmentPath(a.firstSeq), size: a.size, firstSeq: a.firstSeq,
        lastSeq: lastSeq, firstRecordedAt: a.firstRecordedAt, lastRecordedAt: lastRecordedAt,
        sync: sync == .batch, fileSystem: fs))
  }

  /// Appends the active segment's new index entries to its `.idx` and `.tix`. Not synced:
  /// indexes are rebuilt from the segment whenever they disagree with it.
  private func writeIndexTail() throws {
    guard var a = active, a.indexWritten < a.index.count else { return }
    let entries = a.index[a.indexWritten...]
    let at = Int64(a.indexWritten * SegmentIndex.entrySize)
    for (path, bytes) in [
      (directory.seqIndexPath(a.firstSeq), SegmentIndex.encodeSeqIndex(entries)),
      (directory.timeIndexPath(a.firstSeq), SegmentIndex.encodeTimeIndex(entries)),
    ] {
      let fd = fs.open(path, O_WRONLY | O_CREAT, 0o600)
      guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
      defer { _ = fs.close(fd) }
      do {
        _ = fs.ftruncate(fd, at)
        try bytes.withUnsafeBytes { (b) in
          try fs.writeAll(fd, b, at: at, path: path)
        }
      }
    }
    a.indexWritten = a.index.count
    active = a
  }

  private func writeIndexFiles(_ firstSeq: UInt64, _ entries: [IndexEntry]) throws {
    do {
      try fs.writeAtomically(
        SegmentIndex.encodeSeqIndex(entries), to: directory.seqIndexPath(firstSeq),
        directory: directory.path, sync: false)
      try fs.writeAtomically(
        SegmentIndex.encodeTimeIndex(entries), to: directory.timeIndexPath(firstSeq),
        directory: directory.path, sync: false)
    }
  }

  /// Best effort after a failed append: removes the segments the batch created and cuts the
  /// one it started in back to where it was. What this cannot undo, the next open's recovery
  /// does: the batch's last frame, the only one with the commit mark, is what makes it count.
  private func undo(to segment: UInt64?, size: Int64?, created firstNew: UInt64) {
    buffer.removeAll(keepingCapacity: true)
    if let a = active {
      _ = fs.close(a.fd)
      active = nil
    }
    for s in directory.segments() where s >= firstNew && s != segment {
      _ = fs.unlink(directory.segmentPath(s))
      _ = fs.unlink(directory.seqIndexPath(s))
      _ = fs.unlink(directory.timeIndexPath(s))
    }
    if let segment, let size {
      let fd = fs.open(directory.segmentPath(segment), O_RDWR, 0)
      if fd >= 0 {
        _ = fs.ftruncate(fd, size)
        _ = fs.close(fd)
      }
    }
  }

  // MARK: - Closing

  /// Closes the writer. After a synced history it leaves the clean-shutdown marker, which
  /// lets the next open skip the scan of the last segment.
  package func close() throws {
    guard !closed else { return }
    closed = true
    _ = try? sealer.wait()
    defer {
      if lockFD >= 0 {
        Self.releaseLock(lockFD, fs)
        lockFD = -1
      }
    }
    let a = active
    if let a {
      _ = fs.close(a.fd)
      active = nil
    }
    guard failure == nil, sync == .batch, !cleanMarkerPresent, let last = directory.segments().last
    else { return }
    let marker = CleanMarker(
      lastSegment: last, segmentBytes: a?.size ?? (try? directory.footer(of: last, fs).size) ?? 0,
      lastSeq: lastSeq, lastRecordedAt: lastRecordedAt)
    do {
      try fs.writeAtomically(marker.encode(), to: directory.cleanPath, directory: directory.path)
    }
  }
}

@available(*, unavailable)
extension LogWriter: Sendable {}
