import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// One line as the preparing thread left it: validated against the catalog and encoded, or
/// marked for the full path.
package struct PreparedLine: Sendable {
  /// Offset of the line in the input, and its length (without the newline).
  package var lineStart: Int
  package var lineCount: Int
  /// 1-based line number within its chunk.
  package var number: Int
  /// Where its canonical JSON ends in the chunk's `out` (it starts where the previous one ended).
  package var payloadEnd: Int
  /// Types whose validation needs the store (units, corrections, voids) go the full path.
  package var deferred: Bool
  package var type: UInt8 = 0
  package var recordedAt: Int64 = 0
  /// Ranges inside the payload.
  package var idRange: Range<Int> = 0..<0
  package var unitRange: Range<Int> = 0..<0
}

/// A slice of the input, prepared off the main thread.
package final class PreparedChunk: @unchecked Sendable {
  package var out: ByteBuffer
  package var lines: [PreparedLine] = []
  /// Lines in the chunk, blank ones included (for numbering the next chunk).
  package var lineCount = 0
  /// Set when preparing stopped at a line the full path must judge (most likely an error):
  /// the input offset just after that line. Nothing after it was prepared.
  package var stoppedAfter: Int?

  init(capacity: Int) {
    out = ByteBuffer(capacity: capacity)
  }

  deinit { out.deallocate() }
}

