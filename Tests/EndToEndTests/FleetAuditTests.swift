import AuditExport
import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

/// The fleet audit end to end with the built binary: several `skiff ship --audit.export` runs with
/// different external labels export into one bucket; `skiff fleet report` and DuckDB (reading the
/// bucket's directory with Hive partitions) give the same numbers; the block listings and the
/// reconciler ignore `skiff-audit/`; kill -9 anywhere in an export loses and repeats nothing.
@Suite struct FleetAuditTests {
    static let sources: [[String]] = [["cluster=eu1", "replica=0"], ["cluster=eu1", "replica=1"], ["cluster=us1"]]

    /// A data dir of real blocks (ShippingWorld's) shipping into `bucketConfig` with `labels`.
    static func ship(
        _ world: ShippingWorld, labels: [String], bucketConfig: String, failpoints: String? = nil, maxRows: Int = 4
    ) async throws -> SkiffProcess.Result {
        try await SkiffProcess.run(
            ["ship", "--tsdb.path", world.tsdb, "--objstore.config-file", bucketConfig, "--shipper.retry-backoff", "10ms"]
                + labels.flatMap { ["--label", $0] } + ["--audit.export", "--audit.export-max-rows", "\(maxRows)"],
            environment: failpoints.map { ["SKIFF_FAILPOINTS": $0] } ?? [:])
    }

    /// A world whose blocks are its own (new ULIDs): sources sharing a bucket must not ship the
    /// same blocks (the second would find the first's meta.json and quarantine them).
    static func freshWorld() async throws -> ShippingWorld {
        let world = try await ShippingWorld()
        for ulid in world.localBlocks { try FileManager.default.removeItem(atPath: world.tsdb + "/" + ulid.string) }
        _ = try await PromBlocks.make(series: 3, hours: 5, stepSeconds: 120, into: world.tsdb)
        return world
    }

    /// Every record's (source, seq) in the bucket.
    static func records(_ bucket: any Bucket) async throws -> [FleetRecord] {
        var out: [FleetRecord] = []
        try await FleetReader.forEach(in: bucket) { (r: FleetRecord) throws(SkiffError) in out.append(r) }
        return out
    }

    static func transitionCount(_ world: ShippingWorld) async throws -> Int {
        try await transitionCount(ledgerPath: world.ledgerPath)
    }

    static func transitionCount(ledgerPath: String) async throws -> Int {
        let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
        var n = 0
        for block in try await ledger.blocks() { n += try await ledger.history(block.ulid).count }
        return n
    }

    static func fleetReport(_ args: [String], config: String) async throws -> JSONValue {
        let result = try await SkiffProcess.run(
            ["fleet", "report"] + args + ["--objstore.config-file", config, "--output", "json"])
        #expect(result.status == 0, "\(result)")
        return try JSONValue.parse(Array(result.stdout.utf8))
    }

