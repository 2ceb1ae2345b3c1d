import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// The parts of canonical JSON that a scan of the log reads without a full parse.
///
/// Canonical payloads begin `{"id":"…","type":"…","occurred_at":"…","recorded_at":"…",
/// "unit":"…"` (a `person.forgotten` may have no `unit`), and ids, types, times and unit codes
/// never hold a quote or a backslash, so each is found by looking for the next quote.
package enum CanonicalEnvelope {
  /// Byte ranges of the id, type and unit values; the unit's is empty when there is none.
  package static func peek(
    _ p: UnsafeRawBufferPointer
  ) -> (id: Range<Int>, type: Range<Int>, unit: Range<Int>)? {
    func value(after key: StaticString, at start: Int) -> Range<Int>? {
      let k = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
      guard start + k.count <= p.count,
        memcmp(p.baseAddress! + start, k.baseAddress!, k.count) == 0
      else { return nil }
      var end = start + k.count
      while end < p.count && p[end] != 0x22 { end += 1 }
      return end < p.count ? (start + k.count)..<end : nil
    }
    guard let id = value(after: #"{"id":""#, at: 0),
      let type = value(after: #"","type":""#, at: id.upperBound),
      let occurred = value(after: #"","occurred_at":""#, at: type.upperBound),
      let recorded = value(after: #"","recorded_at":""#, at: occurred.upperBound)
    else { return nil }
    let unit =
      value(after: #"","unit":""#, at: recorded.upperBound)
      ?? recorded.upperBound..<recorded.upperBound
    return (id, type, unit)
  }

  /// Whether two canonical payloads are the same event: equal but for `recorded_at`, which
  /// an import may leave to `append` to stamp.
  package static func sameContent(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer)
    -> Bool
  {
    guard let ra = recordedAtMember(a), let rb = recordedAtMember(b) else { return rawEqual(a, b) }
    return rawEqual(
      UnsafeRawBufferPointer(rebasing: a[..<ra.lowerBound]),
      UnsafeRawBufferPointer(rebasing: b[..<rb.lowerBound]))
      && rawEqual(
        UnsafeRawBufferPointer(rebasing: a[ra.upperBound...]),
        UnsafeRawBufferPointer(rebasing: b[rb.upperBound...]))
  }

  package static func recordedAtMember(_ p: UnsafeRawBufferPointer) -> Range<Int>? {
    let key = Array(#","recorded_at":""#.utf8)
    guard p.count > key.count else { return nil }
    var i = 0
    while i + key.count <= p.count {
      if p[i] == 0x2C && memcmp(p.baseAddress! + i, key, key.count) == 0 {
        var end = i + key.count
        while end < p.count && p[end] != 0x22 { end += 1 }
        return i..<(end + 1)
      }
      i += 1
    }
    return nil
  }
}

/// What validation needs to know of the events already in the store: their ids, seqs and
/// types, the established units, the last recorded_at.
package struct StoreState {
  package var ids = IdTable()
  /// Established unit codes (an `IdTable` used as a set: lookups by bytes, no strings).
  package var units = IdTable()
  package var lastRecordedAt: Int64 = .min
  package var lastSeq: UInt64 = 0
  private var reader: LazyReader?

  package init() {}

  /// Reads every committed record of the log, checking each frame's CRC on the way: damage
  /// anywhere stops the load with a `.damaged` `LogError`.
  package static func load(from reader: LogReader) throws -> StoreState {
    var s = StoreState()
    s.reader = LazyReader(reader)
    try reader.readRecords { r in
      let p = r.payload
      guard let e = CanonicalEnvelope.peek(p) else {
        throw LogError(.damaged, "record is not a canonical event", seq: r.seq)
      }
      let type = UnsafeRawBufferPointer(rebasing: p[e.type])
      guard let code = Catalog.code(named: type) else {
        throw LogError(.damaged, "record has an unknown event type", seq: r.seq)
      }
      let id = UnsafeRawBufferPointer(rebasing: p[e.id])
      if s.ids.find(id) == nil {
        s.ids.insert(id, seq: r.seq, type: code)
      }
      if code == Catalog.unitEstablished {
        let unit = UnsafeRawBufferPointer(rebasing: p[e.unit])
        if s.units.find(unit) == nil { s.units.insert(unit, seq: r.seq, type: 0) }
      }
      s.lastRecordedAt = r.recordedAt
      s.lastSeq = r.seq
    }
    return s
  }

  /// Reads later records through a reader that `open` makes when one is first needed.
  mutating func replaceReader(opening open: @escaping () throws -> LogReader) {
    reader = LazyReader(open)
  }

  /// The payload of the record at `seq`, for the exact comparison behind a duplicate (nil
  /// when the log has none there). Throws what opening or reading the log said.
  package func payload(seq: UInt64) throws -> [UInt8]? {
    var out: [UInt8]?
    try reader?.reader().readRecords(in: seq...seq) { out = Array($0.payload) }
    return out
  }
}

/// A log reader opened on first use. Opening one after a commit scans the segment being
/// written (every frame's CRC): 5 % of an `append` that then never reads a record, because only
/// a duplicate of an event committed earlier in the same session needs one.
private final class LazyReader {
  private var open: (() throws -> LogReader)?
  private var opened: LogReader?

  init(_ reader: LogReader) { opened = reader }
  init(_ open: @escaping () throws -> LogReader) { self.open = open }

  /// The reader, opened now if need be; throws if it cannot be opened (tried again at the
  /// next call: a failure is not kept).
  func reader() throws -> LogReader {
    if let opened { return opened }
    let r = try open!()
    opened = r
    open = nil
    return r
  }
}
