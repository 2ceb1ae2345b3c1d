import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Step 1, planning: finding the occurrences and computing every new byte.
extension LogRedactor {
  // MARK: - Planning

  /// Bytes to write at an offset of a segment file.
  struct Patch: Equatable {
    var offset: Int
    var bytes: [UInt8]
  }

  /// What the redaction does to one segment, and how to tell whether it has been done.
  struct SegmentPlan: Equatable {
    var firstSeq: UInt64
    /// Copied with masked records (else only the footer changes, in place).
    var copy: Bool
    var sealed: Bool
    var size: Int
    /// Sealed: the chain hash before this segment's, before and after the redaction; the
    /// segment's own hash is SHA-256(previous ‖ bytes before the footer). Active: nil, and the
    /// hashes cover the whole file (they only tell its two states apart).
    var oldPrevious: [UInt8]?
    var oldHash: [UInt8]
    var newPrevious: [UInt8]?
    var newHash: [UInt8]
    /// In ascending order, not overlapping: payload runs, CRCs, then the footer.
    var patches: [Patch]

    var bodyEnd: Int { sealed ? size - SegmentFooter.size : size }
  }

  struct Plan {
    var segments: [SegmentPlan] = []
    var seqs: [UInt64] = []
    var occurrences = 0
  }

  static let zeroHash = [UInt8](repeating: 0, count: 32)

  /// Step 1: finds the occurrences and computes every new byte, changing nothing. Every
  /// segment is searched as a whole (`memmem(3)` over its mapping), so a match outside the
  /// payloads is found too. The frames of a segment are walked only when it has a match.
  static func makePlan(
    _ dir: LogDirectory, pattern: [UInt8], mask: [UInt8]
  ) throws -> Plan {
    var plan = Plan()
    let names = dir.segments()
    var oldPrevious = zeroHash
    var newPrevious = zeroHash
    var started = false
    for (i, s) in names.enumerated() {
      let name = dir.segmentName(s)
      let file = try MappedFile(dir.segmentPath(s))
      try file.withBytes { bytes in
        let footer = SegmentFooter.decode(bytes)
        guard footer != nil || i == names.count - 1 else {
          throw LogError(
            .damaged, "segment is not sealed: its footer is missing or damaged", segment: name)
        }
        let bodyEnd = bytes.count - (footer == nil ? 0 : SegmentFooter.size)
        let hits = pattern.withUnsafeBytes { occurrences(of: $0, in: bytes) }
        var masked = Masked()
        if !hits.isEmpty {
          masked = try maskFrames(
            bytes, bodyEnd: bodyEnd, hits: hits, pattern: pattern, mask: mask, segment: name)
        }
        if !started && masked.patches.isEmpty {
          if let footer {
            oldPrevious = footer.hash
            newPrevious = footer.hash
          }
          return
        }
        started = true
        plan.seqs += masked.seqs
        plan.occurrences += masked.occurrences
        let copy = !masked.patches.isEmpty
        if var footer {
          let footerAt = Int64(bodyEnd)
          // The writer's open checked the links; the bytes are checked here, as they are hashed
          // anyway: a re-seal must not make earlier damage look sound.
          guard footer.previousHash == oldPrevious else {
            throw LogError(
              .damaged, "the hash chain is broken: the previous segment's hash differs",
              segment: name, offset: footerAt + 40, seq: s)
          }
          let h = hashes(
            bytes, end: bodyEnd,
            [(oldPrevious, []), (newPrevious, masked.patches)])
          guard h[0] == footer.hash else {
            throw LogError(
              .damaged, "SHA-256 of the segment does not match its footer", segment: name,
              offset: footerAt + 72, seq: s)
          }
          footer.previousHash = newPrevious
          footer.hash = h[1]
          plan.segments.append(
            SegmentPlan(
              firstSeq: s, copy: copy, sealed: true, size: bytes.count,
              oldPrevious: oldPrevious, oldHash: h[0], newPrevious: newPrevious, newHash: h[1],
              patches: masked.patches + [Patch(offset: bodyEnd, bytes: footer.encode())]))
          oldPrevious = h[0]
          newPrevious = h[1]
        } else if copy {
          let h = hashes(bytes, end: bodyEnd, [(nil, []), (nil, masked.patches)])
          plan.segments.append(
            SegmentPlan(
              firstSeq: s, copy: true, sealed: false, size: bytes.count, oldPrevious: nil,
              oldHash: h[0], newPrevious: nil, newHash: h[1], patches: masked.patches))
        }
      }
    }
    return plan
  }

  /// The patches that mask one segment's records, and what they touch.
  private struct Masked {
    var patches: [Patch] = []
    var seqs: [UInt64] = []
    var occurrences = 0
  }

