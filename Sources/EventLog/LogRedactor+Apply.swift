#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Carrying out a plan: `REDACTING`, which holds it, and the segments rewritten from it.
extension LogRedactor {
  // MARK: - Applying a plan

  /// The suffix of a segment's copy while it is written.
  static let copySuffix = ".seg.redact"

  enum SegmentState { case before, after }

  /// Steps 3 to 5. `checked`: the plan was made just now under the same lock, so every segment
  /// is as it was; otherwise (a resume) each one's state is established first.
  @discardableResult
  static func apply(
    _ intent: Intent, _ dir: LogDirectory, _ fs: FileSystem, checked: Bool
  ) throws -> Redaction {
    guard let redaction = Redaction.decode(intent.record) else {
      throw LogError(.damaged, "\(dir.redactingPath) holds no valid redaction record")
    }
    for plan in intent.segments {
      if !checked, try state(of: plan, dir) == .after { continue }
      if plan.copy {
        try writeCopy(plan, dir, fs)
      } else {
        try writeInPlace(plan, dir, fs)
      }
    }
    // The re-sealed chain is the acknowledged one from now on. Redone by a resume, as the
    // segments are, until `REDACTING` is gone.
    try AckedExtent.rechain(dir, fs)
    try appendRecord(intent.record, dir, fs)
    guard fs.unlink(dir.redactingPath) == 0 else {
      throw LogError(SystemCallError("unlink", path: dir.redactingPath))
    }
    try fs.syncDirectory(dir.path)
    return redaction
  }

  /// Whether a planned segment is still as it was, or already as planned; throws `.damaged`
  /// when it is neither. An in-place footer that a crash tore counts as "before": the body's
  /// hash is what tells.
  static func state(of plan: SegmentPlan, _ dir: LogDirectory) throws -> SegmentState {
    let neither = LogError(
      .damaged,
      "the segment is neither as it was before the unfinished redaction nor as it planned it",
      segment: dir.segmentName(plan.firstSeq))
    guard let file = try? MappedFile(dir.segmentPath(plan.firstSeq)) else { throw neither }
    return try file.withBytes { bytes in
      guard bytes.count == plan.size else { throw neither }
      let applied = plan.patches.allSatisfy {
        bytes[$0.offset..<($0.offset + $0.bytes.count)].elementsEqual($0.bytes)
      }
      var jobs: [(prefix: [UInt8]?, patches: [Patch])] = [(plan.oldPrevious, [])]
      if plan.copy && plan.sealed { jobs.append((plan.newPrevious, [])) }
      let h = hashes(bytes, end: plan.bodyEnd, jobs)
      if h[0] == plan.oldHash { return plan.copy || !applied ? .before : .after }
      if plan.copy && h[h.count - 1] == plan.newHash && applied { return .after }
      throw neither
    }
  }

