#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The record of redactions in `REDACTIONS`, its chain, what `LogVerifier` checks of it, and
/// the text of its lines.
extension LogRedactor {
  // MARK: - For the verifier

  /// Throws when a redaction is unfinished: the chain is then not whole, but that is not damage.
  /// The message says so, how far it got, and what finishes it. A planned segment that is
  /// neither before nor after is reported as damage.
  package static func checkNotUnfinished(_ dir: LogDirectory, _ fs: FileSystem) throws {
    guard let bytes = try fs.readFile(dir.redactingPath) else { return }
    let intent = try Intent.decode(bytes, path: dir.redactingPath)
    var done = 0
    for plan in intent.segments {
      if try state(of: plan, dir) == .after { done += 1 }
    }
    let what = Redaction.decode(intent.record).map {
      "begun at \(formatTime($0.time)), reason \(quote($0.reason))"
    }
    throw LogError(
      .damaged,
      "a redaction is unfinished (\(what ?? "see REDACTING")): \(done) of \(intent.segments.count)"
        + " segments are rewritten, so the hash chain is not whole yet; this is not damage:"
        + " the next writer of the log finishes it (the next append, or the redaction run again)")
  }

  /// Checks the recorded redactions against a log that `LogVerifier` has just verified: the chain
  /// of `REDACTIONS`, each re-sealed segment's hash as last recorded against its footer
  /// (`chainHashes`, by first seq), and each redacted record. It must still verify and still
  /// hold the mask of the last redaction that touched it. Returns one line per redaction.
  package static func checkRecorded(
    _ dir: LogDirectory, _ fs: FileSystem, chainHashes: [UInt64: [UInt8]], lastSeq: UInt64
  ) throws -> [String] {
    let redactions = try readRecordLog(dir, fs, allowTornTail: false).redactions
    guard !redactions.isEmpty else { return [] }
    var sealedWith: [UInt64: (hash: [UInt8], time: Int64)] = [:]
    var maskOf: [UInt64: (mask: [UInt8], time: Int64)] = [:]
    for r in redactions {
      for x in r.resealed { sealedWith[x.segment] = (x.newHash, r.time) }
      for s in r.seqs { maskOf[s] = (Array(r.mask.utf8), r.time) }
    }
    for (segment, sealed) in sealedWith.sorted(by: { $0.key < $1.key }) {
      let name = dir.segmentName(segment)
      guard let hash = chainHashes[segment] else {
        throw LogError(
          .damaged,
          "the segment re-sealed by the redaction at \(formatTime(sealed.time)) is missing or"
            + " no longer sealed", segment: name)
      }
      guard hash == sealed.hash else {
        throw LogError(
          .damaged,
          "the segment's chain hash is not the one the redaction at \(formatTime(sealed.time))"
            + " sealed it with: it was sealed again without a record in REDACTIONS", segment: name)
      }
    }
    let seqs = maskOf.keys.sorted()
    if let last = seqs.last, last > lastSeq {
      throw LogError(
        .damaged,
        "the record redacted at \(formatTime(maskOf[last]!.time)) is missing from the log",
        seq: last)
    }
    let reader = try LogReader(at: dir.path, fileSystem: fs)
    for run in runs(seqs) {
      var next = run.lowerBound
      try reader.readRecords(in: run) { record in
        let m = maskOf[record.seq]!
        guard record.seq == next,
          m.mask.withUnsafeBytes({ find($0, in: record.payload, from: 0) }) != nil
        else {
          throw LogError(
            .damaged,
            "the record redacted at \(formatTime(m.time)) no longer holds its mask",
            seq: record.seq)
        }
        next += 1
      }
      guard next == run.upperBound + 1 else {
        throw LogError(
          .damaged,
          "the record redacted at \(formatTime(maskOf[next]!.time)) is missing from the log",
          seq: next)
      }
    }
    return redactions.map(\.description)
  }

  // MARK: - REDACTIONS

  /// The redactions recorded so far, the chain hash of the last line, and where the whole lines
  /// end.
  struct RecordLog {
    var redactions: [Redaction] = []
    var records: [[UInt8]] = []
    var chain = LogRedactor.zeroHash
    var end = 0
    var size = 0
  }