  /// Masks the records that hold the matches at `hits` (ascending offsets into the segment):
  /// their payloads' changed runs and their new CRCs. Each touched frame's CRC is checked
  /// first, so masking never turns a damaged frame into one that verifies.
  private static func maskFrames(
    _ bytes: UnsafeRawBufferPointer, bodyEnd: Int, hits: [Int], pattern: [UInt8],
    mask: [UInt8], segment name: String
  ) throws -> Masked {
    func stray(_ at: Int) -> LogError {
      LogError(
        .invalidArgument,
        "the pattern also occurs outside the records' payloads, where it cannot be masked;"
          + " nothing was changed", segment: name, offset: Int64(at))
    }
    var out = Masked()
    var offset = SegmentHeader.size
    var h = 0
    while h < hits.count {
      guard hits[h] >= offset, offset < bodyEnd else { throw stray(hits[h]) }
      let frame = UnsafeRawBufferPointer(rebasing: bytes[offset..<bodyEnd])
      let header: Frame.Header
      switch Frame.decode(frame) {
      case .success(let decoded): header = decoded
      case .failure(let defect):
        throw LogError(.damaged, defect.text, segment: name, offset: Int64(offset))
      }
      let payloadStart = offset + Frame.headerSize
      let end = offset + header.frameSize
      guard hits[h] < end else {
        offset = end
        continue
      }
      var count = 0
      while h < hits.count, hits[h] < end {
        guard hits[h] >= payloadStart, hits[h] + pattern.count <= end else {
          throw stray(hits[h])
        }
        count += 1
        h += 1
      }
      var newFrame = Array(frame[0..<header.frameSize])
      var payload = Array(newFrame[Frame.headerSize...])
      let original = payload
      guard maskAll(&payload, pattern: pattern, mask: mask) else {
        throw LogError(
          .invalidArgument,
          "masking the pattern makes it appear again in this record: choose another mask;"
            + " nothing was changed", segment: name, seq: header.seq)
      }
      newFrame.replaceSubrange(Frame.headerSize..., with: payload)
      let crc = newFrame.withUnsafeBytes { Frame.checksum($0) }
      out.patches.append(
        Patch(offset: offset + 4, bytes: withUnsafeBytes(of: crc.littleEndian) { Array($0) }))
      var j = 0
      while j < payload.count {
        guard payload[j] != original[j] else {
          j += 1
          continue
        }
        var k = j
        while k < payload.count && payload[k] != original[k] { k += 1 }
        out.patches.append(Patch(offset: payloadStart + j, bytes: Array(payload[j..<k])))
        j = k
      }
      out.seqs.append(header.seq)
      out.occurrences += count
      offset = end
    }
    return out
  }

  /// Replaces each occurrence of `pattern` in `payload` by `mask`, looking again around each
  /// replacement: a mask next to other bytes could form the pattern anew. False when it keeps
  /// doing so.
  private static func maskAll(_ payload: inout [UInt8], pattern: [UInt8], mask: [UInt8]) -> Bool {
    var from = 0
    var budget = payload.count
    while let at = payload.withUnsafeBytes({ p in
      pattern.withUnsafeBytes { find($0, in: p, from: from) }
    }) {
      guard budget > 0 else { return false }
      budget -= 1
      payload.replaceSubrange(at..<(at + pattern.count), with: mask)
      from = max(0, at - pattern.count + 1)
    }
    return true
  }

  static func find(
    _ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from: Int
  ) -> Int? {
    firstOffset(of: needle, in: haystack, from: from)
  }

  static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    needle.withUnsafeBytes { n in haystack.withUnsafeBytes { find(n, in: $0, from: 0) } }
  }

  /// Every offset where `needle` occurs in `haystack`, overlapping matches included.
  private static func occurrences(
    of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer
  ) -> [Int] {
    var out: [Int] = []
    var from = 0
    while let at = find(needle, in: haystack, from: from) {
      out.append(at)
      from = at + 1
    }
    return out
  }

  // MARK: - The bytes of a segment with its patches

  /// Calls `body` with the bytes `0..<end` of a segment as the patches make them, in order.
  static func forEachChunk(
    _ bytes: UnsafeRawBufferPointer, upTo end: Int, patches: [Patch],
    _ body: (UnsafeRawBufferPointer) throws -> Void
  ) rethrows {
    var at = 0
    for p in patches where p.offset < end {
      if p.offset > at { try body(UnsafeRawBufferPointer(rebasing: bytes[at..<p.offset])) }
      let n = min(p.bytes.count, end - p.offset)
      try p.bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
      at = p.offset + n
    }
    if at < end { try body(UnsafeRawBufferPointer(rebasing: bytes[at..<end])) }
  }

  /// SHA-256 of each job's prefix (a previous chain hash) and the bytes `0..<end` with its
  /// patches, the jobs side by side: re-sealing hashes every later segment twice (the old hash to
  /// check it, the new one to seal it), at about 500 MB/s each.
  static func hashes(
    _ bytes: UnsafeRawBufferPointer, end: Int, _ jobs: [(prefix: [UInt8]?, patches: [Patch])]
  ) -> [[UInt8]] {
    let results = HashResults(count: jobs.count)
    let input = UnsafeBytes(bytes)
    DispatchQueue.concurrentPerform(iterations: jobs.count) { i in
      var h = SHA256()
      if let prefix = jobs[i].prefix { h.update(prefix) }
      forEachChunk(input.bytes, upTo: end, patches: jobs[i].patches) { h.update($0) }
      results.set(i, h.finalize())
    }
    return results.values
  }

  /// The hashing jobs' results, a slot each: every job writes only its own slot, and they are
  /// read after `concurrentPerform` has returned.
  private final class HashResults: @unchecked Sendable {
    private final class Slot: @unchecked Sendable { var value: [UInt8] = [] }
    private let slots: [Slot]
    init(count: Int) { slots = (0..<count).map { _ in Slot() } }
    var values: [[UInt8]] { slots.map(\.value) }
    func set(_ i: Int, _ value: [UInt8]) { slots[i].value = value }
  }

  /// A mapping that the hashing jobs only read, while the caller keeps it mapped.
  private struct UnsafeBytes: @unchecked Sendable {
    var bytes: UnsafeRawBufferPointer
    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }
  }
}
