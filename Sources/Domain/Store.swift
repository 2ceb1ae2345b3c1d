import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A store: a directory (0700) holding `STORE` (its identity and settings) and `log/`.
///
///     STORE     hoso-store 1 / id <32 hex> / key <path of the key file>
///     log/      the event log (EventLog)
///
/// The pseudonym key is kept apart from the store, by default under
/// `$XDG_CONFIG_HOME/hoso/keys/` (or `~/.config/hoso/keys/`), so that a copy of the store, or
/// an export, cannot be re-identified without it.
package struct Store: Sendable {
  package let path: String
  package let id: String
  package let keyPath: String
  /// HMAC-SHA256(key, "hoso key check " + id), in hex: proves a key is this store's without
  /// holding it (nil for a store made before hoso recorded it).
  package var keyCheck: String?

  package var logPath: String { path + "/log" }
  package var metadataPath: String { path + "/STORE" }

  /// Creates a store and its key. Fails with `.invalidArgument` if one is already there.
  package static func create(
    at path: String, segmentSize: Int = LogWriter.defaultSegmentSize, keyPath: String? = nil
  ) throws -> Store {
    if access(path + "/STORE", F_OK) == 0 || access(path + "/log/FORMAT", F_OK) == 0 {
      throw LogError(.invalidArgument, "a store already exists at \(path)")
    }
    guard segmentSize >= LogWriter.minimumSegmentSize else {
      throw LogError(
        .invalidArgument,
        "--segment-size \(segmentSize) is too small (at least \(LogWriter.minimumSegmentSize))")
    }
    var random = [UInt8](repeating: 0, count: 48)
    try fillRandom(&random)
    let id = hex(random[32...])
    let key = keyPath ?? defaultKeyDirectory() + "/\(id).key"
    try makeDirectories(path)
    _ = chmod(path, 0o700)
    if access(key, F_OK) != 0 {
      // A bare file name (`--key store.key`) lies in the working directory.
      let keyDirectory = parentFolder(of: key)
      try makeDirectories(keyDirectory)
      try FileSystem.system.writeAtomically(
        Array((hex(random[0..<32]) + "\n").utf8), to: key, directory: keyDirectory)
      _ = chmod(key, 0o600)
    }
    try LogWriter.create(at: path + "/log", segmentSize: segmentSize)
    let absoluteKey =
      key.hasPrefix("/") ? key : FileManager.default.currentDirectoryPath + "/" + key
    var store = Store(path: path, id: id, keyPath: absoluteKey)
    let check = try store.keyCheck(for: store.loadKey())
    store.keyCheck = check
    // The access log's anchor from the start: a store that says it has one is damaged
    // without it.
    try AccessLog.createAnchor(store: path)
    let meta =
      "hoso-store 1\nid \(id)\nkey \(absoluteKey)\nkeycheck \(check)\n"
      + AccessLog.anchoredLine + "\n"
    try FileSystem.system.writeAtomically(
      Array(meta.utf8), to: path + "/STORE", directory: path)
    return store
  }

  /// Opens an existing store; `.missing` when there is none.
  package static func open(at path: String) throws -> Store {
    guard let bytes = try FileSystem.system.readFile(path + "/STORE") else {
      throw LogError(
        .missing,
        "no store at \(path): hoso init makes an empty store there; for the demo store, run"
          + " hoso alone in hoso's source folder (or check --store and HOSO_STORE)")
    }
    var id: String?
    var key: String?
    var check: String?
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
      if line.hasPrefix("id ") { id = String(line.dropFirst(3)) }
      if line.hasPrefix("key ") { key = String(line.dropFirst(4)) }
      if line.hasPrefix("keycheck ") { check = String(line.dropFirst(9)) }
    }
    guard bytes.starts(with: Array("hoso-store 1\n".utf8)), let id, let key else {
      throw LogError(.damaged, "\(path)/STORE is not a hoso store file")
    }
    // `O_NOFOLLOW` guards the last name of a path only: a link for one of the store's
    // folders would have every file under it read and made where it points.
    for folder in ["log", "views", "matviews"] {
      var st = stat()
      if lstat(path + "/" + folder, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
        throw LogError(.damaged, "\(path)/\(folder) \(SystemCallError.symbolicLink)")
      }
    }
    return Store(path: path, id: id, keyPath: key, keyCheck: check)
  }

  /// What `keyCheck` holds for `key`.
  package func keyCheck(for key: [UInt8]) -> String {
    hex(HMACSHA256.authenticationCode(key: key, message: Array("hoso key check \(id)".utf8)))
  }

  /// Whether `key` is this store's (any key, for a store made before the check was recorded).
  package func accepts(key: [UInt8]) -> Bool {
    keyCheck.map { $0 == keyCheck(for: key) } ?? true
  }

  /// Reads the pseudonym key: the file given, else the one recorded at `init`. It must be
  /// readable by its owner only.
  package func loadKey(override: String? = nil) throws -> [UInt8] {
    let path = override ?? keyPath
    var st = stat()
    guard stat(path, &st) == 0 else {
      // A key named on the command line that is not there is a mistake in the call (1); the
      // store's own key gone missing is a store problem (2).
      throw LogError(
        override == nil ? .missing : .invalidArgument,
        "the pseudonym key \(path) is missing; pass --key FILE or set HOSO_KEY")
    }
    guard st.st_mode & 0o077 == 0 else {
      throw LogError(
        .invalidArgument,
        "the pseudonym key \(path) is readable by others; run chmod 600 \(path)")
    }
    // The key is the user's file, kept apart from the store, and may be a link (a secret a
    // deployment mounts): it is read through one, as the store's own files never are.
    var followingLinks = FileSystem.system
    followingLinks.open = { path, flags, mode in Glibc.open(path, flags | O_CLOEXEC, mode) }
    guard let bytes = try followingLinks.readFile(path) else {
      throw LogError(.missing, "the pseudonym key \(path) is missing")
    }
    // Trimmed by hand: Foundation's CharacterSet costs a millisecond on first use, and every
    // query that may show a person loads the key.
    // (By index, too: a reversed slice of a reversed slice is a generic type the runtime
    // builds from its mangled name at first use, another tenth of a millisecond.)
    let isSpace = { (b: UInt8) in b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    var start = 0
    var end = bytes.count
    while start < end && isSpace(bytes[start]) { start += 1 }
    while end > start && isSpace(bytes[end - 1]) { end -= 1 }
    let text = String(decoding: bytes[start..<end], as: UTF8.self)
    guard text.utf8.count >= 32, let key = unhex(text) else {
      throw LogError(.invalidArgument, "the pseudonym key \(path) is not a hex key")
    }
    return key
  }

  private static func defaultKeyDirectory() -> String {
    let env = ProcessInfo.processInfo.environment
    if let xdg = env["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/hoso/keys" }
    return (env["HOME"] ?? NSHomeDirectory()) + "/.config/hoso/keys"
  }

  /// The folder and those above it that are missing, 0700 from the moment each exists.
  private static func makeDirectories(_ path: String) throws {
    do {
      try PrivateFile.makeFolders(path)
    } catch {
      throw LogError(.io, "cannot create \(path): \(error)")
    }
  }

  /// Fills `bytes` from the system's cryptographically secure generator (`getrandom(2)` on
  /// Linux, through `SystemRandomNumberGenerator`).
  private static func fillRandom(_ bytes: inout [UInt8]) throws {
    var g = SystemRandomNumberGenerator()
    for i in bytes.indices { bytes[i] = g.next() }
  }
}

package func hex(_ bytes: some Sequence<UInt8>) -> String {
  let digits = Array("0123456789abcdef".utf8)
  var out: [UInt8] = []
  for b in bytes {
    out.append(digits[Int(b >> 4)])
    out.append(digits[Int(b & 15)])
  }
  return String(decoding: out, as: UTF8.self)
}

package func unhex(_ s: String) -> [UInt8]? {
  let u = Array(s.utf8)
  guard u.count % 2 == 0 else { return nil }
  func v(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: c - 0x30
    case 0x61...0x66: c - 0x61 + 10
    case 0x41...0x46: c - 0x41 + 10
    default: nil
    }
  }
  var out: [UInt8] = []
  for i in stride(from: 0, to: u.count, by: 2) {
    guard let a = v(u[i]), let b = v(u[i + 1]) else { return nil }
    out.append(a << 4 | b)
  }
  return out
}

/// The folder that holds `path`: "." for a bare name, "/" for a name at the root.
/// (Foundation's `deletingLastPathComponent` traps on a name without a slash.)
package func parentFolder(of path: String) -> String {
  guard let slash = path.lastIndex(of: "/") else { return "." }
  return slash == path.startIndex ? "/" : String(path[..<slash])
}
