#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs `body` on a read-only copy of `bytes` that ends exactly where an unreadable page
/// begins: the layout of a memory-mapped file that ends on a page boundary. A read even one
/// byte past the end faults at once, instead of passing unnoticed in spare array capacity.
///
/// Each call maps fresh memory (mmap, mprotect, munmap), so keep it out of tight loops of
/// millions of calls.
package func withGuardedBytes<T>(
  _ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> T
) rethrows -> T {
  let page = Int(sysconf(Int32(_SC_PAGESIZE)))
  let dataLength = max(1, (bytes.count + page - 1) / page) * page
  let total = dataLength + page
  guard let region = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
    region != MAP_FAILED
  else { fatalError("mmap of \(total) bytes failed") }
  defer { munmap(region, total) }
  let start = region + dataLength - bytes.count
  bytes.withUnsafeBytes { source in
    if let base = source.baseAddress { start.copyMemory(from: base, byteCount: source.count) }
  }
  guard mprotect(region, dataLength, PROT_READ) == 0,
    mprotect(region + dataLength, page, PROT_NONE) == 0
  else { fatalError("mprotect failed") }
  return try body(UnsafeRawBufferPointer(start: start, count: bytes.count))
}
