import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Standard output and error, written with `write(2)`: no `Data` or `FileHandle` between a
/// string and its descriptor (their first use in a process costs a tenth of a millisecond of
/// the Swift runtime's type look-ups, as much as a short query's scan).
package enum Console {
  /// Writes `text` to standard output; throws when it cannot be written whole (a full disk,
  /// a closed file): an answer cut short is not a success.
  package static func out(_ text: String) throws {
    if let code = write(text, to: STDOUT_FILENO) {
      throw LogError(
        .io, "cannot write the answer to standard output: \(String(cString: strerror(code)))")
    }
  }

  /// Writes `text` to standard error, as far as it can.
  package static func error(_ text: String) { _ = write(text, to: STDERR_FILENO) }

  /// Writes all of `text` to `fd`, again after an interrupted or partial write, and after
  /// waiting when a non-blocking descriptor is full; the error that stopped it, if any.
  static func write(_ text: String, to fd: Int32) -> Int32? {
    var text = text
    return text.withUTF8 { b -> Int32? in
      var at = 0
      while at < b.count {
        let n = Glibc.write(fd, b.baseAddress! + at, b.count - at)
        if n < 0 && errno == EINTR { continue }
        if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
          var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
          _ = poll(&p, 1, -1)
          continue
        }
        guard n > 0 else { return n < 0 ? errno : EIO }
        at += n
      }
      return nil
    }
  }
}
