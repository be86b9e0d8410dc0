import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// `skiff sidecar` next to a real Prometheus (Debian's 2.42) holding real promtool blocks.
@Suite(.serialized, .needs(.promtool, .prometheus, .curl, .juicefs, .boto3)) struct SidecarTests {
    /// A Prometheus data dir with blocks, the Prometheus serving it, and a filesystem bucket.
    struct World {
        let root: TempDir
        let prometheus: PrometheusServer
        let httpPort: Int
        /// Never the default 10901: a sidecar of a parallel test (or another checkout's tests on the
        /// same machine) may hold it, and the bind then fails.
        let grpcPort: Int
        var tsdb: String { prometheus.dataDir }
        var bucket: String { root.sub("bucket") }
        var bucketConfig: String { root.sub("bucket.yml") }

        static func make(
            labels: [String: String] = ["cluster": "eu1", "replica": "0"], minBlock: String = "2h",
            maxBlock: String = "2h", promtoolBlocks: Bool = true
        ) async throws -> World {
            let root = try TempDir()
            if promtoolBlocks {
                _ = try await PromBlocks.make(series: 3, hours: 5, stepSeconds: 60, into: root.sub("tsdb"))
            } else {
                try FileManager.default.createDirectory(atPath: root.sub("tsdb"), withIntermediateDirectories: true)
            }
            let prometheus = try await PrometheusServer.start(
                externalLabels: labels, dataDir: root.sub("tsdb"), minBlockDuration: minBlock, maxBlockDuration: maxBlock)
            try "type: FILESYSTEM\nconfig:\n  directory: \(root.sub("bucket"))\n".write(
                toFile: root.sub("bucket.yml"), atomically: true, encoding: .utf8)
            let ports = try HTTPProbe.freePorts(2)
            return World(root: root, prometheus: prometheus, httpPort: ports[0], grpcPort: ports[1])
        }

        func arguments(_ extra: [String] = [], bucket: Bool = true) -> [String] {
            [
                "sidecar", "--tsdb.path", tsdb, "--prometheus.url", prometheus.url, "--http-address", "127.0.0.1:\(httpPort)",
                "--grpc-address", "127.0.0.1:\(grpcPort)", "--prometheus.get_config_interval", "300ms", "--shipper.sync-interval",
                "1s", "--http-grace-period", "1s",
                "--log.level", "debug",
            ]
                + (bucket ? ["--objstore.config-file", bucketConfig] : []) + extra
        }

        var localBlocks: [ULID] {
            ((try? FileManager.default.contentsOfDirectory(atPath: tsdb)) ?? []).compactMap(ULID.init).sorted()
        }

        func shipped() -> [ULID] {
            localBlocks.filter { FileManager.default.fileExists(atPath: "\(bucket)/\($0)/meta.json") }
        }

        func finish() async {
            await prometheus.stop()
            root.remove()
        }
    }

    /// Runs `body` with a sidecar started with `arguments`, then stops it (SIGTERM) however `body` ends.
    static func withSidecar<T>(
        _ arguments: [String], environment: [String: String] = [:], _ body: (SkiffProcess.Running) async throws -> T
    ) async throws -> (T, SkiffProcess.Result) {
        let running = try SkiffProcess.start(arguments, environment: environment)
        do {
            let value = try await body(running)
            running.terminate()
            return (value, try await running.wait(timeout: .seconds(30)))
        } catch {
            running.kill9()
            _ = try? await running.wait(timeout: .seconds(10))
            throw error
        }
    }

    @Test func shipsBlocksWithPrometheusExternalLabelsAndExportsMetrics() async throws {
        let world = try await World.make()
        do {
            let (metrics, result) = try await Self.withSidecar(world.arguments()) { running in
                let ready = try await HTTPProbe.waitFor(port: world.httpPort, path: "/-/ready", within: .seconds(30)) {
                    $0?.status == 200
                }
                #expect(ready?.body == "OK", "\(running.stderrSoFar)")
                let deadline = ContinuousClock.now + .seconds(60)
                while world.shipped().count < world.localBlocks.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
                // One more pass so the counters include every upload.
                try await Task.sleep(for: .seconds(1))
                return await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
            }
            #expect(result.status == 0, "\(result)")
            for ulid in world.localBlocks {
                let meta = try JSONValue.parse(
                    [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(world.bucket)/\(ulid)/meta.json"))))
                #expect(meta["thanos"]?["labels"]?["cluster"] == .string("eu1"))
                #expect(meta["thanos"]?["labels"]?["replica"] == .string("0"))
            }
            let shipperFile = try JSONValue.parse(
                [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(world.tsdb)/thanos.shipper.json"))))
            #expect((shipperFile["uploaded"]?.arrayValue ?? []).compactMap(\.stringValue) == world.localBlocks.map(\.string))
            #expect(metrics.contains("thanos_sidecar_prometheus_up 1"), "\(metrics)")
            #expect(metrics.contains("thanos_shipper_uploads_total \(world.localBlocks.count)"), "\(metrics)")
            #expect(metrics.contains("thanos_objstore_bucket_operations_total{"), "\(metrics)")
            #expect(metrics.contains(#"check="ready""#), "\(metrics)")
            #expect(metrics.contains("skiff_ledger_blocks{state=\"committed\"} \(world.localBlocks.count)"), "\(metrics)")
            // The start-up reconcile ran after the first pass, and found everything in sync.
            #expect(metrics.contains("skiff_reconcile_blocks{status=\"in_sync\"} \(world.localBlocks.count)"), "\(metrics)")
            #expect(metrics.contains("skiff_reconcile_blocks{status=\"missing_from_bucket\"} 0"), "\(metrics)")
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// With --reconcile.repair, a meta.json deleted from the bucket behind the sidecar's back is
    /// noticed by the periodic reconcile and the block shipped again.
    @Test func periodicReconcileRepairsDrift() async throws {
        let world = try await World.make()
        do {
            let args = world.arguments(["--reconcile.interval", "1s", "--reconcile.repair"])
            let (_, result) = try await Self.withSidecar(args) { running in
                let deadline = ContinuousClock.now + .seconds(60)
                while world.shipped().count < world.localBlocks.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
                let victim = world.localBlocks[0]
                try FileManager.default.removeItem(atPath: "\(world.bucket)/\(victim)/meta.json")
                let back = ContinuousClock.now + .seconds(60)
                while !FileManager.default.fileExists(atPath: "\(world.bucket)/\(victim)/meta.json") && ContinuousClock.now < back
                {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(FileManager.default.fileExists(atPath: "\(world.bucket)/\(victim)/meta.json"), "\(running.stderrSoFar)")
                #expect(running.stderrSoFar.contains("reconcile found drift"), "\(running.stderrSoFar)")
                let metrics = await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body ?? ""
                #expect(metrics.contains("skiff_reconcile_repairs_total 1"), "\(metrics)")
            }
            #expect(result.status == 0, "\(result)")
            let ledger = try Ledger.open(path: world.tsdb + "/thanos/skiff-ledger.db", readOnly: true)
            let history = try await ledger.history(world.localBlocks[0])
            #expect(history.contains { ($0.detail ?? "").contains("re-ship by reconcile") })
            #expect(history.last?.to == .committed)
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// A ledger that fails SQLite's integrity check stops the sidecar (and `skiff ship`) before it ships anything,
    /// with the command that fixes it.
    @Test func damagedLedgerRefusesToStartAndNamesTheFix() async throws {
        let world = try await World.make()
        do {
            let ledgerPath = world.tsdb + "/thanos/skiff-ledger.db"
            let ship = try await SkiffProcess.run(
                ["ship", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1"])
            #expect(ship.status == 0, "\(ship)")
            // Scribble over the b-tree page of one index: the file still opens, the check fails.
            let root = try Ledger.query(
                path: ledgerPath, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'transitions_by_block'")
            guard case .integer(let page) = try #require(root.rows.first?.first) else {
                Issue.record("no root page")
                return
            }
            let handle = try #require(FileHandle(forUpdatingAtPath: ledgerPath))
            try handle.seek(toOffset: UInt64(page - 1) * 4096)
            try handle.write(contentsOf: Data(repeating: 0xFF, count: 256))
            try handle.close()
            let check = try await SkiffProcess.run(["ledger", "check", "--tsdb.path", world.tsdb])
            #expect(check.status != 0 && check.stderr.contains("skiff ledger rebuild"), "\(check)")
            let result = try await SkiffProcess.start(world.arguments()).wait(timeout: .seconds(30))
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("is damaged") && result.stderr.contains("skiff ledger rebuild"), "\(result)")
            #expect(world.shipped().count == world.localBlocks.count, "the earlier ship stays as it was")
            // `skiff ship` opens the ledger the same way and refuses it too.
            let shipAgain = try await SkiffProcess.run(
                ["ship", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1"])
            #expect(shipAgain.status != 0, "\(shipAgain)")
            #expect(shipAgain.stderr.contains("is damaged") && shipAgain.stderr.contains("skiff ledger rebuild"), "\(shipAgain)")
            // The named fix works: the damaged file is kept aside and every shipped block is recorded again.
            let rebuild = try await SkiffProcess.run(
                [
                    "ledger", "rebuild", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label",
                    "cluster=eu1",
                ])
            #expect(rebuild.status == 0 && rebuild.stdout.contains("previous ledger kept as \(ledgerPath).broken-"), "\(rebuild)")
            #expect(rebuild.stdout.contains("\(world.localBlocks.count) committed block(s) recorded"), "\(rebuild)")
            let again = try await SkiffProcess.run(["ledger", "check", "--tsdb.path", world.tsdb])
            #expect(again.status == 0, "\(again)")
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    @Test func readinessFollowsPrometheus() async throws {
        let world = try await World.make()
        do {
            _ = try await Self.withSidecar(world.arguments(bucket: false)) { running in
                let ready = try await HTTPProbe.waitFor(port: world.httpPort, path: "/-/ready", within: .seconds(30)) {
                    $0?.status == 200
                }
                #expect(ready?.status == 200, "\(running.stderrSoFar)")
                await world.prometheus.halt()
                let down = try await HTTPProbe.waitFor(port: world.httpPort, path: "/-/ready", within: .seconds(10)) {
                    $0?.status == 503
                }
                #expect(down?.status == 503)
                #expect(down?.body == "NOT OK")
                #expect(await HTTPProbe.get(port: world.httpPort, path: "/-/healthy")?.status == 200)
                #expect(
                    await HTTPProbe.get(port: world.httpPort, path: "/metrics")?.body.contains("thanos_sidecar_prometheus_up 0")
                        == true)
                try await world.prometheus.restart()
                let back = try await HTTPProbe.waitFor(port: world.httpPort, path: "/-/ready", within: .seconds(10)) {
                    $0?.status == 200
                }
                #expect(back?.status == 200, "\(running.stderrSoFar)")
            }
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    @Test func emptyExternalLabelsEndTheProcessWithTheFix() async throws {
        let world = try await World.make(labels: [:])
        do {
            let result = try await SkiffProcess.run(world.arguments(), timeout: .seconds(30))
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("no external labels configured on Prometheus server"), "\(result)")
            #expect(result.stderr.contains("global.external_labels"), "\(result)")
            #expect(world.shipped().isEmpty)
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    @Test func compactionEnabledRefusesUploadUnlessOverridden() async throws {
        let world = try await World.make(minBlock: "2h", maxBlock: "6h")
        do {
            _ = try await Self.withSidecar(world.arguments()) { running in
                try await Task.sleep(for: .seconds(2))
                #expect(world.shipped().isEmpty)
                #expect(await HTTPProbe.get(port: world.httpPort, path: "/-/ready")?.status == 503)
                #expect(running.stderrSoFar.contains("Compaction needs to be disabled"), "\(running.stderrSoFar)")
            }
            _ = try await Self.withSidecar(world.arguments(["--shipper.ignore-unequal-block-size"])) { running in
                let deadline = ContinuousClock.now + .seconds(60)
                while world.shipped().count < world.localBlocks.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
            }
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    @Test func unreachablePrometheusIsHealthyNotReadyAndSaysSo() async throws {
        let root = try TempDir()
        defer { root.remove() }
        try FileManager.default.createDirectory(atPath: root.sub("tsdb/wal"), withIntermediateDirectories: true)
        let ports = try HTTPProbe.freePorts(3)
        let (httpPort, deadPort, grpcPort) = (ports[0], ports[1], ports[2])
        _ = try await Self.withSidecar([
            "sidecar", "--tsdb.path", root.sub("tsdb"), "--prometheus.url", "http://127.0.0.1:\(deadPort)",
            "--http-address", "127.0.0.1:\(httpPort)", "--grpc-address", "127.0.0.1:\(grpcPort)",
            "--prometheus.get_config_interval", "300ms", "--http-grace-period", "1s",
        ]) { running in
            let healthy = try await HTTPProbe.waitFor(port: httpPort, path: "/-/healthy", within: .seconds(30)) {
                $0?.status == 200
            }
            #expect(healthy?.body == "OK")
            #expect(await HTTPProbe.get(port: httpPort, path: "/-/ready")?.status == 503)
            try await Task.sleep(for: .seconds(1))
            #expect(running.stderrSoFar.contains("prometheus not reachable yet; retrying"), "\(running.stderrSoFar)")
            #expect(running.stderrSoFar.contains("127.0.0.1:\(deadPort)"))
        }
    }

    /// SIGTERM while a file upload is held up: the sidecar exits within its grace period, and
    /// the next start finishes the block without sending again what was recorded as uploaded.
    @Test func sigtermMidUploadResumesOnNextStart() async throws {
        let world = try await World.make()
        do {
            let (_, stopped) = try await Self.withSidecar(
                world.arguments(), environment: ["SKIFF_FAILPOINTS": "before:upload:index=sleep(20000)"]
            ) { running in
                let deadline = ContinuousClock.now + .seconds(30)
                while !running.stderrSoFar.contains("block chunks_uploaded") && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(running.stderrSoFar.contains("block chunks_uploaded"), "\(running.stderrSoFar)")
            }
            #expect(stopped.status == 0 && !stopped.signaled, "\(stopped)")
            let first = world.localBlocks[0]
            let chunk = "\(world.bucket)/\(first)/chunks/000001"
            var before = stat()
            #expect(stat(chunk, &before) == 0, "the chunk file had been uploaded")
            #expect(!FileManager.default.fileExists(atPath: "\(world.bucket)/\(first)/meta.json"))
            _ = try await Self.withSidecar(world.arguments()) { running in
                let deadline = ContinuousClock.now + .seconds(60)
                while world.shipped().count < world.localBlocks.count && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
            }
            var after = stat()
            #expect(stat(chunk, &after) == 0)
            #expect(after.st_ino == before.st_ino, "the recorded chunk upload was sent again")
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// The same against S3 (juicefs gateway): every block's objects land, meta.json last.
    @Test func shipsToS3() async throws {
        try await S3TestServer.withServer(.juicefs) { server in
            let world = try await World.make()
            do {
                try server.objstoreYAML().write(toFile: world.bucketConfig, atomically: true, encoding: .utf8)
                _ = try await Self.withSidecar(world.arguments()) { running in
                    let deadline = ContinuousClock.now + .seconds(60)
                    var objects: [String: Int64] = [:]
                    while ContinuousClock.now < deadline {
                        objects = try await server.listObjects()
                        if world.localBlocks.allSatisfy({ objects["\($0)/meta.json"] != nil }) { break }
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    for ulid in world.localBlocks {
                        #expect(objects["\(ulid)/meta.json"] != nil, "\(running.stderrSoFar)")
                        #expect(objects["\(ulid)/index"] != nil)
                        #expect(objects["\(ulid)/chunks/000001"] != nil)
                    }
                }
                let ledger = try Ledger.open(path: world.tsdb + "/thanos/skiff-ledger.db", readOnly: true)
                #expect(try await ledger.blocks().allSatisfy { $0.state == .committed })
            } catch {
                await world.finish()
                throw error
            }
            await world.finish()
        }
    }

    /// Blocks Prometheus cuts itself while the sidecar runs: 8h of history remote-written into an
    /// empty head is compacted into 2h blocks at once, and each is shipped as it appears.
    @Test func shipsBlocksPrometheusCutsWhileRunning() async throws {
        let world = try await World.make(promtoolBlocks: false)
        do {
            _ = try await Self.withSidecar(world.arguments()) { running in
                let ready = try await HTTPProbe.waitFor(port: world.httpPort, path: "/-/ready", within: .seconds(30)) {
                    $0?.status == 200
                }
                #expect(ready?.status == 200, "\(running.stderrSoFar)")
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try await RemoteWrite.push(
                    RemoteWrite.history(name: "rw_gauge", count: 10, from: now - 8 * 3_600_000, to: now, stepMillis: 15_000),
                    to: world.prometheus.url)
                let deadline = ContinuousClock.now + .seconds(60)
                while (world.localBlocks.count < 2 || world.shipped().count < world.localBlocks.count)
                    && ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(world.localBlocks.count >= 2, "Prometheus cut no blocks: \(world.prometheus.logTail())")
                #expect(world.shipped() == world.localBlocks, "\(running.stderrSoFar)")
            }
            for ulid in world.localBlocks {
                let meta = try JSONValue.parse(
                    [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(world.bucket)/\(ulid)/meta.json"))))
                #expect(meta["thanos"]?["labels"]?["cluster"] == .string("eu1"))
                #expect(meta["compaction"]?["level"] == .number("1"), "\(meta)")
            }
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }
}
