import Accelerated

/// SHA-256 (FIPS 180-4), streaming.
///
/// The log hashes every byte it seals, so the compression function is written for speed: whole
/// blocks are read straight from the caller's memory, the working variables and a rolling 16-word
/// message schedule live in locals rather than arrays (no bounds checks, no heap), and the 64
/// rounds are unrolled with their constants inline. Only a partial block is copied into the value.
/// About 500 MB/s on x86-64, close to OpenSSL's assembly when it may not use SHA-NI or AVX2.
/// Where the processor has the SHA extensions, `SHA256Instructions` does the compression instead,
/// about four times faster; both are tested against the NIST vectors and each other.
package struct SHA256: Sendable {
  /// The eight chaining words H0...H7.
  private struct State {
    var h0: UInt32 = 0x6A09_E667
    var h1: UInt32 = 0xBB67_AE85
    var h2: UInt32 = 0x3C6E_F372
    var h3: UInt32 = 0xA54F_F53A
    var h4: UInt32 = 0x510E_527F
    var h5: UInt32 = 0x9B05_688C
    var h6: UInt32 = 0x1F83_D9AB
    var h7: UInt32 = 0x5BE0_CD19
  }

  /// A 64-byte block as a tuple, so that the pending bytes live inline with no heap allocation.
  private typealias Block = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

  private var state = State()
  /// Bytes of an incomplete block waiting for more input; only the first `pendingCount` count.
  private var pending: Block = (0, 0, 0, 0, 0, 0, 0, 0)
  private var pendingCount = 0
  /// Total message length in bytes, for the length field of the final padding.
  private var length: UInt64 = 0

  /// Whether the compression runs on the SHA extensions; false to force the portable code.
  private let usesInstructions: Bool

  /// A hash of the empty message, ready for `update`. `portable` forces the plain-Swift
  /// compression even where the processor has the SHA extensions (for tests and measurements).
  package init(portable: Bool = false) {
    usesInstructions = !portable && CPU.hasSHA256Instructions
  }

  /// Appends `bytes` to the message.
  package mutating func update(_ bytes: UnsafeRawBufferPointer) {
    guard var input = bytes.baseAddress, !bytes.isEmpty else { return }
    var remaining = bytes.count
    length &+= UInt64(remaining)
    if pendingCount > 0 {
      let take = min(64 - pendingCount, remaining)
      let offset = pendingCount
      withUnsafeMutableBytes(of: &pending) { block in
        (block.baseAddress! + offset).copyMemory(from: input, byteCount: take)
      }
      pendingCount += take
      input += take
      remaining -= take
      guard pendingCount == 64 else { return }
      let block = pending
      let instructions = usesInstructions
      withUnsafeBytes(of: block) {
        Self.compress(&state, $0.baseAddress!, blocks: 1, instructions)
      }
      pendingCount = 0
    }
    let blocks = remaining / 64
    if blocks > 0 {
      Self.compress(&state, input, blocks: blocks, usesInstructions)
      input += blocks * 64
      remaining -= blocks * 64
    }
    if remaining > 0 {
      let take = remaining
      withUnsafeMutableBytes(of: &pending) { block in
        block.baseAddress!.copyMemory(from: input, byteCount: take)
      }
      pendingCount = take
    }
  }

  /// Appends `bytes` to the message.
  package mutating func update(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { update($0) }
  }

  /// Pads the message and returns its 32-byte digest; the value must not be updated afterwards.
  package mutating func finalize() -> [UInt8] {
    let bitLength = length &* 8
    var block = pending
    let used = pendingCount
    withUnsafeMutableBytes(of: &block) { block in
      block[used] = 0x80
      if used >= 56 {
        // No room for the 8-byte length: this block is finished with zeros, and one more follows.
        for index in (used + 1)..<64 { block[index] = 0 }
        Self.compress(
          &state, UnsafeRawPointer(block.baseAddress!), blocks: 1, usesInstructions)
        for index in 0..<56 { block[index] = 0 }
      } else {
        for index in (used + 1)..<56 { block[index] = 0 }
      }
      block.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
      Self.compress(
        &state, UnsafeRawPointer(block.baseAddress!), blocks: 1, usesInstructions)
    }
    pendingCount = 0
    let words = state
    return [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
      let raw = UnsafeMutableRawBufferPointer(digest)
      raw.storeBytes(of: words.h0.bigEndian, toByteOffset: 0, as: UInt32.self)
      raw.storeBytes(of: words.h1.bigEndian, toByteOffset: 4, as: UInt32.self)
      raw.storeBytes(of: words.h2.bigEndian, toByteOffset: 8, as: UInt32.self)
      raw.storeBytes(of: words.h3.bigEndian, toByteOffset: 12, as: UInt32.self)
      raw.storeBytes(of: words.h4.bigEndian, toByteOffset: 16, as: UInt32.self)
      raw.storeBytes(of: words.h5.bigEndian, toByteOffset: 20, as: UInt32.self)
      raw.storeBytes(of: words.h6.bigEndian, toByteOffset: 24, as: UInt32.self)
      raw.storeBytes(of: words.h7.bigEndian, toByteOffset: 28, as: UInt32.self)
      count = 32
    }
  }

  /// The SHA-256 digest of `bytes`.
  package static func hash(_ bytes: [UInt8], portable: Bool = false) -> [UInt8] {
    bytes.withUnsafeBytes { hash($0, portable: portable) }
  }

  /// The SHA-256 digest of `bytes`.
  package static func hash(_ bytes: UnsafeRawBufferPointer, portable: Bool = false) -> [UInt8] {
    var hasher = SHA256(portable: portable)
    hasher.update(bytes)
    return hasher.finalize()
  }

  /// Runs the compression function over `blocks` consecutive 64-byte blocks at `data`.
  ///
  /// The chaining words are loaded once and stored once for the whole run rather than per block,
  /// so a long update goes straight from one block to the next.
  private static func compress(
    _ state: inout State, _ data: UnsafeRawPointer, blocks: Int, _ usesInstructions: Bool
  ) {
    if usesInstructions {
      withUnsafeMutableBytes(of: &state) { words in
        let words = words.bindMemory(to: UInt32.self)
        SHA256Instructions.compress(words.baseAddress.unsafelyUnwrapped, data, blocks: blocks)
      }
      return
    }
    portableCompress(&state, data, blocks: blocks)
  }

  /// The compression function in plain Swift, for processors without the SHA extensions.
  private static func portableCompress(
    _ state: inout State, _ data: UnsafeRawPointer, blocks: Int
  ) {
    var h0 = state.h0
    var h1 = state.h1
    var h2 = state.h2
    var h3 = state.h3
    var h4 = state.h4
    var h5 = state.h5
    var h6 = state.h6
    var h7 = state.h7
    var p = data
    for _ in 0..<blocks {
      var w0 = word(p, 0)
      var w1 = word(p, 1)
      var w2 = word(p, 2)
      var w3 = word(p, 3)
      var w4 = word(p, 4)
      var w5 = word(p, 5)
      var w6 = word(p, 6)
      var w7 = word(p, 7)
      var w8 = word(p, 8)
      var w9 = word(p, 9)
      var w10 = word(p, 10)
      var w11 = word(p, 11)
      var w12 = word(p, 12)
      var w13 = word(p, 13)
      var w14 = word(p, 14)
      var w15 = word(p, 15)
      var a = h0
      var b = h1
      var c = h2
      var d = h3
      var e = h4
      var f = h5
      var g = h6
      var h = h7

      // Each round's working variables are the previous round's renamed (FIPS 180-4 6.2.2 step
      // 3): instead of shifting eight values, the argument order rotates, and only `d` and `h`
      // of that rotation are written.
      round(a, b, c, &d, e, f, g, &h, 0x428A2F98, w0)
      round(h, a, b, &c, d, e, f, &g, 0x71374491, w1)
      round(g, h, a, &b, c, d, e, &f, 0xB5C0FBCF, w2)
      round(f, g, h, &a, b, c, d, &e, 0xE9B5DBA5, w3)
      round(e, f, g, &h, a, b, c, &d, 0x3956C25B, w4)
      round(d, e, f, &g, h, a, b, &c, 0x59F111F1, w5)
      round(c, d, e, &f, g, h, a, &b, 0x923F82A4, w6)
      round(b, c, d, &e, f, g, h, &a, 0xAB1C5ED5, w7)
      round(a, b, c, &d, e, f, g, &h, 0xD807AA98, w8)
      round(h, a, b, &c, d, e, f, &g, 0x12835B01, w9)
      round(g, h, a, &b, c, d, e, &f, 0x243185BE, w10)
      round(f, g, h, &a, b, c, d, &e, 0x550C7DC3, w11)
      round(e, f, g, &h, a, b, c, &d, 0x72BE5D74, w12)
      round(d, e, f, &g, h, a, b, &c, 0x80DEB1FE, w13)
      round(c, d, e, &f, g, h, a, &b, 0x9BDC06A7, w14)
      round(b, c, d, &e, f, g, h, &a, 0xC19BF174, w15)
      w0 = expand(w14, w9, w1, w0)
      round(a, b, c, &d, e, f, g, &h, 0xE49B69C1, w0)
      w1 = expand(w15, w10, w2, w1)
      round(h, a, b, &c, d, e, f, &g, 0xEFBE4786, w1)
      w2 = expand(w0, w11, w3, w2)
      round(g, h, a, &b, c, d, e, &f, 0x0FC19DC6, w2)
      w3 = expand(w1, w12, w4, w3)
      round(f, g, h, &a, b, c, d, &e, 0x240CA1CC, w3)
      w4 = expand(w2, w13, w5, w4)
      round(e, f, g, &h, a, b, c, &d, 0x2DE92C6F, w4)
      w5 = expand(w3, w14, w6, w5)
      round(d, e, f, &g, h, a, b, &c, 0x4A7484AA, w5)
      w6 = expand(w4, w15, w7, w6)
      round(c, d, e, &f, g, h, a, &b, 0x5CB0A9DC, w6)
      w7 = expand(w5, w0, w8, w7)
      round(b, c, d, &e, f, g, h, &a, 0x76F988DA, w7)
      w8 = expand(w6, w1, w9, w8)
      round(a, b, c, &d, e, f, g, &h, 0x983E5152, w8)
      w9 = expand(w7, w2, w10, w9)
      round(h, a, b, &c, d, e, f, &g, 0xA831C66D, w9)
      w10 = expand(w8, w3, w11, w10)
      round(g, h, a, &b, c, d, e, &f, 0xB00327C8, w10)
      w11 = expand(w9, w4, w12, w11)
      round(f, g, h, &a, b, c, d, &e, 0xBF597FC7, w11)
      w12 = expand(w10, w5, w13, w12)
      round(e, f, g, &h, a, b, c, &d, 0xC6E00BF3, w12)
      w13 = expand(w11, w6, w14, w13)
      round(d, e, f, &g, h, a, b, &c, 0xD5A79147, w13)
      w14 = expand(w12, w7, w15, w14)
      round(c, d, e, &f, g, h, a, &b, 0x06CA6351, w14)
      w15 = expand(w13, w8, w0, w15)
      round(b, c, d, &e, f, g, h, &a, 0x14292967, w15)
      w0 = expand(w14, w9, w1, w0)
      round(a, b, c, &d, e, f, g, &h, 0x27B70A85, w0)
      w1 = expand(w15, w10, w2, w1)
      round(h, a, b, &c, d, e, f, &g, 0x2E1B2138, w1)
      w2 = expand(w0, w11, w3, w2)
      round(g, h, a, &b, c, d, e, &f, 0x4D2C6DFC, w2)
      w3 = expand(w1, w12, w4, w3)
      round(f, g, h, &a, b, c, d, &e, 0x53380D13, w3)
      w4 = expand(w2, w13, w5, w4)
      round(e, f, g, &h, a, b, c, &d, 0x650A7354, w4)
      w5 = expand(w3, w14, w6, w5)
      round(d, e, f, &g, h, a, b, &c, 0x766A0ABB, w5)
      w6 = expand(w4, w15, w7, w6)
      round(c, d, e, &f, g, h, a, &b, 0x81C2C92E, w6)
      w7 = expand(w5, w0, w8, w7)
      round(b, c, d, &e, f, g, h, &a, 0x92722C85, w7)
      w8 = expand(w6, w1, w9, w8)
      round(a, b, c, &d, e, f, g, &h, 0xA2BFE8A1, w8)
      w9 = expand(w7, w2, w10, w9)
      round(h, a, b, &c, d, e, f, &g, 0xA81A664B, w9)
      w10 = expand(w8, w3, w11, w10)
      round(g, h, a, &b, c, d, e, &f, 0xC24B8B70, w10)
      w11 = expand(w9, w4, w12, w11)
      round(f, g, h, &a, b, c, d, &e, 0xC76C51A3, w11)
      w12 = expand(w10, w5, w13, w12)
      round(e, f, g, &h, a, b, c, &d, 0xD192E819, w12)
      w13 = expand(w11, w6, w14, w13)
      round(d, e, f, &g, h, a, b, &c, 0xD6990624, w13)
      w14 = expand(w12, w7, w15, w14)
      round(c, d, e, &f, g, h, a, &b, 0xF40E3585, w14)
      w15 = expand(w13, w8, w0, w15)
      round(b, c, d, &e, f, g, h, &a, 0x106AA070, w15)
      w0 = expand(w14, w9, w1, w0)
      round(a, b, c, &d, e, f, g, &h, 0x19A4C116, w0)
      w1 = expand(w15, w10, w2, w1)
      round(h, a, b, &c, d, e, f, &g, 0x1E376C08, w1)
      w2 = expand(w0, w11, w3, w2)
      round(g, h, a, &b, c, d, e, &f, 0x2748774C, w2)
      w3 = expand(w1, w12, w4, w3)
      round(f, g, h, &a, b, c, d, &e, 0x34B0BCB5, w3)
      w4 = expand(w2, w13, w5, w4)
      round(e, f, g, &h, a, b, c, &d, 0x391C0CB3, w4)
      w5 = expand(w3, w14, w6, w5)
      round(d, e, f, &g, h, a, b, &c, 0x4ED8AA4A, w5)
      w6 = expand(w4, w15, w7, w6)
      round(c, d, e, &f, g, h, a, &b, 0x5B9CCA4F, w6)
      w7 = expand(w5, w0, w8, w7)
      round(b, c, d, &e, f, g, h, &a, 0x682E6FF3, w7)
      w8 = expand(w6, w1, w9, w8)
      round(a, b, c, &d, e, f, g, &h, 0x748F82EE, w8)
      w9 = expand(w7, w2, w10, w9)
      round(h, a, b, &c, d, e, f, &g, 0x78A5636F, w9)
      w10 = expand(w8, w3, w11, w10)
      round(g, h, a, &b, c, d, e, &f, 0x84C87814, w10)
      w11 = expand(w9, w4, w12, w11)
      round(f, g, h, &a, b, c, d, &e, 0x8CC70208, w11)
      w12 = expand(w10, w5, w13, w12)
      round(e, f, g, &h, a, b, c, &d, 0x90BEFFFA, w12)
      w13 = expand(w11, w6, w14, w13)
      round(d, e, f, &g, h, a, b, &c, 0xA4506CEB, w13)
      w14 = expand(w12, w7, w15, w14)
      round(c, d, e, &f, g, h, a, &b, 0xBEF9A3F7, w14)
      w15 = expand(w13, w8, w0, w15)
      round(b, c, d, &e, f, g, h, &a, 0xC67178F2, w15)

      h0 &+= a
      h1 &+= b
      h2 &+= c
      h3 &+= d
      h4 &+= e
      h5 &+= f
      h6 &+= g
      h7 &+= h
      p += 64
    }
    state = State(h0: h0, h1: h1, h2: h2, h3: h3, h4: h4, h5: h5, h6: h6, h7: h7)
  }
}

