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
  func raw(_ node: Int, _ p: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
    let n = self.node(node)
    let quoted = n.kind == .string ? 1 : 0
    return UnsafeRawBufferPointer(rebasing: p[(Int(n.start) + quoted)..<(Int(n.end) - quoted)])
  }

  /// Reads the record in `p`: by `quickScan` when it can, else parsed whole.
  mutating func read(_ r: LogRecord) throws {
    if quickScan(r.payload) { return }
    do { try doc.parse(r.payload) } catch {
      throw ProjectionError("record seq \(r.seq) is not JSON: \(error)")
    }
    scan(r.payload)
  }

  /// Reads a canonical payload (the log's own JSON: no whitespace, and the validator wrote
  /// it) in one pass, without the parser's tape: the envelope's values and the data object's
  /// members, as nodes. Parsing and walking the tape were a third of a projection's time.
  /// Declines (false) what it does not handle — a string with an escape, a list or an object
  /// within the data (a plan's targets, a correction's changes), anything unexpected — and
  /// the caller parses those records whole.
  mutating func quickScan(_ p: UnsafeRawBufferPointer) -> Bool {
    quick = false
    env = Envelope()
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
        if top && i < n && b[i] == UInt8(ascii: "{") && Self.equals(keyBytes, "data") {
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
            assign(keyBytes, v)
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
      env = Envelope()
      dataMembers.removeAll(keepingCapacity: true)
      return false
    }
    quick = true
    return true
  }

  /// Notes where an envelope value is, by its key.
  mutating func assign(_ key: UnsafeRawBufferPointer, _ v: Int) {
    switch key.count {
    case 2: env.id = v
    case 4:
      if Self.equals(key, "type") {
        env.type = v
      } else if Self.equals(key, "unit") {
        env.unit = v
      } else if Self.equals(key, "case") {
        env.caseId = v
      } else if Self.equals(key, "data") {
        env.data = v
      }
    case 5: env.actor = v
    case 11:
      if Self.equals(key, "occurred_at") { env.occurred = v } else { env.recorded = v }
    default: break
    }
  }

  mutating func scan(_ p: UnsafeRawBufferPointer) {
    quick = false
    nodes = doc.nodes
    env = Envelope()
    dataMembers.removeAll(keepingCapacity: true)
    for (k, v) in doc.members(ofObject: 0) { assign(raw(k, p), v) }
    if env.data >= 0 {
      for m in doc.members(ofObject: env.data) { dataMembers.append(m) }
    }
  }

  /// The node of data field `name`, or -1.
  func field(_ name: StaticString, _ p: UnsafeRawBufferPointer) -> Int {
    for m in dataMembers where Self.equals(raw(m.key, p), name) { return m.value }
    return -1
  }

  func field(_ name: [UInt8], _ p: UnsafeRawBufferPointer) -> Int {
    for m in dataMembers {
      let k = raw(m.key, p)
      if k.count == name.count && memcmp(k.baseAddress!, name, name.count) == 0 { return m.value }
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
    guard node >= 0, case .success(let t) = Timestamp.parse(raw(node, p)) else { return 0 }
    return t
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
