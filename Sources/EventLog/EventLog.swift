/// EventLog: the segmented, append-only log of opaque records.
///
/// It knows nothing of the domain: it stores bytes in CRC32C-checked frames, in segments named by
/// the sequence number of their first record, sealed with a SHA-256 chain, indexed by seq and by
/// time, written by one writer at a time and recovered on open.
enum EventLogModule {}