  /// Step 3 for one segment: a copy with the new bytes, synced, renamed over it, the
  /// directory synced. `rename(2)`.
  private static func writeCopy(_ plan: SegmentPlan, _ dir: LogDirectory, _ fs: FileSystem) throws {
    let path = dir.segmentPath(plan.firstSeq)
    let copy = dir.path + "/" + SegmentName.base(plan.firstSeq) + copySuffix
    let file = try MappedFile(path)
    guard file.count == plan.size else {
      throw LogError(
        .damaged, "the segment changed size during the redaction",
        segment: dir.segmentName(plan.firstSeq))
    }
    let fd = fs.open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw LogError(SystemCallError("create", path: copy)) }
    do {
      var out = BufferedWriter(fd: fd, path: copy, fs: fs)
      try file.withBytes { bytes in
        try forEachChunk(bytes, upTo: bytes.count, patches: plan.patches) { try out.write($0) }
      }
      try out.flush()
      guard fs.fsync(fd) == 0 else { throw LogError(SystemCallError("fsync", path: copy)) }
    } catch {
      _ = fs.close(fd)
      _ = fs.unlink(copy)
      throw error
    }
    _ = fs.close(fd)
    guard fs.rename(copy, path) == 0 else { throw LogError(SystemCallError("rename", path: copy)) }
    try fs.syncDirectory(dir.path)
  }

  /// Step 4 for one segment: its new footer written over the old one, synced. `pwrite(2)`.
  private static func writeInPlace(
    _ plan: SegmentPlan, _ dir: LogDirectory, _ fs: FileSystem
  ) throws {
    let path = dir.segmentPath(plan.firstSeq)
    let fd = fs.open(path, O_WRONLY, 0)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    defer { _ = fs.close(fd) }
    for p in plan.patches {
      try p.bytes.withUnsafeBytes { try fs.writeAll(fd, $0, at: Int64(p.offset), path: path) }
    }
    guard fs.fsync(fd) == 0 else { throw LogError(SystemCallError("fsync", path: path)) }
  }

  /// Writes a stream of chunks to a new file in large writes.
  private struct BufferedWriter {
    static let capacity = 4 << 20
    let fd: Int32
    let path: String
    let fs: FileSystem
    var buffer: [UInt8] = []
    var offset: Int64 = 0

    init(fd: Int32, path: String, fs: FileSystem) {
      self.fd = fd
      self.path = path
      self.fs = fs
    }

    mutating func write(_ chunk: UnsafeRawBufferPointer) throws {
      if chunk.count >= Self.capacity / 2 {
        try flush()
        try fs.writeAll(fd, chunk, at: offset, path: path)
        offset += Int64(chunk.count)
        return
      }
      if buffer.count + chunk.count > Self.capacity { try flush() }
      buffer.appendBytes(chunk)
    }

    mutating func flush() throws {
      guard !buffer.isEmpty else { return }
      try buffer.withUnsafeBytes { try fs.writeAll(fd, $0, at: offset, path: path) }
      offset += Int64(buffer.count)
      buffer.removeAll(keepingCapacity: true)
    }
  }

  // MARK: - REDACTING

  /// The plan of a redaction under way, as `REDACTING` holds it:
  ///
  ///     hoso-redacting 1
  ///     record HEX                     the line for REDACTIONS, without its chain hash
  ///     segment FIRSTSEQ copy|footer sealed|active SIZE OLDPREV|- OLDHASH NEWPREV|- NEWHASH
  ///     patch OFFSET HEX               the segment's new bytes, in order
  ///     check HEX                      SHA-256 of everything above
  struct Intent {
    var record: [UInt8]
    var segments: [SegmentPlan]

    func encode() -> [UInt8] {
      var text = "hoso-redacting 1\nrecord \(hex(record))\n"
      for s in segments {
        text +=
          "segment \(s.firstSeq) \(s.copy ? "copy" : "footer") \(s.sealed ? "sealed" : "active")"
          + " \(s.size) \(s.oldPrevious.map(hex) ?? "-") \(hex(s.oldHash))"
          + " \(s.newPrevious.map(hex) ?? "-") \(hex(s.newHash))\n"
        for p in s.patches { text += "patch \(p.offset) \(hex(p.bytes))\n" }
      }
      var bytes = Array(text.utf8)
      bytes += Array("check \(hex(SHA256.hash(bytes)))\n".utf8)
      return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Intent {
      let bad = LogError(
        .damaged,
        "\(path) is damaged: the interrupted redaction it plans cannot be finished from it")
      let text = String(decoding: bytes, as: UTF8.self)
      var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      guard lines.count >= 3, lines.removeLast().isEmpty, let check = lines.last,
        check.hasPrefix("check "), lines.first == "hoso-redacting 1"
      else { throw bad }
      let covered = bytes.count - check.utf8.count - 1
      guard hex(SHA256.hash(Array(bytes[0..<covered]))) == check.dropFirst(6) else { throw bad }
      var intent = Intent(record: [], segments: [])
      for line in lines.dropFirst().dropLast() {
        let f = line.split(separator: " ")
        switch f.first ?? "" {
        case "record":
          guard f.count == 2, let r = unhex(f[1].utf8) else { throw bad }
          intent.record = r
        case "segment":
          guard f.count == 9, let first = UInt64(f[1]), let size = Int(f[4]),
            let oldHash = unhex(f[6].utf8), let newHash = unhex(f[8].utf8)
          else { throw bad }
          let oldPrevious = f[5] == "-" ? nil : unhex(f[5].utf8)
          let newPrevious = f[7] == "-" ? nil : unhex(f[7].utf8)
          let sealed = f[3] == "sealed"
          guard sealed == (oldPrevious != nil), sealed == (newPrevious != nil),
            size >= SegmentHeader.size + (sealed ? SegmentFooter.size : 0)
          else { throw bad }
          intent.segments.append(
            SegmentPlan(
              firstSeq: first, copy: f[2] == "copy", sealed: sealed, size: size,
              oldPrevious: oldPrevious, oldHash: oldHash, newPrevious: newPrevious,
              newHash: newHash, patches: []))
        case "patch":
          guard f.count == 3, let offset = Int(f[1]), let b = unhex(f[2].utf8),
            !b.isEmpty, let s = intent.segments.last,
            offset >= (s.patches.last.map { $0.offset + $0.bytes.count } ?? 0),
            offset + b.count <= s.size
          else { throw bad }
          intent.segments[intent.segments.count - 1].patches.append(
            Patch(offset: offset, bytes: b))
        default: throw bad
        }
      }
      guard !intent.record.isEmpty else { throw bad }
      return intent
    }
  }
}
