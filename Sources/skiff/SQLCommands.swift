import ArgumentParser
import Foundation
import Ledger
import SkiffCore

enum TabularFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// `skiff sql "SELECT ..."`: any read-only query against the ledger.
struct SQL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run a read-only SQL query against the ledger.",
        discussion: """
            The ledger is opened read-only and query_only; a statement that writes (INSERT, UPDATE, DELETE, \
            CREATE, ATTACH, a PRAGMA that sets something) is refused. Tables: blocks, block_files, transitions, \
            multipart_uploads, multipart_parts, request_retries. Views: shipped_blocks, pending_blocks, failures, \
            shipped_per_day. Example: skiff sql "SELECT day, blocks, bytes FROM shipped_per_day"
            """)

    @OptionGroup var ledgerOptions: LedgerOptions

    @Argument(help: "One SQL statement.")
    var query: String

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            let result = try Ledger.query(path: ledgerOptions.resolvedLedgerPath, sql: query)
            print(Tabular.render(result, as: output), terminator: "")
        }
    }
}

/// `skiff report NAME`: the named reports over the ledger's views.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a named report: shipped, lag, failures, pending or drift.",
        discussion: """
            shipped: blocks and bytes committed per day (or hour, with --by hour). lag: time from a block's end to \
            its commit (median, p90, max). failures: failed attempts by error, with the last one. pending: blocks \
            not committed and why. drift: the last `skiff reconcile` run (or the sidecar's): blocks not in sync, \
            with the action taken.
            """)

    enum Name: String, ExpressibleByArgument, CaseIterable {
        case shipped, lag, failures, pending, drift
    }

    enum Bucketing: String, ExpressibleByArgument, CaseIterable {
        case day, hour
    }

    @OptionGroup var ledgerOptions: LedgerOptions

    @Argument(help: "shipped, lag, failures, pending or drift.")
    var name: Name

    @Option(name: .long, help: "For `shipped`: group by day or hour (UTC).")
    var by: Bucketing = .day

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    static func sql(_ name: Name, by: Bucketing = .day) -> String {
        switch name {
        case .shipped where by == .hour:
            """
            SELECT strftime('%Y-%m-%dT%H:00Z', committed_at / 1000, 'unixepoch') AS hour, count(*) AS blocks,
                   coalesce(sum(total_bytes), 0) AS bytes
            FROM shipped_blocks GROUP BY hour ORDER BY hour
            """
        case .shipped:
            "SELECT day, blocks, bytes FROM shipped_per_day"
        case .lag:
            // Nearest-rank percentiles over the committed blocks' lag, in seconds.
            """
            WITH l AS (SELECT lag_ms, row_number() OVER (ORDER BY lag_ms) AS r, count(*) OVER () AS n FROM shipped_blocks)
            SELECT count(*) AS blocks,
                   (SELECT lag_ms FROM l WHERE r = (n + 1) / 2) / 1000.0 AS median_s,
                   (SELECT lag_ms FROM l WHERE r = max(1, CAST(ceil(n * 0.9) AS INTEGER))) / 1000.0 AS p90_s,
                   max(lag_ms) / 1000.0 AS max_s
            FROM l
            """
        case .failures:
            """
            SELECT error, count(*) AS attempts, count(DISTINCT ulid) AS blocks, max(at_utc) AS last_at
            FROM failures GROUP BY error ORDER BY attempts DESC, last_at DESC
            """
        case .pending:
            """
            SELECT ulid, state, resume_state, quarantined, attempts, last_error,
                   strftime('%Y-%m-%dT%H:%M:%SZ', next_attempt_at / 1000, 'unixepoch') AS next_attempt_utc
            FROM pending_blocks ORDER BY min_time
            """
        case .drift:
            """
            SELECT started_at_utc AS run_at, mode, ulid, status, detail, action, outcome FROM last_reconcile
            WHERE status NOT IN ('not_shipped', 'merged_by_compactor', 'marked_for_deletion') ORDER BY ulid
            """
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let result = try Ledger.query(path: ledgerOptions.resolvedLedgerPath, sql: Self.sql(name, by: by))
            print(Tabular.render(result, as: output), terminator: "")
            if name == .drift, result.rows.isEmpty, output == .table {
                let runs = try Ledger.query(
                    path: ledgerOptions.resolvedLedgerPath,
                    sql:
                        "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', started_at / 1000, 'unixepoch'), blocks FROM reconcile_runs ORDER BY id DESC LIMIT 1"
                )
                if let run = runs.rows.first {
                    print("no drift at the last reconcile (\(Tabular.text(run[0])), \(Tabular.text(run[1])) blocks)")
                } else {
                    print("no reconcile has run yet: run `skiff reconcile --label ...` or start the sidecar")
                }
            }
        }
    }
}

/// Renders query results as a text table, a JSON array of objects, or RFC 4180 CSV.
enum Tabular {
    /// JSON objects with the same keys (as `blocks` and `history` print them) as columns and rows.
    static func result(_ objects: [JSONValue]) -> SQLResult {
        let columns = objects.first?.members?.map(\.key) ?? []
        let rows: [[SQLValue]] = objects.map { object in
            (object.members ?? []).map { member in
                switch member.value {
                case .null: .null
                case .string(let text): .text(text)
                case .number(let n): Int64(n).map { .integer($0) } ?? .text(n)
                case .bool(let b): .integer(b ? 1 : 0)
                default: .text(String(decoding: member.value.encodedIndented(), as: UTF8.self))
                }
            }
        }
        return SQLResult(columns: columns, rows: rows)
    }

    static func render(_ result: SQLResult, as format: TabularFormat) -> String {
        switch format {
        case .table:
            var table = TextTable(result.columns.map { $0.uppercased() })
            for row in result.rows { table.add(row.map(text)) }
            return table.render()
        case .json:
            let items = result.rows.map { row in
                JSONValue.object(zip(result.columns, row).map { .init($0, json($1)) })
            }
            return String(decoding: JSONValue.array(items).encodedIndented(), as: UTF8.self)
        case .csv:
            let lines = [result.columns.map(csvField)] + result.rows.map { $0.map { csvField(text($0)) } }
            return lines.map { $0.joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        }
    }

    static func text(_ value: SQLValue) -> String {
        switch value {
        case .null: ""
        case .integer(let v): "\(v)"
        case .real(let v): "\(v)"
        case .text(let v): v
        case .blob(let v): String(decoding: v, as: UTF8.self)
        }
    }

    static func json(_ value: SQLValue) -> JSONValue {
        switch value {
        case .null: .null
        case .integer(let v): .int(v)
        case .real(let v): v.isFinite ? .number("\(v)") : .null
        case .text(let v): .string(v)
        case .blob(let v): .string(String(decoding: v, as: UTF8.self))
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
