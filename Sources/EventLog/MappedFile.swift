#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A read-only memory map of a whole file: the one owner of the mapping, unmapped on deinit.
///
/// Only sealed segments are mapped; they never change, so the mapping can never run past the
/// end of a file a writer is cutting. `mmap(2)`.
package final class MappedFile {
  package let path: String
  private let base: UnsafeMutableRawPointer?
  package let count: Int

  /// `sequential`: the file is read front to back (a segment, an input file), so the kernel
  /// may read far ahead. A table's row group is not: a query reads a few of its columns.
  /// `followingLinks`: only for a file the user names (an input), never for one of the store.
  package init(_ path: String, sequential: Bool = true, followingLinks: Bool = false) throws {
    self.path = path
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW))
    guard fd >= 0 else { throw LogError(SystemCallError("open", path: path)) }
    defer { Glibc.close(fd) }
    guard let size = fileSize(fd) else { throw LogError(SystemCallError("stat", path: path)) }
    count = Int(size)
    if count == 0 {
      base = nil
      return
    }
    let p = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0)
    guard let p, p != MAP_FAILED else { throw LogError(SystemCallError("mmap", path: path)) }
    if sequential { _ = madvise(p, count, MADV_SEQUENTIAL) }
    base = p
  }

  deinit {
    if let base { munmap(base, count) }
  }

  package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(UnsafeRawBufferPointer(start: base, count: count))
  }
}

@available(*, unavailable)
extension MappedFile: Sendable {}
