import Demo
import Foundation

extension GlobalOptions {
  /// The folder of the view and report definitions (`views/`, `reports/`) and, when none was
  /// found, the folders looked in.
  ///
  /// Looked for as the committed events are (`Reference.locate`): `--queries DIR`, else
  /// `$HOSO_QUERIES`, else `./queries` when there is one, else the `queries` folder of the
  /// source tree hoso was built from. With only the first three, hoso run from any other
  /// folder said "no views" and listed no reports, as if the repository had none. A folder
  /// named by `--queries` or `$HOSO_QUERIES` must be there: a mistyped one would read as a
  /// folder with no views. (An empty `$HOSO_QUERIES` is taken as unset, as `$HOSO_EVENTS` is.)
  static func queriesFolder(flag: String?, environment: String?) throws -> (
    path: String, searched: [String]
  ) {
    func isFolder(_ path: String) -> Bool {
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        && isDirectory.boolValue
    }
    if let flag {
      guard isFolder(flag) else {
        throw UsageError(
          "--queries \(flag) is not a folder: name the folder that holds views/ and reports/")
      }
      return (flag, [])
    }
    if let environment, !environment.isEmpty {
      guard isFolder(environment) else {
        throw UsageError(
          "$HOSO_QUERIES (\(environment)) is not a folder: set it to the folder that holds"
            + " views/ and reports/, or unset it")
      }
      return (environment, [])
    }
    let candidates = ["./queries", Reference.sourceTree + "/queries"]
    if let found = candidates.first(where: isFolder) { return (found, []) }
    return (candidates[0], candidates)
  }

  /// What to say when there are no definitions of `kind` (`views`, `reports`): where hoso
  /// looked, and how to give them (`add` is what a definition is) or point it elsewhere.
  func noDefinitions(_ kind: String, add: String) -> String {
    if queriesSearched.isEmpty {
      return "no \(kind) in \(queries)/\(kind); add \(add) there, or name another folder with"
        + " --queries DIR or $HOSO_QUERIES"
    }
    return "no \(kind): no queries folder at \(queriesSearched.joined(separator: " or "));"
      + " name one with --queries DIR or $HOSO_QUERIES"
  }

  /// The reports there are, for a message that asks for one: `the reports in FOLDER are: a, b`,
  /// or where hoso looked for them.
  func reportsList(_ available: [String]) -> String {
    available.isEmpty
      ? "there are " + noDefinitions("reports", add: "NAME.sql files")
      : "the reports in \(queries)/reports are: \(available.joined(separator: ", "))"
  }
}
