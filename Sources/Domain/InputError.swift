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

  package init(line: Int, column: Int? = nil, field: String? = nil, _ message: String) {
    self.line = line
    self.column = column
    self.field = field
    self.message = message
  }

  /// `FILE:LINE:COLUMN: field: message`, as compilers and editors read positions.
  package func rendered(file: String) -> String {
    var place = "\(file):\(line)"
    if let column { place += ":\(column)" }
    if let field { return "\(place): \(field): \(message)" }
    return "\(place): \(message)"
  }
}
