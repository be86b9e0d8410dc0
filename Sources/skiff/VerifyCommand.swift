import ArgumentParser
import Foundation
import Ledger
import ObjectStorage
import ObjstoreConfig
import Reconcile
import SkiffCore

/// `skiff verify [ULID...]`: re-read shipped blocks from the bucket and check them against the ledger.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-read shipped blocks from the bucket and check every file's size and SHA-256.",
        discussion: """
            Checks each committed block (or the ULIDs given): meta.json must be the bytes recorded when the block \
            was hashed, and every file must have the recorded size and SHA-256 (also as the uploaded meta.json \
            lists them). A block adopted by an older skiff, whose meta.json the ledger did not record, is checked \
            against the files its bucket meta.json lists, which must name the block and carry our labels (--label, \
            or the ones the ledger's blocks were shipped with). A block that cannot be read is a MISMATCH row; the \
            others are still verified. Exits 0 when every block checks out, 1 otherwise. --sample 10% checks a \
            random tenth. `skiff reconcile --verify --repair` ships blocks found damaged again from their local dirs.
            """)

    @OptionGroup var ledgerOptions: LedgerOptions

    @OptionGroup var objstore: ObjstoreOptions

    @OptionGroup var ourLabels: OurLabelsOptions

    @Option(name: .long, help: "Verify a random share of the committed blocks, e.g. 10%.")
    var sample: String?

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    @Argument(help: "Blocks to verify (default: every committed block).")
    var ulids: [String] = []

    func run() async throws {
        try await runReportingErrors {
            let only = try ulids.map { text throws(SkiffError) in
                guard let ulid = ULID(text) else { throw SkiffError(.invalidArgument, "\"\(text)\" is not a ULID") }
                return ulid
            }
            let percent = try sample.map(Self.parsePercent)
            let given = try ourLabels.parseIfGiven()
            let config = try objstore.load()
            let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath, readOnly: true)
            // Labels only matter for blocks without a recorded meta.json; several recorded sets: any.
            let recorded = given.isEmpty ? try await RecordedLabels.distinct(in: ledger) : [given]
            let failed = try await withBucket(try config.makeBucket()) { bucket in
                let verifier = Verifier(ledger: ledger, bucket: bucket, labels: recorded.count == 1 ? recorded[0] : nil)
                return try await verify(verifier, only: only, percent: percent)
            }
            if failed > 0 {
                FileHandle.standardError.write(
                    Data(
                        ("to ship the damaged blocks again from their local dirs: skiff reconcile --verify --repair "
                            + "--tsdb.path \(ledgerOptions.tsdbPath) --objstore.config-file ...\n").utf8))
                throw ExitCode(1)
            }
        }
    }

    /// Verifies and prints; returns how many blocks have problems.
    private func verify(_ verifier: Verifier, only: [ULID], percent: Double?) async throws -> Int {
        let blocks = try await verifier.selectBlocks(only: only, samplePercent: percent)
        let progress = Progress(total: blocks.count)
        var findings: [Verifier.Finding] = []
        for ulid in blocks {
            findings.append(try await verifier.verify(ulid))
            progress.step(bytes: findings.last!.bytesRead)
        }
        progress.finish()
        switch output {
        case .json:
            let items: [JSONValue] = findings.map { f in
                .object([
                    .init("ulid", .string(f.ulid.string)), .init("ok", .bool(f.ok)), .init("bytes_read", .int(f.bytesRead)),
                    .init("problems", .array(f.problems.map { .string($0) })),
                ])
            }
            print(String(decoding: JSONValue.array(items).encodedIndented(), as: UTF8.self), terminator: "")
        case .csv:
            let rows: [[SQLValue]] = findings.map {
                [
                    .text($0.ulid.string), .text($0.ok ? "ok" : "mismatch"), .integer($0.bytesRead),
                    .text($0.problems.joined(separator: "; ")),
                ]
            }
            print(
                Tabular.render(SQLResult(columns: ["ulid", "result", "bytes_read", "problems"], rows: rows), as: .csv),
                terminator: "")
        case .table:
            var table = TextTable(["ULID", "RESULT", "READ", "PROBLEMS"])
            for f in findings {
                table.add([
                    f.ulid.string, f.ok ? "ok" : "MISMATCH", ByteCount.format(f.bytesRead), f.problems.joined(separator: "; "),
                ])
            }
            print(table.render(), terminator: "")
            let bad = findings.filter { !$0.ok }.count
            print("\(findings.count) block(s) verified, \(bad) with problems")
        }
        return findings.filter { !$0.ok }.count
    }

    static func parsePercent(_ text: String) throws(SkiffError) -> Double {
        let number = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(number), value > 0, value <= 100 else {
            throw SkiffError(.invalidArgument, "--sample \"\(text)\" must be a percentage in (0, 100], e.g. 10%")
        }
        return value
    }
}

/// A one-line progress report on stderr, only when stderr is a terminal (never in logs or pipes).
final class Progress {
    let total: Int
    let enabled = isatty(STDERR_FILENO) == 1
    private var done = 0
    private var bytes: Int64 = 0

    init(total: Int) { self.total = total }

    func step(bytes read: Int64) {
        done += 1
        bytes += read
        guard enabled else { return }
        FileHandle.standardError.write(Data("\rverified \(done)/\(total) blocks, \(ByteCount.format(bytes)) read".utf8))
    }

    func finish() {
        if enabled && done > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
