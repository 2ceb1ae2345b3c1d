import Dispatch
import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Reading a record: where its envelope's values and its data's fields are (by the quick scan
/// of a canonical payload, or the parser), and appending them to a table's builders.
extension Projector {
  /// Whether the record may be a `unit.*` event, without parsing it: in the canonical
  /// payload the first `"type":` is the envelope's (an id holds no quote), and its value
  /// starts with `unit.`. Most records are not, and `learnUnits` skips them on this alone.
  static func mayBeUnitEvent(_ payload: UnsafeRawBufferPointer) -> Bool {
    // `{"id":"…","type":"unit.…`: the id's closing quote, then the type (another shape:
    // maybe, and the caller looks properly).
    let n = payload.count
    guard n > 7, let base = payload.baseAddress, memcmp(base, idKey, 7) == 0,
      let q = memchr(base + 7, Int32(UInt8(ascii: "\"")), n - 7)
    else { return true }
    let at = base.distance(to: UnsafeRawPointer(q)) + 1
    guard n - at >= typeUnit.count else { return true }
    if memcmp(base + at, typeUnit, 9) != 0 { return true }
    return memcmp(base + at, typeUnit, typeUnit.count) == 0
  }

  static let idKey = Array("{\"id\":\"".utf8)
  static let typeUnit = Array(",\"type\":\"unit.".utf8)

  /// Where the envelope's values are in the record just parsed (node indices, -1: absent).
  struct Envelope {
    var id = -1
    var type = -1
    var occurred = -1
    var recorded = -1
    var unit = -1
    var caseId = -1
    var actor = -1
    var data = -1
  }

  static func equals(_ a: UnsafeRawBufferPointer, _ b: StaticString) -> Bool {
    a.count == b.utf8CodeUnitCount && memcmp(a.baseAddress!, b.utf8Start, a.count) == 0
  }

  /// A value of the record just read, where its bytes are.
  struct Node {
    var kind: JSONNode.Kind
    var hasEscapes = false
    var isInteger = false
    var start: UInt32
    var end: UInt32

    /// The bytes between a string's quotes (or a number's text) in its record `p`. A node lies
    /// within its record (the scan or the parser made it from `p`): no slice and its bounds
    /// checks, on the path every field's look-up takes.
    @inline(__always)
    func bytes(in p: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
      let quoted = kind == .string ? 1 : 0
      let start = Int(self.start) + quoted
      return UnsafeRawBufferPointer(start: p.baseAddress! + start, count: Int(end) - quoted - start)
    }

    /// A timestamp's microseconds (UTC), or 0 for one that does not parse.
    func time(in p: UnsafeRawBufferPointer) -> Int64 {
      guard case .success(let t) = Timestamp.parse(bytes(in: p)) else { return 0 }
      return t
    }
  }

  /// Node `i` of the record just read: the quick scan's, or the parser's.
  @inline(__always)
  func node(_ i: Int) -> Node {
    if quick { return quickNodes[i] }
    let n = nodes[i]
    return Node(
      kind: n.kind, hasEscapes: n.hasEscapes, isInteger: n.isInteger, start: n.start, end: n.end)
  }

  /// The raw bytes between a string node's quotes (or a number's text).
  @inline(__always)
  func raw(_ node: Int, _ p: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    self.node(node).bytes(in: p)
  }

  /// Reads the record in `p`: by `quickScan` when it can (or took it from `scanned`, the
  /// record's quick scan made beforehand), else parsed whole.
  mutating func read(_ r: LogRecord, scanned: (ScannedRecords.BatchView, Int)? = nil) throws {
    if let (view, k) = scanned, view.take(k, into: &self) { return }
    do { try doc.parse(r.payload) } catch {
      throw ProjectionError("record seq \(r.seq) is not JSON: \(error)")
    }
    scan(r.payload)
  }

  mutating func scan(_ p: UnsafeRawBufferPointer) {
    quick = false
    facts = nil
    nodes = doc.nodes
    env = Envelope()
    dataMembers.removeAll(keepingCapacity: true)
    for (k, v) in doc.members(ofObject: 0) { env.assign(raw(k, p), v) }
    if env.data >= 0 {
      for m in doc.members(ofObject: env.data) { dataMembers.append(m) }
    }
  }

  /// The node of data field `name`, or -1.
  func field(_ name: StaticString, _ p: UnsafeRawBufferPointer) -> Int {
    member { Self.equals(raw($0, p), name) }
  }

  func field(_ name: [UInt8], _ p: UnsafeRawBufferPointer) -> Int {
    member { key in
      let k = raw(key, p)
      return k.count == name.count && memcmp(k.baseAddress!, name, name.count) == 0
    }
  }

  /// The value node of the first data member whose key node satisfies `matches`, or -1.
  @inline(__always)
  private func member(_ matches: (Int) -> Bool) -> Int {
    if quick {
      for m in quickMembers where matches(m.key) { return m.value }
    } else {
      for m in dataMembers where matches(m.key) { return m.value }
    }
    return -1
  }

  func text(_ node: Int, _ p: UnsafeRawBufferPointer) -> String? {
    guard node >= 0 else { return nil }
    let n = self.node(node)
    if n.kind == .string && n.hasEscapes { return doc.string(at: node, in: p) }
    return String(decoding: raw(node, p), as: UTF8.self)
  }

  func time(_ node: Int, _ p: UnsafeRawBufferPointer) -> Int64 {
    node >= 0 ? self.node(node).time(in: p) : 0
  }

  /// Appends a string (or a number's text) as VARCHAR, NULL when absent.
  func putText(_ b: inout ColumnBuilder, _ node: Int, _ p: UnsafeRawBufferPointer) {
    guard node >= 0 else { return b.appendNull() }
    let n = self.node(node)
    if n.kind == .string && n.hasEscapes {
      b.append(doc.string(at: node, in: p))
    } else if n.kind == .string || n.kind == .number {
      b.append(raw(node, p))
    } else {
      b.appendNull()
    }
  }

  /// Appends a data field as its column's type.
  func put(
    _ b: inout ColumnBuilder, _ node: Int, as type: ColumnType, _ p: UnsafeRawBufferPointer
  ) {
    guard node >= 0 else { return b.appendNull() }
    let n = self.node(node)
    switch (type, n.kind) {
    case (.varchar, _): putText(&b, node, p)
    case (.bigint, .number), (.timestamp, .number):
      let text = raw(node, p)
      if n.isInteger,
        let v = JSONNumberText.int64(
          text.baseAddress!.assumingMemoryBound(to: UInt8.self), count: text.count)
      {
        b.append(v)
      } else {
        b.appendNull()
      }
    case (.double, .number):
      let text = raw(node, p)
      b.append(
        JSONNumberText.double(
          text.baseAddress!.assumingMemoryBound(to: UInt8.self), count: text.count))
    case (.date, .string):
      if let d = Timestamp.parseDate(raw(node, p)) { b.append(d) } else { b.appendNull() }
    case (.boolean, .true): b.append(true)
    case (.boolean, .false): b.append(false)
    default: b.appendNull()
    }
  }
}

/// The quick scan of a record: the envelope's values and the data's members, as nodes.
/// `ScannedRecords` scans each record of a batch once, for both halves of a projection.
struct RecordScanner {
  typealias Node = Projector.Node
  var env = Projector.Envelope()
  var dataMembers: [(key: Int, value: Int)] = []
  var quickNodes: [Node] = []

  /// Reads a canonical payload (the log's own JSON: no whitespace, and the validator wrote
  /// it) in one pass, without the parser's tape: the envelope's values and the data object's
  /// members, as nodes. Parsing and walking the tape were a third of a projection's time.
  /// Declines (false) what it does not handle — a string with an escape, a list or an object
  /// within the data (a plan's targets, a correction's changes), anything unexpected — and
  /// the caller parses those records whole.
  mutating func quickScan(_ p: UnsafeRawBufferPointer) -> Bool {
    env = Projector.Envelope()
    dataMembers.removeAll(keepingCapacity: true)
    quickNodes.removeAll(keepingCapacity: true)
    let n = p.count
    guard n >= 2, let base = p.baseAddress else { return false }
    let b = base.assumingMemoryBound(to: UInt8.self)
    let quote = UInt8(ascii: "\"")
    let backslash = UInt8(ascii: "\\")
    // A string at `i` (its opening quote): the index past its closing quote, or nil.
    func string(_ i: Int) -> Int? {
      guard i < n, b[i] == quote, let q = memchr(b + i + 1, Int32(quote), n - i - 1) else {
        return nil
      }
      let close = b.distance(to: q.assumingMemoryBound(to: UInt8.self))
      guard memchr(b + i + 1, Int32(backslash), close - i - 1) == nil else { return nil }
      return close + 1
    }
    // A string, number, true, false or null at `i`: its node, or nil.
    func scalar(_ i: Int) -> Node? {
      guard i < n else { return nil }
      let c = b[i]
      if c == quote {
        guard let e = string(i) else { return nil }
        return Node(kind: .string, start: UInt32(i), end: UInt32(e))
      }
      if c == UInt8(ascii: "-") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) {
        var j = i + 1
        var integer = true
        while j < n {
          let d = b[j]
          if d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
            j += 1
          } else if d == UInt8(ascii: ".") || d == UInt8(ascii: "e") || d == UInt8(ascii: "E")
            || d == UInt8(ascii: "+") || d == UInt8(ascii: "-")
          {
            integer = false
            j += 1
          } else {
            break
          }
        }
        return Node(kind: .number, isInteger: integer, start: UInt32(i), end: UInt32(j))
      }
      let rest = UnsafeRawBufferPointer(start: b + i, count: n - i)
      for (word, kind) in [("true", JSONNode.Kind.true), ("false", .false), ("null", .null)]
      where rest.starts(with: word.utf8) {
        return Node(kind: kind, start: UInt32(i), end: UInt32(i + word.utf8.count))
      }
      return nil
    }
    // The members of the object whose `{` is at `i`: the index past its `}`, or nil. The
    // envelope (`top`) may hold one object, `data`; the data holds scalars only.
    func members(_ start: Int, top: Bool) -> Int? {
      var i = start + 1
      guard i < n else { return nil }
      if b[i] == UInt8(ascii: "}") { return i + 1 }
      while true {
        guard let keyEnd = string(i), keyEnd < n, b[keyEnd] == UInt8(ascii: ":") else {
          return nil
        }
        let k = quickNodes.count
        quickNodes.append(Node(kind: .string, start: UInt32(i), end: UInt32(keyEnd)))
        i = keyEnd + 1
        let v = quickNodes.count
        let keyStart = Int(quickNodes[k].start) + 1
        let keyBytes = UnsafeRawBufferPointer(start: base + keyStart, count: keyEnd - 1 - keyStart)
        if top && i < n && b[i] == UInt8(ascii: "{") && Projector.equals(keyBytes, "data") {
          quickNodes.append(Node(kind: .object, start: UInt32(i), end: 0))
          guard let e = members(i, top: false) else { return nil }
          quickNodes[v].end = UInt32(e)
          env.data = v
          i = e
        } else {
          guard let value = scalar(i) else { return nil }
          quickNodes.append(value)
          i = Int(value.end)
          if top {
            env.assign(keyBytes, v)
          } else {
            dataMembers.append((k, v))
          }
        }
        guard i < n else { return nil }
        if b[i] == UInt8(ascii: ",") {
          i += 1
        } else if b[i] == UInt8(ascii: "}") {
          return i + 1
        } else {
          return nil
        }
      }
    }
    guard b[0] == UInt8(ascii: "{"), members(0, top: true) == n else {
      env = Projector.Envelope()
      dataMembers.removeAll(keepingCapacity: true)
      return false
    }
    return true
  }
}

