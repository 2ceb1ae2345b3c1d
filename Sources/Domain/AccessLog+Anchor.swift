import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The access log's anchor, `<store>/access.head` (0600): how many records the access log
/// held, how many bytes, and the last one's hash, kept outside the file it guards. A chain of
/// hashes shows a line changed or taken out of the middle, but not lines cut from the end, the
/// file deleted, or every line written anew and hashed again; the anchor does.
///
/// The anchor is a lower bound. Each record is written and synced, then the anchor moved to it
/// and synced, under the access log's lock: a crash between the two leaves the file a record
/// ahead of its anchor, which is allowed. The file must hold at least the anchored records,
/// and its record number `records` must end at `length` with the anchored hash; a file that
/// holds less, or another record there, is damage.
///
/// The file is two slots of 128 bytes, written in turn in place (one `pwrite` and one
/// `fdatasync` an update, no new file, no rename, no folder sync): generation `g` goes to slot
/// `g % 2`, and the whole slot with the higher generation is the anchor. A write torn by a
/// crash fails its slot's CRC, and the other slot, one update behind, is still a lower bound.
///
///     0    4  "hah1"
///     4    4  CRC32C of bytes 8..<128
///     8    8  generation
///     16   8  records
///     24   8  length (bytes)
///     32  32  the last record's hash (zeros when there is none)
///     64   8  1 when a redaction is under way and the three fields below are accepted too
///     72   8  records before it
///     80   8  length before it
///     88  32  the last hash before it
///     120  8  zeros
///
/// Integers little-endian. A store made before the anchor existed gets one from its file as it
/// is, on its first access after; a store that has had one says so in its `STORE` file
/// (`access-anchored`), so that an anchor deleted with the file it guards is seen too.
extension AccessLog {
  /// A prefix of the access log: its first `records` records, `length` bytes long, the last
  /// of them with `hash` (64 hex digits).
  struct Mark: Sendable, Equatable {
    var records: Int
    var length: Int
    var hash: String
  }

  /// One slot of the anchor.
  struct Anchor: Sendable, Equatable {
    var generation: UInt64
    var mark: Mark
    /// While `forget` replaces the file by a redacted copy (every hash from the first record
    /// changed on is new): the file as it was, accepted as well as `mark`, the copy.
    var prior: Mark?
  }

  package static func anchorPath(store: String) -> String { store + "/access.head" }

  /// The line of `STORE` that says the store's access log has an anchor.
  package static let anchoredLine = "access-anchored"

  static let slotSize = 128
  private static let magic = Array("hah1".utf8)

