/// The parsed form of a statement. Every expression and table reference keeps the byte offset
/// where it starts in the statement's text, for the binder's and executor's messages.
package struct Expr: Sendable {
  package indirect enum Kind: Sendable {
    case column(table: String?, name: String)
    /// `*` or `t.*` in a select list.
    case star(table: String?)
    case integer(Int64)
    case decimal(Double)
    case string(String)
    case null
    case boolean(Bool)
    /// `TIMESTAMP '…'`, `DATE '…'`, `INTERVAL '…'`.
    case typed(type: String, value: String)
    case unary(op: String, Expr)
    case binary(op: String, Expr, Expr)
    case function(Call)
    case caseWhen(operand: Expr?, whens: [(Expr, Expr)], otherwise: Expr?)
    case inList(Expr, [Expr], negated: Bool)
    case inQuery(Expr, Select, negated: Bool)
    case between(Expr, low: Expr, high: Expr, negated: Bool)
    case like(Expr, pattern: Expr, negated: Bool, caseInsensitive: Bool)
    case isNull(Expr, negated: Bool)
    case cast(Expr, type: String)
    case subquery(Select)
  }

  package struct Call: Sendable {
    package var name: String
    package var args: [Expr]
    package var distinct = false
    /// `count(*)`.
    package var star = false
    package var filter: Expr?
    package var over: Window?
  }

  package struct Window: Sendable {
    package var partitionBy: [Expr] = []
    package var orderBy: [OrderItem] = []
  }

  package var kind: Kind
  package var at: Int

  package init(_ kind: Kind, at: Int) {
    self.kind = kind
    self.at = at
  }
}

package struct OrderItem: Sendable {
  /// `*` for `ORDER BY ALL`.
  package var expr: Expr
  package var descending = false
  /// nil: DuckDB's default (NULLS LAST).
  package var nullsFirst: Bool?
}

package struct SelectItem: Sendable {
  package var expr: Expr
  package var alias: String?
}

package indirect enum FromItem: Sendable {
  /// A table or view; `asOf`: `FOR SYSTEM_TIME AS OF TIMESTAMP '…'`.
  case table(name: String, alias: String?, asOf: Expr?, at: Int)
  case subquery(Select, alias: String?, at: Int)
  case join(FromItem, FromItem, kind: JoinKind, on: Expr?, at: Int)
}

package enum JoinKind: Sendable { case inner, left, cross }

package struct Select: Sendable {
  package var with: [(name: String, query: Select, at: Int)] = []
  package var distinct = false
  package var items: [SelectItem] = []
  package var from: FromItem?
  package var whereClause: Expr?
  package var groupBy: [Expr] = []
  package var groupByAll = false
  package var having: Expr?
  package var orderBy: [OrderItem] = []
  package var limit: Expr?
  package var offset: Expr?
  /// `AS OF TIMESTAMP '…'` at the end of the statement: every table read as of then.
  package var asOf: Expr?
  package var at = 0
}

extension Select {
  /// The ORDER BY items, `ORDER BY ALL` expanded to the ordinals of `columns` select-list
  /// columns, in its direction.
  package func orderItems(columns: Int) -> [OrderItem] {
    guard let all = orderBy.first, case .star = all.expr.kind else { return orderBy }
    return (0..<columns).map {
      OrderItem(
        expr: Expr(.integer(Int64($0 + 1)), at: all.expr.at), descending: all.descending,
        nullsFirst: all.nullsFirst)
    }
  }
}

package enum Statement: Sendable {
  case select(Select)
  /// `EXPLAIN`: the plan; `EXPLAIN ANALYZE`: the statement run, and what each operator did.
  case explain(Select, analyze: Bool)
}