extension Projector.Envelope {
  /// Notes where an envelope value is, by its key.
  mutating func assign(_ key: UnsafeRawBufferPointer, _ v: Int) {
    switch key.count {
    case 2: id = v
    case 4:
      if Projector.equals(key, "type") {
        type = v
      } else if Projector.equals(key, "unit") {
        unit = v
      } else if Projector.equals(key, "case") {
        caseId = v
      } else if Projector.equals(key, "data") {
        data = v
      }
    case 5: actor = v
    case 11:
      if Projector.equals(key, "occurred_at") { occurred = v } else { recorded = v }
    default: break
    }
  }
}

/// The quick scans of a batch's records, made on both cores before the halves apply them
/// (each half used to scan every record itself). Each chunk holds a contiguous run of the
/// batch's records; a record the quick scan declines is parsed by each half as before. The
/// halves read the scans through pointers (`view`), without copying them and without the
/// checks of a class's properties: nothing changes them while a batch is applied.
final class ScannedRecords: @unchecked Sendable {
  typealias Member = (key: Int, value: Int)

  /// What both halves read of every record, worked out once by the scan: the type's code
  /// (-1: not the catalog's), the times (microseconds, UTC).
  struct Facts {
    var code: Int16 = -1
    var occurred: Int64 = 0
    var recorded: Int64 = 0
  }