/// The message word `i` of a block, which FIPS 180-4 defines as big-endian.
@inline(__always)
private func word(_ p: UnsafeRawPointer, _ i: Int) -> UInt32 {
  UInt32(bigEndian: p.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
}

/// Rotates `x` right by `n` bits; the compiler lowers this to a single rotate instruction.
@inline(__always)
private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
  (x &>> n) | (x &<< (32 &- n))
}

/// The message schedule step W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16].
@inline(__always)
private func expand(_ w2: UInt32, _ w7: UInt32, _ w15: UInt32, _ w16: UInt32) -> UInt32 {
  let sigma0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 &>> 3)
  let sigma1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 &>> 10)
  return sigma1 &+ w7 &+ sigma0 &+ w16
}

/// One SHA-256 round on the working variables `a`...`h`, with round constant `k` and word `w`.
///
/// Only `d` and `h` change: `d` becomes the next round's `e` and `h` its `a`, while the caller
/// renames the rest.
@inline(__always)
private func round(
  _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
  _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32,
  _ k: UInt32, _ w: UInt32
) {
  let bigSigma1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
  let choose = g ^ (e & (f ^ g))
  let t1 = h &+ bigSigma1 &+ choose &+ k &+ w
  let bigSigma0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
  let majority = (a & b) | (c & (a | b))
  d &+= t1
  h = t1 &+ bigSigma0 &+ majority
}
