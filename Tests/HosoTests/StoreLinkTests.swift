import EventLog
import Foundation
import TestSupport
import Testing

/// No file of the store is opened through a symbolic link (issue 17, finding 4): a link
/// where a segment, a table's file or one of the store's folders should be is exit status 2,
/// and nothing is read or made where it points.
@Suite struct StoreLinkTests {
  /// A store of generated events.
  static func store() throws -> TestStore {
    let store = TestStore()
    #expect(try store.run(["init"]).status == 0)
    let events = try store.run(["generate", "--seed", "5", "--count", "1500"])
    let appended = try store.run(["append", "-"], stdin: Array(events.stdout.utf8))
    #expect(appended.status == 0, "\(appended.stderr)")
    return store
  }

  static let linkMessage = "is a symbolic link; a store's files are never followed through links"

  /// A segment, a table's row group, a table's manifest, a table's folder and the tables'
  /// folder replaced by links to copies outside the store: each is refused where it is
  /// opened, exit status 2.
  @Test func linksForTheLogAndTheTablesAreNotFollowed() throws {
    let store = try Self.store()
    let outside = TemporaryDirectory("hoso-outside")
    func link(_ path: String) -> String {
      let copy = outside.file((path as NSString).lastPathComponent)
      writeBytes(readBytes(path)!, to: copy)
      #expect(unlink(path) == 0 && symlink(copy, path) == 0)
      return copy
    }
    func restore(_ path: String, from copy: String) {
      #expect(unlink(path) == 0)
      writeBytes(readBytes(copy)!, to: path)
    }
    let log = LogDirectory(store.path + "/log")
    let segment = log.segmentPath(log.segments()[0])
    let segmentCopy = link(segment)
    let verify = try store.run(["verify"])
    #expect(verify.status == 2 && verify.stderr.contains(".seg " + Self.linkMessage), "\(verify)")
    let line =
      #"{"id":"anchor-1","type":"outreach.held","occurred_at":"2026-03-01T08:00:00+07:00","unit":"VN","data":{"form":"meeting","audience":"residents","reached":3}}"#
    let append = try store.run(["append", "-"], stdin: Array((line + "\n").utf8))
    #expect(append.status == 2 && append.stderr.contains(Self.linkMessage), "\(append)")
    restore(segment, from: segmentCopy)
    #expect(try store.run(["verify"]).status == 0)

    let tips = store.path + "/views/tips"
    let group = try FileManager.default.contentsOfDirectory(atPath: tips)
      .first { $0.hasSuffix(".grp") }!
    let groupCopy = link(tips + "/" + group)
    let linkedGroup = try store.run(["verify"])
    #expect(
      linkedGroup.status == 2 && linkedGroup.stderr.contains(".grp " + Self.linkMessage),
      "\(linkedGroup)")
    restore(tips + "/" + group, from: groupCopy)

    let manifestCopy = link(tips + "/MANIFEST")
    let query = try store.run(["query", "SELECT count(*) FROM tips"])
    #expect(query.status == 2 && query.stderr.contains("MANIFEST " + Self.linkMessage), "\(query)")
    #expect(readBytes(manifestCopy) == readBytes(tips + "/MANIFEST"), "the copy is untouched")
    restore(tips + "/MANIFEST", from: manifestCopy)
    #expect(try store.run(["verify"]).status == 0)

    // Folders: a table's, and the tables' own.
    for folder in [tips, store.path + "/views"] {
      let moved = outside.file((folder as NSString).lastPathComponent + "-folder")
      #expect(rename(folder, moved) == 0 && symlink(moved, folder) == 0)
      let linked = try store.run(["verify"])
      #expect(linked.status == 2 && linked.stderr.contains(Self.linkMessage), "\(linked)")
      #expect(unlink(folder) == 0 && rename(moved, folder) == 0)
    }
    #expect(try store.run(["verify"]).status == 0)
  }
}