    /// The same questions asked of DuckDB over the bucket's directory.
    static let duckdbScript = #"""
        import duckdb, json, sys
        con = duckdb.connect()
        con.sql(f"""CREATE VIEW audit AS SELECT * FROM read_json('{sys.argv[1]}/skiff-audit/v1/**/*.ndjson.gz',
            hive_partitioning = true, hive_types = {{'date': 'DATE', 'source': 'VARCHAR'}})""")
        def rows(q): return con.sql(q).fetchall()
        # A block counts once per source, at its first commit (a rebuilt ledger commits it again).
        con.sql("""CREATE VIEW firsts AS SELECT source, ulid, arg_min(date, time_ms) AS date,
                       arg_min(coalesce(bytes, 0), time_ms) AS bytes, arg_min(time_ms - block_max_time, time_ms) AS lag_ms
                   FROM audit WHERE to_state = 'committed' GROUP BY source, ulid""")
        out = {
          "shipped": rows("SELECT CAST(date AS VARCHAR), count(*), CAST(sum(bytes) AS BIGINT) FROM firsts GROUP BY 1 ORDER BY 1"),
          "shipped_by_source": rows("SELECT source, count(*), CAST(sum(bytes) AS BIGINT) FROM firsts GROUP BY 1 ORDER BY 1"),
          "lag": rows("""WITH l AS (SELECT lag_ms, row_number() OVER (ORDER BY lag_ms) AS r, count(*) OVER () AS n FROM firsts)
                         SELECT count(*), (SELECT lag_ms FROM l WHERE r = (n + 1) // 2 LIMIT 1) / 1000::DOUBLE,
                                (SELECT lag_ms FROM l WHERE r = greatest(1, CAST(ceil(n * 0.9) AS BIGINT)) LIMIT 1) / 1000::DOUBLE,
                                max(lag_ms) / 1000::DOUBLE FROM l"""),
          "failures": rows("SELECT error, count(*), count(DISTINCT source || '/' || ulid) FROM audit WHERE to_state = 'failed' GROUP BY 1 ORDER BY 1"),
          "rows": rows("SELECT count(*), count(DISTINCT source || '/' || ledger || '/' || seq) FROM audit"),
          "ledgers": rows("SELECT count(DISTINCT ledger) FROM audit"),
        }
        print(json.dumps(out))
        """#

    @Test(.needs(.promtool, .duckdb)) func shipRunsExportAndDuckDBAgreesWithTheFleetReport() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let bucketDir = root.sub("bucket")
        let config = root.sub("bucket.yml")
        try "type: FILESYSTEM\nconfig:\n  directory: \(bucketDir)\n".write(toFile: config, atomically: true, encoding: .utf8)
        var worlds: [ShippingWorld] = []
        for (i, labels) in Self.sources.enumerated() {
            let world = try await Self.freshWorld()
            worlds.append(world)
            // The first source's first index upload fails once: a failure row, then a retry.
            let result = try await Self.ship(
                world, labels: labels, bucketConfig: config, failpoints: i == 0 ? "before:upload:index=error@1" : nil)
            #expect(result.status == 0, "\(result)")
        }
        var transitions = 0
        for world in worlds { transitions += try await Self.transitionCount(world) }
        // The first source loses its ledger and rebuilds it from the bucket: the new ledger
        // commits every block again under a new identity and exports that beside the old records.
        let rebuild = try await SkiffProcess.run(
            ["ledger", "rebuild", "--tsdb.path", worlds[0].tsdb, "--objstore.config-file", config, "--force"]
                + Self.sources[0].flatMap { ["--label", $0] })
        #expect(rebuild.status == 0, "\(rebuild)")
        let again = try await Self.ship(worlds[0], labels: Self.sources[0], bucketConfig: config)
        #expect(again.status == 0, "\(again)")
        transitions += try await Self.transitionCount(worlds[0])

        // Every transition of every source exactly once, each source under its own prefix.
        let bucket = try FilesystemBucket(directory: bucketDir)
        let records = try await Self.records(bucket)
        #expect(records.count == transitions)
        #expect(Set(records.map { "\($0.source)/\($0.ledger)/\($0.seq)" }).count == transitions)
        #expect(Set(records.map(\.ledger)).count == 4)
        let ids = Set(records.map(\.source))
        let python = try await ExternalProgram.python3.run([
            "-c",
            "import hashlib,sys; print(' '.join(sorted(hashlib.sha256(a.encode()).hexdigest()[:16] for a in sys.argv[1:])))",
            #"cluster="eu1",replica="0""#, #"cluster="eu1",replica="1""#, #"cluster="us1""#,
        ])
        #expect(ids.sorted().joined(separator: " ") == python.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        let duck = try await ExternalProgram.duckdb.run(["-c", Self.duckdbScript, bucketDir])
        #expect(duck.succeeded, "\(duck.stderr)")
        let d = try JSONValue.parse(Array(duck.stdout.utf8))
        func ints(_ v: JSONValue?) -> [String] { (v?.arrayValue ?? []).map { $0.encodedCompact() } }

        #expect(ints(d["rows"]) == ["[\(transitions),\(transitions)]"])
        #expect(ints(d["ledgers"]) == ["[4]"])
        let shipped = try await Self.fleetReport(["shipped"], config: config)
        #expect(
            (shipped.arrayValue ?? []).map {
                "[\($0["day"]!.encodedCompact()),\($0["blocks"]!.encodedCompact()),\($0["bytes"]!.encodedCompact())]"
            }
                == ints(d["shipped"]))
        let bySource = try await Self.fleetReport(["shipped", "--by", "source"], config: config)
        #expect(
            (bySource.arrayValue ?? []).map {
                "[\($0["source"]!.encodedCompact()),\($0["blocks"]!.encodedCompact()),\($0["bytes"]!.encodedCompact())]"
            }
                == ints(d["shipped_by_source"]))
        #expect(bySource.arrayValue?.count == 3)
        // Every block once, though the first source's were committed by two ledgers.
        #expect(
            (bySource.arrayValue ?? []).compactMap { $0["blocks"]?.int64Value }.reduce(0, +)
                == Int64(worlds.map(\.localBlocks.count).reduce(0, +)))
        let lag = try await Self.fleetReport(["lag"], config: config)
        let duckLag = try #require(d["lag"]?.arrayValue?.first?.arrayValue)
        let ourLag = try #require(lag.arrayValue?.first)
        #expect(ourLag["blocks"]?.int64Value == duckLag[0].int64Value)
        for (column, i) in [("median_s", 1), ("p90_s", 2), ("max_s", 3)] {
            #expect(Double(ourLag[column]?.encodedCompact() ?? "") == Double(duckLag[i].encodedCompact()), "\(column)")
        }
        let failures = try await Self.fleetReport(["failures"], config: config)
        #expect(
            (failures.arrayValue ?? []).map {
                "[\($0["error"]!.encodedCompact()),\($0["attempts"]!.encodedCompact()),\($0["blocks"]!.encodedCompact())]"
            }
            .sorted() == ints(d["failures"]))
        #expect(failures.arrayValue?.count == 1)

        // The block listings and the reconciler see blocks only.
        let ls = try await SkiffProcess.run(["bucket", "ls", "--objstore.config-file", config, "--output", "json"])
        #expect(ls.status == 0, "\(ls)")
        let listed = try JSONValue.parse(Array(ls.stdout.utf8)).arrayValue ?? []
        #expect(listed.count == worlds.map(\.localBlocks.count).reduce(0, +))
        #expect(!ls.stdout.contains("skiff-audit"))
        let reconcile = try await SkiffProcess.run(
            ["reconcile", "--tsdb.path", worlds[0].tsdb, "--objstore.config-file", config, "--output", "json"]
                + Self.sources[0].flatMap { ["--label", $0] })
        #expect(reconcile.status == 0, "\(reconcile)")
        #expect(!reconcile.stdout.contains("skiff-audit") && !reconcile.stderr.contains("skiff-audit"), "\(reconcile)")
    }

    @Test(.needs(.promtool, .motoServer, .boto3)) func sourcesExportToOneS3Bucket() async throws {
        try await S3TestServer.withServer(.moto, bucket: "fleet") { server in
            let root = try TempDir()
            defer { root.remove() }
            let config = root.sub("s3.yml")
            try server.objstoreYAML().write(toFile: config, atomically: true, encoding: .utf8)
            var committed: [String: Int] = [:]
            for labels in Self.sources.prefix(2) {
                let world = try await Self.freshWorld()
                let result = try await Self.ship(world, labels: labels, bucketConfig: config)
                #expect(result.status == 0, "\(result)")
                let id = AuditSource(labels: try LabelSet.parse(flags: labels)).id
                committed[id] = world.localBlocks.count
                let records = try await server.withSkiffBucket { bucket in try await Self.records(bucket) }
                #expect(records.filter { $0.source == id }.count == (try await Self.transitionCount(world)))
            }
            let bySource = try await Self.fleetReport(["shipped", "--by", "source"], config: config)
            var seen: [String: Int] = [:]
            for row in bySource.arrayValue ?? [] {
                seen[row["source"]?.stringValue ?? ""] = Int(row["blocks"]?.int64Value ?? -1)
            }
            #expect(seen == committed)
        }
    }

    /// kill -9 at every failpoint of the export, then at random moments, restarting each time;
    /// finally every transition is in the bucket exactly once and the cursor is at the end.
    @Test(.needs(.promtool)) func killedAnywhereEveryTransitionLandsExactlyOnce() async throws {
        let world = try await ShippingWorld()
        let labels = Self.sources[0]
        let points = [
            "after:chunks_uploaded=exit@1",  // mid-ship: the ledger grows between exports
            "audit:planned=exit@2", "audit:after:upload=exit@2", "audit:before:cursor=exit@2",
            "audit:after:cursor=exit@1", "audit:before:upload=exit@3",
        ]
        var killed = 0
        for point in points {
            let result = try await Self.ship(
                world, labels: labels, bucketConfig: world.bucketConfig, failpoints: point, maxRows: 2)
            #expect(result.killedBySIGKILL || result.status == 0, "\(point): \(result)")
            if result.killedBySIGKILL { killed += 1 }
        }
        #expect(killed >= 5, "most failpoints must have been reached")
        // Random moments: every export step pauses 10 ms, so a kill lands inside an export.
        var random = SystemRandomNumberGenerator()
        for _ in 0..<4 {
            let running = try SkiffProcess.start(
                ["ship", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig]
                    + labels.flatMap { ["--label", $0] } + ["--audit.export", "--audit.export-max-rows", "1"],
                environment: ["SKIFF_FAILPOINTS": "audit:*=sleep(10)"])
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...400, using: &random)))
            running.kill9()
            _ = try await running.wait()
        }
        let last = try await Self.ship(world, labels: labels, bucketConfig: world.bucketConfig)
        #expect(last.status == 0, "\(last)")
        try await world.expectFullyShipped()

        let transitions = try await Self.transitionCount(world)
        let records = try await Self.records(try FilesystemBucket(directory: world.bucket))
        #expect(records.map(\.seq).sorted() == Array(1...Int64(transitions)))
        let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
        #expect(try await ledger.auditExportCursor() == AuditExportCursor(exportedThrough: Int64(transitions), pending: nil))
    }

    /// `skiff sidecar --audit.export` next to a real Prometheus: every transition of its ledger
    /// reaches the bucket under the source id of Prometheus' external labels, while it runs.
    @Test(.needs(.promtool, .prometheus)) func theSidecarExportsUnderPrometheusLabels() async throws {
        let world = try await SidecarTests.World.make(labels: ["cluster": "eu3", "replica": "1"])
        let ledgerPath = world.tsdb + "/thanos/skiff-ledger.db"
        let source = AuditSource(labels: ["cluster": "eu3", "replica": "1"]).id
        do {
            let arguments = world.arguments(["--audit.export", "--audit.export-interval", "1s"])
            let (exported, result) = try await SidecarTests.withSidecar(arguments) { running in
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    if world.shipped().count == world.localBlocks.count, FileManager.default.fileExists(atPath: ledgerPath) {
                        // Ledger first, bucket second: once the ledger holds every commit, records
                        // listed afterwards that cover every transition it held then include them.
                        // (Reading the cursor separately raced with the next export: the records
                        // matched an older cursor while a newer one said nothing was left.)
                        let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
                        let committed = try await ledger.blockSummaries().filter { $0.state == .committed }.count
                        let transitions = try await Self.transitionCount(ledgerPath: ledgerPath)
                        let records = try await Self.records(try FilesystemBucket(directory: world.bucket))
                        if committed == world.localBlocks.count, transitions > 0, records.count >= transitions {
                            return records
                        }
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
                Issue.record("the sidecar did not export its transitions in time:\n\(running.stderrSoFar)")
                return []
            }
            #expect(result.status == 0, "\(result)")
            #expect(!exported.isEmpty)
            #expect(exported.allSatisfy { $0.source == source && $0.labels == #"cluster="eu3",replica="1""# })
            #expect(exported.map(\.seq) == Array(1...Int64(exported.count)))
            #expect(exported.filter { $0.toState == "committed" }.count == world.localBlocks.count)
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// With a long `--audit.export-interval`, transitions recorded after the first export reach the
    /// bucket only through the export at shutdown (SIGTERM): none may be left behind.
    @Test(.needs(.promtool, .prometheus)) func theSidecarExportsTheRestAtShutdown() async throws {
        let world = try await SidecarTests.World.make(labels: ["cluster": "eu4"])
        let ledgerPath = world.tsdb + "/thanos/skiff-ledger.db"
        do {
            let arguments = world.arguments(["--audit.export", "--audit.export-interval", "1h"])
            let (unexportedAtStop, result) = try await SidecarTests.withSidecar(arguments) { running in
                // The first check (10 s after start) exports the backlog; the next is an hour away.
                let deadline = ContinuousClock.now + .seconds(90)
                func exportedOnce() async throws -> Bool {
                    guard FileManager.default.fileExists(atPath: ledgerPath) else { return false }
                    let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
                    return try await ledger.auditExportCursor().exportedThrough > 0
                }
                while ContinuousClock.now < deadline, !(try await exportedOnce()) {
                    try await Task.sleep(for: .milliseconds(200))
                }
                // A new block, two days older than the others (Prometheus leaves it alone), moved in whole.
                let scratch = world.root.sub("scratch")
                let twoDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 2 * 86_400_000
                let made = try await PromBlocks.make(
                    series: 2, hours: 1, stepSeconds: 60, endMillis: twoDaysAgo, into: scratch)
                for path in made {
                    let name = (path as NSString).lastPathComponent
                    try FileManager.default.moveItem(atPath: path, toPath: world.tsdb + "/" + name)
                }
                let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
                while ContinuousClock.now < deadline {
                    let committed = try await ledger.blockSummaries().filter { $0.state == .committed }.count
                    if committed == world.localBlocks.count { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(
                    try await ledger.blockSummaries().filter { $0.state == .committed }.count == world.localBlocks.count,
                    "\(running.stderrSoFar)")
                return try await ledger.auditUnexportedCount()
            }
            #expect(result.status == 0, "\(result)")
            #expect(unexportedAtStop > 0, "the new block's transitions were waiting for the export at shutdown")
            #expect(result.stderr.contains("exported audit records to the bucket at shutdown"), "\(result)")
            let transitions = try await Self.transitionCount(ledgerPath: ledgerPath)
            let records = try await Self.records(try FilesystemBucket(directory: world.bucket))
            #expect(records.map(\.seq) == Array(1...Int64(transitions)))
            let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
            #expect(try await ledger.auditExportCursor() == AuditExportCursor(exportedThrough: Int64(transitions), pending: nil))
        } catch {
            await world.finish()
            throw error
        }
        await world.finish()
    }

    /// Three sidecars next to three Prometheus with different external labels export into one
    /// bucket (a filesystem bucket, then an S3 one): each source's records are all there, the
    /// fleet report counts every block once per source, and over the filesystem bucket DuckDB
    /// gives the same numbers.
    @Test(.needs(.promtool, .prometheus, .duckdb, .motoServer, .boto3)) func threeSidecarsExportToOneBucket() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let fsConfig = root.sub("fs.yml")
        try "type: FILESYSTEM\nconfig:\n  directory: \(root.sub("bucket"))\n".write(
            toFile: fsConfig, atomically: true, encoding: .utf8)
        try await Self.threeSidecars(config: fsConfig, duckdbDir: root.sub("bucket"))
        try await S3TestServer.withServer(.moto, bucket: "fleet3") { server in
            let s3Config = root.sub("s3.yml")
            try server.objstoreYAML().write(toFile: s3Config, atomically: true, encoding: .utf8)
            try await Self.threeSidecars(config: s3Config, duckdbDir: nil)
        }
    }

    static func threeSidecars(config: String, duckdbDir: String?) async throws {
        let labelSets: [[String: String]] = [
            ["cluster": "eu1", "replica": "0"], ["cluster": "eu1", "replica": "1"], ["cluster": "us1"],
        ]
        var worlds: [SidecarTests.World] = []
        do {
            for labels in labelSets { worlds.append(try await SidecarTests.World.make(labels: labels)) }
            try await threeSidecars(worlds, labelSets, config: config, duckdbDir: duckdbDir)
        } catch {
            for world in worlds { await world.finish() }
            throw error
        }
        for world in worlds { await world.finish() }
    }

    /// Waits (up to 90 s) until every world's ledger has its local blocks committed and exported.
    static func allExported(_ worlds: [SidecarTests.World]) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(90)
        var done = false
        while !done, ContinuousClock.now < deadline {
            done = true
            for world in worlds {
                let path = world.tsdb + "/thanos/skiff-ledger.db"
                guard FileManager.default.fileExists(atPath: path) else {
                    done = false
                    break
                }
                let ledger = try Ledger.open(path: path, readOnly: true)
                let committed = try await ledger.blockSummaries().filter { $0.state == .committed }.count
                let unexported = try await ledger.auditUnexportedCount()
                if committed != world.localBlocks.count || unexported > 0 { done = false }
            }
            if !done { try await Task.sleep(for: .milliseconds(300)) }
        }
        return done
    }

    static func threeSidecars(
        _ worlds: [SidecarTests.World], _ labelSets: [[String: String]], config: String, duckdbDir: String?
    ) async throws {
        let running = try worlds.map { world in
            try SkiffProcess.start(
                world.arguments(["--audit.export", "--audit.export-interval", "1s"], bucket: false)
                    + ["--objstore.config-file", config])
        }
        // Each ledger: every local block committed, and every transition exported.
        let done: Bool
        do { done = try await Self.allExported(worlds) } catch {
            for process in running { process.kill9() }
            for process in running { _ = try? await process.wait(timeout: .seconds(10)) }
            throw error
        }
        for process in running { process.terminate() }
        if !done { for process in running { Issue.record("sidecar log:\n\(process.stderrSoFar.suffix(3000))") } }
        for process in running {
            let result = try await process.wait(timeout: .seconds(30))
            #expect(result.status == 0, "\(result)")
        }
        #expect(done, "the sidecars did not ship and export in time")

        var expected: [String: Int64] = [:]
        var transitions = 0
        for (world, labels) in zip(worlds, labelSets) {
            expected[AuditSource(labels: LabelSet(labels.map { Label(name: $0.key, value: $0.value) })).id] =
                Int64(world.localBlocks.count)
            transitions += try await Self.transitionCount(ledgerPath: world.tsdb + "/thanos/skiff-ledger.db")
        }
        let bySource = try await Self.fleetReport(["shipped", "--by", "source"], config: config)
        var seen: [String: Int64] = [:]
        for row in bySource.arrayValue ?? [] { seen[row["source"]?.stringValue ?? ""] = row["blocks"]?.int64Value }
        #expect(seen == expected)

        guard let duckdbDir else { return }
        let duck = try await ExternalProgram.duckdb.run(["-c", Self.duckdbScript, duckdbDir])
        #expect(duck.succeeded, "\(duck.stderr)")
        let d = try JSONValue.parse(Array(duck.stdout.utf8))
        #expect(d["rows"]?.arrayValue?.first?.encodedCompact() == "[\(transitions),\(transitions)]")
        let duckBySource = (d["shipped_by_source"]?.arrayValue ?? []).map { $0.encodedCompact() }
        let ours = (bySource.arrayValue ?? []).map {
            "[\($0["source"]!.encodedCompact()),\($0["blocks"]!.encodedCompact()),\($0["bytes"]!.encodedCompact())]"
        }
        #expect(ours == duckBySource)
        let lag = try await Self.fleetReport(["lag"], config: config)
        let duckLag = d["lag"]?.arrayValue?.first?.arrayValue ?? []
        #expect(lag.arrayValue?.first?["blocks"]?.int64Value == duckLag.first?.int64Value)
        #expect(Double(lag.arrayValue?.first?["max_s"]?.encodedCompact() ?? "") == Double(duckLag.last?.encodedCompact() ?? ""))
    }
}
