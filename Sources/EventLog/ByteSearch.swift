#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Where `needle` first occurs in `haystack` at or after `from`: `memchr(3)` for its first
/// byte, `memcmp(3)` for the rest (glibc's `memmem` is not exported to Swift). What redaction
/// looks for in segments, tables and the files `forget` checks.
package func firstOffset(
  of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from: Int = 0
) -> Int? {
  guard let base = haystack.baseAddress, let n = needle.baseAddress, !needle.isEmpty else {
    return nil
  }
  let first = Int32(needle[0])
  let last = haystack.count - needle.count  // the last offset a match can start at
  var at = from
  while at <= last {
    guard let p = memchr(base + at, first, last - at + 1) else { return nil }
    let candidate = base.distance(to: UnsafeRawPointer(p))
    if memcmp(p + 1, n + 1, needle.count - 1) == 0 { return candidate }
    at = candidate + 1
  }
  return nil
}

/// The same, for a needle given as bytes.
package func firstOffset(of needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
  needle.withUnsafeBytes { firstOffset(of: $0, in: haystack) }
}
