import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// `skiff reconcile --repair` / `--dry-run` on a filesystem bucket: every drift case made for
/// real, repaired, and a second repair that finds nothing to do.
@Suite(.needs(.promtool)) struct RepairTests {
    static let labels = ["--label", "cluster=eu1", "--label", "replica=0"]

    func reconcile(
        _ world: ShippingWorld, _ extra: [String] = []
    ) async throws -> (result: SkiffProcess.Result, rows: [String: JSONValue]) {
        let result = try await SkiffProcess.run(
            ["reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--output", "json"]
                + Self.labels + extra)
        var rows: [String: JSONValue] = [:]
        // A repair prints its actions; the JSON document is the whole stdout.
        for item in (try? JSONValue.parse(Array(result.stdout.utf8)))?.arrayValue ?? [] {
            rows[item["ulid"]?.stringValue ?? ""] = item
        }
        return (result, rows)
    }

    /// Every file under the bucket with its bytes: a dry run must leave this unchanged.
    func snapshot(_ dir: String) -> [String: Data] {
        var out: [String: Data] = [:]
        for path in FileManager.default.subpaths(atPath: dir) ?? [] {
            if let data = FileManager.default.contents(atPath: "\(dir)/\(path)") { out[path] = data }
        }
        return out
    }

    /// Without --label, reconcile takes the labels the ledger's blocks were shipped with and says so.
    @Test func withoutLabelTheLedgersLabelsAreUsed() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let result = try await SkiffProcess.run(
            ["reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("using the external labels the ledger's blocks were shipped with"), "\(result)")
        #expect(result.stderr.contains("cluster=\"eu1\""), "\(result)")
        #expect(result.stdout.contains("in_sync"), "\(result)")
    }

    @Test func repairsEachKindOfDriftOnceAndDryRunChangesNothing() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let fm = FileManager.default
        // An abandoned upload: killed after its first chunk file, then the block dir vanished; the
        // next ship cleans it. Leftover objects planted afterwards are what reconcile must delete.
        #expect(try await world.ship(failpoints: "after:upload:chunks/000001=exit@1").killedBySIGKILL)
        let vanished = world.localBlocks[0]
        try fm.removeItem(atPath: "\(world.tsdb)/\(vanished)")
        try? fm.removeItem(atPath: "\(world.tsdb)/thanos/upload/\(vanished)")  // staged hard links would still ship it
        #expect(try await world.ship().status == 0)
        try fm.createDirectory(atPath: "\(world.bucket)/\(vanished)/chunks", withIntermediateDirectories: true)
        try Data("leftover".utf8).write(to: URL(fileURLWithPath: "\(world.bucket)/\(vanished)/chunks/000001"))

        let blocks = world.localBlocks
        try #require(blocks.count >= 3)
        // A committed block's meta.json deleted, another's index truncated.
        try fm.removeItem(atPath: "\(world.bucket)/\(blocks[0])/meta.json")
        let index = "\(world.bucket)/\(blocks[1])/index"
        try Data(contentsOf: URL(fileURLWithPath: index)).dropLast(7).write(to: URL(fileURLWithPath: index))
        // A block of ours uploaded out of band (unknown to the ledger), copied from blocks[2].
        let outOfBand = "01HZZZZZZZZZZZZZZZZZZZZZZZ"
        try fm.copyItem(atPath: "\(world.bucket)/\(blocks[2])", toPath: "\(world.bucket)/\(outOfBand)")
        let meta = "\(world.bucket)/\(outOfBand)/meta.json"
        let text = try String(contentsOfFile: meta, encoding: .utf8).replacingOccurrences(of: blocks[2].string, with: outOfBand)
        // A day later, so it overlaps none of ours (an overlapping copy is reported as `overlapping`).
        var doc = try JSONValue.parse(Array(text.utf8))
        for key in ["minTime", "maxTime"] { doc.set(key, .int(doc[key]!.int64Value! + 86_400_000)) }
        try Data(doc.encodedIndented()).write(to: URL(fileURLWithPath: meta))
        // Another Prometheus' block, partial and complete: never touched.
        let other = "01BX5ZZKBKACTAV9WEVGEMMVRZ"
        try fm.createDirectory(atPath: "\(world.bucket)/\(other)", withIntermediateDirectories: true)
        try Data("{\"ulid\":\"\(other)\",\"version\":1,\"thanos\":{\"labels\":{\"cluster\":\"us1\"}}}".utf8)
            .write(to: URL(fileURLWithPath: "\(world.bucket)/\(other)/meta.json"))
        try fm.createDirectory(atPath: "\(world.bucket)/01BX5ZZKBKACTAV9WEVGEMMVS0", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: "\(world.bucket)/01BX5ZZKBKACTAV9WEVGEMMVS0/index"))

        let report = try await reconcile(world)
        #expect(report.result.status == 1, "\(report.result)")
        func status(_ ulid: String) -> String? { report.rows[ulid]?["status"]?.stringValue }
        func action(_ ulid: String) -> String? { report.rows[ulid]?["action"]?.stringValue }
        #expect(status(vanished.string) == "partial_in_bucket" && action(vanished.string) == "delete_partial", "\(report.result)")
        #expect(status(blocks[0].string) == "missing_from_bucket" && action(blocks[0].string) == "reship", "\(report.result)")
        #expect(status(blocks[1].string) == "size_mismatch" && action(blocks[1].string) == "reship", "\(report.result)")
        #expect(status(blocks[2].string) == "in_sync", "\(report.result)")
        #expect(status(outOfBand) == "bucket_only" && action(outOfBand) == "adopt", "\(report.result)")
        #expect(report.rows[other] == nil && report.rows["01BX5ZZKBKACTAV9WEVGEMMVS0"] == nil, "\(report.result)")

        // --dry-run: the same plan, nothing changed.
        let before = snapshot(world.bucket)
        let ledgerBefore = try await Ledger.open(path: world.ledgerPath, readOnly: true).blocks()
        let dry = try await reconcile(world, ["--repair", "--dry-run"])
        #expect(dry.result.status == 1, "\(dry.result)")
        #expect(dry.rows[blocks[0].string]?["outcome"]?.stringValue == "planned", "\(dry.result)")
        #expect(snapshot(world.bucket) == before)
        #expect(try await Ledger.open(path: world.ledgerPath, readOnly: true).blocks() == ledgerBefore)

        // --repair: every action done, then nothing left to do.
        let repaired = try await reconcile(world, ["--repair"])
        #expect(repaired.result.status == 0, "\(repaired.result)")
        for ulid in [vanished.string, blocks[0].string, blocks[1].string, outOfBand] {
            #expect(repaired.rows[ulid]?["outcome"]?.stringValue == "done", "\(ulid): \(repaired.result)")
        }
        #expect(repaired.result.stderr.contains("re-shipped 2 block(s)"), "\(repaired.result)")
        for ulid in blocks {
            for rel in ["index", "chunks/000001", "meta.json"] {
                let local = rel == "meta.json" ? nil : world.data("\(world.tsdb)/\(ulid)/\(rel)")
                #expect(fm.fileExists(atPath: "\(world.bucket)/\(ulid)/\(rel)"), "\(ulid)/\(rel)")
                if let local { #expect(world.data("\(world.bucket)/\(ulid)/\(rel)") == local, "\(ulid)/\(rel)") }
            }
        }
        #expect(!fm.fileExists(atPath: "\(world.bucket)/\(vanished)"), "leftover objects of the abandoned upload remain")
        #expect(world.data("\(world.bucket)/\(other)/meta.json") != nil)
        #expect(world.data("\(world.bucket)/01BX5ZZKBKACTAV9WEVGEMMVS0/index") == Data("x".utf8))

        let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
        let outOfBandID = try #require(ULID(outOfBand))
        let adopted = try #require(try await ledger.block(outOfBandID))
        #expect(adopted.state == .committed)
        let origin = try Ledger.query(path: world.ledgerPath, sql: "SELECT origin FROM blocks WHERE ulid = '\(outOfBand)'")
        #expect(origin.rows == [[.text("adopted")]])
        let history = try await ledger.history(blocks[0])
        #expect(
            history.contains {
                $0.from == .committed && $0.to == .discovered && ($0.detail ?? "").contains("re-ship by reconcile")
            })
        #expect(history.last?.to == .committed)
        let notes = try await ledger.history(vanished)
        #expect(
            notes.last.map { $0.from == .cleaned && $0.to == .cleaned && ($0.detail ?? "").contains("deleted 1 leftover") }
                == true, "\(notes)")

        // A second repair finds nothing to do and changes nothing.
        let transitions = try Ledger.query(path: world.ledgerPath, sql: "SELECT count(*) FROM transitions")
        let bucketAfter = snapshot(world.bucket)
        let again = try await reconcile(world, ["--repair"])
        #expect(again.result.status == 0, "\(again.result)")
        #expect(again.rows.values.allSatisfy { $0["action"] == .null }, "\(again.result)")
        #expect(try Ledger.query(path: world.ledgerPath, sql: "SELECT count(*) FROM transitions") == transitions)
        #expect(snapshot(world.bucket) == bucketAfter)

        // skiff report drift: the last run found no drift.
        let drift = try await SkiffProcess.run(["report", "drift", "--tsdb.path", world.tsdb])
        #expect(drift.status == 0 && drift.stdout.contains("no drift at the last reconcile"), "\(drift)")
    }

    /// A ledger with no blocks (say, left by a rebuild killed before its one transaction) is
    /// replaced without --force; the committed set comes back from the bucket.
    @Test func rebuildReplacesAnEmptyLedgerWithoutForce() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        try FileManager.default.removeItem(atPath: world.ledgerPath)
        _ = try Ledger.open(path: world.ledgerPath)  // migrated, empty
        let rebuild = try await SkiffProcess.run(
            ["ledger", "rebuild", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig] + Self.labels)
        #expect(rebuild.status == 0 && rebuild.stdout.contains("previous ledger kept as"), "\(rebuild)")
        let blocks = try await Ledger.open(path: world.ledgerPath, readOnly: true).blocks()
        #expect(Set(blocks.map(\.ulid)) == Set(world.localBlocks) && blocks.allSatisfy { $0.state == .committed })
    }

    /// `report drift` lists the last run's findings with their planned actions.
    @Test func reportDriftShowsTheLastRun() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let none = try await SkiffProcess.run(["report", "drift", "--tsdb.path", world.tsdb])
        #expect(none.status != 0 || none.stdout.contains("no reconcile has run yet"), "\(none)")
        #expect(try await world.ship().status == 0)
        let first = world.localBlocks[0]
        try FileManager.default.removeItem(atPath: "\(world.bucket)/\(first)/meta.json")
        #expect(try await reconcile(world).result.status == 1)
        let drift = try await SkiffProcess.run(["report", "drift", "--tsdb.path", world.tsdb, "--output", "csv"])
        #expect(drift.status == 0, "\(drift)")
        let lines = drift.stdout.split(separator: "\r\n")
        #expect(lines.first == "run_at,mode,ulid,status,detail,action,outcome", "\(drift)")
        #expect(
            lines.count == 2 && lines[1].contains("\(first),missing_from_bucket,") && lines[1].contains(",reship,"), "\(drift)")
    }
}
