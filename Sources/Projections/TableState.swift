import Domain
import EventLog

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// One table being brought up to date: the table as committed, the rows being added, and the
/// patches (corrections, voids, closings) that change rows already there.
final class TableState {
  let spec: TableSpec
  private(set) var table: Table
  /// Made on first use: it reads the last group back, which a catch-up with nothing to do
  /// should not pay for. (Not a `lazy var`: its setter would copy the builders on every
  /// append; `_modify` yields them in place.)
  private var madeRows: TableAppender?
  var rows: TableAppender {
    get { madeRows ?? TableAppender(table, indexed: spec.indexedColumns, target: target) }
    _modify {
      if madeRows == nil {
        madeRows = TableAppender(table, indexed: spec.indexedColumns, target: target)
      }
      yield &madeRows!
    }
  }
  /// The seqs of the rows added in this catch-up, in order (tables whose column 0 is `seq`).
  private(set) var pendingSeqs: [UInt64] = []
  var patches: Table?
  private var madePatchRows: TableAppender?
  var patchRows: TableAppender? {
    get { madePatchRows ?? patches.map { TableAppender($0, target: target) } }
    _modify {
      if madePatchRows == nil { madePatchRows = patches.map { TableAppender($0, target: target) } }
      yield &madePatchRows
    }
  }

  let target: UInt64
  /// The data keys of the type's fields, as bytes (`budget_year` is the data's `year`).
  let fieldKeys: [[UInt8]]

  /// The checkpoint its manifest said when opened (before any reset): a table that claims
  /// more than the log holds is damage, whatever else is wrong with it.
  private(set) var openedCheckpoint: UInt64 = 0

  /// Whether this projector writes the table. The two halves of a projection (`Projector.Part`)
  /// each open every table, and read the others' committed rows, but write only their own.
  let owned: Bool

  init(spec: TableSpec, folder: String, target: UInt64, owned: Bool = true) throws {
    self.target = target
    self.owned = owned
    fieldKeys = spec.fields.map { Array(($0.name == "budget_year" ? "year" : $0.name).utf8) }
    self.spec = spec
    let path = folder + "/" + spec.name
    table =
      try Table.open(name: spec.name, schema: spec.columns, folder: path)
      ?? Table.empty(name: spec.name, schema: spec.columns, folder: path)
    if spec.name != "events_raw" && spec.columns.first?.name == "seq"
      && spec.name != "plan_targets"
    {
      let p =
        try Table.open(name: "patches", schema: BuiltinTables.patches, folder: path + "/patches")
        ?? Table.empty(name: "patches", schema: BuiltinTables.patches, folder: path + "/patches")
      // Patches and rows are committed together; a crash between them leaves the patches
      // behind, and they are redone from the table's checkpoint.
      patches = p
    }
    // Every record is a row of `events_raw`, in seq order from 1: its row of seq s is s - 1,
    // which `row(ofSeq:)` relies on (the other half of a projection cannot see its pending
    // rows). A table that breaks it is not this hoso's: rebuilt (`hasStaleTables`).
    openedCheckpoint = table.checkpoint
    if spec.name == "events_raw" && UInt64(table.rowCount) != table.checkpoint {
      table = Table.empty(name: spec.name, schema: spec.columns, folder: path)
    }
  }

  /// For a table stored as another's rows (`events`): that table.
  var backing: TableState?

  var checkpoint: UInt64 {
    backing != nil ? patches?.checkpoint ?? 0 : min(table.checkpoint, patches?.checkpoint ?? .max)
  }

  /// Whether record `seq` is still to be applied to the rows. Rows and patches are committed
  /// one after the other and each keeps its own checkpoint: after a crash between the two,
  /// one is ahead, and what it holds is not applied again.
  func wants(_ seq: UInt64) -> Bool { owned && backing == nil && seq > table.checkpoint }

  /// Whether record `seq` is still to be applied to the patches.
  func wantsPatch(_ seq: UInt64) -> Bool {
    owned && (patches.map { seq > $0.checkpoint } ?? false)
  }

  /// The builders of the row being added, in one access: a row's dozens of values each
  /// reached through `rows` paid an exclusivity check and a uniqueness check apiece.
  func withBuilders(_ body: (inout [ColumnBuilder]) -> Void) {
    body(&rows.builders)
  }

  func endRow(seq: UInt64) throws {
    try rows.endRow()
    pendingSeqs.append(seq)
  }

  /// The row holding the record `seq`, committed or pending: rows are in seq order.
  func row(ofSeq seq: UInt64) -> Int? {
    if let backing { return backing.row(ofSeq: seq) }
    if spec.name == "events_raw" { return seq >= 1 && seq <= target ? Int(seq - 1) : nil }
    if let first = pendingSeqs.first, seq >= first {
      var lo = 0
      var hi = pendingSeqs.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if pendingSeqs[mid] < seq { lo = mid + 1 } else { hi = mid }
      }
      return lo < pendingSeqs.count && pendingSeqs[lo] == seq ? table.rowCount + lo : nil
    }
    // Groups in order; the seq column (0) increases through them.
    var base = 0
    for g in table.groups {
      let c = g.columns[0]
      if g.rows > 0 && UInt64(c.int64(g.rows - 1)) >= seq {
        var lo = 0
        var hi = g.rows
        while lo < hi {
          let mid = (lo + hi) / 2
          if UInt64(c.int64(mid)) < seq { lo = mid + 1 } else { hi = mid }
        }
        return lo < g.rows && UInt64(c.int64(lo)) == seq ? base + lo : nil
      }
      base += g.rows
    }
    return nil
  }

  /// Adds a patch: `column` of `row` is `value` from record `seq` on (a NULL column: the row
  /// is voided).
  func patch(row: Int, seq: UInt64, column: String?, value: PatchValue) throws {
    guard let patches, seq > patches.checkpoint else { return }
    try appendPatch(row: row, seq: seq, column: column, value: value, to: &patchRows!)
  }

  private func appendPatch(
    row: Int, seq: UInt64, column: String?, value: PatchValue, to p: inout TableAppender
  ) throws {
    p.builders[0].append(Int64(row))
    p.builders[1].append(Int64(seq))
    if let column { p.builders[2].append(column) } else { p.builders[2].appendNull() }
    switch value {
    case .null:
      p.builders[3].appendNull()
      p.builders[4].appendNull()
      p.builders[5].appendNull()
    case .int(let v):
      p.builders[3].append(v)
      p.builders[4].appendNull()
      p.builders[5].appendNull()
    case .double(let v):
      p.builders[3].appendNull()
      p.builders[4].append(v)
      p.builders[5].appendNull()
    case .text(let v):
      p.builders[3].appendNull()
      p.builders[4].appendNull()
      p.builders[5].append(v)
    }
    try p.endRow()
  }

  /// Hands the last groups to the background writer (`TableAppender.handOver`).
  func handOver() throws {
    guard owned else { return }
    // Only appenders already made: making one reads the last group back, for nothing.
    if backing == nil && table.checkpoint < target { try madeRows?.handOver() }
    if let old = patches, old.checkpoint < target { try madePatchRows?.handOver() }
  }

  /// Makes the rows and patches added durable, with the checkpoint `target`.
  func commit() throws {
    guard owned else { return }
    if backing == nil && table.checkpoint < target {
      table = try rows.commit()
      pendingSeqs.removeAll()
    }
    if let old = patches, old.checkpoint < target {
      patches = try patchRows!.commit()
    }
  }
}

package enum PatchValue {
  case null
  case int(Int64)
  case double(Double)
  case text(String)
}
