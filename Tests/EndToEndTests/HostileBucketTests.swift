import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// A bucket that holds what Skiff did not put there, or no longer what it did: garbage and foreign
/// meta.json files, bytes flipped behind its back, a bucket directory that is the data dir. Every
/// command must tell ours from not ours, report the difference and never overwrite someone else's block.
@Suite(.needs(.promtool, .python3)) struct HostileBucketTests {
    static let labels = ["--label", "cluster=eu1", "--label", "replica=0"]

    func run(_ world: ShippingWorld, _ command: String, _ extra: [String] = []) async throws -> SkiffProcess.Result {
        try await SkiffProcess.run(
            [command, "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig] + extra)
    }

    /// `reconcile --output json` rows by ULID.
    func reconcile(_ world: ShippingWorld, _ extra: [String] = []) async throws -> (SkiffProcess.Result, [String: JSONValue]) {
        let result = try await run(world, "reconcile", ["--output", "json"] + Self.labels + extra)
        var rows: [String: JSONValue] = [:]
        for item in (try? JSONValue.parse(Array(result.stdout.utf8)))?.arrayValue ?? [] {
            rows[item["ulid"]?.stringValue ?? ""] = item
        }
        return (result, rows)
    }

    /// `verify --output json` rows by ULID.
    func verify(_ world: ShippingWorld, _ extra: [String] = []) async throws -> (SkiffProcess.Result, [String: JSONValue]) {
        let result = try await run(world, "verify", ["--output", "json"] + extra)
        var rows: [String: JSONValue] = [:]
        for item in (try? JSONValue.parse(Array(result.stdout.utf8)))?.arrayValue ?? [] {
            rows[item["ulid"]?.stringValue ?? ""] = item
        }
        return (result, rows)
    }

    func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    /// The block's own Prometheus meta.json with a Thanos section carrying `cluster`.
    func thanosMeta(_ world: ShippingWorld, _ ulid: ULID, cluster: String) throws -> String {
        var doc = try JSONValue.parse([UInt8](try #require(world.data("\(world.tsdb)/\(ulid)/meta.json"))))
        doc.set(
            "thanos",
            .object([
                .init("version", .int(1)),
                .init("labels", .object([.init("cluster", .string(cluster)), .init("replica", .string("0"))])),
                .init("source", .string("sidecar")),
            ]))
        return String(decoding: doc.encodedIndented(), as: UTF8.self)
    }

    func recordedMeta(_ world: ShippingWorld, _ ulid: ULID) async throws -> [UInt8]? {
        try await Ledger.open(path: world.ledgerPath, readOnly: true).block(ulid)?.metaJSON
    }

    // MARK: - 81: a garbage or relabelled meta.json of a committed block

    @Test func garbageOrRelabelledMetaIsDamagedMetaAndRepairReshipsIt() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let blocks = world.localBlocks
        try write("garbage{\n", to: "\(world.bucket)/\(blocks[1])/meta.json")
        // Same size: only the bytes tell.
        let relabelled = "\(world.bucket)/\(blocks[2])/meta.json"
        let text = try String(contentsOfFile: relabelled, encoding: .utf8)
        try write(text.replacingOccurrences(of: "\"eu1\"", with: "\"eu9\""), to: relabelled)

        let (report, rows) = try await reconcile(world)
        #expect(report.status == 1, "\(report)")
        #expect(rows[blocks[0].string]?["status"]?.stringValue == "in_sync", "\(report)")
        for ulid in blocks[1...2] {
            #expect(rows[ulid.string]?["status"]?.stringValue == "damaged_meta", "\(report)")
            #expect(rows[ulid.string]?["action"]?.stringValue == "reship", "\(report)")
        }
        #expect(rows[blocks[1].string]?["detail"]?.stringValue?.contains("not valid JSON") == true, "\(report)")
        #expect(rows[blocks[2].string]?["detail"]?.stringValue?.contains("eu9") == true, "\(report)")

        let (repair, repaired) = try await reconcile(world, ["--repair"])
        #expect(repair.status == 0, "\(repair)")
        #expect(repaired[blocks[1].string]?["outcome"]?.stringValue == "done", "\(repair)")
        for ulid in blocks {
            let inBucket = try #require(world.data("\(world.bucket)/\(ulid)/meta.json"))
            #expect(try await recordedMeta(world, ulid) == [UInt8](inBucket), "\(ulid)")
        }
        #expect(try await reconcile(world).0.status == 0)
        #expect(try await verify(world).0.status == 0)
    }

    // MARK: - 83 and 37: ship adopts only what is ours

    @Test func shipAdoptsOnlyItsOwnMetaAndNeverOverwritesAnothers() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let blocks = world.localBlocks
        try #require(blocks.count >= 3)
        // Garbage: Thanos calls it a partial upload, so it is shipped over.
        try write("garbage{", to: "\(world.bucket)/\(blocks[0])/meta.json")
        // Prometheus' own meta.json (no thanos section), and another cluster's block with our ULID.
        let prometheusOwn = String(decoding: try #require(world.data("\(world.tsdb)/\(blocks[1])/meta.json")), as: UTF8.self)
        try write(prometheusOwn, to: "\(world.bucket)/\(blocks[1])/meta.json")
        let foreign = try thanosMeta(world, blocks[2], cluster: "us9")
        try write(foreign, to: "\(world.bucket)/\(blocks[2])/meta.json")

        let ship = try await world.ship()
        #expect(ship.status == 1, "\(ship)")
        let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
        let first = try #require(try await ledger.block(blocks[0]))
        #expect(first.state == .committed, "\(ship)")
        #expect(first.metaJSON == world.data("\(world.bucket)/\(blocks[0])/meta.json").map { [UInt8]($0) })
        for (ulid, original) in [(blocks[1], prometheusOwn), (blocks[2], foreign)] {
            let record = try #require(try await ledger.block(ulid))
            #expect(record.state == .failed && record.quarantined, "\(ulid): \(record.state) \(ship)")
            #expect(world.data("\(world.bucket)/\(ulid)/meta.json") == Data(original.utf8), "\(ulid) was overwritten")
            #expect(!FileManager.default.fileExists(atPath: "\(world.bucket)/\(ulid)/index"), "\(ulid): objects shipped")
        }
        #expect(try #require(try await ledger.block(blocks[1])).lastError?.contains("no \"thanos\" section") == true)
        #expect(try #require(try await ledger.block(blocks[2])).lastError?.contains("us9") == true)
        let shipperFile = try JSONValue.parse([UInt8](try #require(world.data("\(world.tsdb)/thanos.shipper.json"))))
        let uploaded = shipperFile["uploaded"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(uploaded.contains(blocks[0].string) && !uploaded.contains(blocks[1].string), "\(uploaded)")
        #expect(!uploaded.contains(blocks[2].string), "\(uploaded)")

        // Reconcile reports both as foreign_meta and touches neither, with or without --repair.
        let (report, rows) = try await reconcile(world, ["--repair"])
        #expect(report.status == 1, "\(report)")
        for ulid in [blocks[1], blocks[2]] {
            #expect(rows[ulid.string]?["status"]?.stringValue == "foreign_meta", "\(report)")
            #expect(rows[ulid.string]?["action"] == .null, "\(report)")
        }
        #expect(world.data("\(world.bucket)/\(blocks[2])/meta.json") == Data(foreign.utf8))
    }

    /// Case 83 as reported: after the ledger is lost, `ship` must not adopt a garbage meta.json or
    /// one with other labels; reconcile must not adopt them either.
    @Test func afterTheLedgerIsLostShipAdoptsOnlyIntactBlocks() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let blocks = world.localBlocks
        try write("garbage{", to: "\(world.bucket)/\(blocks[1])/meta.json")
        let relabelled = try thanosMeta(world, blocks[2], cluster: "eu9")
        try write(relabelled, to: "\(world.bucket)/\(blocks[2])/meta.json")
        try FileManager.default.removeItem(atPath: world.ledgerPath)
        // A rebuild records only the intact one, and does not call the others "not in the bucket".
        let rebuild = try await SkiffProcess.run(
            ["ledger", "rebuild", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig] + Self.labels)
        #expect(rebuild.status == 0, "\(rebuild)")
        #expect(
            rebuild.stdout.contains("\(blocks.count - 2) committed block(s) recorded")
                && !rebuild.stdout.contains("not in the bucket"),
            "\(rebuild)")
        for ulid in blocks[1...2] { #expect(rebuild.stdout.contains("not recorded \(ulid)"), "\(rebuild)") }
        try FileManager.default.removeItem(atPath: world.ledgerPath)

        let ship = try await world.ship()
        #expect(ship.status == 1, "\(ship)")
        let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
        #expect(try await ledger.block(blocks[0])?.state == .committed)
        #expect(try await ledger.block(blocks[1])?.state == .committed, "the garbage one is shipped over: \(ship)")
        #expect(try await ledger.block(blocks[2])?.quarantined == true, "\(ship)")
        #expect(world.data("\(world.bucket)/\(blocks[2])/meta.json") == Data(relabelled.utf8))
        let (report, rows) = try await reconcile(world, ["--repair"])
        #expect(rows[blocks[2].string]?["status"]?.stringValue == "foreign_meta", "\(report)")
        #expect(world.data("\(world.bucket)/\(blocks[2])/meta.json") == Data(relabelled.utf8))
    }

    @Test func aBucketDirectoryInsideTheDataDirIsRefused() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try FileManager.default.createSymbolicLink(atPath: world.root.sub("alias"), withDestinationPath: world.tsdb)
        for (directory, prefix, message) in [
            (world.tsdb, "", "is the data dir"),
            (world.tsdb + "/bucket", "", "lies inside the data dir"),
            (world.root.sub("alias"), "", "is the data dir"),
            (world.root.path, "prefix: tsdb\n", "is the data dir"),
        ] {
            try "type: FILESYSTEM\nconfig:\n  directory: \(directory)\n\(prefix)".write(
                toFile: world.bucketConfig, atomically: true, encoding: .utf8)
            let ship = try await world.ship()
            #expect(ship.status == 1 && ship.stderr.contains(message), "\(directory) \(prefix): \(ship)")
            #expect(ship.stderr.contains("config.directory"), "\(ship)")
            #expect(!FileManager.default.fileExists(atPath: world.tsdb + "/thanos.shipper.json"), "\(ship)")
            let reconcile = try await run(world, "reconcile", Self.labels)
            #expect(reconcile.status == 1 && reconcile.stderr.contains(message), "\(reconcile)")
        }
        // A directory that contains the data dir is fine: blocks land at its top, beside it.
        try "type: FILESYSTEM\nconfig:\n  directory: \(world.root.path)\n".write(
            toFile: world.bucketConfig, atomically: true, encoding: .utf8)
        #expect(try await world.ship().status == 0)
    }

    // MARK: - 88 and 82: verify

    @Test func verifyChecksBlocksShipAdopted() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        try FileManager.default.removeItem(atPath: world.ledgerPath)
        let adopt = try await world.ship()
        #expect(adopt.status == 0 && adopt.stdout.contains("adopted"), "\(adopt)")
        let (verified, rows) = try await verify(world)
        #expect(verified.status == 0, "\(verified)")
        #expect(rows.count == world.localBlocks.count && rows.values.allSatisfy { $0["ok"] == .bool(true) }, "\(verified)")
        for ulid in world.localBlocks {
            #expect(try await recordedMeta(world, ulid) == world.data("\(world.bucket)/\(ulid)/meta.json").map { [UInt8]($0) })
        }
    }

    /// An older ledger recorded neither meta.json nor files for blocks `ship` adopted: verify reads the
    /// bucket's meta.json, checks it is this block's and ours, and the files it lists. One garbage
    /// meta.json is a MISMATCH row of its own; the other blocks are still verified.
    @Test func verifyReportsAnUnreadableMetaAsAMismatchRowAndGoesOn() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let blocks = world.localBlocks
        let old = try Ledger.query(path: world.ledgerPath, sql: "SELECT count(*) FROM blocks")
        #expect(old.rows == [[.integer(Int64(blocks.count))]])
        let sqlite = try await ExternalProgram.python3.run([
            "-c",
            "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('UPDATE blocks SET meta_json = NULL WHERE ulid = ?', (sys.argv[2],));"
                + "c.execute('DELETE FROM block_files WHERE ulid = ?', (sys.argv[2],));c.commit()",
            world.ledgerPath, blocks[0].string,
        ])
        try #require(sqlite.succeeded, "\(sqlite.stderr)")
        let (clean, cleanRows) = try await verify(world)
        #expect(clean.status == 0, "\(clean)")
        #expect(cleanRows[blocks[0].string]?["bytes_read"]?.int64Value ?? 0 > 1000, "\(clean)")

        try write("garbage{", to: "\(world.bucket)/\(blocks[1])/meta.json")
        try write(try thanosMeta(world, blocks[0], cluster: "eu9"), to: "\(world.bucket)/\(blocks[0])/meta.json")
        let (result, rows) = try await verify(world)
        #expect(result.status == 1, "\(result)")
        #expect(rows.count == blocks.count, "\(result)")
        let garbage = rows[blocks[1].string]?["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(garbage.contains { $0.contains("not valid JSON") }, "\(result)")
        let foreign = rows[blocks[0].string]?["problems"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(foreign.contains { $0.contains("eu9") }, "\(result)")
        #expect(rows[blocks[2].string]?["ok"] == .bool(true), "\(result)")
        #expect(result.stderr.contains("reconcile --verify --repair"), "\(result)")
    }

    // MARK: - 80: damage that keeps the size

    @Test func aFlippedByteIsFoundAndRepairedByReconcileVerify() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let ulid = world.localBlocks[0]
        let chunk = "\(world.bucket)/\(ulid)/chunks/000001"
        var bytes = try #require(world.data(chunk))
        bytes[100] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: chunk))

        #expect(try await reconcile(world).0.status == 0, "without --verify only sizes are compared")
        let (report, rows) = try await reconcile(world, ["--verify"])
        #expect(report.status == 1, "\(report)")
        #expect(rows[ulid.string]?["status"]?.stringValue == "content_mismatch", "\(report)")
        #expect(rows[ulid.string]?["action"]?.stringValue == "reship", "\(report)")
        let (repair, _) = try await reconcile(world, ["--verify", "--repair"])
        #expect(repair.status == 0, "\(repair)")
        #expect(world.data(chunk) == world.data("\(world.tsdb)/\(ulid)/chunks/000001"))
        #expect(try await verify(world).0.status == 0)
        let history = try await Ledger.open(path: world.ledgerPath, readOnly: true).history(ulid)
        #expect(history.contains { $0.from == .committed && $0.to == .discovered && ($0.detail ?? "").contains("sha256") })
    }

    // MARK: - 31: labels that match nothing

    @Test func labelsThatNoRecordedBlockCarriesAreRefused() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        for wrong in [["--label", "cluster=zzz"], ["--label", "cluster=eu1"]] {
            let result = try await run(world, "reconcile", wrong)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("--label") && result.stderr.contains("matches none"), "\(result)")
            #expect(result.stderr.contains(#"cluster="eu1", replica="0""#), "\(result)")
            #expect(!result.stdout.contains("in_sync"), "\(result)")
        }
        #expect(try await run(world, "reconcile", Self.labels).status == 0)
    }
}
