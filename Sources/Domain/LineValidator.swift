import Foundation

/// Validates one parsed event against the catalog and writes its canonical JSON.
///
/// Canonical JSON: the envelope's fields in the order of `Catalog.envelope`, times in
/// Vietnam local time, `data` and every nested object with keys in byte order, no whitespace.
/// The same event always gives the same bytes, whatever spacing, key order or escapes the
/// input used.
///
/// This is the hot path of `append`: it compares and copies bytes and allocates nothing per
/// event once its buffers have grown; strings are built only for error messages.
struct LineValidator {
  var doc = JSONDocument()
  var line = UnsafeRawBufferPointer(start: nil, count: 0)
  var number = 0
  /// Whether the line holds combining marks (U+0300–U+036F): Vietnamese typed or pasted in
  /// decomposed form (NFD), which the canonical form composes (NFC), so that "Hà Nội" is one
  /// value however it was typed.
  private var mayBeDecomposed = false
  let now: Int64
  let pseudonymizer: Pseudonymizer?
  /// Decoded strings (those with escapes) for the current line: never longer than the line.
  private let scratch: UnsafeMutableRawPointer
  private var scratchUsed = 0
  /// Units the event names, which must already be established: (node, field path).
  private(set) var unitReferences: [(node: Int, path: String)] = []

  /// What the store-level checks need to know about the event.
  struct Facts {
    var type: UInt8 = 0
    var idNode = 0
    var idRange: Range<Int> = 0..<0
    var unitNode = 0
    /// The unit code's bytes in the output (inside its quotes).
    var unitRange: Range<Int> = 0..<0
    var recordedAt: Int64 = 0
    var recordedAtNode: Int?
    /// The `,"recorded_at":"…"` member in the output: left out when comparing contents.
    var recordedAtRange: Range<Int> = 0..<0
    /// The unit a `unit.established` creates (its node).
    var establishes: Int?
  }

  init(now: Int64, pseudonymizer: Pseudonymizer?) {
    self.now = now
    self.pseudonymizer = pseudonymizer
    scratch = .allocate(byteCount: Ingest.maxLine + 16, alignment: 8)
    unitReferences.reserveCapacity(4)
  }

  /// Frees the scratch buffer; the validator is not used afterwards.
  func deallocate() { scratch.deallocate() }

  mutating func parse(_ bytes: UnsafeRawBufferPointer, number: Int) throws(JSONSyntaxError) {
    line = bytes
    self.number = number
    mayBeDecomposed = Self.hasCombiningMarks(bytes)
    scratchUsed = 0
    unitReferences.removeAll(keepingCapacity: true)
    try doc.parse(bytes)
  }

  /// The catalog code of the parsed line's `type`, if it has a known one.
  var typeCode: UInt8? {
    guard doc.nodes[0].kind == .object, let t = doc.member("type", ofObject: 0, in: line),
      doc.nodes[t].kind == .string, !doc.nodes[t].hasEscapes
    else { return nil }
    let n = doc.nodes[t]
    return Catalog.code(
      named: UnsafeRawBufferPointer(rebasing: line[Int(n.start + 1)..<Int(n.end - 1)]))
  }

  func column(of node: Int) -> Int {
    characterColumn(ofByteOffset: Int(doc.nodes[node].start), in: line)
  }

  func fail(_ node: Int?, _ field: String?, _ message: String) -> InputError {
    InputError(line: number, column: node.map(column(of:)), field: field, message)
  }

  /// The decoded bytes of the string at `node`: a slice of the line when it has no escapes.
  mutating func bytes(_ node: Int) -> UnsafeRawBufferPointer {
    let n = doc.nodes[node]
    if !n.hasEscapes {
      return UnsafeRawBufferPointer(rebasing: line[Int(n.start + 1)..<Int(n.end - 1)])
    }
    let at = scratch + scratchUsed
    let count = doc.decodeString(at: node, in: line, into: at)
    scratchUsed += count
    return UnsafeRawBufferPointer(start: at, count: count)
  }

