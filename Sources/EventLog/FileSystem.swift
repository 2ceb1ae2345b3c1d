#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The seam through which every file syscall of the log goes.
///
/// Tests replace single calls to simulate what a healthy disk never does: a short write, `ENOSPC`,
/// a failed `fsync`. Each closure has the contract of the C call it is named after: it returns
/// -1 and sets `errno` on failure.
package struct FileSystem: Sendable {
  package var open: @Sendable (_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32
  package var close: @Sendable (_ fd: Int32) -> Int32
  package var pread:
    @Sendable (_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) -> Int
  package var pwrite:
    @Sendable (_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ offset: Int64) -> Int
  package var fsync: @Sendable (_ fd: Int32) -> Int32
  package var ftruncate: @Sendable (_ fd: Int32, _ length: Int64) -> Int32
  package var unlink: @Sendable (_ path: String) -> Int32
  package var rename: @Sendable (_ from: String, _ to: String) -> Int32
  package var fdatasync: @Sendable (_ fd: Int32) -> Int32
  /// `write(2)`: at the end of a file opened `O_APPEND` (the access log).
  package var write: @Sendable (_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int
  package var mkdir: @Sendable (_ path: String, _ mode: mode_t) -> Int32
  package var rmdir: @Sendable (_ path: String) -> Int32

  /// The real calls. A file is never opened through a symbolic link (`O_NOFOLLOW`): a link
  /// planted where a file of the store should be would have hoso read, or create, a file
  /// outside the store. A folder opened to be synced (`O_DIRECTORY`) may be one: the store
  /// lies wherever its owner put it.
  package static let system = FileSystem(
    open: { path, flags, mode in
      let creates = flags & (O_CREAT | O_TRUNC) != 0
      if creates, let failure = FaultInjection.before("open", path) { return failure.fail() }
      let fd = Glibc.open(
        path, flags | O_CLOEXEC | (flags & O_DIRECTORY == 0 ? O_NOFOLLOW : 0), mode)
      if creates { FaultInjection.after() }
      return fd
    },
    close: { fd in Glibc.close(fd) },
    pread: { fd, buffer, offset in Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
    },
    pwrite: { fd, buffer, offset in
      FaultInjection.aroundWrite(buffer.count) { count in
        Glibc.pwrite(fd, buffer.baseAddress, count, off_t(offset))
      }
    },
    fsync: { fd in
      FaultInjection.around("fsync", nil) { Glibc.fsync(fd) }
    },
    ftruncate: { fd, length in
      FaultInjection.around("ftruncate", nil) { Glibc.ftruncate(fd, off_t(length)) }
    },
    unlink: { path in
      FaultInjection.around("unlink", path) { Glibc.unlink(path) }
    },
    rename: { from, to in
      FaultInjection.around("rename", from) { Glibc.rename(from, to) }
    },
    fdatasync: { fd in
      FaultInjection.around("fdatasync", nil) { Glibc.fdatasync(fd) }
    },
    write: { fd, buffer in
      FaultInjection.aroundWrite(buffer.count) { count in
        Glibc.write(fd, buffer.baseAddress, count)
      }
    },
    mkdir: { path, mode in
      FaultInjection.around("mkdir", path) { Glibc.mkdir(path, mode) }
    },
    rmdir: { path in
      FaultInjection.around("rmdir", path) { Glibc.rmdir(path) }
    }
  )
}

/// A failed system call: which call, on which file, and the `errno` it set.
package struct SystemCallError: Error, Sendable, CustomStringConvertible {
  package var call: String
  package var path: String
  package var errno: Int32

  package init(_ call: String, path: String, errno: Int32 = Glibc.errno) {
    self.call = call
    self.path = path
    self.errno = errno
  }

  package var description: String {
    // What `O_NOFOLLOW` refused, said as what it is rather than as a loop of links.
    if call == "open" && errno == ELOOP { return "\(path) \(Self.symbolicLink)" }
    return "\(call) \(path): \(String(cString: strerror(errno)))"
  }

  /// Said of a link found where a file of the store should be.
  package static let symbolicLink =
    "is a symbolic link; a store's files are never followed through links"
}

extension FileSystem {
  /// Writes all of `buffer` at `offset`, retrying short writes and `EINTR`.
  ///
  /// A short write is not an error by itself (POSIX allows it); a write that makes no progress
  /// (returns 0) or fails is one. `pwrite(2)`.
  package func writeAll(
    _ fd: Int32, _ buffer: UnsafeRawBufferPointer, at offset: Int64, path: String
  ) throws {
    var done = 0
    while done < buffer.count {
      let rest = UnsafeRawBufferPointer(rebasing: buffer[done...])
      let n = pwrite(fd, rest, offset + Int64(done))
      if n < 0 {
        if Glibc.errno == EINTR { continue }
        throw LogError(SystemCallError("write", path: path))
      }
      if n == 0 { throw LogError(SystemCallError("write", path: path, errno: EIO)) }
      done += n
    }
  }

  /// Reads up to `buffer.count` bytes at `offset`, fewer only at the end of the file.
  /// `pread(2)`.
  package func readFully(
    _ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String
  ) throws -> Int {
    var done = 0
    while done < buffer.count {
      let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
      let n = pread(fd, rest, offset + Int64(done))
      if n < 0 {
        if Glibc.errno == EINTR { continue }
        throw LogError(SystemCallError("read", path: path))
      }
      if n == 0 { break }
      done += n
    }
    return done
  }

  /// Reads a whole file into memory (small files: markers, indexes, segment tails).
  package func readFile(_ path: String) throws -> [UInt8]? {
    let fd = open(path, O_RDONLY, 0)
    if fd < 0 {
      if Glibc.errno == ENOENT { return nil }
      throw LogError(SystemCallError("open", path: path))
    }
    defer { _ = close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw LogError(SystemCallError("stat", path: path)) }
    let size = Int(st.st_size)
    var bytes = [UInt8](repeating: 0, count: size)
    let n = try bytes.withUnsafeMutableBytes { (b) -> Int in
      try readFully(fd, b, at: 0, path: path)
    }
    if n < size { bytes.removeLast(size - n) }
    return bytes
  }

  /// Makes a directory's entries durable: a new or renamed file is only safely there once its
  /// directory has been synced. `fsync(2)` on the directory.
  package func syncDirectory(_ path: String) throws {
    let fd = open(path, O_RDONLY | O_DIRECTORY, 0)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    defer { _ = close(fd) }
    guard fsync(fd) == 0 else { throw LogError(SystemCallError("fsync", path: path)) }
  }

  /// Replaces `path` atomically with `bytes`: a new file, written and synced, renamed over the
  /// old one, and the directory synced. `rename(2)`.
  package func writeAtomically(
    _ bytes: [UInt8], to path: String, directory: String, sync: Bool = true
  ) throws {
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: tmp)) }
    do {
      try bytes.withUnsafeBytes { (b) in try writeAll(fd, b, at: 0, path: tmp) }
      if sync, fsync(fd) != 0 { throw LogError(SystemCallError("fsync", path: tmp)) }
    } catch {
      _ = close(fd)
      _ = unlink(tmp)
      throw error
    }
    _ = close(fd)
    guard rename(tmp, path) == 0 else { throw LogError(SystemCallError("rename", path: tmp)) }
    if sync { try syncDirectory(directory) }
  }
}

