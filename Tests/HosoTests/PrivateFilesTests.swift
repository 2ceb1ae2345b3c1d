import Foundation
import TestSupport
import Testing

/// Files hoso writes that may hold person-level data (`.output`, `.once`, exports) are their
/// owner's only, 0600 in folders it makes 0700, whatever the umask (DESIGN.md, "Privacy and
/// access"). hoso runs under umask 000 here, which leaves a file made with the umask's mode
/// open to everyone.
@Suite struct PrivateFilesTests {
  static func mode(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & 0o777
  }

  /// A store holding the valid fixture, whose supports name a person's pseudonym.
  static func store() throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    #expect(try store.run(["append", CLITests.valid]).status == 0)
    return store
  }

  @Test func theShellsOutputAndOnceFilesAreTheOwnersOnly() throws {
    let store = try Self.store()
    let dir = TemporaryDirectory("hoso-output")
    let output = dir.file("output.txt")
    let once = dir.file("once.txt")
    // A file already there, open to all, is made the owner's before the results go in.
    let earlier = dir.file("earlier.txt")
    writeBytes(Array("old lines, longer than what replaces them\n".utf8), to: earlier)
    #expect(chmod(earlier, 0o666) == 0)
    let script = """
      .output \(output)
      SELECT DISTINCT person FROM supports;
      .once \(once)
      SELECT DISTINCT person FROM supports;
      .output \(earlier)
      SELECT 1 AS one;
      .output
      """
    let r = try store.run(["shell"], stdin: Array(script.utf8), umask: "000")
    #expect(r.status == 0, "\(r.stderr)")
    for path in [output, once, earlier] {
      #expect(Self.mode(path) == 0o600, "\(path): \(String(Self.mode(path) ?? 0, radix: 8))")
    }
    let written = String(decoding: readBytes(output) ?? [], as: UTF8.self)
    #expect(written.contains("P-3f9a1c0b7d2e4a61"), "\(written)")
    #expect(String(decoding: readBytes(once) ?? [], as: UTF8.self).contains("P-3f9a1c0b7d2e4a61"))
    let replaced = String(decoding: readBytes(earlier) ?? [], as: UTF8.self)
    #expect(replaced.contains("one") && !replaced.contains("old lines"), "\(replaced)")
  }

  @Test func aFileThatCannotBeWrittenIsOneLineAndTheShellGoesOn() throws {
    let store = try Self.store()
    let dir = TemporaryDirectory("hoso-output")
    let script = """
      .output \(dir.file("no/such/folder/out.txt"))
      SELECT 1 AS one;
      """
    let r = try store.run(["shell"], stdin: Array(script.utf8), umask: "000")
    #expect(r.status == 1)
    #expect(
      r.stderr.contains("cannot write \(dir.file("no/such/folder/out.txt")): No such file"),
      "\(r.stderr)")
    #expect(!FileManager.default.fileExists(atPath: dir.file("no")))
  }

  @Test func exportFilesAndTheFoldersMadeForThemAreTheOwnersOnly() throws {
    let store = try Self.store()
    let dir = TemporaryDirectory("hoso-export")
    let out = dir.file("a/b/export")
    let r = try store.run(
      ["--role", "auditor", "export", "--format", "csv", "--out", out], umask: "000")
    #expect(r.status == 0, "\(r.stderr)")
    for folder in [dir.file("a"), dir.file("a/b"), out] {
      #expect(Self.mode(folder) == 0o700, "\(folder): \(String(Self.mode(folder) ?? 0, radix: 8))")
    }
    let files = try FileManager.default.contentsOfDirectory(atPath: out)
    #expect(files.contains("supports.csv") && files.contains("schema.sql"), "\(files)")
    for f in files {
      #expect(
        Self.mode(out + "/" + f) == 0o600, "\(f): \(String(Self.mode(out + "/" + f)!, radix: 8))")
    }
    // Again into the folder, now holding files open to all: made the owner's again.
    for f in files { #expect(chmod(out + "/" + f, 0o644) == 0) }
    let again = try store.run(
      ["--role", "auditor", "export", "--format", "csv", "--out", out], umask: "000")
    #expect(again.status == 0, "\(again.stderr)")
    for f in try FileManager.default.contentsOfDirectory(atPath: out) {
      #expect(Self.mode(out + "/" + f) == 0o600, "\(f)")
    }
    // A folder that was there already is the user's to set: left as it is.
    #expect(chmod(dir.path, 0o755) == 0)
    let into = try store.run(
      ["--role", "auditor", "export", "--format", "csv", "--out", dir.path], umask: "000")
    #expect(into.status == 0, "\(into.stderr)")
    #expect(Self.mode(dir.path) == 0o755)
    #expect(Self.mode(dir.file("supports.csv")) == 0o600)
  }
}
