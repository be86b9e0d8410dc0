import ArgumentParser
import Foundation
import Ledger
import ObjectStorage
import Shipper
import SkiffCore

/// `skiff reconcile`: how local dirs, the ledger and the bucket compare, block by block.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare local blocks, the ledger and the bucket; report drift (read-only).",
        discussion: """
            Statuses: in_sync, not_shipped, local_only, bucket_only, unrecorded_commit, partial_in_bucket, \
            missing_from_bucket, size_mismatch, merged_by_compactor, marked_for_deletion. Bucket blocks with other \
            external labels are not ours and are left out. Exits 0 when nothing needs attention, 1 otherwise.
            """)

    @OptionGroup var ledgerOptions: LedgerOptions

    @OptionGroup var objstore: ObjstoreOptions

    @Option(name: .customLong("label"), help: "Our external label name=value (repeatable), as shipped.")
    var labels: [String] = []

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            let ours = try Labels.parse(flags: labels)
            guard !ours.isEmpty else {
                throw SkiffError(.invalidArgument, "pass our external labels with --label (as shipped), e.g. --label cluster=eu1")
            }
            let config = try objstore.load()
            let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath, readOnly: true)
            let bucket = try config.makeBucket()
            let entries: [Reconciler.Entry]
            do {
                entries = try await Reconciler(ledger: ledger, bucket: bucket, tsdbPath: ledgerOptions.tsdbPath, labels: ours)
                    .report()
            } catch {
                await bucket.shutdown()
                throw error
            }
            await bucket.shutdown()
            print(render(entries), terminator: "")
            if entries.contains(where: { !$0.status.isHealthy }) { throw ExitCode(1) }
        }
    }

    private func render(_ entries: [Reconciler.Entry]) -> String {
        switch output {
        case .json:
            let items: [JSONValue] = entries.map {
                .object([.init("ulid", .string($0.ulid.string)), .init("status", .string($0.status.rawValue)), .init("detail", .string($0.detail))])
            }
            return String(decoding: JSONValue.array(items).encodedIndented(), as: UTF8.self)
        case .csv:
            let rows: [[SQLValue]] = entries.map { [.text($0.ulid.string), .text($0.status.rawValue), .text($0.detail)] }
            return Tabular.render(SQLResult(columns: ["ulid", "status", "detail"], rows: rows), as: .csv)
        case .table:
            var table = TextTable(["ULID", "STATUS", "DETAIL"])
            for entry in entries { table.add([entry.ulid.string, entry.status.rawValue, entry.detail]) }
            let counts = Reconciler.Status.allCases.compactMap { status -> String? in
                let n = entries.filter { $0.status == status }.count
                return n == 0 ? nil : "\(n) \(status.rawValue)"
            }
            return table.render() + (counts.isEmpty ? "no blocks" : counts.joined(separator: ", ")) + "\n"
        }
    }
}
