/// Validates one parsed event against the catalog and writes its canonical JSON.
///
/// Canonical JSON: the envelope's fields in the order of `Catalog.envelope`, times in
/// Vietnam local time, `data` and every nested object with keys in byte order, no whitespace.
/// The same event always gives the same bytes, whatever spacing, key order or escapes the
/// input used.
struct LineValidator {
  let doc: JSONDocument
  let line: UnsafeRawBufferPointer
  let number: Int
  let now: Int64
  let pseudonymizer: Pseudonymizer?

  /// What the store-level checks need to know about the event.
  struct Facts {
    var type: UInt8 = 0
    var idNode = 0
    var idRange: Range<Int> = 0..<0
    var unitNode = 0
    var recordedAt: Int64 = 0
    var recordedAtNode: Int?
    /// The `,"recorded_at":"…"` member in the output: left out when comparing contents.
    var recordedAtRange: Range<Int> = 0..<0
    /// Units that must already be established: (code, node, field).
    var unitReferences: [(String, Int, String)] = []
    /// The unit a `unit.established` creates.
    var establishes: String?
  }

  func column(of node: Int) -> Int {
    characterColumn(ofByteOffset: Int(doc.nodes[node].start), in: line)
  }

  func fail(_ node: Int?, _ field: String?, _ message: String) -> InputError {
    InputError(line: number, column: node.map(column(of:)), field: field, message)
  }

  // MARK: Envelope

