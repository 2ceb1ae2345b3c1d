import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Seals full segments on a serial queue of its own: SHA-256 of the segment chained to the
/// previous one, the footer, `fsync`, close.
///
/// The queue owns `chainHash` and `failure` while jobs run; the writer reads or sets them
/// only after `wait()`, when the queue is idle. Jobs run in order, so each footer links to the
/// one sealed before it.
final class Sealer: @unchecked Sendable {
  struct Job: Sendable {
    var fd: Int32
    var path: String
    var size: Int64
    var firstSeq: UInt64
    var lastSeq: UInt64
    var firstRecordedAt: Int64
    var lastRecordedAt: Int64
    var sync: Bool
    var fileSystem: FileSystem
  }

  private let queue = DispatchQueue(label: "hoso.log.sealer")
  /// The chain hash of the last sealed segment (zeros before the first).
  var chainHash = [UInt8](repeating: 0, count: 32)
  private var failure: LogError?

  func seal(_ job: Job) {
    if FaultInjection.isActive {
      queue.sync { self.run(job) }
    } else {
      queue.async { self.run(job) }
    }
  }

  /// Waits until every queued segment is sealed; throws the first failure.
  func wait() throws {
    let error = queue.sync { failure }
    if let error { throw error }
  }

  private func run(_ job: Job) {
    let fs = job.fileSystem
    defer { _ = fs.close(job.fd) }
    guard failure == nil else { return }
    do {
      var h = SHA256()
      h.update(chainHash)
      let file = try MappedFile(job.path)
      guard file.count >= Int(job.size) else {
        throw LogError(.io, "segment \(job.path) is shorter than what was written")
      }
      file.withBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[0..<Int(job.size)])) }
      let footer = SegmentFooter(
        firstSeq: job.firstSeq, lastSeq: job.lastSeq, firstRecordedAt: job.firstRecordedAt,
        lastRecordedAt: job.lastRecordedAt, previousHash: chainHash, hash: h.finalize())
      try footer.encode().withUnsafeBytes {
        try fs.writeAll(job.fd, $0, at: job.size, path: job.path)
      }
      if job.sync {
        guard fs.fsync(job.fd) == 0 else {
          throw LogError(SystemCallError("fsync", path: job.path))
        }
      }
      chainHash = footer.hash
    } catch let error as LogError {
      failure = error
    } catch {
      failure = LogError(.io, "\(error)")
    }
  }
}
