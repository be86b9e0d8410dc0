import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

/// Reconcile, repair and ledger rebuild against a real S3 server (juicefs gateway): drift made
/// with an independent client (boto3), stale multipart uploads, and a rebuild from 100+ blocks.
@Suite(.serialized, .needs(.promtool, .juicefs, .boto3)) struct S3ReconcileTests {
    typealias World = S3ShippingTests.World

    func reconcile(
        _ world: World, _ extra: [String] = []
    ) async throws -> (result: SkiffProcess.Result, rows: [String: JSONValue]) {
        let result = try await SkiffProcess.run(
            [
                "reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.configPath, "--label", "cluster=eu1",
                "--output", "json",
            ] + extra)
        var rows: [String: JSONValue] = [:]
        for item in (try? JSONValue.parse(Array(result.stdout.utf8)))?.arrayValue ?? [] {
            rows[item["ulid"]?.stringValue ?? ""] = item
        }
        return (result, rows)
    }

    @Test func driftOnS3IsReportedAndRepairedOnce() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "drift")
            defer { world.root.remove() }
            #expect(try await world.ship().status == 0)
            let blocks = world.localBlocks
            try #require(blocks.count >= 3)
            try await server.deleteObject("\(blocks[0])/index", bucket: world.bucket)
            try await server.deleteObject("\(blocks[1])/meta.json", bucket: world.bucket)
            let orphan = try await server.startMultipartUpload("\(blocks[2])/index", bucket: world.bucket)
            let other = "01BX5ZZKBKACTAV9WEVGEMMVRZ"
            try await server.putObject(
                "\(other)/meta.json",
                bytes: Array("{\"ulid\":\"\(other)\",\"version\":1,\"thanos\":{\"labels\":{\"cluster\":\"us1\"}}}".utf8),
                bucket: world.bucket)
            try await server.putObject("\(other)/index", bytes: [1, 2, 3], bucket: world.bucket)

            let report = try await reconcile(world)
            #expect(report.result.status == 1, "\(report.result)")
            func pair(_ u: ULID) -> String {
                "\(report.rows[u.string]?["status"]?.stringValue ?? "-")/\(report.rows[u.string]?["action"]?.stringValue ?? "-")"
            }
            #expect(pair(blocks[0]) == "size_mismatch/reship", "\(report.result)")
            #expect(pair(blocks[1]) == "missing_from_bucket/reship", "\(report.result)")
            #expect(pair(blocks[2]) == "stale_upload/abort_uploads", "\(report.result)")
            #expect(report.rows[other] == nil)

            let repaired = try await reconcile(world, ["--repair"])
            #expect(repaired.result.status == 0, "\(repaired.result)")
            let objects = try await server.listObjects(bucket: world.bucket)
            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            for ulid in blocks {
                for file in try await ledger.files(ulid) {
                    #expect(objects["\(ulid)/\(file.relPath)"] == file.sizeBytes, "\(ulid)/\(file.relPath)")
                    #expect(try await server.objectSHA256("\(ulid)/\(file.relPath)", bucket: world.bucket) == file.sha256)
                }
                #expect(objects["\(ulid)/meta.json"] != nil)
            }
            #expect(try await server.listMultipartUploads(bucket: world.bucket).allSatisfy { $0.uploadId != orphan })
            #expect(objects["\(other)/meta.json"] != nil && objects["\(other)/index"] == 3)

            let again = try await reconcile(world, ["--repair"])
            #expect(again.result.status == 0, "\(again.result)")
            #expect(again.rows.values.allSatisfy { $0["action"] == .null }, "\(again.result)")
            #expect(try await server.listObjects(bucket: world.bucket) == objects)
        }
    }

    /// A lost ledger rebuilt from a bucket holding our shipped blocks plus 100 more of ours and
    /// some of another Prometheus: the committed set is reproduced exactly.
    @Test func ledgerRebuildReproducesTheCommittedSet() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make(server, bucket: "rebuild")
            defer { world.root.remove() }
            #expect(try await world.ship().status == 0)
            var committed = Set(try await Ledger.open(path: world.ledgerPath, readOnly: true).blocks().map(\.ulid))
            try await server.withSkiffBucket(bucket: world.bucket) { bucket in
                for i in 0..<103 {
                    let ulid = Self.syntheticULID(i)
                    let cluster = i < 100 ? "eu1" : "us1"
                    for (key, bytes) in Self.syntheticBlock(ulid, cluster: cluster) {
                        try await bucket.upload(key: key, bytes: bytes)
                    }
                    if i < 100 { committed.insert(try #require(ULID(ulid))) }
                }
            }
            let args = [
                "ledger", "rebuild", "--tsdb.path", world.tsdb, "--objstore.config-file", world.configPath, "--label",
                "cluster=eu1",
            ]
            // A healthy ledger is only replaced with --force.
            let refused = try await SkiffProcess.run(args)
            #expect(refused.status != 0 && refused.stderr.contains("--force"), "\(refused)")
            try FileManager.default.removeItem(atPath: world.ledgerPath)
            let rebuilt = try await SkiffProcess.run(args)
            #expect(rebuilt.status == 0, "\(rebuilt)")
            #expect(
                rebuilt.stdout.contains(
                    "\(committed.count) committed block(s) recorded (\(world.localBlocks.count) with a local dir)"), "\(rebuilt)")

            let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
            let records = try await ledger.blocks()
            #expect(Set(records.map(\.ulid)) == committed)
            #expect(records.allSatisfy { $0.state == .committed })
            let origins = try Ledger.query(path: world.ledgerPath, sql: "SELECT DISTINCT origin FROM blocks")
            #expect(origins.rows == [[.text("rebuilt")]])
            let history = try await ledger.history(world.localBlocks[0])
            #expect(history.count == 1 && (history[0].detail ?? "").contains("earlier history unknown"))
            // The rebuilt ledger agrees with the bucket, and the shipper has nothing to redo.
            let check = try await reconcile(world)
            #expect(check.result.status == 0, "\(check.result)")
            let ship = try await world.ship()
            #expect(ship.status == 0 && ship.stdout.contains("0 block(s) shipped"), "\(ship)")
        }
    }

    /// ULIDs that sort after any real block made today (Crockford base32, 26 characters).
    static func syntheticULID(_ i: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        let digits = (0..<4).reversed().map { alphabet[(i >> (5 * $0)) & 31] }
        return "01Z" + String(repeating: "A", count: 19) + String(digits)
    }

    /// A small block as a sidecar ships it: chunk and index objects, then meta.json listing them.
    static func syntheticBlock(_ ulid: String, cluster: String) -> [(String, [UInt8])] {
        let chunk = [UInt8](repeating: 7, count: 100)
        let index = [UInt8](repeating: 9, count: 60)
        let meta = """
            {"ulid":"\(ulid)","minTime":0,"maxTime":7200000,"version":1,"stats":{"numSamples":1,"numSeries":1,"numChunks":1},
            "compaction":{"level":1,"sources":["\(ulid)"]},
            "thanos":{"labels":{"cluster":"\(cluster)"},"source":"sidecar","downsample":{"resolution":0},
            "files":[{"rel_path":"chunks/000001","size_bytes":100},{"rel_path":"index","size_bytes":60},{"rel_path":"meta.json"}]}}
            """
        return [("\(ulid)/chunks/000001", chunk), ("\(ulid)/index", index), ("\(ulid)/meta.json", Array(meta.utf8))]
    }
}
