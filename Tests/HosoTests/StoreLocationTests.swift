import Foundation
import TestSupport
import Testing

/// Where a store may be made: a command given a path with no store creates nothing (DESIGN.md,
/// "Privacy and access"); only the bare `hoso` at the default location makes the demo store.
@Suite struct StoreLocationTests {
  /// Every command that opens a store, with the arguments it needs to get that far.
  static func commands(out: String) -> [[String]] {
    [
      ["status"], ["shell", "-c", "SELECT 1"], ["query", "SELECT 1"],
      ["report", "annual", "--year", "2024"], ["views"], ["rebuild"], ["audit", "C-1"],
      ["export", "--format", "csv", "--out", out], ["access"], ["verify"], ["dump"],
      ["forget", "P-0123456789abcdef", "--reason", "request 17"], ["person", "001203004567"],
      ["append", CLITests.valid],
    ]
  }

  /// Every path under `root`, folders included.
  static func paths(under root: String) -> [String] {
    var out: [String] = []
    let e = FileManager.default.enumerator(atPath: root)
    while let rel = e?.nextObject() as? String { out.append(rel) }
    return out.sorted()
  }

  /// Runs `hoso` in a fresh folder, with its key folder and home inside it, and checks that it
  /// failed as a missing store should: exit status 2, one line naming the path and what to do,
  /// and not a file or folder made anywhere.
  static func expectNoStoreMade(
    _ arguments: [String], storeGiven: (flag: Bool, env: Bool), typo: String = "SOME/MISTYPED/PATH"
  ) throws {
    let root = TemporaryDirectory("hoso-nostore")
    let store = storeGiven.flag || storeGiven.env ? root.file(typo) : "./events"
    var environment = [
      "XDG_CONFIG_HOME": root.file("config"), "HOME": root.file("home"),
    ]
    if storeGiven.env { environment["HOSO_STORE"] = store }
    let args =
      (storeGiven.flag ? ["--store", store] : []) + ["--queries", packageRoot + "/queries"]
      + arguments
    let r = try runHoso(args, environment: environment, directory: root.path)
    let call = "hoso \(args.joined(separator: " "))" + (storeGiven.env ? " (HOSO_STORE)" : "")
    #expect(r.status == 2, "\(call): \(r.stdout)\(r.stderr)")
    #expect(r.stderr.hasPrefix("hoso: no store at \(store)"), "\(call): \(r.stderr)")
    #expect(r.stderr.contains("hoso init"), "\(call): \(r.stderr)")
    #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(call): \(r.stderr)")
    #expect(paths(under: root.path) == [], "\(call) left \(paths(under: root.path))")
  }

  @Test func aCommandOnAPathWithNoStoreCreatesNothing() throws {
    // The bare `hoso` (the shell, with or without its flags) too, once a path is named.
    let commands = Self.commands(out: "exported") + [[], ["-csv", "-c", "SELECT 1"]]
    for command in commands {
      try Self.expectNoStoreMade(command, storeGiven: (flag: true, env: false))
      try Self.expectNoStoreMade(command, storeGiven: (flag: false, env: true))
    }
  }

  @Test func aCommandAtTheDefaultLocationWithNoStoreCreatesNothing() throws {
    for command in Self.commands(out: "exported") {
      try Self.expectNoStoreMade(command, storeGiven: (flag: false, env: false))
    }
  }

  @Test func theBareHosoMakesTheDemoStoreAtTheDefaultLocation() throws {
    // The README's first command: `hoso` in a folder with no store yet.
    let root = TemporaryDirectory("hoso-firstrun")
    let environment = ["XDG_CONFIG_HOME": root.file("config"), "HOME": root.file("home")]
    let r = try runHoso(
      ["-csv", "-c", "SELECT count(*) > 90000 AS filled FROM events"],
      environment: environment, directory: root.path)
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.split(whereSeparator: \.isNewline).suffix(2) == ["filled", "true"])
    #expect(FileManager.default.fileExists(atPath: root.file("events/STORE")))
    // Once there, every command finds it.
    let status = try runHoso(["status"], environment: environment, directory: root.path)
    #expect(status.status == 0, "\(status.stderr)")
    #expect(status.stdout.contains("store     ./events"), "\(status.stdout)")
  }
}
