import Domain
import EventLog
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A table of the column store: a folder holding its row groups and a `MANIFEST` that names
/// them, with the table's schema and its checkpoint (the last seq of the log it reflects).
///
/// ```
/// hoso-table 2
/// name inspections
/// checkpoint 100471
/// rows 9182
/// column seq BIGINT
/// …
/// group g000000-100471.grp 9182
/// ```
/// Files are never changed in place: an append writes the groups it changed under new names,
/// syncs them, then replaces `MANIFEST` (write, fsync, rename, fsync of the folder) and only
/// then removes the files the old manifest named. A crash at any point leaves the old or the
/// new table whole.
package final class Table {
  package let name: String
  package let schema: [ColumnSchema]
  package let folder: String
  package let checkpoint: UInt64
  package let rowCount: Int
  package let groupNames: [String]
  package let groups: [GroupReader]
  private let files: [MappedFile]

  package static let manifestName = "MANIFEST"
  /// The manifest's first line; 2: group indexes carry a Bloom filter; 3: the group
  /// directory holds the sizes of VARCHAR columns and indexes; 4: integers may be stored in
  /// a frame of reference (1, 2 or 4 bytes a row); 5: a column of NULLs only may store
  /// nothing (encoding 6).
  package static let format = "hoso-table 5"
  /// The formats this hoso reads: each is the next without its newest encoding. (An older
  /// hoso reads a newer one as another format, and rebuilds it in its own.)
  package static let readable = ["hoso-table 3", "hoso-table 4", format]

  private init(
    name: String, schema: [ColumnSchema], folder: String, checkpoint: UInt64, rowCount: Int,
    groupNames: [String], files: [MappedFile], groups: [GroupReader]
  ) {
    self.name = name
    self.schema = schema
    self.folder = folder
    self.checkpoint = checkpoint
    self.rowCount = rowCount
    self.groupNames = groupNames
    self.files = files
    self.groups = groups
  }

  /// An empty table (no manifest yet: checkpoint 0).
  package static func empty(name: String, schema: [ColumnSchema], folder: String) -> Table {
    Table(
      name: name, schema: schema, folder: folder, checkpoint: 0, rowCount: 0, groupNames: [],
      files: [], groups: [])
  }

  /// Opens the table in `folder`. nil when it has no manifest or another schema (a projection
  /// of an older hoso): then it is rebuilt from the log. Throws when its files are damaged.
  ///
  /// `schema` nil: whatever the manifest declares (a materialized view, whose columns its SQL
  /// decides).
  /// Whether the table in `folder` was written by an older hoso, in a format this one does
  /// not read (`open` then says nil: a built-in table is rebuilt from the log, a view by
  /// `hoso rebuild`).
  package static func isOlderFormat(folder: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: folder + "/" + manifestName) else {
      return false
    }
    let first = String(decoding: data.prefix { $0 != 0x0A }, as: UTF8.self)
    return first.hasPrefix("hoso-table ") && !readable.contains(first)
  }

  package static func open(
    name: String, schema expected: [ColumnSchema]?, folder: String
  ) throws -> Table? {
    let path = folder + "/" + manifestName
    // The table's folder is not followed through a link either (`O_NOFOLLOW` below guards
    // only the names of its files).
    if isSymbolicLink(folder) {
      throw LogError(.damaged, "\(folder) \(SystemCallError.symbolicLink)")
    }
    let data: [UInt8]
    do {
      guard let read = try FileSystem.system.readFile(path) else { return nil }
      data = read
    } catch {
      // A link where the manifest should be is refused, not taken for a table never built
      // (which would be built anew over it); a manifest that cannot be read is rebuilt.
      if isSymbolicLink(path) { throw error }
      return nil
    }
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    func bad(_ what: String) -> ProjectionError { ProjectionError("\(path): \(what)") }
    // Tables of an older format are rebuilt from the log, as a changed schema is.
    if let first = lines.first, first.hasPrefix("hoso-table "), !readable.contains(first) {
      return nil
    }
    guard let first = lines.first, readable.contains(first) else {
      throw bad("not a table manifest")
    }
    var stored: [ColumnSchema] = []
    var checkpoint: UInt64?
    var rows: Int?
    var groups: [(String, Int)] = []
    for line in lines.dropFirst() {
      let f = line.split(separator: " ").map(String.init)
      switch (f.first, f.count) {
      case ("name", 2): guard f[1] == name else { throw bad("names table \(f[1])") }
      case ("checkpoint", 2): checkpoint = UInt64(f[1])
      case ("rows", 2): rows = Int(f[1])
      case ("column", 3):
        guard let t = ColumnType(sqlName: f[2]) else { throw bad("unknown type \(f[2])") }
        stored.append(ColumnSchema(f[1], t))
      case ("group", 3):
        guard let n = Int(f[2]) else { throw bad("bad line: \(line)") }
        groups.append((f[1], n))
      default: throw bad("bad line: \(line)")
      }
    }
    guard let checkpoint, let rows else { throw bad("incomplete") }
    guard expected == nil || stored == expected else { return nil }
    let schema = stored
    var files: [MappedFile] = []
    var readers: [GroupReader] = []
    var total = 0
    for (g, n) in groups {
      let file = try MappedFile(folder + "/" + g, sequential: false)
      let reader = try file.withBytes { try GroupReader($0, schema: schema, path: file.path) }
      guard reader.rows == n else { throw bad("group \(g) holds \(reader.rows) rows, not \(n)") }
      files.append(file)
      readers.append(reader)
      total += n
    }
    guard total == rows else { throw bad("groups hold \(total) rows, not \(rows)") }
    return Table(
      name: name, schema: schema, folder: folder, checkpoint: checkpoint, rowCount: rows,
      groupNames: groups.map(\.0), files: files, groups: readers)
  }

  /// The group and row within it of table row `row`.
  package func locate(_ row: Int) -> (group: Int, row: Int) {
    (row / ColumnGroup.rows, row % ColumnGroup.rows)
  }

  package func columnIndex(_ name: String) -> Int? { schema.firstIndex { $0.name == name } }
}

