import Foundation
import SkiffCore
import TestSupport
import Testing

/// `skiff blocks`, `skiff history` and `skiff ship --watch` as an operator runs them.
@Suite(.needs(.promtool)) struct CommandTests {
    @Test func blocksAndHistoryInTableAndJSON() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let ship = try await world.ship()
        #expect(ship.status == 0, "\(ship)")
        for ulid in world.localBlocks { #expect(ship.stdout.contains("shipped \(ulid)")) }

        let table = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ULID") == true)
        #expect(lines.count == world.localBlocks.count + 1)
        #expect(lines.dropFirst().allSatisfy { $0.contains("committed") })

        let json = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb, "--output", "json"])
        let blocks = try #require(try JSONValue.parse(Array(json.stdout.utf8)).arrayValue)
        #expect(blocks.compactMap { $0["ulid"]?.stringValue } == world.localBlocks.map(\.string))
        #expect(blocks.allSatisfy { $0["state"] == .string("committed") && $0["total_bytes"]?.int64Value ?? 0 > 0 })

        let ulid = world.localBlocks[0]
        let history = try await SkiffProcess.run(["history", ulid.string, "--tsdb.path", world.tsdb, "--output", "json"])
        let rows = try #require(try JSONValue.parse(Array(history.stdout.utf8)).arrayValue)
        #expect(
            rows.compactMap { $0["to"]?.stringValue } == [
                "discovered", "hashed", "chunks_uploaded", "index_uploaded", "committed",
            ])
        let text = try await SkiffProcess.run(["history", ulid.string, "--tsdb.path", world.tsdb])
        let last = try #require(text.stdout.split(separator: "\n").last)
        // AT, TOOK (time since the previous step), FROM, TO.
        #expect(
            last.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).prefix(2) == ["index_uploaded", "committed"])
        #expect(rows.first?["took_ms"] == .null && rows.dropFirst().allSatisfy { $0["took_ms"]?.int64Value ?? -1 >= 0 })

        // CSV too: a header and one line per block / transition.
        let blocksCSV = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb, "--output", "csv"])
        #expect(blocksCSV.stdout.hasPrefix("ulid,state,"), "\(blocksCSV)")
        #expect(blocksCSV.stdout.split(separator: "\r\n").count == world.localBlocks.count + 1)
        let historyCSV = try await SkiffProcess.run(["history", ulid.string, "--tsdb.path", world.tsdb, "--output", "csv"])
        #expect(historyCSV.stdout.hasPrefix("id,ulid,from,to,at,took_ms,attempt,bytes,detail\r\n"), "\(historyCSV)")
        #expect(historyCSV.stdout.split(separator: "\r\n").count == rows.count + 1)
    }

    @Test func historyShowsFailedAttemptsWithTheirError() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let result = try await world.ship(failpoints: "before:upload:index=error", extra: ["--shipper.attempts-per-pass", "2"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("holds back newer blocks"), "\(result.stdout)")
        let first = world.localBlocks[0]
        let blocks = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb])
        #expect(blocks.stdout.contains("failed"))
        #expect(blocks.stdout.contains("injected"))
        let history = try await SkiffProcess.run(["history", first.string, "--tsdb.path", world.tsdb])
        #expect(history.stdout.components(separatedBy: "injected").count - 1 == 2, "\(history.stdout)")
        // The next run resumes and ships everything.
        #expect(try await world.ship().status == 0)
        try await world.expectFullyShipped()
    }

    @Test func watchShipsNewBlocksAndStopsGracefullyOnSIGTERM() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let newest = try #require(world.localBlocks.last)
        let held = world.root.sub("held")
        try FileManager.default.moveItem(atPath: "\(world.tsdb)/\(newest)", toPath: held)
        let running = try SkiffProcess.start(world.shipArguments + ["--watch", "--sync-interval", "1s"])
        defer { running.kill9() }

        func shipped() -> Set<String> {
            let doc = try? JSONValue.parse(
                Array(FileManager.default.contents(atPath: "\(world.tsdb)/thanos.shipper.json") ?? Data()))
            return Set((doc?["uploaded"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        func waitFor(_ condition: () -> Bool) async throws -> Bool {
            for _ in 0..<300 where !condition() { try await Task.sleep(for: .milliseconds(50)) }
            return condition()
        }
        #expect(try await waitFor { shipped().count == world.localBlocks.count })
        // Prometheus writes a block as <ULID>.tmp-for-creation and renames it when complete.
        let tmp = "\(world.tsdb)/\(newest).tmp-for-creation"
        try FileManager.default.moveItem(atPath: held, toPath: tmp)
        try await Task.sleep(for: .milliseconds(400))
        #expect(!shipped().contains(newest.string), "a .tmp dir must not be shipped")
        try FileManager.default.moveItem(atPath: tmp, toPath: "\(world.tsdb)/\(newest)")
        #expect(try await waitFor { shipped().contains(newest.string) })

        running.terminate()
        let result = try await running.wait(timeout: .seconds(20))
        #expect(result.status == 0 && !result.signaled, "\(result)")
        #expect(result.stderr.contains("shipper stopped"))
        try await world.expectFullyShipped()
    }
}

/// `skiff sql` and `skiff report` on a shipped world: every output format parses.
@Suite(.needs(.promtool)) struct SQLCommandTests {
    @Test func sqlAndReportsInEveryFormat() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let base = ["--tsdb.path", world.tsdb]
        let json = try await SkiffProcess.run(
            ["sql", "SELECT ulid, total_bytes FROM shipped_blocks ORDER BY ulid", "--output", "json"] + base)
        #expect(json.status == 0, "\(json)")
        let parsed = try JSONValue.parse(Array(json.stdout.utf8))
        #expect((parsed.arrayValue ?? []).compactMap { $0["ulid"]?.stringValue } == world.localBlocks.map(\.string))
        let csv = try await SkiffProcess.run(
            ["sql", "SELECT ulid, 'a,\"b\"' AS odd FROM shipped_blocks LIMIT 1", "--output", "csv"] + base)
        let lines = csv.stdout.split(separator: "\r\n")
        #expect(lines.first == "ulid,odd")
        #expect(lines.dropFirst().first?.hasSuffix(",\"a,\"\"b\"\"\"") == true, "\(csv)")
        for name in ["shipped", "lag", "failures", "pending"] {
            let report = try await SkiffProcess.run(["report", name, "--output", "json"] + base)
            #expect(report.status == 0, "\(report)")
            #expect((try? JSONValue.parse(Array(report.stdout.utf8))) != nil, "\(name): \(report.stdout)")
        }
        let lag = try await SkiffProcess.run(["report", "lag"] + base)
        #expect(lag.stdout.contains("MEDIAN_S") && lag.stdout.contains("\(world.localBlocks.count)"), "\(lag)")
        let write = try await SkiffProcess.run(["sql", "DELETE FROM blocks"] + base)
        #expect(write.status == 1)
        #expect(write.stderr.contains("skiff sql is read-only"), "\(write)")
    }
}

/// `skiff verify`: a clean bucket verifies; a flipped byte, a short object and a missing
/// meta.json are each named; sampling and explicit blocks work.
@Suite(.needs(.promtool)) struct VerifyCommandTests {
    @Test func findsEveryKindOfDamage() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let base = ["verify", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig]
        let clean = try await SkiffProcess.run(base)
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.contains("\(world.localBlocks.count) block(s) verified, 0 with problems"), "\(clean)")

        let blocks = world.localBlocks
        let chunk = "\(world.bucket)/\(blocks[0])/chunks/000001"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: chunk)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: chunk))
        let index = "\(world.bucket)/\(blocks[1])/index"
        let indexBytes = try Data(contentsOf: URL(fileURLWithPath: index))
        try indexBytes.prefix(indexBytes.count - 1).write(to: URL(fileURLWithPath: index))
        try FileManager.default.removeItem(atPath: "\(world.bucket)/\(blocks[2])/meta.json")

        let damaged = try await SkiffProcess.run(base + ["--output", "json"])
        #expect(damaged.status == 1, "\(damaged)")
        let findings = try JSONValue.parse(Array(damaged.stdout.utf8)).arrayValue ?? []
        func problems(_ ulid: ULID) -> String {
            let finding = findings.first { $0["ulid"]?.stringValue == ulid.string }
            return (finding?["problems"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "; ")
        }
        #expect(problems(blocks[0]).contains("chunks/000001 has sha256"), "\(damaged.stdout)")
        #expect(problems(blocks[1]).contains("index is \(indexBytes.count - 1) bytes in the bucket"), "\(damaged.stdout)")
        #expect(problems(blocks[2]).contains("meta.json is missing from the bucket"), "\(damaged.stdout)")
        for ulid in blocks.dropFirst(3) { #expect(problems(ulid).isEmpty) }

        let one = try await SkiffProcess.run(base + [blocks[3].string])
        #expect(one.status == 0 && one.stdout.contains("1 block(s) verified"), "\(one)")
        let sampled = try await SkiffProcess.run(base + ["--sample", "50%", "--output", "json"])
        let sampledCount = (try JSONValue.parse(Array(sampled.stdout.utf8)).arrayValue ?? []).count
        #expect(sampledCount == (blocks.count + 1) / 2, "\(sampled)")
        let csv = try await SkiffProcess.run(base + ["--output", "csv"])
        let csvLines = csv.stdout.split(separator: "\r\n")
        #expect(csvLines.first == "ulid,result,bytes_read,problems", "\(csv)")
        #expect(csvLines.count == blocks.count + 1)
        #expect(csvLines.contains { $0.hasPrefix(blocks[0].string + ",mismatch,") })
        let badSample = try await SkiffProcess.run(base + ["--sample", "0"])
        #expect(badSample.status == 1 && badSample.stderr.contains("--sample"), "\(badSample)")
    }
}

