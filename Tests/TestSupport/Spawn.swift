import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// What a program printed and how it ended.
package struct ProgramResult: Sendable {
  package var status: Int32
  package var stdout: String
  package var stderr: String
  /// Whether it ran past its time and was killed.
  package var timedOut: Bool
}

/// Runs a program with posix_spawn and waits for it with waitpid, with standard input from
/// /dev/null, its output to files, and no other descriptor of this process: at most `seconds`,
/// then it is killed.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended when a socket it gave the
/// child closes, so a child that starts a daemon (tmux starting its server) never ends for it
/// (swift-corelibs-foundation#4795), and the daemon would also keep every pipe of this process
/// it inherited open, holding other tests (and CI) forever.
package func runProgram(_ argv: [String], seconds: Double = 60) -> ProgramResult {
  let dir = TemporaryDirectory("hoso-spawn")
  let outPath = dir.file("stdout")
  let errPath = dir.file("stderr")
  var actions = posix_spawn_file_actions_t()
  posix_spawn_file_actions_init(&actions)
  defer { posix_spawn_file_actions_destroy(&actions) }
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
  posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
  closeOtherDescriptors(&actions)
  // No signal blocked: a test runs on a thread of a pool, which blocks most, and the child
  // would keep them blocked, tmux's server among them: it ends itself with SIGTERM on
  // kill-server, and with SIGTERM blocked it (and the shell in it) would outlive the test.
  var attributes = posix_spawnattr_t()
  posix_spawnattr_init(&attributes)
  defer { posix_spawnattr_destroy(&attributes) }
  var none = sigset_t()
  sigemptyset(&none)
  posix_spawnattr_setsigmask(&attributes, &none)
  posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

  var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
  defer { for p in cArgs { free(p) } }
  var pid: pid_t = 0
  let spawned = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
  guard spawned == 0 else {
    return ProgramResult(
      status: -1, stdout: "",
      stderr: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))",
      timedOut: false)
  }
  let deadline = Date().addingTimeInterval(seconds)
  var status: Int32 = 0
  var timedOut = false
  while true {
    let r = waitpid(pid, &status, WNOHANG)
    if r == pid || (r < 0 && errno != EINTR) { break }
    if Date() > deadline {
      timedOut = true
      kill(pid, SIGKILL)
      _ = waitpid(pid, &status, 0)
      break
    }
    usleep(2_000)
  }
  let exited = (status & 0x7f) == 0
  return ProgramResult(
    status: timedOut ? -1 : exited ? (status >> 8) & 0xff : 128 + (status & 0x7f),
    stdout: String(decoding: readBytes(outPath) ?? [], as: UTF8.self),
    stderr: String(decoding: readBytes(errPath) ?? [], as: UTF8.self), timedOut: timedOut)
}

/// Adds a close action for every descriptor from 3 up: glibc's `closefrom` action when it has
/// one (2.34 on), else each descriptor open now.
private func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) {
  typealias CloseFrom =
    @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32)
    -> Int32
  if let symbol = dlsym(
    UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
  {
    let closeFrom = unsafeBitCast(symbol, to: CloseFrom.self)
    if closeFrom(&actions, 3) == 0 { return }
  }
  let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
  for name in open {
    if let fd = Int32(name), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
  }
}