extension Table {
  /// Replaces the manifest of the table in `folder` (write, fsync, rename, fsync of the
  /// folder), then removes the group files it does not name: replaced groups, and any left by
  /// a crash.
  static func writeManifest(
    name: String, schema: [ColumnSchema], checkpoint: UInt64, rows: Int,
    groups: [(String, Int)], folder: String, sync: Bool
  ) throws {
    var m = Table.format + "\nname \(name)\ncheckpoint \(checkpoint)\nrows \(rows)\n"
    for c in schema { m += "column \(c.name) \(c.type.sqlName)\n" }
    for (n, c) in groups { m += "group \(n) \(c)\n" }
    try FileSystem.system.writeAtomically(
      Array(m.utf8), to: folder + "/" + Table.manifestName, directory: folder, sync: sync)
    let keep = Set(groups.map(\.0))
    if let names = try? FileManager.default.contentsOfDirectory(atPath: folder) {
      for f in names where f.hasSuffix(".grp") && !keep.contains(f) {
        _ = FileSystem.system.unlink(folder + "/" + f)
      }
    }
  }
}

/// Adds rows to a table: the last group's rows are read back into builders, new rows go after
/// them, each group is written as soon as it is full, and `commit` writes the last one and a
/// new manifest. Files are named after the checkpoint being reached, so a rebuild of the same
/// log writes the same files with the same names.
package struct TableAppender {
  package let table: Table
  package var builders: [ColumnBuilder]
  /// The index of the first group this appender writes (the old last group, if not full).
  private let firstGroup: Int
  private var written: [(name: String, rows: Int)] = []
  package private(set) var rowCount: Int
  /// The VARCHAR columns each group indexes.
  private let indexed: [Int]
  private let target: UInt64
  private let sync: Bool
  /// The builders of a group written, given back emptied by the writer for the next group.
  private let spare = GroupWriter.Spare()

  package init(_ table: Table, indexed: [Int] = [], target: UInt64, sync: Bool = true) {
    self.table = table
    self.indexed = indexed
    self.target = target
    self.sync = sync
    builders = table.schema.map { ColumnBuilder($0.type) }
    rowCount = table.rowCount
    if let last = table.groups.last, last.rows < ColumnGroup.rows {
      firstGroup = table.groups.count - 1
      for r in 0..<last.rows {
        for c in builders.indices { builders[c].append(from: last.columns[c], row: r) }
      }
    } else {
      firstGroup = table.groups.count
    }
  }

  /// Call after appending one value to every column: writes a full group out.
  package mutating func endRow() throws {
    rowCount += 1
    if builders[0].count == ColumnGroup.rows { try writeGroup() }
  }

  /// Hands the full group to the background writer: encoding, checksumming and writing it
  /// run on the other core while rows go on being projected.
  private mutating func writeGroup() throws {
    let rows = builders[0].count
    for c in builders.indices { builders[c].padNulls(to: rows) }
    let name = "g" + pad(firstGroup + written.count, 6) + "-\(target).grp"
    let path = table.folder + "/" + name
    try makeFolder(table.folder)
    written.append((name, builders[0].count))
    let full = GroupWriter.Group(builders)
    if let recycled = spare.take() {
      builders = recycled
    } else {
      for c in builders.indices { builders[c] = ColumnBuilder(reservingLike: full.columns[c]) }
    }
    GroupWriter.shared.write(
      full, indexed: indexed, to: path, folder: table.folder, sync: sync, recycle: spare)
  }

  package var hasChanges: Bool { rowCount != table.rowCount }

  /// Hands the last, partial group to the background writer; `commit` then waits for it.
  /// A caller committing several tables hands every table's over first, so that they are
  /// encoded and written side by side rather than one table after another.
  package mutating func handOver() throws {
    if hasChanges && builders[0].count > 0 { try writeGroup() }
  }

  /// Writes what is left and a manifest at `checkpoint` (the `target`); returns the table
  /// reopened. Without new rows only the manifest changes.
  package mutating func commit() throws -> Table {
    var groups = Array(zip(table.groupNames, table.groups.map(\.rows)))
    if hasChanges {
      try handOver()
      groups = Array(groups.prefix(firstGroup)) + written.map { ($0.name, $0.rows) }
    }
    try GroupWriter.shared.wait()
    try makeFolder(table.folder)
    try Table.writeManifest(
      name: table.name, schema: table.schema, checkpoint: target, rows: rowCount,
      groups: groups, folder: table.folder, sync: sync)
    written.removeAll()
    return try Table.open(name: table.name, schema: table.schema, folder: table.folder)!
  }
}

