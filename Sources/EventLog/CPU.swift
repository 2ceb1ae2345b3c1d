#if canImport(Glibc)
  import Glibc
#endif

/// What the processor offers beyond the baseline the rest of hoso is compiled for.
///
/// The module `Accelerated` alone is compiled with SSE4.2 and the SHA extensions enabled (see
/// Package.swift), so its kernels may use those instructions, and none of them may run unless
/// `CPU` says they exist. `CPU` itself lives here, compiled for the baseline, so that finding
/// out never runs an instruction the processor may lack.
/// Linux reports the features in `/proc/cpuinfo`, read once. Elsewhere, and when
/// `HOSO_PORTABLE_DIGESTS` is set (to measure or test the portable code), every answer is no.
package enum CPU {
  /// Whether `SHA256Instructions` may run: SHA-NI and SSE4.1 (its shuffles and blends).
  package static let hasSHA256Instructions: Bool =
    flags.contains("sha_ni") && flags.contains("sse4_1")

  /// Whether `CRC32CInstruction` may run: SSE4.2's `crc32`.
  package static let hasCRC32CInstruction: Bool = flags.contains("sse4_2")

  /// The feature flags of the first processor, empty when unknown or when disabled.
  private static let flags: Set<Substring> = {
    #if arch(x86_64) && os(Linux)
      if getenv("HOSO_PORTABLE_DIGESTS") != nil { return [] }
      guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
      defer { fclose(file) }
      var line: UnsafeMutablePointer<CChar>? = nil
      var capacity = 0
      defer { free(line) }
      while getline(&line, &capacity, file) > 0 {
        let text = String(cString: line!)
        guard text.hasPrefix("flags") else { continue }
        guard let colon = text.firstIndex(of: ":") else { return [] }
        return Set(
          text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" }))
      }
      return []
    #else
      return []
    #endif
  }()
}
