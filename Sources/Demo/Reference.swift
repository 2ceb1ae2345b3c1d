import Domain
import Foundation

/// The committed events: `events/reference/*.ndjson` (the jurisdictions) and
/// `events/plans/*.ndjson` (the programme's plans and budgets), read in that order and merged
/// by `recorded_at` — what the source documents state, which the generator builds on.
package struct Reference {
  package struct Event {
    /// The line as committed (without its line end): appended as it is.
    package var line: [UInt8]
    package var recordedAt: Int64
    package var occurredAt: Int64
    package var type: String
    package var unit: String
    package var data: [String: Any]
    /// `file:line`, for messages.
    package var origin: String
  }

  /// Every committed event, sorted by `recorded_at` (ties in file order).
  package private(set) var events: [Event] = []
  package let root: String

  /// A committed file that cannot be read or is not what the generator can use.
  package struct Failure: Error, CustomStringConvertible {
    package var description: String
  }

  /// Reads the committed events under `root` (the `events` folder of the repository).
  package init(root: String) throws(Failure) {
    self.root = root
    var all: [Event] = []
    for folder in ["reference", "plans"] {
      let dir = root + "/" + folder
      guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
        throw Failure(description: "\(dir): cannot read the committed events folder")
      }
      for name in names.sorted() where name.hasSuffix(".ndjson") {
        try all.append(contentsOf: Self.read(dir + "/" + name))
      }
    }
    // A stable sort: the order within a time stays the files' order.
    events = all.enumerated().sorted {
      ($0.element.recordedAt, $0.offset) < ($1.element.recordedAt, $1.offset)
    }.map(\.element)
  }

  private static func read(_ path: String) throws(Failure) -> [Event] {
    guard let bytes = FileManager.default.contents(atPath: path) else {
      throw Failure(description: "\(path): cannot read the file")
    }
    var out: [Event] = []
    var number = 0
    for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
      number += 1
      var line = Array(raw)
      if line.last == 0x0D { line.removeLast() }
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
      let origin = "\(path):\(number)"
      guard
        let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
        let type = object["type"] as? String, let unit = object["unit"] as? String,
        let recorded = object["recorded_at"] as? String,
        let occurred = object["occurred_at"] as? String,
        let data = object["data"] as? [String: Any]
      else {
        throw Failure(
          description: "\(origin): not an event with type, unit, occurred_at, recorded_at and data")
      }
      guard case .success(let r) = Timestamp.parse(Array(recorded.utf8)),
        case .success(let o) = Timestamp.parse(Array(occurred.utf8))
      else { throw Failure(description: "\(origin): a time is not ISO 8601 with an offset") }
      out.append(
        Event(
          line: line, recordedAt: r, occurredAt: o, type: type, unit: unit, data: data,
          origin: origin))
    }
    return out
  }

  /// The root of the source tree this binary was built from (…/Sources/Demo/Reference.swift →
  /// …): the last place to look for what the repository holds beside the code (the committed
  /// events, the view and report definitions of `queries/`), so that hoso run from any folder
  /// on the machine that built it finds them.
  package static let sourceTree = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

  /// Where the committed events are: `$HOSO_EVENTS`, else `./events` when it holds them, else
  /// the `events` folder of the source tree this binary was built from.
  package static func locate(environment: [String: String]) -> String? {
    var candidates: [String] = []
    if let e = environment["HOSO_EVENTS"], !e.isEmpty { candidates.append(e) }
    candidates.append(FileManager.default.currentDirectoryPath + "/events")
    candidates.append(sourceTree + "/events")
    var isDirectory: ObjCBool = false
    return candidates.first {
      FileManager.default.fileExists(atPath: $0 + "/reference", isDirectory: &isDirectory)
        && isDirectory.boolValue
    }
  }
}