/// Creates `path` and any missing parents (owner only).
func makeFolder(_ path: String) throws {
  if FileSystem.system.mkdir(path, 0o700) == 0 || errno == EEXIST { return }
  if errno == ENOENT {
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty && parent != path {
      try makeFolder(parent)
      if FileSystem.system.mkdir(path, 0o700) == 0 || errno == EEXIST { return }
    }
  }
  throw ProjectionError("cannot create \(path): \(String(cString: strerror(errno)))")
}

/// Whether `path` is a symbolic link (not followed). `lstat(2)`.
func isSymbolicLink(_ path: String) -> Bool {
  var st = stat()
  return lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
}

/// Syncs a folder, so that renames in it survive a crash.
func syncFolder(_ path: String) throws {
  let fd = open(path, O_RDONLY | O_DIRECTORY)
  guard fd >= 0 else { throw ProjectionError("cannot open \(path) to sync it") }
  defer { close(fd) }
  guard FileSystem.system.fsync(fd) == 0 else {
    throw ProjectionError("fsync of \(path) failed: \(String(cString: strerror(errno)))")
  }
}

func syncFile(_ path: String) throws {
  let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
  guard fd >= 0 else { throw ProjectionError("cannot open \(path) to sync it") }
  defer { close(fd) }
  guard FileSystem.system.fsync(fd) == 0 else {
    // fsyncgate: a failed fsync is not retried; the projection is rebuilt on the next open.
    throw ProjectionError("fsync of \(path) failed: \(String(cString: strerror(errno)))")
  }
}

/// Writes row groups on a queue of its own, one at a time, in the order given: the projecting
/// thread fills the next group meanwhile. The first failure is kept and thrown by `wait`.
final class GroupWriter: @unchecked Sendable {
  static let shared = GroupWriter()
  /// Groups are independent files, named before they are handed over, and no manifest names
  /// one before `wait` returns: they may be encoded and written in any order, side by side.
  private let queue = DispatchQueue(label: "hoso.projections.groups", attributes: .concurrent)
  private let pending = DispatchGroup()
  private let lock = NSLock()
  private var failure: Error?
  /// Groups handed over and not yet written: at most a few, so memory stays bounded.
  private let slots = DispatchSemaphore(value: 4)

  /// A group's builders, handed from the table's appender to the writer, which takes them
  /// out when done (the only reference left, so that their memory can be kept).
  final class Group: @unchecked Sendable {
    private(set) var columns: [ColumnBuilder]
    init(_ columns: [ColumnBuilder]) { self.columns = columns }
    func take() -> [ColumnBuilder] {
      defer { columns = [] }
      return columns
    }
  }

  /// Where the writer leaves a written group's builders, emptied, for its table's next group.
  final class Spare: @unchecked Sendable {
    private let lock = NSLock()
    private var builders: [ColumnBuilder]?
    func put(_ b: [ColumnBuilder]) { lock.withLock { builders = b } }
    func take() -> [ColumnBuilder]? {
      lock.withLock {
        defer { builders = nil }
        return builders
      }
    }
  }

  func write(
    _ group: Group, indexed: [Int], to path: String, folder: String, sync: Bool,
    recycle spare: Spare? = nil
  ) {
    slots.wait()
    pending.enter()
    let job = { @Sendable [self] in
      defer {
        self.slots.signal()
        self.pending.leave()
      }
      var columns = group.take()
      do {
        try FileSystem.system.writeAtomically(
          ColumnGroup.encode(columns, indexed: indexed), to: path, directory: folder, sync: false)
        if sync { try syncFile(path) }
      } catch {
        self.lock.lock()
        if self.failure == nil { self.failure = error }
        self.lock.unlock()
      }
      if let spare {
        for c in columns.indices { columns[c].clear() }
        spare.put(columns)
      }
    }
    if FaultInjection.isActive {
      queue.sync(execute: job)
    } else {
      queue.async(execute: job)
    }
  }

  /// Waits for every group handed over; throws the first failure (and forgets it).
  func wait() throws {
    pending.wait()
    lock.lock()
    defer {
      failure = nil
      lock.unlock()
    }
    if let failure { throw failure }
  }
}