  /// Reads `REDACTIONS`: one line per redaction, `RECORD chain HEX`, where HEX is
  /// SHA-256(the previous line's HEX, or 32 zero bytes ‖ RECORD), so a line changed, removed or
  /// moved breaks the chain from there on. A partial last line is damage, except while
  /// finishing an interrupted redaction, whose own append a crash may have cut short.
  static func readRecordLog(
    _ dir: LogDirectory, _ fs: FileSystem, allowTornTail: Bool
  ) throws -> RecordLog {
    let path = dir.redactionsPath
    var log = RecordLog()
    guard let bytes = try fs.readFile(path) else { return log }
    log.size = bytes.count
    let suffix = Array(" chain ".utf8)
    var line = 0
    while log.end < bytes.count {
      line += 1
      guard let newline = bytes[log.end...].firstIndex(of: 0x0A) else {
        if allowTornTail { break }
        throw LogError(
          .damaged,
          "\(path) line \(line): the last line is cut short (the file was truncated or edited)")
      }
      let n = newline - log.end
      let bad = LogError(.damaged, "\(path) line \(line) is not a redaction record")
      guard n > suffix.count + 64,
        bytes[(newline - 64 - suffix.count)..<(newline - 64)].elementsEqual(suffix),
        let stored = unhex(bytes[(newline - 64)..<newline])
      else { throw bad }
      let record = Array(bytes[log.end..<(newline - 64 - suffix.count)])
      var h = SHA256()
      h.update(log.chain)
      h.update(record)
      guard h.finalize() == stored else {
        throw LogError(
          .damaged,
          "\(path) line \(line): its chain hash does not match: this line or one before it was"
            + " changed, removed or moved")
      }
      guard let redaction = Redaction.decode(record) else { throw bad }
      log.redactions.append(redaction)
      log.records.append(record)
      log.chain = stored
      log.end = newline + 1
    }
    return log
  }

  /// Step 5: appends `record` to `REDACTIONS`, unless a resumed redaction got that far before;
  /// a line it began but did not finish is cut first. Synced, with the directory.
  static func appendRecord(
    _ record: [UInt8], _ dir: LogDirectory, _ fs: FileSystem
  ) throws {
    let path = dir.redactionsPath
    let log = try readRecordLog(dir, fs, allowTornTail: true)
    if log.records.last == record { return }
    var h = SHA256()
    h.update(log.chain)
    h.update(record)
    let line = record + Array(" chain \(hex(h.finalize()))\n".utf8)
    let fd = fs.open(path, O_WRONLY | O_CREAT, 0o600)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    do {
      if log.end < log.size, fs.ftruncate(fd, Int64(log.end)) != 0 {
        throw LogError(SystemCallError("ftruncate", path: path))
      }
      try line.withUnsafeBytes { try fs.writeAll(fd, $0, at: Int64(log.end), path: path) }
      guard fs.fsync(fd) == 0 else { throw LogError(SystemCallError("fsync", path: path)) }
    } catch {
      _ = fs.close(fd)
      throw error
    }
    _ = fs.close(fd)
    try fs.syncDirectory(dir.path)
  }

  // MARK: - Text

