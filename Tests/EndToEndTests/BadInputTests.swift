import Foundation
import TestSupport
import Testing

/// Every way an operator can get the inputs wrong ends in exit code 1 and a message that says
/// what to do, and loses nothing.
@Suite(.needs(.promtool, .python3)) struct BadInputTests {
    func expectFailure(
        _ result: SkiffProcess.Result, mentioning parts: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1 && !result.signaled, "\(result)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(result.stderr.contains(part), "stderr lacks \"\(part)\": \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func missingTSDBPath() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        var args = world.shipArguments
        args[args.firstIndex(of: world.tsdb)!] = world.root.sub("nope")
        expectFailure(try await SkiffProcess.run(args), mentioning: ["--tsdb.path", "does not exist"])
    }

    @Test func noLabels() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let result = try await SkiffProcess.run(["ship", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig])
        expectFailure(result, mentioning: ["no external labels", "--label cluster=eu1"])
    }

    @Test(arguments: [
        ("type: FILESYSTEM\nconfig:\n  directory: /tmp/x\n  bogus: 1\n", "unknown key \"config.bogus\""),
        ("type: FILESYSTEM\nconfig: {}\n", "directory"),
        ("type: S3\nconfig:\n  bucket: b\n", "S3 needs config.endpoint"),
        ("type: AZURE\nconfig:\n  container: b\n", "bucket type AZURE is not supported by Skiff; supported: FILESYSTEM, S3, GCS"),
        ("type: GCS\nconfig:\n  bucket: b\n  use_grpc: true\n", "config.use_grpc is not supported"),
        ("type: NOPE\nconfig: {}\n", "unknown bucket type"),
        ("type: [unclosed\n", "bucket config"),
        ("", "bucket config"),
    ])
    func badBucketConfig(_ yaml: String, _ message: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try yaml.write(toFile: world.bucketConfig, atomically: true, encoding: .utf8)
        expectFailure(try await world.ship(), mentioning: [message])
        #expect(!FileManager.default.fileExists(atPath: world.ledgerPath), "nothing should start on a bad config")
    }

    @Test func bucketConfigFileMissing() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try FileManager.default.removeItem(atPath: world.bucketConfig)
        expectFailure(try await world.ship(), mentioning: [world.bucketConfig])
    }

    @Test func unwritableBucketDirectory() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        _ = FileManager.default.createFile(atPath: world.root.sub("plainfile"), contents: Data("x".utf8))
        try "type: FILESYSTEM\nconfig:\n  directory: \(world.root.sub("plainfile/bucket"))\n".write(
            toFile: world.bucketConfig, atomically: true, encoding: .utf8)
        expectFailure(try await world.ship(), mentioning: ["plainfile/bucket", "not usable"])
    }

    @Test func ledgerFromANewerSkiff() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let sqlite = try await ExternalProgram.python3.run([
            "-c",
            "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute(\"INSERT INTO grdb_migrations VALUES ('9999_future')\");c.commit()",
            world.ledgerPath,
        ])
        try #require(sqlite.succeeded, "\(sqlite.stderr)")
        expectFailure(try await world.ship(), mentioning: ["newer skiff", "upgrade skiff"])
        expectFailure(try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb]), mentioning: ["newer skiff"])
    }

    @Test func ledgerThatIsNotSQLite() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try FileManager.default.createDirectory(atPath: world.tsdb + "/thanos", withIntermediateDirectories: true)
        let junk = Data(repeating: 0x5A, count: 8192)
        try junk.write(to: URL(fileURLWithPath: world.ledgerPath))
        // Not SQLite at all, so never called a damaged ledger (issue 17, case 25): rebuild would not move it.
        expectFailure(try await world.ship(), mentioning: ["is not a SQLite database", "move it away yourself"])
        #expect(FileManager.default.contents(atPath: world.ledgerPath) == junk, "the operator's file must be left as it was")
    }

    @Test func badLabelAndBadFailpointSpec() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        expectFailure(try await world.ship(extra: ["--label", "bad-name=1"]), mentioning: ["bad-name", "invalid"])
        expectFailure(try await world.ship(failpoints: "after:hashed=explode"), mentioning: ["SKIFF_FAILPOINTS"])
    }

    @Test func twoShippersOnOneDataDir() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        // Held far longer than the test takes (it is killed at the end), so a busy machine cannot
        // let it finish and release the lock before the second run starts.
        let first = try SkiffProcess.start(world.shipArguments, environment: ["SKIFF_FAILPOINTS": "after:stage=sleep(60000)"])
        defer { first.kill9() }
        let lockFile = world.tsdb + "/thanos/skiff.lock"
        for _ in 0..<400 {  // until the first process holds the lock (bounded: 20 s)
            if let text = FileManager.default.contents(atPath: lockFile),
                String(decoding: text, as: UTF8.self) == "\(first.pid)\n"
            {
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        expectFailure(try await world.ship(), mentioning: ["another skiff", "pid \(first.pid)"])
    }

    /// A corrupt block fails every run (exit 1, named in the output) while the others ship.
    @Test func corruptMetaJSONIsQuarantinedOnEveryRun() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[1]
        try Data("{\"ulid\": 12".utf8).write(to: URL(fileURLWithPath: "\(world.tsdb)/\(bad)/meta.json"))
        for _ in 0..<2 {
            let result = try await world.ship()
            #expect(result.status == 1, "\(result)")
            let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("quarantined \(bad)") } ?? ""
            #expect(line.contains("meta.json is not valid JSON") && line.contains("fixed or moved"), "\(result.stdout)")
        }
        let blocks = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb])
        #expect(blocks.stdout.split(separator: "\n").filter { $0.contains("committed") }.count == world.localBlocks.count - 1)
    }

    @Test func reportingWithoutALedger() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        expectFailure(try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb]), mentioning: ["run `skiff ship` first"])
        expectFailure(
            try await SkiffProcess.run(["history", "nope", "--tsdb.path", world.tsdb]), mentioning: ["not a ULID"])
    }
}
