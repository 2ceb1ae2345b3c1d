import EventLog

/// A problem with one event of the input: where it is and what is wrong, never the personal
/// data it may hold.
package struct InputError: Error, Sendable, Equatable {
  /// 1-based line of the input.
  package var line: Int
  /// 1-based column (in characters) of the value or key at fault, when there is one.
  package var column: Int?
  /// The field's path, e.g. `data.kind`, `data.targets[1].min_percent`.
  package var field: String?
  package var message: String
  /// Not the input's fault: the store could not be read to judge the line (the log's record
  /// of an id the line repeats). The command fails as the store's problem (exit status 2).
  package var storeFailure: LogError?

  package init(
    line: Int, column: Int? = nil, field: String? = nil, _ message: String,
    storeFailure: LogError? = nil
  ) {
    self.line = line
    self.column = column
    self.field = field
    self.message = message
    self.storeFailure = storeFailure
  }

  package static func == (a: InputError, b: InputError) -> Bool {
    a.line == b.line && a.column == b.column && a.field == b.field && a.message == b.message
      && a.storeFailure?.description == b.storeFailure?.description
  }

  /// `FILE:LINE:COLUMN: field: message`, as compilers and editors read positions.
  package func rendered(file: String) -> String {
    var place = "\(file):\(line)"
    if let column { place += ":\(column)" }
    if let field { return "\(place): \(field): \(message)" }
    return "\(place): \(message)"
  }
}