  mutating func validate(
    into out: inout [UInt8], state: StoreState, stamp: Int64
  ) throws(InputError) -> Facts {
    let nodes = doc.nodes
    guard nodes[0].kind == .object else {
      throw fail(0, nil, "an event is a JSON object, one per line")
    }
    var slots = [Int?](repeating: nil, count: Catalog.envelope.count)
    var member = 1
    for _ in 0..<Int(nodes[0].count) {
      let key = member
      let value = member + 1
      let name = doc.string(at: key, in: line)
      guard let i = Catalog.envelope.firstIndex(of: name) else {
        let hint = Catalog.nearest(name, in: Catalog.envelope).map { "; did you mean \"\($0)\"?" }
        throw fail(
          key, name,
          "unknown field \"\(name)\" in the envelope (fields: \(Catalog.envelope.joined(separator: ", ")))"
            + (hint ?? ""))
      }
      slots[i] = value
      member = Int(nodes[value].next)
    }
    let (idN, typeN, occurredN, recordedN, unitN, caseN, actorN, dataN) = (
      slots[0], slots[1], slots[2], slots[3], slots[4], slots[5], slots[6], slots[7]
    )
    var f = Facts()

    // type first: it decides what the rest may hold.
    guard let typeN else { throw fail(nil, "type", "missing field \"type\"") }
    let typeName = try string(typeN, "type")
    guard let type = Catalog.byName[typeName] else {
      let hint = Catalog.nearest(typeName, in: Catalog.types.map(\.name))
      throw fail(
        typeN, "type",
        "unknown event type \"\(typeName)\"" + (hint.map { "; did you mean \"\($0)\"?" } ?? ""))
    }
    f.type = type.code

    guard let idN else { throw fail(nil, "id", "missing field \"id\"") }
    let id = try string(idN, "id")
    guard Self.isIdentifier(id) else {
      throw fail(idN, "id", "an id is 1 to 64 characters of A-Z a-z 0-9 . _ : -")
    }
    f.idNode = idN

    guard let occurredN else {
      throw fail(nil, "occurred_at", "missing field \"occurred_at\" (when it happened)")
    }
    let occurred = try time(occurredN, "occurred_at")
    var recorded = stamp
    if let recordedN {
      recorded = try time(recordedN, "recorded_at")
      f.recordedAtNode = recordedN
      guard occurred <= recorded else {
        throw fail(occurredN, "occurred_at", "occurred_at is later than recorded_at")
      }
    }
    f.recordedAt = recorded

    guard let unitN else { throw fail(nil, "unit", "missing field \"unit\" (a jurisdiction code)") }
    let unit = try string(unitN, "unit")
    guard Self.isUnitCode(unit) else {
      throw fail(unitN, "unit", "a unit code is letters, digits and -, such as VN-LS")
    }
    f.unitNode = unitN
    if type.code == Catalog.unitEstablished {
      f.establishes = unit
    } else {
      f.unitReferences.append((unit, unitN, "unit"))
    }

    var caseID: String?
    if let caseN {
      let c = try string(caseN, "case")
      guard Self.isIdentifier(c) else {
        throw fail(caseN, "case", "a case id is 1 to 64 characters of A-Z a-z 0-9 . _ : -")
      }
      caseID = c
    } else if type.caseRule == .required {
      throw fail(nil, "case", "missing field \"case\": a \(type.name) belongs to a case")
    }
    var actor: String?
    if let actorN {
      actor = try string(actorN, "actor")
      try checkText(actor!, actorN, "actor")
    }
    guard let dataN else { throw fail(nil, "data", "missing field \"data\"") }
    guard nodes[dataN].kind == .object else { throw fail(dataN, "data", "data is an object") }

    // The canonical envelope.
    out.append(contentsOf: #"{"id":"#.utf8)
    let idStart = out.count + 1
    appendString(id, to: &out)
    f.idRange = idStart..<(out.count - 1)
    out.append(contentsOf: #","type":"#.utf8)
    appendString(type.name, to: &out)
    out.append(contentsOf: #","occurred_at":""#.utf8)
    Timestamp.append(occurred, to: &out)
    let recordedStart = out.count
    out.append(contentsOf: #"","recorded_at":""#.utf8)
    Timestamp.append(recorded, to: &out)
    out.append(UInt8(ascii: "\""))
    f.recordedAtRange = (recordedStart + 1)..<out.count
    out.append(contentsOf: #","unit":"#.utf8)
    appendString(unit, to: &out)
    if let caseID {
      out.append(contentsOf: #","case":"#.utf8)
      appendString(caseID, to: &out)
    }
    if let actor {
      out.append(contentsOf: #","actor":"#.utf8)
      appendString(actor, to: &out)
    }
    out.append(contentsOf: #","data":"#.utf8)
    try writeData(dataN, of: type, into: &out, facts: &f, state: state)
    out.append(UInt8(ascii: "}"))
    return f
  }

  // MARK: Data

  /// Validates `data` against the type's fields and writes it with keys in byte order.
  mutating func writeData(
    _ object: Int, of type: Catalog.EventType, into out: inout [UInt8], facts: inout Facts,
    state: StoreState, path: String = "data", targetType: Catalog.EventType? = nil
  ) throws(InputError) {
    let nodes = doc.nodes
    let fields = type.fields
    var values = [Int?](repeating: nil, count: fields.count)
    var member = object + 1
    for _ in 0..<Int(nodes[object].count) {
      let key = member
      let value = member + 1
      let name = doc.string(at: key, in: line)
      guard let i = fields.firstIndex(where: { $0.name == name }) else {
        let names = fields.map(\.name)
        let hint = Catalog.nearest(name, in: names).map { "; did you mean \"\($0)\"?" } ?? ""
        throw fail(
          key, "\(path).\(name)",
          "unknown field \"\(name)\" in \(path) of \(type.name) (fields: \(names.joined(separator: ", ")))"
            + hint)
      }
      values[i] = value
      member = Int(nodes[value].next)
    }
    for (i, field) in fields.enumerated() where field.required && values[i] == nil {
      if path == "data" {
        throw fail(
          object, "\(path).\(field.name)", "missing field \"\(field.name)\" of \(type.name)")
      }
    }
    // A correction's target decides which fields its changes may hold.
    var target: Catalog.EventType?
    if let t = fields.firstIndex(where: { $0.kind == .event }), let node = values[t] {
      target = try resolveTarget(node, "\(path).\(fields[t].name)", of: type, state: state)
    }
    if type.name == "plan.adopted", let s = values[4], let e = values[5],
      let start = Timestamp.parseDate(doc.string(at: s, in: line).utf8),
      let end = Timestamp.parseDate(doc.string(at: e, in: line).utf8), end < start
    {
      throw fail(e, "\(path).period_end", "period_end is before period_start")
    }
    out.append(UInt8(ascii: "{"))
    var first = true
    for i in fields.indices.sorted(by: {
      fields[$0].name.utf8.lexicographicallyPrecedes(fields[$1].name.utf8)
    }) {
      guard let node = values[i] else { continue }
      if !first { out.append(UInt8(ascii: ",")) }
      first = false
      appendString(fields[i].name, to: &out)
      out.append(UInt8(ascii: ":"))
      try writeValue(
        node, fields[i], path: "\(path).\(fields[i].name)", into: &out, facts: &facts,
        state: state, target: target)
    }
    out.append(UInt8(ascii: "}"))
  }

  private func resolveTarget(
    _ node: Int, _ field: String, of type: Catalog.EventType, state: StoreState
  ) throws(InputError) -> Catalog.EventType {
    let id = try string(node, field)
    guard Self.isIdentifier(id) else { throw fail(node, field, "not an event id") }
    guard let entry = Array(id.utf8).withUnsafeBytes({ state.ids.find($0) }) else {
      throw fail(
        node, field,
        "no event \"\(id)\" in the store or earlier in the input; a \(type.name) must follow its target"
      )
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
    _ node: Int, _ field: Catalog.Field, path: String, into out: inout [UInt8],
    facts: inout Facts, state: StoreState, target: Catalog.EventType?
  ) throws(InputError) {
    let n = doc.nodes[node]
    switch field.kind {
    case .text:
      let s = try string(node, path)
      try checkText(s, node, path)
      appendString(s, to: &out)
    case .choice(let options):
      let s = try string(node, path)
      guard options.contains(s) else {
        let hint = Catalog.nearest(s, in: options).map { "did you mean \"\($0)\"? " } ?? ""
        throw fail(
          node, path,
          "\"\(s)\" is not allowed; \(hint)expected one of \(options.joined(separator: ", "))")
      }
      appendString(s, to: &out)
    case .reference:
      let s = try string(node, path)
      guard (1...128).contains(s.count), !s.unicodeScalars.contains(where: { $0.value < 0x20 }),
        s.first != " ", s.last != " "
      else {
        throw fail(node, path, "a document number is 1 to 128 characters, such as 679/QĐ-TTg")
      }
      appendString(s, to: &out)
    case .identifier, .event:
      let s = try string(node, path)
      guard Self.isIdentifier(s) else {
        throw fail(node, path, "an identifier is 1 to 64 characters of A-Z a-z 0-9 . _ : -")
      }
      appendString(s, to: &out)
    case .unit:
      let s = try string(node, path)
      guard Self.isUnitCode(s) else {
        throw fail(node, path, "a unit code is letters, digits and -, such as VN-LS")
      }
      facts.unitReferences.append((s, node, path))
      appendString(s, to: &out)
    case .person:
      guard n.kind == .string else { throw fail(node, path, "a person is a string pseudonym") }
      let raw = doc.string(at: node, in: line)
      if Pseudonymizer.isPseudonym(raw.utf8) {
        appendString(raw, to: &out)
      } else if let pseudonymizer {
        appendString(pseudonymizer.pseudonym(of: raw.utf8), to: &out)
      } else {
        // Never echo the value: it may be a name or an ID number.
        throw fail(
          node, path,
          "not a pseudonym (P- and 16 hex digits); a raw name or ID number is never stored: "
            + "append with --pseudonymize to replace it by its pseudonym")
      }
    case .count:
      guard n.kind == .number, n.isInteger, let v = doc.int64(at: node, in: line), v >= 0 else {
        throw fail(node, path, "a count is a whole number, 0 or more")
      }
      out.append(contentsOf: String(v).utf8)
    case .amount, .percent:
      guard n.kind == .number else { throw fail(node, path, "expected a number") }
      let v = doc.double(at: node, in: line)
      guard v >= 0 else { throw fail(node, path, "must not be negative") }
      if field.kind == .percent && v > 100 {
        throw fail(node, path, "a percentage lies between 0 and 100")
      }
      appendNumber(node, v, to: &out)
    case .year:
      guard n.kind == .number, n.isInteger, let v = doc.int64(at: node, in: line),
        (2000...2100).contains(v)
      else { throw fail(node, path, "a year is a whole number from 2000 to 2100") }
      out.append(contentsOf: String(v).utf8)
    case .date:
      let s = try string(node, path)
      guard Timestamp.parseDate(s.utf8) != nil else {
        throw fail(node, path, "a date is YYYY-MM-DD, such as 2021-09-28")
      }
      appendString(s, to: &out)
    case .changes:
      guard n.kind == .object, n.count > 0 else {
        throw fail(node, path, "changes is an object of the target's data fields, not empty")
      }
      guard let target else { throw fail(node, path, "changes needs a target") }
      try writeData(node, of: target, into: &out, facts: &facts, state: state, path: path)
    case .targets:
      guard n.kind == .array else { throw fail(node, path, "targets is a list of objects") }
      out.append(UInt8(ascii: "["))
      var element = node + 1
      let targetType = Catalog.EventType(
        name: "a target", code: 255, fields: Catalog.targetFields, caseRule: .optional)
      for i in 0..<Int(n.count) {
        if i > 0 { out.append(UInt8(ascii: ",")) }
        guard doc.nodes[element].kind == .object else {
          throw fail(
            element, "\(path)[\(i)]", "a target is an object {indicator, min_percent, year?}")
        }
        try writeTarget(
          element, type: targetType, path: "\(path)[\(i)]", into: &out, facts: &facts, state: state)
        element = Int(doc.nodes[element].next)
      }
      out.append(UInt8(ascii: "]"))
    }
  }

  private mutating func writeTarget(
    _ node: Int, type: Catalog.EventType, path: String, into out: inout [UInt8],
    facts: inout Facts, state: StoreState
  ) throws(InputError) {
    for field in type.fields where field.required {
      if doc.member(field.name, ofObject: node, in: line) == nil {
        throw fail(node, "\(path).\(field.name)", "missing field \"\(field.name)\" of a target")
      }
    }
    try writeData(node, of: type, into: &out, facts: &facts, state: state, path: path)
  }

  // MARK: Values

  private func string(_ node: Int, _ field: String) throws(InputError) -> String {
    guard doc.nodes[node].kind == .string else { throw fail(node, field, "expected a string") }
    return doc.string(at: node, in: line)
  }

  private func time(_ node: Int, _ field: String) throws(InputError) -> Int64 {
    let s = try string(node, field)
    switch Timestamp.parse(s.utf8) {
    case .failure(let p): throw fail(node, field, "\"\(s)\" \(p.text)")
    case .success(let t):
      guard t >= Timestamp.earliest else {
        throw fail(node, field, "\(s) is before 2000-01-01, the earliest time hoso accepts")
      }
      guard t <= now else {
        throw fail(node, field, "\(s) is in the future (now is \(Timestamp.format(now)))")
      }
      return t
    }
  }

  /// Rejects text that carries what looks like a national ID number: a run of exactly 9
  /// (CMND) or 12 (CCCD) digits.
  private func checkText(_ s: String, _ node: Int, _ field: String) throws(InputError) {
    var run = 0
    for b in s.utf8 {
      if b >= 0x30 && b <= 0x39 {
        run += 1
      } else {
        if run == 9 || run == 12 { break }
        run = 0
      }
    }
    if run == 9 || run == 12 {
      throw fail(
        node, field,
        "the text holds a \(run)-digit number, which may be a national ID number; personal "
          + "identifiers are never stored in text: remove it, or put the person in a "
          + "support.provided with --pseudonymize")
    }
  }

  private func appendNumber(_ node: Int, _ v: Double, to out: inout [UInt8]) {
    if doc.nodes[node].isInteger, let i = doc.int64(at: node, in: line) {
      out.append(contentsOf: String(i).utf8)
    } else if v == v.rounded(), abs(v) < 9_007_199_254_740_992 {
      out.append(contentsOf: String(Int64(v)).utf8)
    } else {
      out.append(contentsOf: v.description.utf8)
    }
  }

  /// Appends `s` as a canonical JSON string.
  func appendString(_ s: String, to out: inout [UInt8]) {
    var w = CanonicalJSONWriter(capacity: 0)
    swap(&w.bytes, &out)
    w.writeString(s)
    swap(&w.bytes, &out)
  }

  static func isIdentifier(_ s: String) -> Bool {
    let u = s.utf8
    guard (1...64).contains(u.count) else { return false }
    return u.allSatisfy { b in
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
    }
  }

  static func isUnitCode(_ s: String) -> Bool {
    let u = s.utf8
    guard (1...64).contains(u.count) else { return false }
    return u.allSatisfy { b in
      (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
        || b == 0x2D
    }
  }

  /// A canonical payload without its `,"recorded_at":"…"` member.
  static func withoutRecordedAt(_ payload: [UInt8]) -> [UInt8] {
    guard let r = CanonicalEnvelope.recordedAtMember(payload) else { return payload }
    return Array(payload[..<r.lowerBound] + payload[r.upperBound...])
  }
}
