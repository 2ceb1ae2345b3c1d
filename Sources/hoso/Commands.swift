import Demo
import Domain
import EventLog
import Foundation
import Projections
import Views
import Warehouse

extension CommandLine {
  /// `hoso init [--segment-size BYTES]`
  static func initStore(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    var size = LogWriter.defaultSegmentSize
    if let text = try a.value("--segment-size") {
      guard let v = Int(text), v > 0 else {
        throw UsageError("--segment-size takes a number of bytes, not \(text)")
      }
      size = v
    }
    _ = try a.positional(max: 0, command: "init")
    let store = try Store.create(at: g.store, segmentSize: size, keyPath: g.key)
    print("created store \(store.path) (segments of \(size) bytes); pseudonym key \(store.keyPath)")
    if let w = permissionWarning(store.path) { print(w) }
    let keyFolder = parentFolder(of: store.keyPath)
    if let w = permissionWarning(store.keyPath, what: "the key")
      ?? permissionWarning(keyFolder, what: "the key's folder")
    {
      print(w)
    }
    return 0
  }

  /// `hoso append [--pseudonymize] [--sync batch|none] FILE|-`
  static func append(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    var options = Appender.Options()
    options.pseudonymize = a.flag("--pseudonymize")
    options.keyPath = g.key
    options.onNote = { note($0) }
    if let s = try a.value("--sync") {
      guard let mode = LogWriter.SyncMode(rawValue: s) else {
        throw UsageError("--sync is batch or none, not \(s)")
      }
      options.sync = mode
    }
    let files = try a.positional(max: 1, command: "append")
    guard let file = files.first else {
      throw UsageError("append needs a file of NDJSON events, or - for standard input")
    }
    let store = try Store.open(at: g.store)
    // The tables follow the log. The records are durable once acknowledged: a failure after
    // that leaves the tables behind, and the next command that opens the store catches them up.
    let skipProjection = ProcessInfo.processInfo.environment["HOSO_TEST_SKIP_PROJECTION"] != nil
    let catalog = viewCatalog(g)
    func run(_ input: UnsafeRawBufferPointer) throws -> Warehouse.Appended {
      try warehouse(store).append(
        input, options: options, views: catalog, project: !skipProjection
      ) { result in
        var line = "appended \(result.appended) events"
        if let seqs = result.seqs { line += ", seq \(seqs.lowerBound)..\(seqs.upperBound)" }
        if result.duplicates > 0 {
          line += ", skipped \(result.duplicates) duplicate\(result.duplicates == 1 ? "" : "s")"
        }
        print(line)
        // Out before anything else can fail: the batch is acknowledged from here on.
        fflush(nil)
      }
    }
    let appended: Warehouse.Appended
    do {
      if file == "-" {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        appended = try data.withUnsafeBytes { try run($0) }
      } else {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory),
          !isDirectory.boolValue, FileManager.default.isReadableFile(atPath: file)
        else {
          throw UsageError(
            "cannot read \(file): no such file, a directory, or not readable; append takes an"
              + " NDJSON file or - for standard input")
        }
        // The input is the user's file, wherever a link of theirs leads.
        let mapped = try MappedFile(file, followingLinks: true)
        appended = try mapped.withBytes { try run($0) }
      }
    } catch let e as InputError {
      if let failure = e.storeFailure { throw failure }
      throw UsageError(e.rendered(file: file == "-" ? "<stdin>" : file) + "; nothing was appended")
    } catch let e as Warehouse.AppendedButBehind {
      throw e.error
    }
    if !appended.refreshedViews.isEmpty {
      note("views brought up to date: " + appended.refreshedViews.joined(separator: ", "))
    }
    if options.sync == .none {
      note("--sync none: the batch was not synced to disk; a power cut may lose it")
    }
    return 0
  }

  /// `hoso verify`
  static func verify(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    _ = try a.positional(max: 0, command: "verify")
    let store = try Store.open(at: g.store)
    let summary = try LogVerifier.verify(at: store.logPath)
    for w in summary.warnings { print("warning: \(w)") }
    if access(warehouse(store).forgetIntentPath, F_OK) == 0 {
      print(
        "warning: a forget is under way (FORGETTING): the pseudonym is still in the store until"
          + " the next command finishes it")
    }
    for r in summary.redactions { print(r) }
    // The tables are derived: damage there is reported (exit 2) with the way to rebuild them,
    // and the log's verdict still stands.
    do {
      let t = try Projection.verify(store: store.path, logLastSeq: summary.lastSeq)
      if !t.behind.isEmpty {
        print(
          "warning: tables behind the log (the next command catches them up): "
            + t.behind.joined(separator: ", "))
      }
      print("tables: \(t.tables) checked, \(t.groups) row groups, \(t.bytes) bytes")
      let access = try AccessLog.verify(store: store.path).summary
      for r in access.redactions { print("redacted: " + r) }
      for w in access.warnings { print("warning: " + w) }
      print(
        "access log: \(access.records) records, chain whole"
          + (access.anchored ? ", its length and last hash as anchored" : ""))
      if let w = permissionWarning(store.path) { print(w) }
    } catch let e as ProjectionError {
      throw LogError(
        .damaged,
        "the tables are damaged: \(e.description); the log is intact: remove \(store.path)/views"
          + " and the next command rebuilds them")
    }
    let range = summary.records > 0 ? "seq 1..\(summary.lastSeq)" : "no seq"
    print("ok: \(summary.records) events in \(summary.segments) segments, \(range)")
    return 0
  }

  /// `hoso dump [--from SEQ] [--to SEQ] [--since TIME]`: committed records as NDJSON.
  static func dump(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    var from: UInt64 = 1
    var to = UInt64.max
    if let s = try a.value("--from") {
      guard let v = UInt64(s), v > 0 else { throw UsageError("--from takes a seq, not \(s)") }
      from = v
    }
    if let s = try a.value("--to") {
      guard let v = UInt64(s) else { throw UsageError("--to takes a seq, not \(s)") }
      to = v
    }
    let since = try a.value("--since")
    _ = try a.positional(max: 0, command: "dump")
    let store = try Store.open(at: g.store)
    try requireAuditor(g, store, for: "dump")
    let reader = try LogReader(at: store.logPath)
    if let since {
      guard case .success(let t) = Timestamp.parse(since.utf8) else {
        throw UsageError("--since takes an ISO 8601 time with offset, not \(since)")
      }
      guard let seq = try reader.firstSeq(recordedAtOrAfter: t) else { return 0 }
      from = max(from, seq)
    }
    guard from <= to else { return 0 }
    try recordAccess(
      g, store, "dump", "dump --from \(from)" + (to == .max ? "" : " --to \(to)"), rows: nil)
    var out: [UInt8] = []
    out.reserveCapacity(1 << 20)
    try reader.readRecords(in: from...to) { r in
      out.append(contentsOf: r.payload.bindMemory(to: UInt8.self))
      out.append(0x0A)
      if out.count >= 1 << 20 {
        FileHandle.standardOutput.write(Data(out))
        out.removeAll(keepingCapacity: true)
      }
    }
    FileHandle.standardOutput.write(Data(out))
    return 0
  }

  /// `hoso` with no command: the shell over the store (on a terminal, the line editor; from a
  /// pipe or a file, the statements in order). With no store at the default location yet, the
  /// demo store is made there first.
  static func openShell(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    // The flags are checked first: a typo must not leave a new demo store behind.
    let options = try ShellOptions(&a)
    _ = try openStore(g, makingTheDemo: g.storeIsDefault)
    return try shell(g, options)
  }

  /// `hoso status`: what the store holds (events, segments, times, tables), catching the tables
  /// up first.
  static func describe(_ g: GlobalOptions, _ a: inout Arguments) throws -> Int32 {
    _ = try a.positional(max: 0, command: "status")
    let store = try openStore(g, makingTheDemo: false)
    return try describe(store)
  }

  /// The store, its tables caught up (with a bar on a terminal). `makingTheDemo`: with no store
  /// there, the demo store is made first, so that the first `hoso` has something to look at.
  /// Only the bare `hoso` at the default location asks for that: anywhere else a path with no
  /// store is a mistyped one, and a store made there would hide the mistake (exit status 2,
  /// and nothing created).
  static func openStore(_ g: GlobalOptions, makingTheDemo: Bool) throws -> Store {
    let store: Store
    do {
      store = try Store.open(at: g.store)
    } catch let e as LogError where e.kind == .missing && makingTheDemo {
      guard Reference.locate(environment: ProcessInfo.processInfo.environment) != nil else {
        // An empty store here would be one more surprise folder wherever hoso was run.
        throw LogError(
          .missing,
          "no store at \(g.store), and the demo store cannot be made: the committed events"
            + " (events/reference) are not at hand; run hoso in its source folder or set"
            + " HOSO_EVENTS, or make an empty store with hoso init")
      }
      try runDemo(g, Generator.Options(count: 100_000), scale: "small")
      store = try Store.open(at: g.store)
    }
    do {
      try project(store, showProgress: true)
    } catch let e as LogError where e.kind == .locked {
      note("another process is appending; the tables may be behind the log")
    }
    return store
  }

  static func describe(_ store: Store) throws -> Int32 {
    let reader = try LogReader(at: store.logPath)
    let bytes = reader.segments.reduce(Int64(0)) { $0 + $1.end }
    print("store     \(store.path)")
    if reader.lastSeq == 0 {
      print("events    none yet: append NDJSON events with `hoso append FILE`")
    } else {
      print(
        "events    \(reader.lastSeq) in \(reader.segments.count) segments, seq 1..\(reader.lastSeq)"
      )
      print(
        "recorded  \(Timestamp.format(reader.firstRecordedAt!)) .. "
          + Timestamp.format(reader.lastRecordedAt!))
    }
    print("log       \(bytes) bytes in \(store.logPath)")
    var lines: [String] = []
    for spec in BuiltinTables.all where spec.backing == nil {
      guard let v = try? TableView.open(store: store.path, spec: spec) else { continue }
      lines.append("\(spec.name) \(v.table.rowCount)")
    }
    if !lines.isEmpty {
      print("tables    " + lines.joined(separator: ", ") + " (rows stored, voided ones included)")
    }
    return 0
  }
}
