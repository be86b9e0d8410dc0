import ArgumentParser
import Foundation
import Ledger
import SkiffCore

/// `skiff blocks`: every block in the ledger with its state, sizes, times and last error.
struct Blocks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the blocks in the ledger.")

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath, readOnly: true)
            let blocks = try await ledger.blocks()
            switch output {
            case .json:
                print(String(decoding: JSONValue.array(blocks.map(Self.json)).encodedIndented(), as: UTF8.self), terminator: "")
            case .csv:
                print(Tabular.render(Tabular.result(blocks.map(Self.json)), as: .csv), terminator: "")
            case .table:
                var table = TextTable(
                    ["ULID", "STATE", "MIN TIME", "MAX TIME", "LEVEL", "SAMPLES", "SIZE", "UPLOADED", "ATTEMPTS", "LAST ERROR"])
                for b in blocks {
                    table.add([
                        b.ulid.string, b.state.rawValue + (b.quarantined ? " (quarantined)" : ""),
                        RFC3339.format(millis: b.minTime), RFC3339.format(millis: b.maxTime), "\(b.level)",
                        "\(b.numSamples)", b.totalBytes.map(ByteCount.format) ?? "-", ByteCount.format(b.uploadedBytes),
                        "\(b.attempts)", b.lastError ?? b.reason ?? "",
                    ])
                }
                print(table.render(), terminator: "")
            }
        }
    }

    static func json(_ b: BlockRecord) -> JSONValue {
        func opt(_ v: Int64?) -> JSONValue { v.map { .int($0) } ?? .null }
        func opt(_ v: String?) -> JSONValue { v.map { .string($0) } ?? .null }
        return .object([
            .init("ulid", .string(b.ulid.string)), .init("state", .string(b.state.rawValue)),
            .init("resume_state", opt(b.resumeState?.rawValue)), .init("quarantined", .bool(b.quarantined)),
            .init("min_time", .int(b.minTime)), .init("max_time", .int(b.maxTime)), .init("level", .int(Int64(b.level))),
            .init("num_samples", .int(b.numSamples)), .init("num_series", .int(b.numSeries)),
            .init("num_chunks", .int(b.numChunks)), .init("total_bytes", opt(b.totalBytes)),
            .init("uploaded_bytes", .int(b.uploadedBytes)), .init("attempts", .int(Int64(b.attempts))),
            .init("last_error", opt(b.lastError)), .init("reason", opt(b.reason)),
            .init("next_attempt_at", opt(b.nextAttemptAt)), .init("discovered_at", .int(b.discoveredAt)),
            .init("updated_at", .int(b.updatedAt)), .init("committed_at", opt(b.committedAt)),
        ])
    }
}

/// `skiff history ULID`: every transition of one block, in order.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print every recorded transition of one block.")

    @OptionGroup var ledgerOptions: LedgerOptions

    @Argument(help: "The block's ULID.")
    var ulid: String

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            guard let id = ULID(ulid) else {
                throw SkiffError(.invalidArgument, "\"\(ulid)\" is not a ULID (26 characters, e.g. 01HSR8RBPC2JZ3GZWN1WGV240C)")
            }
            let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath, readOnly: true)
            let rows = try await ledger.history(id)
            guard !rows.isEmpty else {
                throw SkiffError(.invalidArgument, "block \(id) is not in the ledger \(ledger.path): see `skiff blocks`")
            }
            // How long each step took: the time since the previous transition.
            let took = zip(rows, [nil] + rows.dropLast().map(\.at)).map { row, previous in previous.map { row.at - $0 } }
            let items: [JSONValue] = zip(rows, took).map { r, took in
                .object([
                    .init("id", .int(r.id)), .init("ulid", .string(r.ulid)),
                    .init("from", r.from.map { .string($0.rawValue) } ?? .null), .init("to", .string(r.to.rawValue)),
                    .init("at", .string(RFC3339.format(millis: r.at))), .init("took_ms", took.map { .int($0) } ?? .null),
                    .init("attempt", .int(Int64(r.attempt))), .init("bytes", r.bytes.map { .int($0) } ?? .null),
                    .init("detail", r.detail.map { .string($0) } ?? .null),
                ])
            }
            switch output {
            case .json:
                print(String(decoding: JSONValue.array(items).encodedIndented(), as: UTF8.self), terminator: "")
            case .csv:
                print(Tabular.render(Tabular.result(items), as: .csv), terminator: "")
            case .table:
                var table = TextTable(["AT", "TOOK", "FROM", "TO", "ATTEMPT", "BYTES", "DETAIL"])
                for (r, took) in zip(rows, took) {
                    table.add([
                        RFC3339.format(millis: r.at), took.map { String(format: "%.3fs", Double($0) / 1000) } ?? "",
                        r.from?.rawValue ?? "-", r.to.rawValue, "\(r.attempt)", r.bytes.map(ByteCount.format) ?? "",
                        r.detail ?? "",
                    ])
                }
                print(table.render(), terminator: "")
            }
        }
    }
}