  /// A record's scan: its envelope, and where its nodes and data members are.
  struct Entry {
    var env: Projector.Envelope
    var facts: Facts
    var quick: Bool
    var nodeStart: Int
    var nodeEnd: Int
    var memberStart: Int
    var memberEnd: Int
  }

  final class Chunk {
    var scanner = RecordScanner()
    let entries = Storage<Entry>()
    let nodes = Storage<Projector.Node>()
    let members = Storage<Member>()

    func removeAll() {
      entries.count = 0
      nodes.count = 0
      members.count = 0
    }

    func add(_ p: UnsafeRawBufferPointer) {
      let ok = scanner.quickScan(p)
      let nodeStart = nodes.count
      let memberStart = members.count
      if ok {
        nodes.append(scanner.quickNodes)
        members.append(scanner.dataMembers)
      }
      entries.append([
        Entry(
          env: scanner.env, facts: ok ? Self.facts(of: scanner, p) : Facts(), quick: ok,
          nodeStart: nodeStart, nodeEnd: nodes.count, memberStart: memberStart,
          memberEnd: members.count)
      ])
    }

    private static func facts(of s: RecordScanner, _ p: UnsafeRawBufferPointer) -> Facts {
      func time(_ i: Int) -> Int64 { i >= 0 ? s.quickNodes[i].time(in: p) : 0 }
      var f = Facts()
      if s.env.type >= 0, let code = Catalog.code(named: s.quickNodes[s.env.type].bytes(in: p)) {
        f.code = Int16(code)
      }
      f.occurred = time(s.env.occurred)
      f.recorded = time(s.env.recorded)
      return f
    }

