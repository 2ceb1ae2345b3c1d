#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

/// CRC-32C with SSE4.2's `crc32` instruction: eight bytes per instruction.
///
/// Callers check `CPU.hasCRC32CInstruction` first. The register is raw (not inverted), as the
/// portable slice-by-16 code in EventLog keeps it, so the two are interchangeable mid-stream.
package enum CRC32CInstruction {
  /// Folds `count` bytes at `base` into the raw register `crc`.
  @inline(never)
  package static func update(_ crc: UInt32, _ base: UnsafeRawPointer, count: Int) -> UInt32 {
    #if arch(x86_64)
      var crc64 = UInt64(crc)
      var offset = 0
      while offset + 8 <= count {
        crc64 = _mm_crc32_u64(crc64, base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        offset += 8
      }
      var crc32 = UInt32(truncatingIfNeeded: crc64)
      while offset < count {
        crc32 = _mm_crc32_u8(crc32, base.load(fromByteOffset: offset, as: UInt8.self))
        offset += 1
      }
      return crc32
    #else
      preconditionFailure("CRC32CInstruction on a processor without it")
    #endif
  }
}