  /// Lowercase hex.
  static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The bytes of lowercase hex, or nil.
  static func unhex(_ text: some Collection<UInt8>) -> [UInt8]? {
    guard text.count % 2 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
      switch c {
      case 0x30...0x39: c - 0x30
      case 0x61...0x66: c - 0x61 + 10
      default: nil
      }
    }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var high: UInt8?
    for c in text {
      guard let v = value(c) else { return nil }
      if let h = high {
        out.append(h << 4 | v)
        high = nil
      } else {
        high = v
      }
    }
    return out
  }

  /// A string in double quotes: `"` and `\` escaped, control characters as `\u00XX`, other
  /// UTF-8 as it is. A line of `REDACTIONS` thus never holds a newline of its own.
  static func quote(_ text: String) -> String {
    var out: [UInt8] = [0x22]
    let digits = Array("0123456789abcdef".utf8)
    for b in text.utf8 {
      switch b {
      case 0x22, 0x5C: out += [0x5C, b]
      case 0..<0x20, 0x7F: out += Array("\\u00".utf8) + [digits[Int(b >> 4)], digits[Int(b & 15)]]
      default: out.append(b)
      }
    }
    out.append(0x22)
    return String(decoding: out, as: UTF8.self)
  }

  /// `5, 17, 30-32` (or with `separator`), at most `limit` items and then `…`.
  static func ranges(_ seqs: [UInt64], separator: String = ", ", limit: Int = .max) -> String {
    let items = runs(seqs).map {
      $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
    }
    if items.count > limit {
      return (items.prefix(limit) + ["…"]).joined(separator: separator)
    }
    return items.joined(separator: separator)
  }

  /// Ascending seqs as runs of consecutive ones.
  private static func runs(_ seqs: [UInt64]) -> [ClosedRange<UInt64>] {
    var out: [ClosedRange<UInt64>] = []
    for s in seqs {
      if let last = out.last, last.upperBound + 1 == s {
        out[out.count - 1] = last.lowerBound...s
      } else {
        out.append(s...s)
      }
    }
    return out
  }

  /// Microseconds since the epoch as `2026-12-02T03:00:00Z`, with `.ffffff` when not whole
  /// seconds.
  static func formatTime(_ micros: Int64) -> String {
    let (seconds, fraction) = floorDivision(micros, 1_000_000)
    let (days, time) = floorDivision(seconds, 86_400)
    let (year, month, day) = CivilCalendar.date(days: days)
    func pad(_ v: Int64, _ width: Int) -> String {
      let s = String(v)
      return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    var text =
      "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(time / 3600, 2)):"
      + "\(pad(time / 60 % 60, 2)):\(pad(time % 60, 2))"
    if fraction != 0 { text += "." + pad(fraction, 6) }
    return text + "Z"
  }

  /// The inverse of `formatTime`, or nil.
  static func parseTime(_ text: some StringProtocol) -> Int64? {
    let b = Array(text.utf8)
    func number(_ r: Range<Int>) -> Int64? {
      guard r.upperBound <= b.count, r.allSatisfy({ b[$0] >= 0x30 && b[$0] <= 0x39 }) else {
        return nil
      }
      return r.reduce(0) { $0 * 10 + Int64(b[$1] - 0x30) }
    }
    guard b.count == 20 || b.count == 27, b.last == UInt8(ascii: "Z"), b[4] == 0x2D,
      b[7] == 0x2D, b[10] == UInt8(ascii: "T"), b[13] == 0x3A, b[16] == 0x3A,
      let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
      let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
      (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
    else { return nil }
    var fraction: Int64 = 0
    if b.count == 27 {
      guard b[19] == UInt8(ascii: "."), let f = number(20..<26) else { return nil }
      fraction = f
    }
    let days = CivilCalendar.days(year: year, month: month, day: day)
    let micros = ((days * 86_400 + hour * 3600 + minute * 60 + second) * 1_000_000) + fraction
    return formatTime(micros) == text ? micros : nil
  }

  private static func floorDivision(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    let q = a / b
    let r = a % b
    return r < 0 ? (q - 1, r + b) : (q, r)
  }
}

extension LogRedactor.Redaction {
  /// The line of `REDACTIONS` before its chain hash:
  ///
  ///     TIME mask "M" reason "R" seqs 5,17,30-32 rewritten NAME,… resealed NAME:OLD:NEW,…
  ///
  /// with `-` for an empty list.
  func encoded() -> [UInt8] {
    let names = rewritten.map { SegmentName.base($0) }
    let seals = resealed.map {
      "\(SegmentName.base($0.segment)):\(LogRedactor.hex($0.oldHash)):"
        + LogRedactor.hex($0.newHash)
    }
    let text =
      "\(LogRedactor.formatTime(time)) mask \(LogRedactor.quote(mask))"
      + " reason \(LogRedactor.quote(reason))"
      + " seqs \(seqs.isEmpty ? "-" : LogRedactor.ranges(seqs, separator: ","))"
      + " rewritten \(names.isEmpty ? "-" : names.joined(separator: ","))"
      + " resealed \(seals.isEmpty ? "-" : seals.joined(separator: ","))"
    return Array(text.utf8)
  }

  /// Parses what `encoded` wrote, or nil.
  static func decode(_ bytes: [UInt8]) -> LogRedactor.Redaction? {
    var s = RecordScanner(bytes: bytes)
    guard let time = s.word().flatMap({ LogRedactor.parseTime($0) }),
      s.keyword("mask"), let mask = s.quoted(),
      s.keyword("reason"), let reason = s.quoted(),
      s.keyword("seqs"), let seqs = s.word().flatMap(Self.parseSeqs),
      s.keyword("rewritten"), let rewritten = s.word().flatMap(Self.parseNames),
      s.keyword("resealed"), let resealed = s.word().flatMap(Self.parseReseals),
      s.atEnd
    else { return nil }
    return LogRedactor.Redaction(
      time: time, mask: mask, reason: reason, seqs: seqs, rewritten: rewritten,
      resealed: resealed)
  }

  private static func parseSeqs(_ text: String) -> [UInt64]? {
    if text == "-" { return [] }
    var out: [UInt64] = []
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let ends = item.split(separator: "-", omittingEmptySubsequences: false)
      guard ends.count <= 2, let a = UInt64(ends[0]), let b = UInt64(ends.last!), a <= b,
        a > (out.last ?? 0), ends.count == 1 || a < b
      else { return nil }
      out += Array(a...b)
    }
    return out
  }

  private static func parseNames(_ text: String) -> [UInt64]? {
    if text == "-" { return [] }
    var out: [UInt64] = []
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard item.utf8.count == 20, let s = UInt64(item), s > (out.last ?? 0) else { return nil }
      out.append(s)
    }
    return out
  }

  private static func parseReseals(_ text: String) -> [LogRedactor.Reseal]? {
    if text == "-" { return [] }
    var out: [LogRedactor.Reseal] = []
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
      let f = item.split(separator: ":", omittingEmptySubsequences: false)
      guard f.count == 3, f[0].utf8.count == 20, let s = UInt64(f[0]),
        s > (out.last?.segment ?? 0),
        let old = LogRedactor.unhex(f[1].utf8), old.count == 32,
        let new = LogRedactor.unhex(f[2].utf8), new.count == 32
      else { return nil }
      out.append(LogRedactor.Reseal(segment: s, oldHash: old, newHash: new))
    }
    return out
  }
}