/// Validation in two stages on two threads: a preparing thread parses, validates and encodes
/// each line against the catalog alone (what needs no knowledge of the store or of earlier
/// lines), chunk by chunk; the caller commits lines in order, checking ids, units and time
/// against the store. Lines the first stage cannot finish alone go the full path.
///
/// Every verdict is the one the sequential path gives: a line the fast path cannot accept is
/// handed to `Ingest.add`, which accepts it or throws its exact error, and errors are reported
/// in line order.
package final class PreparedInput: @unchecked Sendable {
  private let base: UnsafeRawPointer?
  private let count: Int
  private let bounds: [Int]
  private var chunks: [PreparedChunk?]
  private let ready: [DispatchSemaphore]
  /// How far each preparing thread may run ahead of the consumer, one window per thread: a
  /// shared window would let one thread take every permit while the consumer waits for a
  /// chunk of the other.
  private var windows: [DispatchSemaphore] = []
  private var workers = 1
  private let done = DispatchGroup()
  private let lock = NSLockish()
  private var cancelled = false
  /// The first chunk where preparing stopped: chunks after it are not needed; chunks before
  /// it still are (the consumer takes chunks in order).
  private var stopAt = Int.max
  private let now: Int64
  private let stamp: Int64
  private let pseudonymizer: Pseudonymizer?

  package static let chunkSize = 1 << 18
  package static let deferredTypes: Set<UInt8> = [
    Catalog.unitEstablished, Catalog.byName["unit.merged"]!.code,
    Catalog.byName["unit.moved"]!.code, Catalog.corrected, Catalog.voided,
  ]

  /// Starts preparing `input` on a background thread. `stamp` is the recorded_at of events
  /// that carry none (the same for the whole input).
  package init(
    _ input: UnsafeRawBufferPointer, now: Int64, stamp: Int64, pseudonymizer: Pseudonymizer?
  ) {
    base = input.baseAddress
    count = input.count
    self.now = now
    self.stamp = stamp
    self.pseudonymizer = pseudonymizer
    // Chunk bounds fall just after a newline, about every `chunkSize` bytes.
    var b = [0]
    var at = Self.chunkSize
    while at < input.count, let base = input.baseAddress {
      guard let nl = memchr(base + at, 0x0A, input.count - at) else { break }
      let next = base.distance(to: UnsafeRawPointer(nl)) + 1
      if next >= input.count { break }
      b.append(next)
      at = next + Self.chunkSize
    }
    b.append(input.count)
    bounds = b
    chunks = Array(repeating: nil, count: b.count - 1)
    ready = (0..<(b.count - 1)).map { _ in DispatchSemaphore(value: 0) }
    // Preparing threads take chunks in turn: preparing costs about twice what committing
    // and writing cost, so it gets the cores (up to four; two on the project's machines).
    let cores = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    workers = max(1, min(chunks.count, cores, 4))
    windows = (0..<workers).map { _ in DispatchSemaphore(value: 8) }
    for k in 0..<workers {
      done.enter()
      DispatchQueue.global().async { [self] in
        prepareAll(worker: k, of: workers)
        done.leave()
      }
    }
  }

  package var chunkCount: Int { bounds.count - 1 }

  /// The prepared chunk `i`, waiting for it if need be. Chunks must be taken in order.
  package func chunk(_ i: Int) -> PreparedChunk {
    ready[i].wait()
    let c = lock.withLock { chunks[i]! }
    lock.withLock { chunks[i] = nil }
    windows[i % workers].signal()
    return c
  }

  /// Stops the preparing thread and waits for it: call before the input goes away.
  package func finish() {
    lock.withLock { cancelled = true }
    for w in windows {
      for _ in 0..<chunkCount { w.signal() }
    }
    done.wait()
  }

  package func line(_ p: PreparedLine) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: base.map { $0 + p.lineStart }, count: p.lineCount)
  }

  private func prepareAll(worker: Int, of workers: Int) {
    var validator = LineValidator(now: now, pseudonymizer: pseudonymizer)
    defer { validator.deallocate() }
    let empty = StoreState()
    for i in stride(from: worker, to: chunkCount, by: workers) {
      windows[worker].wait()
      if lock.withLock({ cancelled || i > stopAt }) { return }
      // Canonical JSON is about as long as its input; a stamped recorded_at adds some.
      let range = bounds[i]..<bounds[i + 1]
      let c = PreparedChunk(capacity: range.count + range.count / 4)
      prepare(range, into: c, validator: &validator, state: empty)
      lock.withLock {
        chunks[i] = c
        // Past a line the full path must judge, nothing more is needed.
        if c.stoppedAfter != nil { stopAt = min(stopAt, i) }
      }
      ready[i].signal()
      if c.stoppedAfter != nil { return }
    }
  }

  private func prepare(
    _ range: Range<Int>, into c: PreparedChunk, validator v: inout LineValidator,
    state: StoreState
  ) {
    guard let base else { return }
    var start = range.lowerBound
    var number = 0
    while start < range.upperBound {
      number += 1
      let nl = memchr(base + start, 0x0A, range.upperBound - start)
      var end = nl.map { base.distance(to: UnsafeRawPointer($0)) } ?? range.upperBound
      let next = end + 1
      if end > start && base.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0D { end -= 1 }
      defer { start = next }
      let line = UnsafeRawBufferPointer(start: base + start, count: end - start)
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
      var p = PreparedLine(
        lineStart: start, lineCount: end - start, number: number, payloadEnd: c.out.count,
        deferred: true)
      // A long line, a syntax error or an invalid event stops the preparing: the full path
      // reports it exactly. Types that need the store go the full path too, without stopping.
      guard line.count <= Ingest.maxLine, (try? v.parse(line, number: number)) != nil else {
        c.lines.append(p)
        c.stoppedAfter = next
        c.lineCount = number
        return
      }
      if let t = v.typeCode, Self.deferredTypes.contains(t) {
        c.lines.append(p)
        continue
      }
      let mark = c.out.count
      guard let f = try? v.validate(into: &c.out, state: state, stamp: stamp) else {
        c.out.removeSuffix(from: mark)
        c.lines.append(p)
        c.stoppedAfter = next
        c.lineCount = number
        return
      }
      p.deferred = false
      p.type = f.type
      p.recordedAt = f.recordedAt
      p.payloadEnd = c.out.count
      p.idRange = f.idRange.lowerBound - mark..<f.idRange.upperBound - mark
      p.unitRange = f.unitRange.lowerBound - mark..<f.unitRange.upperBound - mark
      c.lines.append(p)
    }
    c.lineCount = number
  }
}
/// A minimal lock (Foundation-free): `pthread_mutex`.
final class NSLockish: @unchecked Sendable {
  private var mutex = pthread_mutex_t()
  init() { pthread_mutex_init(&mutex, nil) }
  deinit { pthread_mutex_destroy(&mutex) }
  func withLock<R>(_ body: () throws -> R) rethrows -> R {
    pthread_mutex_lock(&mutex)
    defer { pthread_mutex_unlock(&mutex) }
    return try body()
  }
}