/// `skiff reconcile`: each drift case made for real on a filesystem bucket, and blocks of another
/// Prometheus (other labels) left out.
@Suite(.needs(.promtool)) struct ReconcileCommandTests {
    @Test func reportsEachKindOfDrift() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let base = [
            "reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1",
            "--label", "replica=0", "--output", "json",
        ]
        func statuses() async throws -> (status: Int32, map: [String: String], out: String) {
            let result = try await SkiffProcess.run(base)
            let items = try JSONValue.parse(Array(result.stdout.utf8)).arrayValue ?? []
            var map: [String: String] = [:]
            for item in items { map[item["ulid"]?.stringValue ?? ""] = item["status"]?.stringValue }
            return (result.status, map, "\(result)")
        }
        let clean = try await statuses()
        #expect(clean.status == 0, "\(clean.out)")
        #expect(Set(clean.map.values) == ["in_sync"], "\(clean.out)")

        let blocks = world.localBlocks
        let fm = FileManager.default
        // A committed block's meta.json deleted from the bucket.
        try fm.removeItem(atPath: "\(world.bucket)/\(blocks[0])/meta.json")
        // An object truncated.
        let index = "\(world.bucket)/\(blocks[1])/index"
        try Data(contentsOf: URL(fileURLWithPath: index)).dropLast().write(to: URL(fileURLWithPath: index))
        // Marked for deletion by the Compactor.
        try Data("{}".utf8).write(to: URL(fileURLWithPath: "\(world.bucket)/\(blocks[2])/deletion-mark.json"))
        // Merged by the Compactor: a level-2 block of ours lists blocks[3] in its sources, and blocks[3] is gone.
        let mergedMeta =
            "{\"ulid\":\"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\"minTime\":1,\"maxTime\":2,\"version\":1,"
            + "\"compaction\":{\"level\":2,\"sources\":[\"\(blocks[3])\"]},\"thanos\":{\"labels\":{\"cluster\":\"eu1\",\"replica\":\"0\"}}}"
        try fm.createDirectory(atPath: "\(world.bucket)/01ARZ3NDEKTSV4RRFFQ69G5FAV", withIntermediateDirectories: true)
        try Data(mergedMeta.utf8).write(to: URL(fileURLWithPath: "\(world.bucket)/01ARZ3NDEKTSV4RRFFQ69G5FAV/meta.json"))
        try fm.removeItem(atPath: "\(world.bucket)/\(blocks[3])")
        // A block of another Prometheus in the same bucket: not ours, never reported.
        let otherMeta = "{\"ulid\":\"01BX5ZZKBKACTAV9WEVGEMMVRZ\",\"version\":1,\"thanos\":{\"labels\":{\"cluster\":\"us1\"}}}"
        try fm.createDirectory(atPath: "\(world.bucket)/01BX5ZZKBKACTAV9WEVGEMMVRZ", withIntermediateDirectories: true)
        try Data(otherMeta.utf8).write(to: URL(fileURLWithPath: "\(world.bucket)/01BX5ZZKBKACTAV9WEVGEMMVRZ/meta.json"))

        let drift = try await statuses()
        #expect(drift.status == 1, "\(drift.out)")
        #expect(drift.map[blocks[0].string] == "missing_from_bucket", "\(drift.out)")
        #expect(drift.map[blocks[1].string] == "size_mismatch", "\(drift.out)")
        #expect(drift.map[blocks[2].string] == "marked_for_deletion", "\(drift.out)")
        #expect(drift.map[blocks[3].string] == "merged_by_compactor", "\(drift.out)")
        #expect(drift.map["01ARZ3NDEKTSV4RRFFQ69G5FAV"] == "bucket_only", "\(drift.out)")
        #expect(drift.map["01BX5ZZKBKACTAV9WEVGEMMVRZ"] == nil, "another Prometheus' block was reported: \(drift.out)")
        // Read-only: nothing changed in the bucket.
        #expect(fm.fileExists(atPath: "\(world.bucket)/01BX5ZZKBKACTAV9WEVGEMMVRZ/meta.json"))
        #expect(!fm.fileExists(atPath: "\(world.bucket)/\(blocks[0])/meta.json"))
    }

    /// A crash right after meta.json landed: the bucket has the commit the ledger missed.
    @Test func reportsACommitTheLedgerMissed() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship(failpoints: "after:upload:meta.json=exit@1").killedBySIGKILL)
        let result = try await SkiffProcess.run([
            "reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1",
            "--label", "replica=0",
        ])
        #expect(result.status == 1, "\(result)")
        let first = world.localBlocks[0].string
        #expect(
            result.stdout.split(separator: "\n").contains { $0.hasPrefix(first) && $0.contains("unrecorded_commit") }, "\(result)"
        )
        #expect(result.stdout.contains("not_shipped"), "\(result)")
        // The next ship adopts it, and then everything is in sync.
        #expect(try await world.ship().status == 0)
        let after = try await SkiffProcess.run([
            "reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1",
            "--label", "replica=0",
        ])
        #expect(after.status == 0, "\(after)")
        #expect(after.stdout.contains("\(world.localBlocks.count) in_sync"), "\(after)")
        let csv = try await SkiffProcess.run([
            "reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1",
            "--label", "replica=0", "--output", "csv",
        ])
        #expect(csv.stdout.hasPrefix("ulid,status,detail,action\r\n"), "\(csv)")
        #expect(csv.stdout.split(separator: "\r\n").count == world.localBlocks.count + 1, "\(csv)")
    }
}
