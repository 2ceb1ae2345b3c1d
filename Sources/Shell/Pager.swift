import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// The pager a result taller or wider than the terminal goes through: a shell command
/// (`$PAGER`, run by `/bin/sh -c` as git and psql run it) reading the result on its standard
/// input and the keys from the terminal.
///
/// It runs in the shell's own process group, the terminal's foreground group, as the last
/// command of a pipeline would. Not Foundation's `Process`, which starts every child in a
/// group of its own: in the background, less's first `tcsetattr` or read of `/dev/tty` stops
/// it (SIGTTOU, SIGTTIN), and the shell waiting on it; or, where those signals are ignored
/// (under tmux, say), fails with EIO, and the result was never seen. In one group, Ctrl-Z
/// stops the pager and the shell together, a job the user's shell resumes whole; Ctrl-C
/// reaches the shell too, whose flag `show` keeps apart (the statement is over) and reads to
/// tell a pager the user left with Ctrl-C from one that failed.
enum Pager {
  enum Outcome: Equatable {
    case shown
    /// Why the pager did not show the text (`failed: exit 1`): the caller prints it itself.
    case failed(String)
  }

  /// Runs `command` with `text` on its standard input and waits for it to end. Quitting
  /// before the end (less's `q`, or Ctrl-C) is no failure; a nonzero exit or another signal
  /// is. The terminal's modes are put back as they were before it ran, whatever state it died
  /// in. `posix_spawn(3)`, `waitpid(2)`.
  static func show(_ text: String, through command: String) -> Outcome {
    // Only the foreground group may use the terminal: a pager of a shell in the background
    // would stop or fail.
    guard tcgetpgrp(0) == getpgrp() else {
      return .failed("not run: the shell is not the terminal's foreground job")
    }
    var modes = termios()
    let hadModes = tcgetattr(0, &modes) == 0
    // The shell's Ctrl-C flag, apart for the pager's run: what it says after is whether Ctrl-C
    // was typed in the pager.
    let interrupt = interruptRequested
    interruptRequested = 0
    defer {
      if hadModes { tcsetattr(0, TCSANOW, &modes) }
      interruptRequested = interrupt
    }
    // The pager leaving early closes the pipe: the rest of the write is then refused (EPIPE)
    // rather than killing the shell with SIGPIPE.
    let previous = signal(SIGPIPE, SIG_IGN)
    defer { signal(SIGPIPE, previous) }
    let inherited = unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)

    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return .failed("could not start: \(errorText())") }
    // Neither end for the pager's own children, nor the write end for the pager: it would
    // never see the end of the text.
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    let (pid, error) = spawn(command, input: fds[0], keepingSIGPIPEIgnored: inherited)
    close(fds[0])
    guard error == 0 else {
      close(fds[1])
      return .failed("could not start: \(String(cString: strerror(error)))")
    }
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { b in
      var off = 0
      while off < b.count {
        let n = write(fds[1], b.baseAddress! + off, b.count - off)
        if n > 0 {
          off += n
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          break  // EPIPE: the pager has stopped reading.
        }
      }
    }
    close(fds[1])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return .failed("could not wait for it: \(errorText())") }
    }
    // WIFEXITED and WEXITSTATUS, which Swift does not import.
    let killer = status & 0x7f
    if killer == 0 {
      let code = (status >> 8) & 0xff
      switch code {
      case 0: return .shown
      // The shell's own codes for a command it could not find or run.
      case 127: return .failed("failed: exit 127, not found")
      case 126: return .failed("failed: exit 126, cannot run")
      default: return .failed("failed: exit \(code)")
      }
    }
    // Ended by a Ctrl-C typed in it: the user left it, as with q. (dash, as /bin/sh, waits for
    // less to end, then dies of the Ctrl-C that less took.)
    if killer == SIGINT && interruptRequested != 0 { return .shown }
    return .failed("failed: killed by signal \(killer) (\(String(cString: strsignal(killer))))")
  }

  /// Starts `/bin/sh -c command` in this process's group with `input` as its standard input,
  /// every signal unblocked (the calling thread's mask may block some) and SIGPIPE as this
  /// process had it before the pager ran; its pid, or the error number. `posix_spawn(3)`.
  private static func spawn(
    _ command: String, input: Int32, keepingSIGPIPEIgnored: Bool
  ) -> (pid: pid_t, error: Int32) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, input, 0)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attributes, &mask)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    if !keepingSIGPIPEIgnored { sigaddset(&defaults, SIGPIPE) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let words: [String] = ["/bin/sh", "-c", command]
    let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid = pid_t()
    let error = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
    return (pid, error)
  }

  private static func errorText() -> String { String(cString: strerror(errno)) }
}