extension FileSystem {
  /// Removes `path` and, for a folder, everything in it (not following links); nothing when
  /// it is not there. Through the seam, so a fault test can stop it at any file.
  package func removeTree(_ path: String) throws {
    var st = stat()
    guard lstat(path, &st) == 0 else {
      if Glibc.errno == ENOENT { return }
      throw LogError(SystemCallError("stat", path: path))
    }
    if st.st_mode & S_IFMT == S_IFDIR {
      for name in directoryEntries(path) ?? [] { try removeTree(path + "/" + name) }
      guard rmdir(path) == 0 || Glibc.errno == ENOENT else {
        throw LogError(SystemCallError("rmdir", path: path))
      }
    } else {
      guard unlink(path) == 0 || Glibc.errno == ENOENT else {
        throw LogError(SystemCallError("unlink", path: path))
      }
    }
  }
}

/// The size of an open file. `fstat(2)`.
package func fileSize(_ fd: Int32) -> Int64? {
  var st = stat()
  guard fstat(fd, &st) == 0 else { return nil }
  return Int64(st.st_size)
}

/// The names in a directory, or nil when it does not exist. `readdir(3)`.
package func directoryEntries(_ path: String) -> [String]? {
  guard let dir = opendir(path) else { return nil }
  defer { closedir(dir) }
  var names: [String] = []
  while let entry = readdir(dir) {
    let name = withUnsafePointer(to: entry.pointee.d_name) { p in
      p.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
    }
    if name != "." && name != ".." { names.append(name) }
  }
  return names
}
