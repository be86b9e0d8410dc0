import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// `skiff ship`, `verify`, `reconcile` and `ledger rebuild` against GCS' JSON API as fsouza's
/// fake-gcs-server serves it, reached as Google's clients reach an emulator (`STORAGE_EMULATOR_HOST`),
/// and a resumable upload killed mid-way that resumes the same session.
@Suite(.serialized, .needs(.promtool, .fakeGCSServer)) struct GCSShippingTests {
    struct World {
        let root: TempDir
        let server: GCSTestServer
        let bucket: String
        var tsdb: String { root.sub("tsdb") }
        var ledgerPath: String { root.sub("tsdb/thanos/skiff-ledger.db") }
        var configPath: String { root.sub("bucket.yml") }

        static func make(
            _ server: GCSTestServer, bucket: String, extraConfig: [String] = [], bigChunks: Int? = nil
        ) async throws -> World {
            let root = try TempDir()
            try await server.makeBucket(bucket)
            let blocks = try await PromBlocks.make(series: 4, hours: 5, stepSeconds: 60, into: root.sub("tsdb"))
            if let bigChunks { try PromBlocks.grow(block: blocks[0], chunkBytes: bigChunks) }
            let world = World(root: root, server: server, bucket: bucket)
            try server.objstoreYAML(bucket: bucket, extraConfig: extraConfig).write(
                toFile: world.configPath, atomically: true, encoding: .utf8)
            return world
        }

        func run(_ arguments: [String], failpoints: String? = nil) async throws -> SkiffProcess.Result {
            var environment = server.environment
            if let failpoints { environment["SKIFF_FAILPOINTS"] = failpoints }
            return try await SkiffProcess.run(arguments, environment: environment)
        }

        func ship(failpoints: String? = nil) async throws -> SkiffProcess.Result {
            try await run(
                [
                    "ship", "--tsdb.path", tsdb, "--objstore.config-file", configPath, "--label", "cluster=eu1",
                    "--shipper.retry-backoff", "10ms",
                ], failpoints: failpoints)
        }

        func command(_ name: [String]) async throws -> SkiffProcess.Result {
            try await run(name + ["--tsdb.path", tsdb, "--objstore.config-file", configPath, "--label", "cluster=eu1"])
        }

        var localBlocks: [ULID] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tsdb)) ?? []).compactMap(ULID.init).sorted()
        }

        /// Every block committed once, every object byte-identical to the ledger's digests (read back
        /// over raw HTTP), meta.json of the recorded size.
        func expectShipped(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
            let objects = try await server.objects(bucket: bucket)
            for ulid in localBlocks {
                let record = try #require(try await ledger.block(ulid), sourceLocation: sourceLocation)
                #expect(record.state == .committed, "\(ulid) is \(record.state)", sourceLocation: sourceLocation)
                for file in try await ledger.files(ulid) {
                    let key = "\(ulid)/\(file.relPath)"
                    #expect(objects[key] == file.sizeBytes, "\(key)", sourceLocation: sourceLocation)
                    let stored = try await server.objectBytes(key, bucket: bucket) ?? []
                    #expect(BucketConformance.sha256Hex(stored) == file.sha256, "\(key)", sourceLocation: sourceLocation)
                }
                #expect(objects["\(ulid)/meta.json"] == Int64(record.metaJSON?.count ?? -1), sourceLocation: sourceLocation)
            }
        }
    }

    @Test func shipVerifyReconcileAndRebuild() async throws {
        try await GCSTestServer.withServer { server in
            let world = try await World.make(server, bucket: "ship")
            defer { world.root.remove() }
            let shipped = try await world.ship()
            #expect(shipped.status == 0, "\(shipped)\n\(server.logTail())")
            try await world.expectShipped()
            let blocks = world.localBlocks
            try #require(blocks.count >= 2)

            let verify = try await world.run(["verify", "--tsdb.path", world.tsdb, "--objstore.config-file", world.configPath])
            #expect(verify.status == 0, "\(verify)")
            try await server.deleteObject("\(blocks[0])/index", bucket: world.bucket)
            let damaged = try await world.run(["verify", "--tsdb.path", world.tsdb, "--objstore.config-file", world.configPath])
            #expect(damaged.status == 1 && damaged.stdout.contains("index is missing from the bucket"), "\(damaged)")

            let report = try await world.command(["reconcile"])
            #expect(report.status == 1, "\(report)")
            let repaired = try await world.command(["reconcile", "--repair"])
            #expect(repaired.status == 0, "\(repaired)")
            try await world.expectShipped()

            try FileManager.default.removeItem(atPath: world.ledgerPath)
            let rebuilt = try await world.command(["ledger", "rebuild"])
            #expect(rebuilt.status == 0, "\(rebuilt)")
            let records = try await Ledger.open(path: world.ledgerPath, readOnly: true).blocks()
            #expect(Set(records.map(\.ulid)) == Set(blocks))
            #expect(records.allSatisfy { $0.state == .committed })
            let check = try await world.command(["reconcile"])
            #expect(check.status == 0, "\(check)")
            let again = try await world.ship()
            #expect(again.status == 0 && again.stdout.contains("0 block(s) shipped"), "\(again)")
        }
    }

    /// SIGKILL right after the second chunk of a resumable upload is journaled, then a restart:
    /// the same session URI continues from the journaled offset and completes. fake-gcs-server
    /// appends every byte it is sent, so a byte-identical object shows none was sent twice.
    @Test func resumableUploadResumesTheSameSessionAfterKill() async throws {
        try await GCSTestServer.withServer { server in
            let chunk = 262_144
            let world = try await World.make(
                server, bucket: "resume", extraConfig: ["chunk_size_bytes: \(chunk)"], bigChunks: 6 * chunk + 12_345)
            defer { world.root.remove() }
            let first = try await world.ship(failpoints: "after:part:chunks/000001=exit@2")
            #expect(first.killedBySIGKILL, "\(first)")
            let big = world.localBlocks[0]
            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            let journaled = try #require(try await ledger.openMultipartUpload(big, relPath: "chunks/000001"))
            #expect(journaled.parts.map(\.number) == [1, 2])
            #expect(journaled.uploadID.hasPrefix("http://\(server.emulatorHost)/upload/storage/v1/b/resume/o?"))
            #expect(journaled.partSize == Int64(chunk))

            let second = try await world.ship()
            #expect(second.status == 0, "\(second)\n\(server.logTail())")
            try await world.expectShipped()
            let uploads = try Ledger.query(
                path: world.ledgerPath,
                sql: "SELECT upload_id, completed FROM multipart_uploads WHERE ulid = '\(big)' AND rel_path = 'chunks/000001'")
            #expect(uploads.rows == [[.text(journaled.uploadID), .integer(1)]], "\(uploads.rows)")
            let parts = try Ledger.query(
                path: world.ledgerPath,
                sql: "SELECT part_number, size_bytes FROM multipart_parts WHERE upload_id = '\(journaled.uploadID)' ORDER BY 1")
            // Every full chunk acknowledged once, in order, across both runs; the rest completed the object.
            let size = try #require(try await ledger.files(big).first { $0.relPath == "chunks/000001" }?.sizeBytes)
            #expect(parts.rows.count == Int(size) / chunk, "\(parts.rows)")
            #expect(
                parts.rows.enumerated().allSatisfy { $0.element == [.integer(Int64($0.offset + 1)), .integer(Int64(chunk))] })
        }
    }

    /// `skiff bucket ls`, `download` and `verify` on GCS: blocks shipped there come back
    /// byte-identical and readable by promtool, a second download rewrites nothing, and a damaged
    /// object fails the download naming it and fails verify.
    @Test func bucketCommandsRoundTripOnGCS() async throws {
        try await GCSTestServer.withServer { server in
            let world = try await World.make(server, bucket: "tools")
            defer { world.root.remove() }
            #expect(try await world.ship().status == 0)
            let blocks = world.localBlocks
            try #require(blocks.count >= 2)
            let restore = world.root.sub("restore")
            func download(_ ulids: [ULID]) async throws -> SkiffProcess.Result {
                try await world.run(
                    ["bucket", "download"] + ulids.map(\.string) + ["--objstore.config-file", world.configPath, "--dir", restore])
            }

            let ls = try await world.run(["bucket", "ls", "--output", "json", "--objstore.config-file", world.configPath])
            let listed = try #require(try JSONValue.parse(Array(ls.stdout.utf8)).arrayValue, "\(ls)")
            #expect(listed.compactMap { $0["ulid"]?.stringValue } == blocks.map(\.string), "\(ls)")

            let first = try await download(blocks)
            #expect(first.status == 0, "\(first)")
            for ulid in blocks {
                for rel in FileManager.default.subpaths(atPath: "\(world.tsdb)/\(ulid)") ?? []
                where rel != "chunks" && rel != "meta.json" && rel != "tombstones" {
                    #expect(
                        FileManager.default.contents(atPath: "\(restore)/\(ulid)/\(rel)")
                            == FileManager.default.contents(atPath: "\(world.tsdb)/\(ulid)/\(rel)"), "\(ulid)/\(rel)")
                }
            }
            try FileManager.default.createDirectory(atPath: world.tsdb + "/wal", withIntermediateDirectories: true)
            let restored = try await ExternalProgram.promtool.run(["tsdb", "dump", restore])
            let source = try await ExternalProgram.promtool.run(["tsdb", "dump", world.tsdb])
            #expect(restored.succeeded && !restored.stdout.isEmpty && restored.stdout == source.stdout, "\(restored.stderr)")

            let before = BucketDownloadTests.identity(of: restore)
            let second = try await download(blocks)
            #expect(second.status == 0, "\(second)")
            #expect(BucketDownloadTests.identity(of: restore) == before)
            let clean = try await world.run(["bucket", "verify", "--objstore.config-file", world.configPath])
            #expect(clean.status == 0, "\(clean)")

            let key = "\(blocks[1])/index"
            var bytes = try #require(FileManager.default.contents(atPath: "\(world.tsdb)/\(key)"))
            bytes[bytes.count - 1] ^= 0xFF
            try await server.put(key, Array(bytes), bucket: world.bucket)
            try FileManager.default.removeItem(atPath: "\(restore)/\(blocks[1])/index")
            let damaged = try await download([blocks[1]])
            #expect(damaged.status == 1 && damaged.stderr.contains("index of block \(blocks[1])"), "\(damaged)")
            #expect(!FileManager.default.fileExists(atPath: "\(restore)/\(blocks[1])/index"))
            let verify = try await world.run(["bucket", "verify", "--objstore.config-file", world.configPath])
            #expect(verify.status == 1 && verify.stdout.contains("index has sha256"), "\(verify)")
        }
    }
}
