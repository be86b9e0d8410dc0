import ArgumentParser
import BucketTools
import Foundation
import Ledger
import ObjectStorage
import SkiffCore

/// `skiff bucket verify [ULID...]`: blocks checked against their own meta.json, no ledger.
struct BucketVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check blocks in the bucket against their own meta.json (any producer's; no ledger).",
        discussion: """
            Every file meta.json's thanos.files lists must be in the bucket with its size and, when a SHA-256 is \
            recorded, that hash (the object is read). Files without a recorded hash (Thanos' sidecar does not hash \
            by default) are checked for size only: the CHECKED column says sha256, size or sha256+size. A block \
            without meta.json (partial) is a problem. Exits 0 when every block checks out, 1 otherwise. Without \
            ULIDs, every block in the bucket (streamed).
            """)

    @OptionGroup var objstore: ObjstoreOptions

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    @Argument(help: "Blocks to verify (default: every block in the bucket).")
    var ulids: [String] = []

    func run() async throws {
        try await runReportingErrors {
            let only = try parseULIDs(ulids)
            var bad = 0
            var total = 0
            var writer = TabularWriter(format: output)
            writer.begin(["ulid", "result", "checked", "bytes_read", "problems"])
            Stdout.write(String(decoding: writer.takeOutput(), as: UTF8.self))
            try await withConfiguredBucket(objstore) { bucket in
                let verifier = BucketBlockVerifier(bucket: bucket)
                func report(_ f: BucketBlockVerifier.Finding) throws(SkiffError) {
                    total += 1
                    if !f.ok { bad += 1 }
                    try writer.add([
                        .text(f.ulid.string), .text(f.ok ? "ok" : "MISMATCH"), .text(f.checked), .integer(f.bytesRead),
                        .text(f.problems.joined(separator: "; ")),
                    ])
                    Stdout.write(String(decoding: writer.takeOutput(), as: UTF8.self))
                }
                if only.isEmpty {
                    try await BucketBlockStream.forEach(bucket) { (block: BucketBlock) throws(SkiffError) in
                        try report(try await verifier.verify(block.ulid))
                    }
                } else {
                    for ulid in only { try report(try await verifier.verify(ulid)) }
                }
            }
            writer.finish()
            Stdout.write(String(decoding: writer.takeOutput(), as: UTF8.self))
            if output == .table { Stdout.write("\(total) block(s) verified, \(bad) with problems\n") }
            Stdout.finish()
            if bad > 0 { throw ExitCode(1) }
        }
    }
}
