#if arch(x86_64)
  import _Builtin_intrinsics.intel
#endif

/// The SHA-256 compression function with the SHA extensions (SHA-NI): two rounds per
/// `sha256rnds2`, the message schedule by `sha256msg1`/`sha256msg2`.
///
/// About four times the throughput of the portable code in EventLog. Callers check
/// `CPU.hasSHA256Instructions` first. The instructions keep the working variables in two
/// registers, ABEF and CDGH (most significant lane first); `compress` converts to and from the
/// eight chaining words once per call, so a long run of blocks stays in registers.
package enum SHA256Instructions {
  /// Runs the compression function over `blocks` 64-byte blocks at `data`, updating the eight
  /// chaining words H0...H7 at `state`.
  @inline(never)
  package static func compress(
    _ state: UnsafeMutablePointer<UInt32>, _ data: UnsafeRawPointer, blocks: Int
  ) {
    #if arch(x86_64)
      roundConstants.withUnsafeBytes { k in
        compress(state, data, blocks: blocks, k.baseAddress.unsafelyUnwrapped)
      }
    #else
      preconditionFailure("SHA256Instructions on a processor without them")
    #endif
  }

  #if arch(x86_64)
    @inline(__always)
    private static func compress(
      _ state: UnsafeMutablePointer<UInt32>, _ data: UnsafeRawPointer, blocks: Int,
      _ k: UnsafeRawPointer
    ) {
      // Lanes, least significant first: ABEF holds F, E, B, A; CDGH holds H, G, D, C.
      var abef = vector(state[5], state[4], state[1], state[0])
      var cdgh = vector(state[7], state[6], state[3], state[2])
      let byteSwap = _mm_set_epi64x(0x0C0D_0E0F_0809_0A0B, 0x0405_0607_0001_0203)
      var p = data
      for _ in 0..<blocks {
        let savedABEF = abef
        let savedCDGH = cdgh
        var m0 = _mm_shuffle_epi8(load(p, 0), byteSwap)
        var m1 = _mm_shuffle_epi8(load(p, 16), byteSwap)
        var m2 = _mm_shuffle_epi8(load(p, 32), byteSwap)
        var m3 = _mm_shuffle_epi8(load(p, 48), byteSwap)
        // Each step runs four rounds with the message words `w`, and meanwhile extends the
        // schedule: `next = msg2(next + alignr(w, previous), w)` completes the words four
        // rounds ahead, and `msg1(previous, w)` starts the ones after.
        rounds(&abef, &cdgh, m0, k, 0)
        rounds(&abef, &cdgh, m1, k, 1)
        m0 = _mm_sha256msg1_epu32(m0, m1)
        rounds(&abef, &cdgh, m2, k, 2)
        m1 = _mm_sha256msg1_epu32(m1, m2)
        for step in stride(from: 3, to: 15, by: 4) {
          rounds(&abef, &cdgh, m3, k, step, extending: &m0, after: m2)
          if step <= 12 { m2 = _mm_sha256msg1_epu32(m2, m3) }
          rounds(&abef, &cdgh, m0, k, step + 1, extending: &m1, after: m3)
          if step + 1 <= 12 { m3 = _mm_sha256msg1_epu32(m3, m0) }
          rounds(&abef, &cdgh, m1, k, step + 2, extending: &m2, after: m0)
          if step + 2 <= 12 { m0 = _mm_sha256msg1_epu32(m0, m1) }
          rounds(&abef, &cdgh, m2, k, step + 3, extending: &m3, after: m1)
          if step + 3 <= 12 { m1 = _mm_sha256msg1_epu32(m1, m2) }
        }
        rounds(&abef, &cdgh, m3, k, 15)
        abef = _mm_add_epi32(abef, savedABEF)
        cdgh = _mm_add_epi32(cdgh, savedCDGH)
        p += 64
      }
      let a = lanes(abef)
      let c = lanes(cdgh)
      state[0] = a[3]
      state[1] = a[2]
      state[2] = c[3]
      state[3] = c[2]
      state[4] = a[1]
      state[5] = a[0]
      state[6] = c[1]
      state[7] = c[0]
    }

    /// Four rounds with the message words `w` (rounds `4 * step` to `4 * step + 3`).
    @inline(__always)
    private static func rounds(
      _ abef: inout __m128i, _ cdgh: inout __m128i, _ w: __m128i, _ k: UnsafeRawPointer,
      _ step: Int
    ) {
      let message = _mm_add_epi32(w, load(k, step * 16))
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_unpackhi_epi64(message, message))
    }

    /// Four rounds with the message words `w`, finishing the schedule's words in `next`
    /// from `w` and the words before it, `previous`.
    @inline(__always)
    private static func rounds(
      _ abef: inout __m128i, _ cdgh: inout __m128i, _ w: __m128i, _ k: UnsafeRawPointer,
      _ step: Int, extending next: inout __m128i, after previous: __m128i
    ) {
      let message = _mm_add_epi32(w, load(k, step * 16))
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, message)
      next = _mm_sha256msg2_epu32(_mm_add_epi32(next, alignr4(w, previous)), w)
      abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_unpackhi_epi64(message, message))
    }

    /// `palignr(high, low, 4)`: lanes 1, 2 and 3 of `low`, then lane 0 of `high`.
    @inline(__always)
    private static func alignr4(_ high: __m128i, _ low: __m128i) -> __m128i {
      let h = lanes(high)
      let l = lanes(low)
      return unsafeBitCast(SIMD4<UInt32>(l[1], l[2], l[3], h[0]), to: __m128i.self)
    }

    @inline(__always)
    private static func vector(_ l0: UInt32, _ l1: UInt32, _ l2: UInt32, _ l3: UInt32) -> __m128i {
      unsafeBitCast(SIMD4<UInt32>(l0, l1, l2, l3), to: __m128i.self)
    }

    @inline(__always)
    private static func lanes(_ v: __m128i) -> SIMD4<UInt32> {
      unsafeBitCast(v, to: SIMD4<UInt32>.self)
    }

    @inline(__always)
    private static func load(_ p: UnsafeRawPointer, _ offset: Int) -> __m128i {
      p.loadUnaligned(fromByteOffset: offset, as: __m128i.self)
    }
  #endif

  /// K0...K63 of FIPS 180-4, section 4.2.2.
  private static let roundConstants: [UInt32] = [
    0x428A_2F98, 0x7137_4491, 0xB5C0_FBCF, 0xE9B5_DBA5, 0x3956_C25B, 0x59F1_11F1, 0x923F_82A4,
    0xAB1C_5ED5, 0xD807_AA98, 0x1283_5B01, 0x2431_85BE, 0x550C_7DC3, 0x72BE_5D74, 0x80DE_B1FE,
    0x9BDC_06A7, 0xC19B_F174, 0xE49B_69C1, 0xEFBE_4786, 0x0FC1_9DC6, 0x240C_A1CC, 0x2DE9_2C6F,
    0x4A74_84AA, 0x5CB0_A9DC, 0x76F9_88DA, 0x983E_5152, 0xA831_C66D, 0xB003_27C8, 0xBF59_7FC7,
    0xC6E0_0BF3, 0xD5A7_9147, 0x06CA_6351, 0x1429_2967, 0x27B7_0A85, 0x2E1B_2138, 0x4D2C_6DFC,
    0x5338_0D13, 0x650A_7354, 0x766A_0ABB, 0x81C2_C92E, 0x9272_2C85, 0xA2BF_E8A1, 0xA81A_664B,
    0xC24B_8B70, 0xC76C_51A3, 0xD192_E819, 0xD699_0624, 0xF40E_3585, 0x106A_A070, 0x19A4_C116,
    0x1E37_6C08, 0x2748_774C, 0x34B0_BCB5, 0x391C_0CB3, 0x4ED8_AA4A, 0x5B9C_CA4F, 0x682E_6FF3,
    0x748F_82EE, 0x78A5_636F, 0x84C8_7814, 0x8CC7_0208, 0x90BE_FFFA, 0xA450_6CEB, 0xBEF9_A3F7,
    0xC671_78F2,
  ]
}
