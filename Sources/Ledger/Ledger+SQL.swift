import Dispatch
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
    /// Runs one read-only statement and collects its rows, for `skiff report` and tests: results
    /// that fit in memory. `skiff sql` streams with `query(path:sql:timeout:columns:row:)`.
    public static func query(path: String, sql: String, maxRows: Int = 1_000_000) throws(SkiffError) -> SQLResult {
        var columns: [String] = []
        var rows: [[SQLValue]] = []
        try query(path: path, sql: sql, timeout: nil, columns: { columns = $0 }) { row throws(SkiffError) in
            guard rows.count < maxRows else {
                throw SkiffError(.invalidArgument, "the query returned more than \(maxRows) rows; add a LIMIT")
            }
            rows.append(row)
        }
        return SQLResult(columns: columns, rows: rows)
    }

    /// Runs one read-only statement against the ledger file at `path`, handing over the column
    /// names and then each row as SQLite produces it, so memory stays flat whatever the result
    /// size. Three guards, any of which refuses a write: the file is opened read-only, the
    /// connection is `query_only`, and the statement must be one SQLite itself calls read-only
    /// (ATTACH and DETACH are refused by name: SQLite counts them as read-only). After `timeout`
    /// the statement is interrupted. Blocking: call it off the cooperative pool.
    public static func query(
        path: String, sql: String, timeout: Duration?, columns: ([String]) throws(SkiffError) -> Void,
        row: ([SQLValue]) throws(SkiffError) -> Void
    ) throws(SkiffError) {
        _ = try open(path: path, readOnly: true)  // the clear errors: missing file, newer schema, not SQLite
        var config = Configuration()
        config.readonly = true
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA query_only = 1") }
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: path, configuration: config) } catch {
            throw SkiffError(.ledger, "open ledger \(path) for reading: \(error)", transient: false)
        }
        let deadline = timeout.map { limit in
            let work = DispatchWorkItem { queue.interrupt() }
            let millis = Int((limit / .milliseconds(1)).rounded(.up))
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(millis), execute: work)
            return work
        }
        defer { deadline?.cancel() }
        do {
            try queue.read { db in
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
                try columns(statement.columnNames)
                let cursor = try Row.fetchCursor(statement)
                while let next = try cursor.next() { try row(next.databaseValues.map(Self.value)) }
            }
        } catch let error as SkiffError {
            throw error
        } catch let error as DatabaseError {
            if error.resultCode == .SQLITE_INTERRUPT, let timeout {
                throw SkiffError(
                    .invalidArgument, "the query was stopped after --timeout \(timeout); add a LIMIT or a narrower WHERE")
            }
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
