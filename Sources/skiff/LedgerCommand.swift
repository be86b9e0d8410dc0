import ArgumentParser
import Foundation
import Ledger
import ObjectStorage
import ObjstoreConfig
import Reconcile
import Shipper
import SkiffCore
import TSDB

/// `skiff ledger ...`: maintenance of the ledger file itself.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Check or rebuild the ledger.", subcommands: [Rebuild.self, Check.self])

    /// `skiff ledger rebuild`: a new ledger from the bucket and the local dirs.
    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recreate a lost or corrupt ledger from the bucket (our blocks' meta.json) and the local dirs.",
            discussion: """
                Our committed blocks in the bucket (meta.json with our --label set, every file at its listed size) are \
                recorded as committed with origin 'rebuilt'; their history before the rebuild is unknown and says so. \
                Local blocks not in the bucket are shipped by the next `skiff ship` or sidecar pass. An existing ledger \
                is never deleted: the new one is built beside it and swapped in only when the rebuild succeeded, the old one \
                kept as <ledger>.broken-<time> (a sound one that has blocks is replaced only with --force). A path that is \
                not a skiff ledger (not SQLite, a Prometheus file, another program's database) is refused, never moved.
                """)

        @OptionGroup var ledgerOptions: LedgerOptions
        @OptionGroup var logOptions: LogOptions
        @OptionGroup var objstore: ObjstoreOptions

        @OptionGroup var ourLabels: OurLabelsOptions

        @Flag(name: .long, help: "Replace a ledger that passes the integrity check too.")
        var force = false

        func run() async throws {
            try await runReportingErrors {
                let ours = try ourLabels.parse()
                let config = try objstore.load()
                _ = try BlockScanner(tsdbPath: ledgerOptions.tsdbPath)
                let lock = try DataDirLock(tsdbPath: ledgerOptions.tsdbPath)
                defer { withExtendedLifetime(lock) {} }
                let path = ledgerOptions.resolvedLedgerPath
                let failpoints = try Failpoints.parse(ProcessInfo.processInfo.environment["SKIFF_FAILPOINTS"] ?? "")
                let bucket = try config.makeBucket()
                let result = try await withBucket(bucket) { bucket in
                    try await LedgerRebuilder.replace(
                        ledgerPath: path, force: force, bucket: bucket, tsdbPath: ledgerOptions.tsdbPath, labels: ours,
                        now: WallClock.system.nowMillis,
                        beforeSwap: { () throws(SkiffError) in try await failpoints.hit("before:ledger_swap") })
                }
                let summary = result.summary
                var lines = ["rebuilt ledger \(path) from \(bucket.name)"]
                if let previous = result.previous { lines.append("previous ledger kept as \(previous)") }
                lines.append("\(summary.rebuilt.count) committed block(s) recorded (\(summary.withLocalDir) with a local dir)")
                if !summary.localOnly.isEmpty {
                    lines.append(
                        "\(summary.localOnly.count) local block(s) not in the bucket: the next `skiff ship` or sidecar pass ships them"
                    )
                }
                for ulid in summary.notOurs {
                    lines.append(
                        "not recorded \(ulid): the bucket holds objects for it that are not a commit of ours (an unreadable "
                            + "or foreign meta.json, or a partial upload); `skiff reconcile` shows which, the next ship deals with it"
                    )
                }
                for ulid in summary.damaged {
                    lines.append(
                        "left out \(ulid): an object is missing or has another size than its meta.json lists (see `skiff reconcile`)"
                    )
                }
                print(lines.joined(separator: "\n"))
            }
        }
    }

    /// `skiff ledger check`: SQLite's integrity check, for scripts and before a rebuild.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run SQLite's integrity check on the ledger.")

        @OptionGroup var ledgerOptions: LedgerOptions

        func run() async throws {
            try await runReportingErrors {
                let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath, readOnly: true)
                let problems = try await ledger.integrityProblems()
                guard problems.isEmpty else {
                    throw SkiffError(.ledger, Ledger.corruptMessage(ledger.path, problems.joined(separator: "; ")))
                }
                print("ledger \(ledger.path): ok (schema \(try await ledger.appliedMigrations().last ?? "none"))")
            }
        }
    }
}
