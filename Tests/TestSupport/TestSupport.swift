import Foundation

/// The seeded generator of hoso's tests (SplitMix64), by the name the log tests use.
package typealias SeededRandom = SplitMix64

extension SplitMix64 {
  /// The seed for a randomized test: `HOSO_TEST_SEED` when set (to replay a failure), else
  /// `fallback`.
  package static func testSeed(_ fallback: UInt64) -> UInt64 {
    if let text = ProcessInfo.processInfo.environment["HOSO_TEST_SEED"], let seed = UInt64(text) {
      return seed
    }
    return fallback
  }
}

/// A fresh directory under the system's temporary directory, removed when the value is.
package final class TemporaryDirectory: @unchecked Sendable {
  package let path: String

  package init(_ prefix: String = "hoso-test") {
    let base = FileManager.default.temporaryDirectory.path
    let template = base + "/\(prefix)-XXXXXX"
    var bytes = Array(template.utf8CString)
    let made = bytes.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    precondition(made != nil, "mkdtemp failed")
    path = String(
      decoding: bytes.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  package func file(_ name: String) -> String { path + "/" + name }
}

/// Reads a whole file, or nil.
package func readBytes(_ path: String) -> [UInt8]? {
  FileManager.default.contents(atPath: path).map { [UInt8]($0) }
}

/// Writes bytes to a file, replacing it.
package func writeBytes(_ bytes: [UInt8], to path: String) {
  precondition(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
}

/// A snapshot of every file under a directory (relative path → bytes), to check that a failed
/// command left the disk as it found it.
package func snapshotTree(_ root: String) -> [String: [UInt8]] {
  var out: [String: [UInt8]] = [:]
  guard let e = FileManager.default.enumerator(atPath: root) else { return out }
  while let rel = e.nextObject() as? String {
    var isDir: ObjCBool = false
    let full = root + "/" + rel
    if FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue {
      out[rel] = readBytes(full) ?? []
    }
  }
  return out
}

/// The result of running the `hoso` binary.
package struct CommandResult: Sendable {
  package var status: Int32
  package var stdout: String
  package var stderr: String
}

/// The `hoso` binary this test run was built with (beside the test bundle).
package func hosoBinary() -> String {
  var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
  for _ in 0..<4 {
    let candidate = dir.appendingPathComponent("hoso").path
    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    dir = dir.deletingLastPathComponent()
  }
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  return root.appendingPathComponent(".build/debug/hoso").path
}

/// The package's root directory (for fixtures).
package let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .deletingLastPathComponent().deletingLastPathComponent().path

/// How long one run of `hoso` in a test may take before it is killed as hung (seconds).
package let commandTimeLimit: Double = 600

/// Runs `hoso` with `arguments`, feeding `stdin`, and collects what it prints; in `directory`
/// when given, else in the tests' own working directory; under `umask` (octal digits, set by
/// a shell before it runs hoso) when given, else the tests' own.
package func runHoso(
  _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
  directory: String? = nil, umask: String? = nil
) throws -> CommandResult {
  let p = Process()
  if let umask {
    // Not this process's umask: it is every thread's, and other tests run beside this one.
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "umask \(umask) && exec \"$0\" \"$@\"", hosoBinary()] + arguments
  } else {
    p.executableURL = URL(fileURLWithPath: hosoBinary())
    p.arguments = arguments
  }
  if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
  var env = ProcessInfo.processInfo.environment
  env.removeValue(forKey: "HOSO_STORE")
  // The view and report definitions are `--queries` or where hoso finds them, never a
  // folder the shell that runs the tests happens to name.
  env.removeValue(forKey: "HOSO_QUERIES")
  env.removeValue(forKey: "HOSO_KEY")
  env.removeValue(forKey: "HOSO_MIN_CELL")
  // The tests of everything but privacy read as the auditor, who sees every number; the
  // privacy tests say `--role analyst`, which wins over this.
  env["HOSO_ROLE"] = "auditor"
  for (k, v) in environment { env[k] = v }
  p.environment = env
  let out = Pipe()
  let err = Pipe()
  let input = Pipe()
  p.standardOutput = out
  p.standardError = err
  p.standardInput = input
  try p.run()
  // Read both pipes while the child runs, so neither fills up and blocks it.
  let group = DispatchGroup()
  nonisolated(unsafe) var outData = Data()
  nonisolated(unsafe) var errData = Data()
  DispatchQueue.global().async(group: group) {
    outData = out.fileHandleForReading.readDataToEndOfFile()
  }
  DispatchQueue.global().async(group: group) {
    errData = err.fileHandleForReading.readDataToEndOfFile()
  }
  // A hoso that hangs is killed and the test fails, rather than the run waiting forever.
  let pid = p.processIdentifier
  nonisolated(unsafe) var killed = false
  let watchdog = DispatchWorkItem {
    killed = true
    kill(pid, SIGKILL)
  }
  DispatchQueue.global().asyncAfter(deadline: .now() + commandTimeLimit, execute: watchdog)
  if let stdin { input.fileHandleForWriting.write(Data(stdin)) }
  try? input.fileHandleForWriting.close()
  p.waitUntilExit()
  watchdog.cancel()
  group.wait()
  var stderr = String(decoding: errData, as: UTF8.self)
  if killed {
    stderr += "test: hoso \(arguments.joined(separator: " ")) killed after \(commandTimeLimit) s\n"
  }
  return CommandResult(
    status: killed ? -1 : p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: stderr)
}

/// A temporary store directory and a key directory apart from it, for end-to-end tests.
package final class TestStore: @unchecked Sendable {
  package let root = TemporaryDirectory("hoso-store")
  package var path: String { root.path + "/store" }
  package var keyPath: String { root.path + "/keys/store.key" }

  package init() {}

  /// Runs `hoso --store <this> --key <key> ARGS`.
  package func run(
    _ arguments: [String], stdin: [UInt8]? = nil, umask: String? = nil
  ) throws -> CommandResult {
    try runHoso(["--store", path, "--key", keyPath] + arguments, stdin: stdin, umask: umask)
  }
}
