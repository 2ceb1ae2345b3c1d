#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// A growable run of bytes written through a raw pointer: the canonical JSON the validator
/// writes for every event.
///
/// `[UInt8]` checks uniqueness and capacity in an out-of-line call per `append(contentsOf:)`,
/// which was a tenth of `append`'s instructions (a line is some twenty small appends). Here an
/// append is a compare, a copy and an add, inlined. The price is manual ownership: a buffer is
/// passed `inout` (never copied, so never two owners) and its owner calls `deallocate()`.
package struct ByteBuffer {
  private var base: UnsafeMutablePointer<UInt8>
  package private(set) var count = 0
  private var capacity: Int

  package init(capacity: Int) {
    self.capacity = max(capacity, 64)
    base = .allocate(capacity: self.capacity)
  }

  /// Frees the bytes; the buffer is not used afterwards.
  package func deallocate() { base.deallocate() }

  /// The bytes written so far. Valid until the next append.
  package var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

  package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try body(bytes)
  }

  /// The bytes written so far, as an array.
  package var array: [UInt8] { [UInt8](bytes) }

  @inline(__always)
  package mutating func append(_ byte: UInt8) {
    if count == capacity { grow(toHold: 1) }
    base[count] = byte
    count += 1
  }

  @inline(__always)
  package mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
    let n = bytes.count
    guard n > 0 else { return }
    if count + n > capacity { grow(toHold: n) }
    UnsafeMutableRawPointer(base + count).copyMemory(
      from: bytes.baseAddress.unsafelyUnwrapped, byteCount: n)
    count += n
  }

  /// Appends a literal's bytes with one copy.
  @inline(__always)
  package mutating func appendLiteral(_ s: StaticString) {
    appendBytes(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
  }

  package mutating func append(contentsOf s: some Sequence<UInt8>) {
    for b in s { append(b) }
  }

  /// Writes at most `bound` bytes through `body`, which returns how many it wrote.
  @inline(__always)
  package mutating func write(
    atMost bound: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int
  ) {
    if count + bound > capacity { grow(toHold: bound) }
    count += body(base + count)
  }

  /// Drops every byte from offset `mark` on.
  package mutating func removeSuffix(from mark: Int) {
    precondition(mark >= 0 && mark <= count)
    count = mark
  }

  package mutating func removeAll() { count = 0 }

  /// Reverses the bytes from offset `start` to the end.
  package mutating func reverseSuffix(from start: Int) {
    var suffix = UnsafeMutableBufferPointer(start: base + start, count: count - start)
    suffix.reverse()
  }

  @inline(never)
  private mutating func grow(toHold extra: Int) {
    var newCapacity = capacity * 2
    while newCapacity < count + extra { newCapacity *= 2 }
    let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
    grown.update(from: base, count: count)
    base.deallocate()
    base = grown
    capacity = newCapacity
  }
}
