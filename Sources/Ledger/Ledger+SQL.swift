import GRDB
import SkiffCore

/// A value of a SQL result cell.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// The columns and rows of one query.
public struct SQLResult: Sendable, Equatable {
    public let columns: [String]
    public let rows: [[SQLValue]]

    public init(columns: [String], rows: [[SQLValue]]) {
        self.columns = columns
        self.rows = rows
    }
}

extension Ledger {
    /// Runs one read-only statement against the ledger file at `path`, for `skiff sql` and
    /// `skiff report`. Three guards, any of which refuses a write: the file is opened read-only,
    /// the connection is `query_only`, and the statement must be one SQLite itself calls
    /// read-only (ATTACH and DETACH are refused by name: SQLite counts them as read-only).
    public static func query(path: String, sql: String, maxRows: Int = 1_000_000) throws(SkiffError) -> SQLResult {
        _ = try open(path: path, readOnly: true)  // the clear errors: missing file, newer schema, not SQLite
        var config = Configuration()
        config.readonly = true
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA query_only = 1") }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            return try queue.read { db in
                let statement: Statement
                do {
                    statement = try db.makeStatement(sql: sql)
                } catch let error as DatabaseError where error.message?.contains("Multiple statements") == true {
                    throw SkiffError(.invalidArgument, "skiff sql runs one statement at a time; remove the extra ones")
                }
                let verb = sql.drop { $0.isWhitespace || $0 == "(" }.prefix(6).uppercased()
                guard statement.isReadonly, !verb.hasPrefix("ATTACH"), !verb.hasPrefix("DETACH") else {
                    throw SkiffError(
                        .invalidArgument,
                        "skiff sql is read-only: only statements that read (SELECT, read-only PRAGMA, EXPLAIN) are allowed")
                }
                let columns = statement.columnNames
                var rows: [[SQLValue]] = []
                let cursor = try Row.fetchCursor(statement)
                while let row = try cursor.next() {
                    guard rows.count < maxRows else {
                        throw SkiffError(.invalidArgument, "the query returned more than \(maxRows) rows; add a LIMIT")
                    }
                    rows.append(row.databaseValues.map(Self.value))
                }
                return SQLResult(columns: columns, rows: rows)
            }
        } catch let error as SkiffError {
            throw error
        } catch let error as DatabaseError {
            let readOnly = [.SQLITE_READONLY, .SQLITE_AUTH].contains(error.resultCode)
            throw SkiffError(
                .invalidArgument,
                readOnly
                    ? "skiff sql is read-only: \(error.message ?? "write refused")" : "SQL error: \(error.message ?? "\(error)")")
        } catch {
            throw SkiffError(.invalidArgument, "SQL error: \(error)")
        }
    }

    private static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let v): .integer(v)
        case .double(let v): .real(v)
        case .string(let v): .text(v)
        case .blob(let v): .blob([UInt8](v))
        }
    }
}
