#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Standard output and error, written with `write(2)`: no `Data` or `FileHandle` between a
/// string and its descriptor (their first use in a process costs a tenth of a millisecond of
/// the Swift runtime's type look-ups, as much as a short query's scan).
package enum Console {
  package static func out(_ text: String) { write(text, to: STDOUT_FILENO) }
  package static func error(_ text: String) { write(text, to: STDERR_FILENO) }

  /// Writes all of `text` to `fd`, again after an interrupted or partial write. An error
  /// (a closed pipe) ends the write: what cannot be shown is not retried.
  package static func write(_ text: String, to fd: Int32) {
    var text = text
    text.withUTF8 { b in
      var at = 0
      while at < b.count {
        let n = Glibc.write(fd, b.baseAddress! + at, b.count - at)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return }
        at += n
      }
    }
  }
}
