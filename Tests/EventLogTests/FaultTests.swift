import Foundation
import TestSupport
import Testing

@testable import EventLog

#if canImport(Glibc)
  import Glibc
#endif

/// A file system that starts failing after a number of calls, as a disk that fills up, a
/// process that dies mid-batch, or an fsync that reports an I/O error.
private final class Faults: @unchecked Sendable {
  let lock = NSLock()
  var writesLeft = Int.max
  var failSync = false
  var dead = false  // after the first failure every call fails: a killed process does nothing
  var staysDead = true

  func fileSystem() -> FileSystem {
    var fs = FileSystem.system
    let real = FileSystem.system
    fs.pwrite = { fd, buffer, offset in
      self.lock.lock()
      defer { self.lock.unlock() }
      if self.dead {
        errno = EIO
        return -1
      }
      if self.writesLeft <= 0 {
        self.dead = self.staysDead
        // A torn write: half of it reaches the file.
        _ = real.pwrite(
          fd, UnsafeRawBufferPointer(rebasing: buffer[0..<(buffer.count / 2)]), offset)
        errno = ENOSPC
        return -1
      }
      self.writesLeft -= 1
      return real.pwrite(fd, buffer, offset)
    }
    fs.fsync = { fd in
      if self.failSync {
        errno = EIO
        return -1
      }
      return real.fsync(fd)
    }
    fs.ftruncate = { fd, length in self.dead ? -1 : real.ftruncate(fd, length) }
    fs.unlink = { path in self.dead ? -1 : real.unlink(path) }
    return fs
  }
}

@Suite struct FaultTests {
  @Test func aFailedFsyncPoisonsTheWriterAndLosesNothingCommitted() throws {
    let log = try TestLog(segmentSize: 4096)
    let faults = Faults()
    let w = try LogWriter.open(at: log.path, options: .init(fileSystem: faults.fileSystem()))
    try w.append(TestLog.batch(after: 0, count: 10))
    faults.failSync = true
    #expect { try w.append(TestLog.batch(after: 10, count: 5)) } throws: {
      ($0 as? LogError)?.kind == .syncFailed
    }
    faults.failSync = false
    // Never retried: the writer stays failed.
    #expect { try w.append(TestLog.batch(after: 10, count: 5)) } throws: {
      ($0 as? LogError)?.kind == .syncFailed
    }
    try w.close()
    #expect(try log.records().map(\.0) == Array(1...10))
  }

  @Test func aDiskThatFillsUpMidBatchLeavesNoPartOfIt() throws {
    let seed = SeededRandom.testSeed(99)
    var rng = SeededRandom(seed: seed)
    for round in 0..<60 {
      let log = try TestLog(segmentSize: 4096)
      // Closed explicitly: a writer left to deinit keeps the lock while its sealer still runs.
      let first = try log.open()
      try first.append(TestLog.batch(after: 0, count: 25, size: 100))
      try first.close()
      let faults = Faults()
      let writes = Int.random(in: 0...12, using: &rng)
      // Half the rounds the process "dies": nothing can be undone, recovery must do it.
      faults.staysDead = round % 2 == 0
      var appended: UInt64 = 0
      do {
        let w = try LogWriter.open(at: log.path, options: .init(fileSystem: faults.fileSystem()))
        faults.writesLeft = writes
        let big = TestLog.batch(after: 25, count: 200, size: 100)  // spans several segments
        do {
          try w.append(big)
        } catch {
          #expect((error as? LogError)?.kind == .io, "round \(round), seed \(seed)")
        }
        appended = w.lastSeq
        try? w.close()
      }
      let w = try log.open()
      #expect(w.lastSeq == 25 || w.lastSeq == 225, "round \(round), seed \(seed)")
      #expect(appended == w.lastSeq || appended == 25, "round \(round), seed \(seed)")
      try w.append(TestLog.batch(after: w.lastSeq, count: 1, size: 100))
      try w.close()
      #expect(try LogVerifier.verify(at: log.path).records == w.lastSeq)
    }
  }
}
