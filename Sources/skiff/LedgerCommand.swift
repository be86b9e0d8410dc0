import ArgumentParser
import Foundation
import Ledger
import ObjectStorage
import ObjstoreConfig
import Reconcile
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
                is never deleted: it is renamed to <ledger>.broken-<time> (a sound one that has blocks only with --force).
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
                let movedTo = try await moveAside(path)
                let ledger = try Ledger.open(path: path)
                let bucket = try config.makeBucket()
                let summary: LedgerRebuilder.Summary
                do {
                    summary = try await LedgerRebuilder(
                        ledger: ledger, bucket: bucket, tsdbPath: ledgerOptions.tsdbPath, labels: ours,
                        now: WallClock.system.nowMillis
                    ).rebuild()
                } catch {
                    await bucket.shutdown()
                    throw error
                }
                await bucket.shutdown()
                var lines = ["rebuilt ledger \(path) from \(bucket.name)"]
                if let movedTo { lines.append("previous ledger kept as \(movedTo)") }
                lines.append("\(summary.rebuilt.count) committed block(s) recorded (\(summary.withLocalDir) with a local dir)")
                if !summary.localOnly.isEmpty {
                    lines.append(
                        "\(summary.localOnly.count) local block(s) not in the bucket: the next `skiff ship` or sidecar pass ships them"
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

        /// Renames an existing ledger (and its WAL files) out of the way; refuses a healthy one without --force.
        private func moveAside(_ path: String) async throws -> String? {
            let fm = FileManager.default
            guard fm.fileExists(atPath: path) else { return nil }
            // A sound ledger with history is kept unless forced; an empty one (say, from a rebuild
            // killed before its one transaction) has nothing to lose.
            if !force, let healthy = try? Ledger.open(path: path, readOnly: true),
                (try? await healthy.integrityProblems())?.isEmpty == true, (try? await healthy.blocks())?.isEmpty == false
            {
                throw SkiffError(
                    .invalidArgument,
                    "ledger \(path) is readable and passes the integrity check: rebuilding would replace its history; "
                        + "pass --force to do it anyway (the old file is kept)")
            }
            let stamp = RFC3339.format(millis: WallClock.system.nowMillis()).replacingOccurrences(of: ":", with: "")
            let target = "\(path).broken-\(stamp)"
            for suffix in ["", "-wal", "-shm"] where fm.fileExists(atPath: path + suffix) {
                do { try fm.moveItem(atPath: path + suffix, toPath: target + suffix) } catch {
                    throw SkiffError(.ledger, "move \(path + suffix) aside: \(error.localizedDescription)")
                }
            }
            return target
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
