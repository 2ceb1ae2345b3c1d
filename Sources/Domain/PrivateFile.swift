import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Files hoso writes outside the store that may hold person-level data (the shell's
/// `.output` and `.once`, exports, the shell's history): its owner's only from the moment they
/// exist, whatever the umask (DESIGN.md: 0600, and 0700 for the folders made for them).
///
/// Foundation's `createFile(atPath:contents:attributes:)` and `write(toFile:atomically:)`
/// create a file with the umask's mode (0644, or 0666 under umask 0) and change it afterwards,
/// if asked: between the two, anyone may open it and keep reading what is written.
package enum PrivateFile {
  /// Opens `path` for writing from its start, emptied. A file made here is 0600; a regular
  /// file already there is made 0600 before it is emptied (what it gets now is person-level),
  /// and one that cannot be (another user's) is not written. Anything else (a FIFO, a
  /// terminal, `/dev/stdout` on a pipe) is written as it is. Returns the descriptor, which
  /// the caller closes. `open(2)`, `fchmod(2)`, `ftruncate(2)`.
  package static func create(_ path: String) throws(SystemCallError) -> Int32 {
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw SystemCallError("open", path: path) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      let e = SystemCallError("stat", path: path)
      close(fd)
      throw e
    }
    if st.st_mode & S_IFMT == S_IFREG {
      if st.st_mode & 0o777 != 0o600, fchmod(fd, 0o600) != 0 {
        let e = SystemCallError("chmod", path: path)
        close(fd)
        throw e
      }
      if st.st_size > 0, ftruncate(fd, 0) != 0 {
        let e = SystemCallError("truncate", path: path)
        close(fd)
        throw e
      }
    }
    return fd
  }

  /// Makes the folder `path` and those above it that are missing, each 0700 whatever the
  /// umask; folders already there are left as they are. `mkdir(2)`, `chmod(2)`.
  package static func makeFolders(_ path: String) throws(SystemCallError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
      if FileSystem.system.mkdir(prefix, 0o700) == 0 {
        guard chmod(prefix, 0o700) == 0 else { throw SystemCallError("chmod", path: prefix) }
        continue
      }
      let failed = errno
      var st = stat()
      guard failed == EEXIST, stat(prefix, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
        throw SystemCallError("mkdir", path: prefix, errno: failed == EEXIST ? ENOTDIR : failed)
      }
    }
  }

  /// Replaces `path` with `bytes` in one step: a new file of its owner's only, renamed over the
  /// old one (which readers see whole or not at all). Not synced: for files such as the
  /// shell's history, which a power cut may cost. `rename(2)`.
  package static func replace(_ path: String, with bytes: [UInt8]) throws(SystemCallError) {
    let temporary = path + ".tmp"
    // A fresh file, not whatever a name left there points to.
    unlink(temporary)
    let fd = try create(temporary)
    var done = 0
    while done < bytes.count {
      let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        let e = SystemCallError("write", path: temporary, errno: n < 0 ? errno : EIO)
        close(fd)
        unlink(temporary)
        throw e
      }
      done += n
    }
    close(fd)
    guard rename(temporary, path) == 0 else {
      let e = SystemCallError("rename", path: temporary)
      unlink(temporary)
      throw e
    }
  }
}
