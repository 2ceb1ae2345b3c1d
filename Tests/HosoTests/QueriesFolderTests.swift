import Foundation
import TestSupport
import Testing

/// Where the view and report definitions are found: `--queries`, else `$HOSO_QUERIES`, else
/// `./queries`, else the `queries` folder of the source tree hoso was built from, as the
/// committed events are. hoso run from any other folder once said "no views" and listed "the
/// reports are " with nothing after it.
@Suite struct QueriesFolderTests {
  /// A folder with no `queries` of its own, an empty store in it, and hoso run from there.
  final class Elsewhere {
    let root = TemporaryDirectory("hoso-elsewhere")
    var store: String { root.file("store") }

    init() throws {
      let made = try run(["init"])
      #expect(made.status == 0, "\(made.stderr)")
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws
      -> CommandResult
    {
      try runHoso(
        ["--store", store, "--key", root.file("keys/store.key")] + arguments,
        environment: environment, directory: root.path)
    }
  }

  static let reports = "annual, budget_bac_kan_2011_2015, plan_indicators, six_month, trend"

  @Test func fromAnyFolderTheQueriesOfTheSourceTreeAreFound() throws {
    let s = try Elsewhere()
    let views = try s.run(["views"])
    #expect(views.status == 0, "\(views.stderr)")
    for name in ["cases", "indicators", "yearly_trend"] {
      #expect(views.stdout.contains("\n\(name) "), "\(name): \(views.stdout)")
    }
    // Where they were found is said.
    #expect(
      views.stdout.hasSuffix("\n(the views of \(packageRoot)/queries/views)\n"), "\(views.stdout)")
    let folder = packageRoot + "/queries/reports"
    let unnamed = try s.run(["report"])
    #expect(unnamed.status == 1)
    #expect(
      unnamed.stderr
        == "hoso: report needs a NAME: the reports in \(folder) are: \(Self.reports)\n")
    let typo = try s.run(["report", "trnd"])
    #expect(typo.status == 1)
    #expect(
      typo.stderr
        == "hoso: no report trnd (did you mean trend?): the reports in \(folder) are:"
        + " \(Self.reports)\n")
    let report = try s.run(["report", "trend", "--format", "csv"])
    #expect(report.status == 0, "\(report.stderr)")
    // The shell's dot commands read the same folder.
    let shell = try s.run(["shell", "-c", ".report trnd"])
    #expect(shell.status == 1)
    #expect(shell.stderr.contains("the reports in \(folder) are: annual,"), "\(shell.stderr)")
    let shellViews = try s.run(["shell", "-c", ".views"])
    #expect(shellViews.stdout.contains("\nyearly_trend "), "\(shellViews.stdout)")
    // A folder's own `queries` comes first.
    try FileManager.default.createDirectory(
      atPath: s.root.file("queries/views"), withIntermediateDirectories: true)
    writeBytes(
      Array("SELECT year, count(*) AS n FROM events GROUP BY year\n".utf8),
      to: s.root.file("queries/views/mine.sql"))
    let own = try s.run(["views"])
    #expect(own.stdout.contains("\nmine ") && !own.stdout.contains("\ncases "), "\(own.stdout)")
  }

  @Test func aQueriesFolderThatIsNotThereIsBadInput() throws {
    let s = try Elsewhere()
    writeBytes(Array("x".utf8), to: s.root.file("a-file"))
    let before = snapshotTree(s.root.path)
    for command in [["views"], ["report", "trend"], ["rebuild"], ["query", "SELECT 1"]] {
      for missing in [s.root.file("no/such/folder"), s.root.file("a-file")] {
        let flag = try s.run(["--queries", missing] + command)
        #expect(flag.status == 1, "\(command): \(flag.stdout)")
        #expect(
          flag.stderr
            == "hoso: --queries \(missing) is not a folder: name the folder that holds views/"
            + " and reports/\n")
        #expect(flag.stdout.isEmpty)
        let env = try s.run(command, environment: ["HOSO_QUERIES": missing])
        #expect(env.status == 1, "\(command): \(env.stdout)")
        #expect(env.stderr.hasPrefix("hoso: $HOSO_QUERIES (\(missing)) is not a folder"))
        #expect(env.stderr.filter { $0 == "\n" }.count == 1, "\(env.stderr)")
      }
    }
    #expect(snapshotTree(s.root.path) == before)
  }

  @Test func withNoDefinitionsTheMessagesSayWhereHosoLooked() throws {
    let s = try Elsewhere()
    let q = s.root.file("empty")
    try FileManager.default.createDirectory(atPath: q, withIntermediateDirectories: true)
    let pointer = "name another folder with --queries DIR or $HOSO_QUERIES"
    let views = try s.run(["--queries", q, "views"])
    #expect(views.status == 0)
    #expect(
      views.stdout
        == "no views in \(q)/views; add SELECT statements as NAME.sql there, or \(pointer)\n")
    let rebuild = try s.run(["--queries", q, "rebuild"])
    #expect(rebuild.status == 0)
    #expect(rebuild.stdout.hasPrefix("no views in \(q)/views;"), "\(rebuild.stdout)")
    for command in [["report"], ["report", "trend"]] {
      let r = try s.run(["--queries", q] + command)
      #expect(r.status == 1)
      #expect(
        r.stderr.contains(
          ": there are no reports in \(q)/reports; add NAME.sql files there, or \(pointer)\n"),
        "\(r.stderr)")
      #expect(!r.stderr.contains("the reports are"))
    }
  }
}
