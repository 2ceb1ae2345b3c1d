extension JSONScanner {
  /// Appends the key node `key` of the innermost open object (whose keys start at `keyBase` in
  /// the tape's key stack), and rejects it if an earlier key of that object decodes to the same
  /// bytes. RFC 8259 leaves duplicate names to the implementation; an event with two `unit`s
  /// is ambiguous, so hoso refuses it.
  @inline(__always)
  mutating func addKey(_ key: JSONNode, keyBase: Int) throws(JSONSyntaxError) {
    if keyCount - keyBase < Self.pairwiseKeyLimit {
      var slot = keyBase
      while slot < keyCount {
        if keysEqual(nodes[Int(keys[slot])], key) { throw duplicateKey(key) }
        slot += 1
      }
    }
    if keyCount == keyCapacity { growKeys() }
    keys[keyCount] = UInt32(truncatingIfNeeded: nodeCount)
    keyCount += 1
    append(key)
  }

  /// The duplicate check of an object too large for the pairwise check: sorts the keys by hash,
  /// compares within equal hashes, and reports the first key (in document order) that repeats
  /// an earlier one.
  mutating func checkKeysBySorting(keys slots: Range<Int>) throws(JSONSyntaxError) {
    tape.keyHashes.removeAll(keepingCapacity: true)
    for slot in slots {
      let key = keys[slot]
      tape.keyHashes.append((hash: keyHash(nodes[Int(key)]), key: key))
    }
    tape.keyHashes.sort { ($0.hash, $0.key) < ($1.hash, $1.key) }
    var firstRepeat = UInt32.max
    var runStart = 0
    let hashes = tape.keyHashes
    while runStart < hashes.count {
      var runEnd = runStart + 1
      while runEnd < hashes.count && hashes[runEnd].hash == hashes[runStart].hash { runEnd += 1 }
      for later in runStart..<runEnd {
        for earlier in runStart..<later
        where keysEqual(nodes[Int(hashes[earlier].key)], nodes[Int(hashes[later].key)]) {
          firstRepeat = min(firstRepeat, hashes[later].key)
        }
      }
      runStart = runEnd
    }
    if firstRepeat != UInt32.max { throw duplicateKey(nodes[Int(firstRepeat)]) }
  }

  /// Whether two key string nodes decode to the same bytes.
  @inline(__always)
  private func keysEqual(_ a: JSONNode, _ b: JSONNode) -> Bool {
    if !a.hasEscapes && !b.hasEscapes {
      let length = Int(a.end &- a.start)
      guard length == Int(b.end &- b.start) else { return false }
      return rawBytesEqual(Int(a.start) + 1, Int(b.start) + 1, count: length - 2)
    }
    let first = JSONStringContent(node: a, base: base)
    return first.compare(to: JSONStringContent(node: b, base: base)) == 0
  }

  /// Compares `count` bytes at two offsets; both ranges lie inside the buffer.
  @inline(__always)
  private func rawBytesEqual(_ a: Int, _ b: Int, count: Int) -> Bool {
    var index = 0
    while index + 8 <= count {
      guard loadUInt64(at: a + index) == loadUInt64(at: b + index) else { return false }
      index += 8
    }
    while index < count {
      guard base[a + index] == base[b + index] else { return false }
      index += 1
    }
    return true
  }

  /// FNV-1a over the decoded key: cheap, and good enough to spread field names.
  private func keyHash(_ node: JSONNode) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    var bytes = JSONStringContent(node: node, base: base).makeDecodedIterator()
    while let byte = bytes.next() {
      hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return hash
  }

  @inline(never)
  private mutating func growKeys() {
    tape.growKeys(keeping: keyCount)
    keys = tape.keys
    keyCapacity = tape.keyCapacity
  }

  @inline(never)
  private func duplicateKey(_ node: JSONNode) -> JSONSyntaxError {
    let content = JSONStringContent(node: node, base: base)
    var decoded: [UInt8] = []
    content.appendDecoded(to: &decoded)
    // A key is a field name, never personal data; still, keep a hostile one from flooding.
    if decoded.count > 64 {
      var cut = 64
      while decoded[cut] & 0xC0 == 0x80 { cut -= 1 }
      decoded.removeSubrange(cut...)
      decoded.append(contentsOf: "…".utf8)
    }
    var writer = CanonicalJSONWriter(capacity: decoded.count + 8)
    writer.writeString(String(decoding: decoded, as: UTF8.self))
    let shown = String(decoding: writer.bytes, as: UTF8.self)
    return syntaxError("duplicate key \(shown)", at: Int(node.start))
  }
}
