/// What went wrong with a store, in terms a user can act on.
///
/// `kind` decides the exit status (DESIGN.md: 1 for bad usage, 2 for a damaged, locked or
/// missing store); the location fields say where, so the message can name the segment, the byte
/// offset and the sequence number.
package struct LogError: Error, Sendable, CustomStringConvertible {
  package enum Kind: Sendable, Equatable {
    /// The store does not exist, or is not a hoso store.
    case missing
    /// Another process holds the writer lock.
    case locked
    /// A record, a footer or the hash chain is not what was written.
    case damaged
    /// A system call failed (disk full, permissions, I/O error).
    case io
    /// `fsync` failed: the process must end; the call is never retried (PostgreSQL's fsyncgate:
    /// after a failed fsync the kernel may have dropped the dirty pages, so a retry that
    /// succeeds proves nothing).
    case syncFailed
    /// A caller's mistake: a batch too large, a record too long.
    case invalidArgument
  }

  package var kind: Kind
  package var message: String
  package var segment: String?
  package var offset: Int64?
  package var seq: UInt64?

  package init(
    _ kind: Kind, _ message: String, segment: String? = nil, offset: Int64? = nil,
    seq: UInt64? = nil
  ) {
    self.kind = kind
    self.message = message
    self.segment = segment
    self.offset = offset
    self.seq = seq
  }

  package init(_ error: SystemCallError) {
    self.init(error.call == "fsync" ? .syncFailed : .io, error.description)
  }

  /// One line: the message, then where.
  package var description: String {
    var place: [String] = []
    if let segment { place.append("segment \(segment)") }
    if let offset { place.append("offset \(offset)") }
    if let seq { place.append("seq \(seq)") }
    return place.isEmpty ? message : "\(message) (\(place.joined(separator: ", ")))"
  }
}
