#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Deterministic faults at the file-system seam, for the fault tests: every call of
/// `FileSystem.system` that changes the disk (a create, a write, a sync, a truncate, an
/// unlink, a rename, a folder made) is numbered from 1 in the order the process makes it, and
/// `HOSO_FAULT` picks one:
///
///     HOSO_FAULT=count              count the calls; print `hoso-fault: N calls` on exit
///     HOSO_FAULT=crash:N            make call N, then end the process at once (as SIGKILL would)
///     HOSO_FAULT=fail:N[:ERRNO]     call N fails with ENOSPC (or EIO, ...) and changes nothing
///     HOSO_FAULT=short:N            call N, a write, writes half of its bytes, and the call after
///                                   it fails with ENOSPC: a disk that fills up mid-write
///
/// A crash point is a place in the code, not a moment: the same command on the same store
/// makes the same calls in the same order, so each run of a test hits the same point. The
/// calls made on a background queue (the sealer) are numbered as they come, and are few.
package enum FaultInjection {
  package enum Mode: Sendable, Equatable {
    case count
    case crash(Int)
    case fail(Int, Int32)
    case short(Int)
  }

  /// What an injected failure makes the call return.
  package struct Failure {
    package var errno: Int32
    package var short: Bool

    package func fail<T: BinaryInteger>() -> T {
      Glibc.errno = errno
      return -1
    }
  }

  /// Set once, before any thread starts (`configure`), then only read.
  nonisolated(unsafe) private static var mode: Mode?
  nonisolated(unsafe) private static var calls = 0
  nonisolated(unsafe) private static var crashAfter = false
  nonisolated(unsafe) private static var lock = pthread_mutex_t()

  /// Reads `HOSO_FAULT`; returns a message for a value that is not understood.
  package static func configure(_ text: String?) -> String? {
    guard let text, !text.isEmpty else { return nil }
    let parts = text.split(separator: ":").map(String.init)
    let n = parts.count > 1 ? Int(parts[1]) : nil
    switch (parts[0], n) {
    case ("count", _): mode = .count
    case ("crash", let n?) where n > 0: mode = .crash(n)
    case ("fail", let n?) where n > 0:
      let code: Int32
      switch parts.count > 2 ? parts[2] : "ENOSPC" {
      case "ENOSPC": code = ENOSPC
      case "EIO": code = EIO
      case "EDQUOT": code = EDQUOT
      case "EROFS": code = EROFS
      default: return "HOSO_FAULT: the errno is ENOSPC, EIO, EDQUOT or EROFS"
      }
      mode = .fail(n, code)
    case ("short", let n?) where n > 0: mode = .short(n)
    default:
      return "HOSO_FAULT is count, crash:N, fail:N[:ERRNO] or short:N, not \(text)"
    }
    pthread_mutex_init(&lock, nil)
    if mode == .count { atexit { FaultInjection.report() } }
    return nil
  }

  /// Whether faults are injected: then work that a background thread does to the disk (the
  /// sealing of segments, the writing of row groups, the access record's sync) is done in
  /// line, so that the calls are numbered in the same order on every run.
  package static var isActive: Bool { mode != nil }

  /// The number of calls made so far.
  package static var count: Int {
    guard mode != nil else { return 0 }
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    return calls
  }

  static func report() {
    let line = "hoso-fault: \(count) calls\n"
    _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
  }

  /// Before a call that changes the disk: the failure to return instead of making it, if this
  /// is the call to fail.
  @inline(__always)
  static func before(_ call: StaticString, _ path: String?) -> Failure? {
    guard let mode else { return nil }
    pthread_mutex_lock(&lock)
    defer { pthread_mutex_unlock(&lock) }
    calls += 1
    switch mode {
    case .count: return nil
    case .crash(let n):
      crashAfter = calls == n
      return nil
    case .fail(let n, let code): return calls == n ? Failure(errno: code, short: false) : nil
    case .short(let n):
      if calls == n { return Failure(errno: ENOSPC, short: true) }
      return calls == n + 1 ? Failure(errno: ENOSPC, short: false) : nil
    }
  }

  /// A call that changes the disk and cannot be cut short (all but writes): failed instead of
  /// made at its failure point, the process ended right after it at its crash point.
  @inline(__always)
  static func around<T: BinaryInteger>(
    _ call: StaticString, _ path: String?, _ body: () -> T
  ) -> T {
    if let failure = before(call, path) { return failure.fail() }
    let r = body()
    after()
    return r
  }

  /// A write of `count` bytes: at its failure point failed, or (`short`) made with half of
  /// them; the process ended right after it at its crash point.
  @inline(__always)
  static func aroundWrite(_ count: Int, _ body: (Int) -> Int) -> Int {
    var count = count
    if let failure = before("write", nil) {
      guard failure.short, count > 1 else { return failure.fail() }
      count /= 2
    }
    let n = body(count)
    after()
    return n
  }

  /// After the call: the end of the process, if this was the crash point.
  @inline(__always)
  static func after() {
    guard mode != nil, crashAfter else { return }
    _exit(86)
  }
}
