import Foundation
import SkiffCore
import TestSupport
import Testing

/// `skiff bucket download`, `ls` and `verify` against a real S3 server (juicefs gateway) through
/// a fault-injecting proxy: a dropped connection resumes with a ranged GET, a kill -9 resumes
/// the partial file, a second run fetches nothing, and a damaged object fails naming it.
@Suite(.serialized, .needs(.promtool, .juicefs, .boto3)) struct BucketS3Tests {
    typealias World = S3ShippingTests.World

    func identity(_ dir: String) -> [String: [Int]] { BucketDownloadTests.identity(of: dir) }

    @Test func downloadsFromS3ResumingAfterADroppedConnectionAndAKill() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "download", bigChunks: 12 << 20)
            defer { world.root.remove() }
            #expect(try await world.ship().status == 0)
            let blocks = world.localBlocks
            let restore = world.root.sub("restore")
            func download(_ ulids: [ULID], failpoints: String? = nil) async throws -> SkiffProcess.Result {
                try await SkiffProcess.run(
                    ["bucket", "download"] + ulids.map(\.string) + [
                        "--objstore.config-file", world.configPath, "--dir", restore,
                    ],
                    environment: failpoints.map { ["SKIFF_FAILPOINTS": $0] } ?? [:])
            }

            // Killed once the first MiB of the 12 MiB segment is on disk; the rerun resumes it.
            let killed = try await download([blocks[0]], failpoints: "during:download:chunks/000001=exit")
            #expect(killed.killedBySIGKILL, "\(killed)")
            #expect(!FileManager.default.fileExists(atPath: "\(restore)/\(blocks[0])/meta.json"))

            // The connection carrying the big segment is cut 2 MB into its body: resumed, not restarted.
            world.proxy.resetCounters()
            world.proxy.inject(
                .truncateResponse(afterBytes: 2_000_000), when: .methodAndPathContains("GET", "\(blocks[0])/chunks/000001"))
            let first = try await download(blocks)
            #expect(first.status == 0, "\(first)")
            #expect(first.stdout.contains("resumed"), "\(first.stdout)")
            #expect(world.proxy.stats.faultsApplied == 1)
            #expect(world.proxy.stats.requestsSeen(method: "GET", pathPrefix: "/download/\(blocks[0])/chunks/").count >= 2)
            for ulid in blocks {
                for rel in FileManager.default.subpaths(atPath: "\(world.tsdb)/\(ulid)") ?? []
                where rel != "chunks" && rel != "meta.json" && rel != "tombstones" {
                    #expect(
                        FileManager.default.contents(atPath: "\(restore)/\(ulid)/\(rel)")
                            == FileManager.default.contents(atPath: "\(world.tsdb)/\(ulid)/\(rel)"), "\(ulid)/\(rel)")
                }
                let meta = try #require(FileManager.default.contents(atPath: "\(restore)/\(ulid)/meta.json"))
                #expect(
                    BucketConformance.sha256Hex(Array(meta))
                        == (try await server.objectSHA256("\(ulid)/meta.json", bucket: world.bucket)))
            }
            try FileManager.default.createDirectory(atPath: world.tsdb + "/wal", withIntermediateDirectories: true)
            let restored = try await ExternalProgram.promtool.run(["tsdb", "dump", restore])
            let source = try await ExternalProgram.promtool.run(["tsdb", "dump", world.tsdb])
            #expect(restored.succeeded && !restored.stdout.isEmpty && restored.stdout == source.stdout, "\(restored.stderr)")

            // Nothing fetched again: only meta.json is read (one GET per block), nothing rewritten.
            let before = identity(restore)
            world.proxy.resetCounters()
            let second = try await download(blocks)
            #expect(second.status == 0, "\(second)")
            #expect(identity(restore) == before)
            #expect(world.proxy.stats.requestsSeen(method: "GET", pathPrefix: "/download/").count == blocks.count)

            // A damaged object (same size) fails naming it; ls and verify see the damage as well.
            let key = "\(blocks[1])/index"
            var bytes = try #require(FileManager.default.contents(atPath: "\(world.tsdb)/\(key)"))
            bytes[bytes.count - 1] ^= 0xFF
            try await server.putObject(key, bytes: Array(bytes), bucket: world.bucket)
            try FileManager.default.removeItem(atPath: "\(restore)/\(blocks[1])/index")
            let damaged = try await download([blocks[1]])
            #expect(damaged.status == 1 && damaged.stderr.contains("index of block \(blocks[1])"), "\(damaged)")
            #expect(!FileManager.default.fileExists(atPath: "\(restore)/\(blocks[1])/index"))
            let verify = try await SkiffProcess.run(["bucket", "verify", "--objstore.config-file", world.configPath])
            #expect(verify.status == 1 && verify.stdout.contains("index has sha256"), "\(verify)")
            let ls = try await SkiffProcess.run(["bucket", "ls", "--output", "json", "--objstore.config-file", world.configPath])
            let listed = try #require(try JSONValue.parse(Array(ls.stdout.utf8)).arrayValue)
            #expect(listed.compactMap { $0["ulid"]?.stringValue } == blocks.map(\.string), "\(ls)")
        }
    }
}