  /// The string at `node` as bytes, or an error if it is not a string.
  mutating func string(_ node: Int, _ field: @autoclosure () -> String) throws(InputError)
    -> UnsafeRawBufferPointer
  {
    guard doc.nodes[node].kind == .string else { throw fail(node, field(), "expected a string") }
    return bytes(node)
  }

  static func text(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }

  // MARK: Envelope

  mutating func validate(
    into out: inout ByteBuffer, state: borrowing StoreState, stamp: Int64
  ) throws(InputError) -> Facts {
    guard doc.nodes[0].kind == .object else {
      throw fail(0, nil, "an event is a JSON object, one per line")
    }
    var slot = (-1, -1, -1, -1, -1, -1, -1, -1)
    var member = 1
    for _ in 0..<Int(doc.nodes[0].count) {
      let key = member
      let value = member + 1
      guard let i = Catalog.envelopeIndex(bytes(key)) else {
        let name = doc.string(at: key, in: line)
        let hint = Catalog.nearest(name, in: Catalog.envelope).map { "; did you mean \"\($0)\"?" }
        throw fail(
          key, name,
          "unknown field \"\(name)\" in the envelope (fields: "
            + Catalog.envelope.joined(separator: ", ") + ")" + (hint ?? ""))
      }
      withUnsafeMutableBytes(of: &slot) {
        $0.storeBytes(of: value, toByteOffset: i * 8, as: Int.self)
      }
      member = Int(doc.nodes[value].next)
    }
    let (idN, typeN, occurredN, recordedN, unitN, caseN, actorN, dataN) = slot
    var f = Facts()

    // type first: it decides what the rest may hold.
    guard typeN >= 0 else { throw fail(nil, "type", "missing field \"type\"") }
    let typeBytes = try string(typeN, "type")
    guard let type = Catalog.type(named: typeBytes) else {
      let name = Self.text(typeBytes)
      let hint = Catalog.nearest(name, in: Catalog.types.map(\.name))
      throw fail(
        typeN, "type",
        "unknown event type \"\(name)\"" + (hint.map { "; did you mean \"\($0)\"?" } ?? ""))
    }
    f.type = type.code

    guard idN >= 0 else { throw fail(nil, "id", "missing field \"id\"") }
    let id = try string(idN, "id")
    guard Self.isIdentifier(id) else {
      throw fail(idN, "id", "an id is 1 to 64 characters of A-Z a-z 0-9 . _ : -")
    }
    f.idNode = idN

    guard occurredN >= 0 else {
      throw fail(nil, "occurred_at", "missing field \"occurred_at\" (when it happened)")
    }
    let occurred = try time(occurredN, "occurred_at")
    var recorded = stamp
    if recordedN >= 0 {
      recorded = try time(recordedN, "recorded_at")
      f.recordedAtNode = recordedN
      guard occurred <= recorded else {
        throw fail(occurredN, "occurred_at", "occurred_at is later than recorded_at")
      }
    }
    f.recordedAt = recorded

    // A forget is the store's act, not a jurisdiction's: its record names no unit, so that a
    // store whose units leave out the country (one province's data) can carry it out. One that
    // names a unit (an older hoso wrote "VN") stays valid, and that unit must be established.
    guard unitN >= 0 || type.code == Catalog.forgotten else {
      throw fail(nil, "unit", "missing field \"unit\" (a jurisdiction code)")
    }
    var unit: UnsafeRawBufferPointer?
    if unitN >= 0 {
      let code = try string(unitN, "unit")
      guard Self.isUnitCode(code) else {
        throw fail(unitN, "unit", "a unit code is letters, digits and -, such as VN-LS")
      }
      unit = code
      f.unitNode = unitN
      if type.code == Catalog.unitEstablished {
        f.establishes = unitN
      } else {
        unitReferences.append((unitN, "unit"))
      }
    }

    var caseBytes: UnsafeRawBufferPointer?
    if caseN >= 0 {
      let c = try string(caseN, "case")
      guard Self.isIdentifier(c) else {
        throw fail(caseN, "case", "a case id is 1 to 64 characters of A-Z a-z 0-9 . _ : -")
      }
      caseBytes = c
    } else if type.caseRule == .required {
      throw fail(nil, "case", "missing field \"case\": a \(type.name) belongs to a case")
    }
    var actor: UnsafeRawBufferPointer?
    if actorN >= 0 {
      actor = try string(actorN, "actor")
      try checkText(actor!, actorN, "actor")
    }
    guard dataN >= 0 else { throw fail(nil, "data", "missing field \"data\"") }
    guard doc.nodes[dataN].kind == .object else { throw fail(dataN, "data", "data is an object") }

    // The canonical envelope.
    out.appendLiteral(#"{"id":"#)
    let idStart = out.count + 1
    appendString(id, to: &out)
    f.idRange = idStart..<(out.count - 1)
    out.appendLiteral(#","type":"#)
    appendString(typeBytes, to: &out)
    out.appendLiteral(#","occurred_at":""#)
    appendTime(occurred, from: occurredN, to: &out)
    let recordedStart = out.count
    out.appendLiteral(#"","recorded_at":""#)
    appendTime(recorded, from: recordedN, to: &out)
    out.append(UInt8(ascii: "\""))
    f.recordedAtRange = (recordedStart + 1)..<out.count
    if let unit {
      out.appendLiteral(#","unit":"#)
      let unitStart = out.count + 1
      appendString(unit, to: &out)
      f.unitRange = unitStart..<(out.count - 1)
    } else {
      // Empty, where the code would be: no unit is established under an empty code, so the
      // fast path's check of the unit hands the line to the full one.
      f.unitRange = out.count..<out.count
    }
    if let caseBytes {
      out.appendLiteral(#","case":"#)
      appendString(caseBytes, to: &out)
    }
    if let actor {
      out.appendLiteral(#","actor":"#)
      appendString(actor, to: &out)
    }
    out.appendLiteral(#","data":"#)
    try writeObject(dataN, of: type, path: "data", into: &out, state: state)
    out.append(UInt8(ascii: "}"))
    return f
  }

  // MARK: Data

  /// Validates an object against a type's fields and writes it with keys in byte order.
  /// `path` names it in messages: `data`, `data.changes`, `data.targets[2]`.
  mutating func writeObject(
    _ object: Int, of type: Catalog.EventType, path: @autoclosure () -> String,
    into out: inout ByteBuffer, state: borrowing StoreState, requireAll: Bool = true
  ) throws(InputError) {
    let infos = type.infos
    // The value node of each field, -1 when absent: at most 8 fields, on the stack.
    var slots: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (
      -1, -1, -1, -1, -1, -1, -1, -1
    )
    func slot(_ i: Int) -> Int {
      Int(withUnsafeBytes(of: slots) { $0.load(fromByteOffset: i * 4, as: Int32.self) })
    }
    var member = object + 1
    for _ in 0..<Int(doc.nodes[object].count) {
      let key = member
      let value = member + 1
      let name = bytes(key)
      guard let i = infos.firstIndex(where: { rawEqual($0.name, name) }) else {
        let text = Self.text(name)
        let names = type.fields.map(\.name)
        let hint = Catalog.nearest(text, in: names).map { "; did you mean \"\($0)\"?" } ?? ""
        throw fail(
          key, "\(path()).\(text)",
          "unknown field \"\(text)\" in \(path()) of \(type.name) (fields: "
            + names.joined(separator: ", ") + ")" + hint)
      }
      withUnsafeMutableBytes(of: &slots) {
        $0.storeBytes(of: Int32(value), toByteOffset: i * 4, as: Int32.self)
      }
      member = Int(doc.nodes[value].next)
    }
    if requireAll {
      for i in 0..<infos.count where infos[i].required && slot(i) < 0 {
        let name = type.fields[i].name
        throw fail(object, "\(path()).\(name)", "missing field \"\(name)\" of \(type.name)")
      }
    }
    // A correction's target decides which fields its changes may hold.
    var target: Catalog.EventType?
    if let t = type.targetField, slot(t) >= 0 {
      target = try resolveTarget(
        slot(t), "\(path()).\(type.fields[t].name)", of: type, state: state)
    }
    if type.code == Catalog.planAdopted, slot(4) >= 0, slot(5) >= 0 {
      let e = slot(5)
      if let start = Timestamp.parseDate(bytes(slot(4))),
        let end = Timestamp.parseDate(bytes(e)), end < start
      {
        throw fail(e, "\(path()).period_end", "period_end is before period_start")
      }
    }
    out.append(UInt8(ascii: "{"))
    var first = true
    for i in type.canonical {
      let node = slot(i)
      guard node >= 0 else { continue }
      if !first { out.append(UInt8(ascii: ",")) }
      first = false
      out.appendBytes(infos[i].key)
      try writeValue(
        node, infos[i], path: "\(path()).\(type.fields[i].name)", into: &out, state: state,
        target: target, options: type.fields[i].kind)
    }
    out.append(UInt8(ascii: "}"))
  }

  private mutating func resolveTarget(
    _ node: Int, _ field: String, of type: Catalog.EventType, state: borrowing StoreState
  ) throws(InputError) -> Catalog.EventType {
    let id = try string(node, field)
    guard Self.isIdentifier(id) else { throw fail(node, field, "not an event id") }
    guard let entry = state.ids.find(id) else {
      throw fail(
        node, field,
        "no event \"\(Self.text(id))\" in the store or earlier in the input; a \(type.name)"
          + " must follow its target")
    }
    let target = Catalog.type(code: state.ids.typeCodes[entry])
    if type.code == Catalog.corrected
      && [Catalog.corrected, Catalog.voided, Catalog.forgotten].contains(target.code)
    {
      throw fail(node, field, "a \(target.name) cannot be corrected; void it and append it anew")
    }
    if type.code == Catalog.voided && target.code == Catalog.voided {
      throw fail(node, field, "a void cannot be voided")
    }
    return target
  }

  private mutating func writeValue(
    _ node: Int, _ field: FieldInfo, path: @autoclosure () -> String,
    into out: inout ByteBuffer, state: borrowing StoreState, target: Catalog.EventType?,
    options: @autoclosure () -> Catalog.Kind
  ) throws(InputError) {
    let n = doc.nodes[node]
    switch field.kind {
    case .text:
      let s = try string(node, path())
      try checkText(s, node, path())
      appendString(s, to: &out)
    case .choice:
      let s = try string(node, path())
      guard field.choices.contains(where: { rawEqual($0, s) }) else {
        guard case .choice(let options) = options() else { preconditionFailure() }
        let text = Self.text(s)
        let hint = Catalog.nearest(text, in: options).map { "did you mean \"\($0)\"? " } ?? ""
        throw fail(
          node, path(),
          "\"\(text)\" is not allowed; \(hint)expected one of "
            + options.joined(separator: ", "))
      }
      appendString(s, to: &out)
    case .reference:
      let s = try string(node, path())
      let text = Self.text(s)
      guard (1...128).contains(text.count), !s.contains(where: { $0 < 0x20 }),
        s.first != 0x20, s.last != 0x20
      else {
        throw fail(node, path(), "a document number is 1 to 128 characters, such as 679/QĐ-TTg")
      }
      appendString(s, to: &out)
    case .identifier, .event:
      let s = try string(node, path())
      guard Self.isIdentifier(s) else {
        throw fail(node, path(), "an identifier is 1 to 64 characters of A-Z a-z 0-9 . _ : -")
      }
      appendString(s, to: &out)
    case .unit:
      let s = try string(node, path())
      guard Self.isUnitCode(s) else {
        throw fail(node, path(), "a unit code is letters, digits and -, such as VN-LS")
      }
      unitReferences.append((node, path()))
      appendString(s, to: &out)
    case .person:
      guard n.kind == .string else { throw fail(node, path(), "a person is a string pseudonym") }
      let raw = bytes(node)
      if Pseudonymizer.isPseudonym(raw) || Pseudonymizer.isForgottenMask(raw) {
        appendString(raw, to: &out)
      } else if let pseudonymizer {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: pseudonymizer.pseudonym(of: raw).utf8)
        out.append(UInt8(ascii: "\""))
      } else {
        // Never echo the value: it may be a name or an ID number.
        throw fail(
          node, path(),
          "not a pseudonym (P- and 16 hex digits); a raw name or ID number is never stored: "
            + "append with --pseudonymize to replace it by its pseudonym")
      }
    case .count:
      guard n.kind == .number, n.isInteger, let v = doc.int64(at: node, in: line), v >= 0 else {
        throw fail(node, path(), "a count is a whole number, 0 or more")
      }
      Self.appendInteger(v, to: &out)
    case .amount, .percent:
      guard n.kind == .number else { throw fail(node, path(), "expected a number") }
      let v = doc.double(at: node, in: line)
      guard v >= 0 else { throw fail(node, path(), "must not be negative") }
      if field.kind == .percent && v > 100 {
        throw fail(node, path(), "a percentage lies between 0 and 100")
      }
      if n.isInteger, let i = doc.int64(at: node, in: line) {
        Self.appendInteger(i, to: &out)
      } else if v == v.rounded(), v < 9_007_199_254_740_992 {
        Self.appendInteger(Int64(v), to: &out)
      } else {
        out.append(contentsOf: v.description.utf8)
      }
    case .year:
      guard n.kind == .number, n.isInteger, let v = doc.int64(at: node, in: line),
        (2000...2100).contains(v)
      else { throw fail(node, path(), "a year is a whole number from 2000 to 2100") }
      Self.appendInteger(v, to: &out)
    case .date:
      let s = try string(node, path())
      guard Timestamp.parseDate(s) != nil else {
        throw fail(node, path(), "a date is YYYY-MM-DD, such as 2021-09-28")
      }
      appendString(s, to: &out)
    case .changes:
      guard n.kind == .object, n.count > 0 else {
        throw fail(node, path(), "changes is an object of the target's data fields, not empty")
      }
      guard let target else { throw fail(node, path(), "changes needs a target") }
      try writeObject(node, of: target, path: path(), into: &out, state: state, requireAll: false)
    case .targets:
      guard n.kind == .array else { throw fail(node, path(), "targets is a list of objects") }
      out.append(UInt8(ascii: "["))
      var element = node + 1
      for i in 0..<Int(n.count) {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        guard doc.nodes[element].kind == .object else {
          throw fail(
            element, "\(path())[\(i)]", "a target is an object {indicator, min_percent, year?}")
        }
        try writeObject(
          element, of: Catalog.targetType, path: "\(path())[\(i)]", into: &out, state: state)
        element = Int(doc.nodes[element].next)
      }
      out.append(UInt8(ascii: "]"))
    }
  }

  // MARK: Values

  private mutating func time(_ node: Int, _ field: String) throws(InputError) -> Int64 {
    let s = try string(node, field)
    switch Timestamp.parse(s) {
    case .failure(let p): throw fail(node, field, "\"\(Self.text(s))\" \(p.text)")
    case .success(let t):
      guard t >= Timestamp.earliest else {
        throw fail(
          node, field, "\(Self.text(s)) is before 2000-01-01, the earliest time hoso accepts")
      }
      guard t <= now else {
        throw fail(
          node, field, "\(Self.text(s)) is in the future (now is \(Timestamp.format(now)))")
      }
      return t
    }
  }

  /// Appends a time's canonical text. A time given already in canonical form (seconds,
  /// `+07:00`, as most inputs write it) is copied instead of formatted again.
  private mutating func appendTime(_ t: Int64, from node: Int, to out: inout ByteBuffer) {
    if node >= 0, !doc.nodes[node].hasEscapes {
      let s = bytes(node)
      if s.count == 25, s[10] == UInt8(ascii: "T"), s[19] == UInt8(ascii: "+"),
        s[20] == UInt8(ascii: "0"), s[21] == UInt8(ascii: "7"), s[22] == UInt8(ascii: ":"),
        s[23] == UInt8(ascii: "0"), s[24] == UInt8(ascii: "0")
      {
        out.appendBytes(s)
        return
      }
    }
    Timestamp.append(t, to: &out)
  }

  /// Rejects text that carries what looks like a national ID number: 9 (CMND) or 12 (CCCD)
  /// digits, as one run or in groups (`IdentityNumbers`).
  private func checkText(
    _ s: UnsafeRawBufferPointer, _ node: Int, _ field: @autoclosure () -> String
  ) throws(InputError) {
    if let found = IdentityNumbers.first(in: s) {
      throw fail(
        node, field(),
        "the text holds a \(found.digits)-digit number, which may be a national ID number; "
          + "personal identifiers are never stored in text: remove it, or put the person in a "
          + "support.provided with --pseudonymize")
    }
  }

  /// Appends a string from `bytes(_:)` as canonical JSON. One that lies inside the line is
  /// a string node without escapes, and such a node's bytes are already canonical (valid
  /// JSON has no raw quote, backslash or control character in a string): copied as they are.
  func appendString(_ s: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
    if mayBeDecomposed && Self.hasCombiningMarks(s) {
      var composed = String(decoding: s, as: UTF8.self).precomposedStringWithCanonicalMapping
      composed.withUTF8 { Self.appendEscaped(UnsafeRawBufferPointer($0), to: &out) }
      return
    }
    if let p = s.baseAddress, let l = line.baseAddress, p >= l, p + s.count <= l + line.count {
      out.append(UInt8(ascii: "\""))
      out.appendBytes(s)
      out.append(UInt8(ascii: "\""))
    } else {
      Self.appendEscaped(s, to: &out)
    }
  }

  /// Whether `b` holds a combining diacritical mark (UTF-8 CC 80 to CD AF).
  static func hasCombiningMarks(_ b: UnsafeRawBufferPointer) -> Bool {
    guard let base = b.baseAddress, b.count > 1 else { return false }
    return memchr(base, 0xCC, b.count) != nil || memchr(base, 0xCD, b.count) != nil
  }

  /// Appends decoded UTF-8 as a canonical JSON string.
  static func appendEscaped(_ raw: UnsafeRawBufferPointer, to out: inout ByteBuffer) {
    var w = CanonicalJSONWriter(capacity: raw.count + 2)
    w.writeEscaped(raw)
    w.bytes.withUnsafeBytes { out.appendBytes($0) }
  }

  /// Appends a decimal integer without going through `String`.
  static func appendInteger(_ v: Int64, to out: inout ByteBuffer) {
    if v < 0 { out.append(UInt8(ascii: "-")) }
    var m = v.magnitude
    let start = out.count
    repeat {
      out.append(0x30 + UInt8(m % 10))
      m /= 10
    } while m > 0
    out.reverseSuffix(from: start)
  }

  static func isIdentifier(_ u: UnsafeRawBufferPointer) -> Bool {
    guard (1...64).contains(u.count) else { return false }
    return u.allSatisfy { b in
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
    }
  }

  static func isUnitCode(_ u: UnsafeRawBufferPointer) -> Bool {
    guard (1...64).contains(u.count) else { return false }
    return u.allSatisfy { b in
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2D
    }
  }
}