    var view: View {
      View(entries: entries.base, nodes: nodes.base, members: members.base)
    }
  }

  /// Values of a trivial type back to back, at an address that changes only when they are
  /// appended to (an array's may not be held beyond a closure).
  final class Storage<T> {
    private(set) var base = UnsafeMutablePointer<T>.allocate(capacity: 1024)
    private var capacity = 1024
    var count = 0

    deinit { base.deallocate() }

    func append(_ values: [T]) {
      guard !values.isEmpty else { return }
      if count + values.count > capacity {
        let grown = max(capacity * 2, count + values.count)
        let new = UnsafeMutablePointer<T>.allocate(capacity: grown)
        new.moveInitialize(from: base, count: count)
        base.deallocate()
        base = new
        capacity = grown
      }
      values.withUnsafeBufferPointer {
        (base + count).initialize(from: $0.baseAddress!, count: $0.count)
      }
      count += values.count
    }
  }

  /// A chunk's scans, as they stand once the batch is scanned.
  struct View {
    let entries: UnsafePointer<Entry>
    let nodes: UnsafePointer<Projector.Node>
    let members: UnsafePointer<Member>

    /// Points `projector` at record `index`'s scan; false when the quick scan declined it.
    func take(_ index: Int, into projector: inout Projector) -> Bool {
      let e = entries[index]
      guard e.quick else { return false }
      projector.env = e.env
      projector.facts = e.facts
      projector.quickNodes = UnsafeBufferPointer(
        start: nodes + e.nodeStart, count: e.nodeEnd - e.nodeStart)
      projector.quickMembers = UnsafeBufferPointer(
        start: members + e.memberStart, count: e.memberEnd - e.memberStart)
      projector.quick = true
      return true
    }
  }

  /// The scans of a whole batch: the first `split` records in the first chunk. Both halves
  /// read it at once; nothing writes it until the next batch.
  struct BatchView: @unchecked Sendable {
    let first: View
    let second: View
    let split: Int

    func take(_ k: Int, into projector: inout Projector) -> Bool {
      k < split ? first.take(k, into: &projector) : second.take(k - split, into: &projector)
    }
  }

  private let chunks = [Chunk(), Chunk()]

  /// Scans every record of `batch`, half of them on each core (in order on one thread when
  /// `parallel` is false), and returns where the scans are until the next batch.
  func scan(_ batch: RecordCopies, parallel: Bool) -> BatchView {
    let split = batch.count / 2
    let ranges = [0..<split, split..<batch.count]
    let work = { @Sendable (i: Int) in
      let c = self.chunks[i]
      c.removeAll()
      batch.eachRecord(in: ranges[i]) { c.add($0.payload) }
    }
    if parallel {
      bothAtOnce(work)
    } else {
      for i in 0..<2 { work(i) }
    }
    return BatchView(first: chunks[0].view, second: chunks[1].view, split: split)
  }
}