/// Reads the fields of a `REDACTIONS` record: words and quoted strings, one space apart.
private struct RecordScanner {
  let bytes: [UInt8]
  var at = 0

  var atEnd: Bool { at == bytes.count }

  /// The bytes up to the next space or the end.
  mutating func word() -> String? {
    let start = at
    while at < bytes.count && bytes[at] != 0x20 { at += 1 }
    return at > start ? String(decoding: bytes[start..<at], as: UTF8.self) : nil
  }

  /// A space, then `word`, then nothing else before the next space.
  mutating func keyword(_ word: String) -> Bool {
    guard at < bytes.count, bytes[at] == 0x20 else { return false }
    at += 1
    return self.word() == word && space()
  }

  private mutating func space() -> Bool {
    guard at < bytes.count, bytes[at] == 0x20 else { return false }
    at += 1
    return true
  }

  /// A string as `LogRedactor.quote` wrote it.
  mutating func quoted() -> String? {
    guard at < bytes.count, bytes[at] == 0x22 else { return nil }
    at += 1
    var out: [UInt8] = []
    while at < bytes.count {
      let b = bytes[at]
      at += 1
      switch b {
      case 0x22: return String(validating: out, as: UTF8.self)
      case 0x5C:
        guard at < bytes.count else { return nil }
        let e = bytes[at]
        at += 1
        if e == 0x22 || e == 0x5C {
          out.append(e)
        } else if e == UInt8(ascii: "u"), at + 4 <= bytes.count,
          bytes[at] == 0x30, bytes[at + 1] == 0x30,
          let v = UInt8(String(decoding: bytes[(at + 2)..<(at + 4)], as: UTF8.self), radix: 16)
        {
          out.append(v)
          at += 4
        } else {
          return nil
        }
      case 0..<0x20: return nil
      default: out.append(b)
      }
    }
    return nil
  }
}