  static func encode(_ a: Anchor) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: slotSize)
    func put(_ v: UInt64, at i: Int) {
      for k in 0..<8 { b[i + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
    }
    func put(_ m: Mark, at i: Int) {
      put(UInt64(m.records), at: i)
      put(UInt64(m.length), at: i + 8)
      b.replaceSubrange(
        (i + 16)..<(i + 48), with: unhex(m.hash) ?? [UInt8](repeating: 0, count: 32))
    }
    b.replaceSubrange(0..<4, with: magic)
    put(a.generation, at: 8)
    put(a.mark, at: 16)
    if let prior = a.prior {
      put(1, at: 64)
      put(prior, at: 72)
    }
    let crc = CRC32C.checksum(Array(b[8...]))
    for k in 0..<4 { b[4 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
    return b
  }

  /// The slot at `bytes[at...]`, or nil when it is not whole (torn, or never written).
  static func decode(_ bytes: [UInt8], at i: Int) -> Anchor? {
    guard bytes.count >= i + slotSize, Array(bytes[i..<(i + 4)]) == magic else { return nil }
    func u64(_ o: Int) -> UInt64 {
      (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + o + $1]) << (8 * UInt64($1)) }
    }
    let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i + 4 + $1]) << (8 * UInt32($1)) }
    guard CRC32C.checksum(Array(bytes[(i + 8)..<(i + slotSize)])) == stored else { return nil }
    func mark(_ o: Int) -> Mark? {
      let (records, length) = (u64(o), u64(o + 8))
      guard records <= UInt64(Int.max), length <= UInt64(Int.max) else { return nil }
      return Mark(
        records: Int(records), length: Int(length), hash: hex(bytes[(i + o + 16)..<(i + o + 48)]))
    }
    guard let m = mark(16) else { return nil }
    let prior = u64(64) == 1 ? mark(72) : nil
    return Anchor(generation: u64(8), mark: m, prior: prior)
  }

  /// The anchor in `bytes` (the whole file): the whole slot of the higher generation.
  static func newest(in bytes: [UInt8], path: String) throws -> Anchor {
    let slots = [decode(bytes, at: 0), decode(bytes, at: slotSize)].compactMap { $0 }
    guard let newest = slots.max(by: { $0.generation < $1.generation }) else {
      throw LogError(
        .damaged,
        "\(path): neither copy of the access log's anchor is whole; the access log's length"
          + " cannot be checked")
    }
    return newest
  }

  /// The anchor as it stands, without the lock (for `verify`, and for a writer that finds no
  /// file): nil for a store that has never had one. Throws `.damaged` when it is gone from a
  /// store that had one, or torn in both slots.
  static func readAnchor(store: String) throws -> Anchor? {
    let path = anchorPath(store: store)
    guard let bytes = try FileSystem.system.readFile(path) else {
      if try storeSaysAnchored(store) { throw anchorMissing(store: store) }
      return nil
    }
    return try newest(in: bytes, path: path)
  }

  /// The anchor open for updates, under the access log's lock.
  struct AnchorFile: Sendable {
    let fd: Int32
    let path: String
    var anchor: Anchor

    /// Moves the anchor to `mark` (with `prior` accepted too, while a redaction replaces the
    /// file): the slot the last update did not write, written in place and synced.
    /// `pwrite(2)`, `fdatasync(2)`.
    mutating func advance(to mark: Mark, prior: Mark? = nil) throws {
      let next = Anchor(generation: anchor.generation + 1, mark: mark, prior: prior)
      let bytes = AccessLog.encode(next)
      let at = Int64(Int(next.generation % 2) * AccessLog.slotSize)
      try bytes.withUnsafeBytes { try FileSystem.system.writeAll(fd, $0, at: at, path: path) }
      guard FileSystem.system.fdatasync(fd) == 0 else {
        throw LogError(
          .syncFailed,
          "cannot sync \(path): \(String(cString: strerror(errno))); the access record is on"
            + " the disk, its anchor may not be")
      }
      anchor = next
    }

    func close() { _ = FileSystem.system.close(fd) }
  }

  /// Opens the anchor of a store whose access log `log` (locked, `size` bytes) is about to
  /// change, and checks that the file holds what it anchors. A store that has never had an
  /// anchor gets one, from the file as it is. Throws `.damaged` naming what disagrees.
  static func openAnchor(store: String, log: Int32, size: Int) throws -> AnchorFile {
    let fs = FileSystem.system
    let path = anchorPath(store: store)
    var fd = fs.open(path, O_RDWR, 0)
    if fd < 0 && errno == ENOENT {
      guard try !storeSaysAnchored(store) else { throw anchorMissing(store: store) }
      let (records, hash) = try record(endingAt: size, in: log, path: AccessLog.path(store: store))
      try createAnchor(store: store, mark: Mark(records: records, length: size, hash: hash))
      fd = fs.open(path, O_RDWR, 0)
    }
    guard fd >= 0 else { throw failure(SystemCallError("open", path: path)) }
    do {
      var bytes = [UInt8](repeating: 0, count: 2 * slotSize)
      let n = try bytes.withUnsafeMutableBytes { try fs.readFully(fd, $0, at: 0, path: path) }
      let anchor = try newest(in: Array(bytes.prefix(n)), path: path)
      // The file holds the anchored prefix when the record there is the anchored one: its
      // number and hash read back from the line that ends at the anchored length.
      func holds(_ m: Mark) -> Bool {
        guard m.records > 0 else { return true }
        guard m.length <= size,
          let (n, hash) = try? record(endingAt: m.length, in: log, path: path)
        else { return false }
        return n == m.records && hash == m.hash
      }
      guard holds(anchor.mark) || anchor.prior.map(holds) == true else {
        throw disagreement(anchor.mark, size: size, store: store)
      }
      return AnchorFile(fd: fd, path: path, anchor: anchor)
    } catch {
      _ = fs.close(fd)
      throw error
    }
  }

  /// Writes a new anchor at `mark` (both slots, so that either is whole), synced with its
  /// folder, and notes in `STORE` that the store has one from now on. For `init`, and for a
  /// store made before anchors, on its first access.
  package static func createAnchor(store: String) throws {
    try createAnchor(store: store, mark: Mark(records: 0, length: 0, hash: zeroHash))
  }

  private static func createAnchor(store: String, mark: Mark) throws {
    let first = Anchor(generation: 0, mark: mark, prior: nil)
    let second = Anchor(generation: 1, mark: mark, prior: nil)
    try FileSystem.system.writeAtomically(
      encode(first) + encode(second), to: anchorPath(store: store), directory: store)
    // After the anchor, never before: a STORE that says so always had one.
    let storePath = store + "/STORE"
    guard let bytes = try FileSystem.system.readFile(storePath),
      !lines(bytes).contains(anchoredLine)
    else { return }
    var text = bytes
    if let last = text.last, last != 0x0A { text.append(0x0A) }
    try FileSystem.system.writeAtomically(
      text + Array((anchoredLine + "\n").utf8), to: storePath, directory: store)
  }

  /// Whether the store's `STORE` file says its access log has had an anchor (false where
  /// there is no `STORE`).
  static func storeSaysAnchored(_ store: String) throws -> Bool {
    guard let bytes = try FileSystem.system.readFile(store + "/STORE") else { return false }
    return lines(bytes).contains(anchoredLine)
  }

  private static func lines(_ bytes: [UInt8]) -> [String] {
    bytes.split(separator: 0x0A).map { String(decoding: $0, as: UTF8.self) }
  }

  private static func anchorMissing(store: String) -> LogError {
    LogError(
      .damaged,
      "\(anchorPath(store: store)) is missing, and the store's STORE file says the access log"
        + " was anchored: its length cannot be checked (run hoso verify)")
  }

  /// A short form of a hash for a message.
  private static func short(_ hash: String) -> String { String(hash.prefix(16)) + "…" }

  /// What a writer that found the file (`size` bytes) not holding `m` says: it refuses.
  static func disagreement(_ m: Mark, size: Int, store: String) -> LogError {
    let path = path(store: store)
    let what =
      size < m.length
      ? "the access log was cut: \(path) is \(size) bytes, and its anchor says it held"
        + " \(m.records) records in \(m.length) bytes"
      : "the access log is not what was anchored: \(path) does not hold record \(m.records)"
        + " with hash \(short(m.hash)) ending at byte \(m.length)"
    return LogError(
      .damaged, what + "; no access is given until it is looked into: run hoso verify")
  }

  /// What `verify` says of a file (`chain`, nil when there is none) that does not hold the
  /// anchored `m`: one line, the anchored count and hash beside what the file holds.
  static func disagreement(_ m: Mark, with chain: Chain?, store: String) -> LogError {
    let path = path(store: store)
    let anchored =
      "its anchor (access.head) says \(m.records) record\(m.records == 1 ? "" : "s")"
      + " in \(m.length) bytes, the last with hash \(short(m.hash))"
    guard let chain, chain.exists else {
      return LogError(
        .damaged,
        "\(path) is missing and \(anchored): the access log was deleted")
    }
    let held = chain.entries.count
    if held < m.records {
      let cut = m.records - held
      return LogError(
        .damaged,
        "\(path) holds \(held) record\(held == 1 ? "" : "s") (\(chain.bytes) bytes) and"
          + " \(anchored): \(cut) record\(cut == 1 ? " was" : "s were") cut from its end")
    }
    if chain.bytes < m.length {
      return LogError(
        .damaged,
        "\(path) is \(chain.bytes) bytes and \(anchored): its end was cut")
    }
    let i = m.records - 1
    return LogError(
      .damaged,
      "\(path) record \(m.records) has hash \(short(chain.hashes[i])) and ends at byte"
        + " \(chain.ends[i]), and \(anchored): the access log was written anew after it was"
        + " anchored (its chain computed again)")
  }
}
