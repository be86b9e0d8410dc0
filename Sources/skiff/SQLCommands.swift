import ArgumentParser
import BlockingWork
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
            multipart_uploads, multipart_parts, request_retries, reconcile_runs, reconcile_findings, audit_export, \
            ledger_identity. Views: shipped_blocks, pending_blocks, failures, shipped_per_day, last_reconcile. Example: skiff sql "SELECT day, blocks, bytes FROM shipped_per_day"
            """)

    @OptionGroup var ledgerOptions: LedgerOptions

    // Every input the parser does not know is the query's, so a statement that starts with an
    // SQL comment (`-- …`), which the parser would take for an option, still arrives here.
    @Argument(parsing: .allUnrecognized, help: "One SQL statement (quote it; one starting with -- works too).")
    var query: [String] = []

    @Option(name: .long, help: "Output format: table, json or csv (json and csv print rows as they are read).")
    var output: TabularFormat = .table

    @Option(name: .long, parsing: .unconditional, help: "Stop the query after this long (e.g. 30s); default: no limit.")
    var timeout: String?

    /// The query's parts; `--` before the statement (the usual way to pass a dash-led argument)
    /// arrives among them.
    private var statement: [String] { query.first == "--" ? Array(query.dropFirst()) : query }

    func validate() throws {
        let query = statement
        guard query.count == 1 else {
            throw ValidationError(
                query.isEmpty
                    ? "give one SQL statement, e.g. skiff sql \"SELECT count(*) FROM blocks\""
                    : "give the SQL statement as one quoted argument; got \(query.count): \(query.map { "\"\($0)\"" }.joined(separator: " "))"
            )
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let limit = try timeout.map { text throws(SkiffError) in
                try FlagValues.duration(text, flag: "--timeout", minimumMillis: 1)
            }
            let path = ledgerOptions.resolvedLedgerPath
            let (sql, format) = (statement[0], output)
            // SQLite and the writes to stdout block: off the cooperative pool.
            try await Blocking.run { () throws(SkiffError) in
                var writer = TabularWriter(format: format)
                func flush() throws(SkiffError) {
                    do { try FileHandle.standardOutput.write(contentsOf: writer.takeOutput()) } catch {
                        throw SkiffError(.io, "write the result to stdout: \(error)", transient: false)
                    }
                }
                try Ledger.query(path: path, sql: sql, timeout: limit, columns: { writer.begin($0) }) {
                    row throws(SkiffError) in
                    try writer.add(row)
                    if writer.pendingBytes >= 1 << 16 { try flush() }
                }
                writer.finish()
                try flush()
            }
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
            """,
        subcommands: [ReportTimeline.self])

    enum Name: String, ExpressibleByArgument, CaseIterable {
        case shipped, lag, failures, pending, drift
    }

    enum Bucketing: String, ExpressibleByArgument, CaseIterable {
        case day, hour
    }

    @OptionGroup var ledgerOptions: LedgerOptions

    @Argument(help: "shipped, lag, failures, pending or drift.")
    var name: Name

    @Option(name: .long, help: "For `shipped`: group by day (the default) or hour (UTC).")
    var by: Bucketing?

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

    func validate() throws {
        if by != nil && name != .shipped {
            throw ValidationError("--by applies to `skiff report shipped` only; remove it for `\(name.rawValue)`")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let result = try Ledger.query(path: ledgerOptions.resolvedLedgerPath, sql: Self.sql(name, by: by ?? .day))
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
        var writer = TabularWriter(format: format)
        writer.begin(result.columns)
        // Only a table can refuse a row (past its size limit); callers render small results.
        for row in result.rows { try? writer.add(row) }
        writer.finish()
        return String(decoding: writer.takeOutput(), as: UTF8.self)
    }

    static func text(_ value: SQLValue) -> String { TabularWriter.text(value) }
}
