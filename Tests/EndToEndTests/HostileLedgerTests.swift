import Foundation
import TestSupport
import Testing

/// `--ledger.path` and `--tsdb.path` pointed at the wrong thing (issue 17): a Prometheus file, a
/// device, a FIFO, a directory, a dangling or sneaky symlink, an emptied ledger, another program's
/// database. Each is refused with a message that names the path and says what to do, and nothing
/// Prometheus owns is changed, moved or created in.
@Suite(.needs(.promtool, .python3)) struct HostileLedgerTests {
    static let labels = ["--label", "cluster=eu1", "--label", "replica=0"]

    func expectRefused(
        _ result: SkiffProcess.Result, mentioning parts: [String], notMentioning absent: [String] = ["is damaged"],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1 && !result.signaled, "\(result)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(result.stderr.contains(part), "stderr lacks \"\(part)\": \(result.stderr)", sourceLocation: sourceLocation)
        }
        for part in absent {
            #expect(!result.stderr.contains(part), "stderr has \"\(part)\": \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    func rebuild(
        _ world: ShippingWorld, _ extra: [String] = [], environment: [String: String] = [:]
    ) async throws
        -> SkiffProcess.Result
    {
        try await SkiffProcess.run(
            ["ledger", "rebuild", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig] + Self.labels
                + extra, environment: environment, timeout: .seconds(30))
    }

    /// Every file of every block, byte for byte, and no other entry in a block dir.
    func expectBlocksPristine(_ world: ShippingWorld, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let pristine = try await ShippingWorld.pristine.value()
        for ulid in world.localBlocks {
            let dir = "\(world.tsdb)/\(ulid)"
            let now = Set(try FileManager.default.subpathsOfDirectory(atPath: dir))
            let then = Set(try FileManager.default.subpathsOfDirectory(atPath: "\(pristine)/\(ulid)"))
            #expect(now == then, "\(ulid): \(now.symmetricDifference(then))", sourceLocation: sourceLocation)
            for rel in then {
                #expect(world.data("\(dir)/\(rel)") == world.data("\(pristine)/\(ulid)/\(rel)"), sourceLocation: sourceLocation)
            }
        }
    }

    /// Case 25: the "damaged" advice, followed, renamed Prometheus' index and put a SQLite file there.
    @Test func ledgerPathInsideABlockDirIsRefusedEverywhere() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let block = world.localBlocks[0]
        for target in ["\(world.tsdb)/\(block)/index", "\(world.tsdb)/\(block)/skiff.db", "\(world.tsdb)/\(block)/chunks/x.db"] {
            let path = ["--ledger.path", target]
            expectRefused(try await world.ship(extra: path), mentioning: [target, "inside the block dir"])
            expectRefused(try await rebuild(world, path), mentioning: [target, "inside the block dir"])
            expectRefused(try await rebuild(world, path + ["--force"]), mentioning: ["inside the block dir"])
        }
        for command in [["blocks"], ["ledger", "check"], ["sql", "SELECT 1"], ["report", "lag"]] {
            let result = try await SkiffProcess.run(
                command + ["--tsdb.path", world.tsdb, "--ledger.path", "\(world.tsdb)/\(block)/index"])
            expectRefused(result, mentioning: ["inside the block dir"])
        }
        // wal/ of the data dir (with a segment, as Prometheus leaves it) is Prometheus' too.
        FileManager.default.createFile(atPath: "\(world.tsdb)/wal/00000000", contents: Data(count: 64))
        expectRefused(try await world.ship(extra: ["--ledger.path", "\(world.tsdb)/wal/l.db"]), mentioning: ["wal/ dir"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(world.tsdb)/wal") == ["00000000"])
        try await expectBlocksPristine(world)
    }

    /// Case 26 and lookalikes: a device, a FIFO (SQLite would wait for a writer), a directory (22).
    @Test func ledgerPathThatIsNotARegularFile() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let journalBefore = FileManager.default.fileExists(atPath: "/dev/null-journal")
        expectRefused(
            try await world.ship(extra: ["--ledger.path", "/dev/null"]), mentioning: ["/dev/null", "character device"])
        if !journalBefore { #expect(!FileManager.default.fileExists(atPath: "/dev/null-journal")) }
        let fifo = world.root.sub("ledger.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        expectRefused(try await world.ship(extra: ["--ledger.path", fifo]), mentioning: [fifo, "FIFO"])
        expectRefused(
            try await SkiffProcess.run(["blocks", "--ledger.path", fifo, "--tsdb.path", world.tsdb], timeout: .seconds(20)),
            mentioning: ["FIFO"])
        try FileManager.default.createDirectory(atPath: world.ledgerPath, withIntermediateDirectories: true)
        expectRefused(try await world.ship(), mentioning: [world.ledgerPath, "is a directory"])
        expectRefused(try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb]), mentioning: ["is a directory"])
        expectRefused(try await rebuild(world), mentioning: ["is a directory"])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: "\(world.tsdb)/thanos").sorted() == [
                "skiff-ledger.db", "skiff.lock",
            ])
    }

    /// Case 24: a dangling symlink; and one that leads into a block dir, which ship would have
    /// followed to create a database there.
    @Test func ledgerSymlinks() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try FileManager.default.createDirectory(atPath: "\(world.tsdb)/thanos", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: world.ledgerPath, withDestinationPath: "../../nowhere/x.db")
        expectRefused(try await world.ship(), mentioning: [world.ledgerPath, "symlink to ../../nowhere/x.db", "does not exist"])
        let block = world.localBlocks[0]
        for target in ["../\(block)/skiff.db", "../\(block)/index"] {
            try FileManager.default.removeItem(atPath: world.ledgerPath)
            try FileManager.default.createSymbolicLink(atPath: world.ledgerPath, withDestinationPath: target)
            expectRefused(try await world.ship(), mentioning: ["resolves to", "inside the block dir"])
            expectRefused(try await rebuild(world), mentioning: ["inside the block dir"])
        }
        try await expectBlocksPristine(world)
    }

    /// Case 20: an emptied ledger is a lost history, not an old schema, and `ship` must not quietly
    /// start a new one; `ledger rebuild` is the way back.
    @Test func emptyLedgerPointsAtRebuild() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        try Data().write(to: URL(fileURLWithPath: world.ledgerPath))
        for command in [["ledger", "check"], ["blocks"]] {
            expectRefused(
                try await SkiffProcess.run(command + ["--tsdb.path", world.tsdb]),
                mentioning: ["is empty (0 bytes)", "history", "skiff ledger rebuild"], notMentioning: ["older schema"])
        }
        expectRefused(try await world.ship(), mentioning: ["is empty (0 bytes)", "skiff ledger rebuild"])
        #expect(world.data(world.ledgerPath)?.count == 0, "ship must leave the empty file for the operator")
        let rebuilt = try await rebuild(world)
        #expect(rebuilt.status == 0, "\(rebuilt)")
        let blocks = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb])
        #expect(blocks.stdout.components(separatedBy: "committed").count - 1 == world.localBlocks.count, "\(blocks)")
    }

    /// Case 18: an immutable ledger is "not writable", with what to check, not a GRDB internal.
    @Test func immutableLedger() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        try #require(Self.chattr("+i", world.ledgerPath), "chattr +i needs root and a filesystem with attributes")
        defer { _ = Self.chattr("-i", world.ledgerPath) }
        expectRefused(try await world.ship(), mentioning: [world.ledgerPath, "not writable", "chattr"], notMentioning: ["grdb"])
        let blocks = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb])
        #expect(blocks.status == 0, "reading an immutable ledger still works: \(blocks)")
    }

    static func chattr(_ flag: String, _ path: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// Case 85: a rebuild whose bucket listing fails leaves the sound ledger where it was.
    @Test func failedForcedRebuildKeepsTheLedger() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let before = try #require(world.data(world.ledgerPath))
        // A bucket that cannot be listed: an S3 endpoint that refuses connections, no retries.
        let sound = try String(contentsOfFile: world.bucketConfig, encoding: .utf8)
        try
            "type: S3\nconfig:\n  bucket: b\n  endpoint: 127.0.0.1:1\n  insecure: true\n  access_key: a\n  secret_key: b\n  max_retries: 0\n"
            .write(toFile: world.bucketConfig, atomically: true, encoding: .utf8)
        let result = try await rebuild(world, ["--force"])
        expectRefused(result, mentioning: ["ledger rebuild failed", "\(world.ledgerPath) was left as it was"])
        #expect(world.data(world.ledgerPath) == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(world.tsdb)/thanos")
        #expect(!left.contains { $0.contains(".broken-") || $0.contains(".rebuild-") }, "\(left)")
        let blocks = try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb])
        #expect(blocks.stdout.components(separatedBy: "committed").count - 1 == world.localBlocks.count, "\(blocks)")
        // With the bucket listable again, the forced rebuild swaps the new ledger in, keeping the old.
        try sound.write(toFile: world.bucketConfig, atomically: true, encoding: .utf8)
        let ok = try await rebuild(world, ["--force"])
        #expect(ok.status == 0 && ok.stdout.contains("previous ledger kept as"), "\(ok)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: "\(world.tsdb)/thanos").filter { $0.contains(".broken-") }
        #expect(kept.count == 1 && world.data("\(world.tsdb)/thanos/\(kept[0])") == before, "\(kept)")
    }

    /// Case 39: a data dir with neither wal/ nor blocks (`/var/lib` for `/var/lib/prometheus`).
    @Test func dataDirWithoutWALOrBlocksIsWarnedAbout() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let empty = world.root.sub("var-lib")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        var args = world.shipArguments
        args[args.firstIndex(of: world.tsdb)!] = empty
        let result = try await SkiffProcess.run(args)
        #expect(result.stderr.contains("--tsdb.path \(empty) has no wal/ and no block dirs"), "\(result)")
        #expect(result.stderr.contains("--storage.tsdb.path"), "\(result)")
        let fine = try await world.ship()
        #expect(!fine.stderr.contains("has no wal/"), "\(fine)")
    }

    /// Case 39 for the sidecar: the same warning, from the same workspace code as `ship`.
    @Test func sidecarWarnsAboutADataDirWithoutWALOrBlocks() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let empty = world.root.sub("var-lib")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let ports = try HTTPProbe.freePorts(3)
        let sidecar = try SkiffProcess.start([
            "sidecar", "--tsdb.path", empty, "--prometheus.url", "http://127.0.0.1:\(ports[0])",
            "--http-address", "127.0.0.1:\(ports[1])", "--grpc-address", "127.0.0.1:\(ports[2])",
            "--objstore.config-file", world.bucketConfig, "--http-grace-period", "1s",
        ])
        defer { sidecar.kill9() }
        for _ in 0..<200 where !sidecar.stderrSoFar.contains("has no wal/") && sidecar.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sidecar.stderrSoFar.contains("--tsdb.path \(empty) has no wal/ and no block dirs"), "\(sidecar.stderrSoFar)")
        sidecar.terminate()
        _ = try? await sidecar.wait(timeout: .seconds(20))
    }

    // MARK: - New cases NL1..NL7 (/work/notes/hostile-ledger.md)

    /// NL2: another program's SQLite database at the ledger path (a Grafana or Alertmanager file)
    /// had skiff's tables migrated into it, and would be renamed by `ledger rebuild`.
    @Test func anotherProgramsDatabaseIsNotAdopted() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try FileManager.default.createDirectory(atPath: "\(world.tsdb)/thanos", withIntermediateDirectories: true)
        let made = try await ExternalProgram.python3.run([
            "-c", "import sqlite3,sys;c=sqlite3.connect(sys.argv[1]);c.execute('CREATE TABLE dashboard (id INTEGER)');c.commit()",
            world.ledgerPath,
        ])
        try #require(made.succeeded, "\(made.stderr)")
        let before = try #require(world.data(world.ledgerPath))
        expectRefused(try await world.ship(), mentioning: [world.ledgerPath, "not a skiff ledger", "dashboard"])
        expectRefused(try await rebuild(world, ["--force"]), mentioning: ["not a skiff ledger", "will not move it"])
        expectRefused(try await SkiffProcess.run(["blocks", "--tsdb.path", world.tsdb]), mentioning: ["not a skiff ledger"])
        #expect(world.data(world.ledgerPath) == before, "the other program's file is left byte for byte")
        let thanos = try FileManager.default.contentsOfDirectory(atPath: "\(world.tsdb)/thanos").sorted()
        #expect(thanos == ["skiff-ledger.db", "skiff.lock"], "no -wal, -shm or .broken file: \(thanos)")
    }

    /// NL3: `thanos` is a file, or `skiff.lock` is a directory or a FIFO.
    @Test func lockFileOddities() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let thanos = "\(world.tsdb)/thanos"
        try Data("x".utf8).write(to: URL(fileURLWithPath: thanos))
        expectRefused(try await world.ship(), mentioning: ["\(thanos) is not a directory", "move that file away"])
        try FileManager.default.removeItem(atPath: thanos)
        try FileManager.default.createDirectory(atPath: thanos + "/skiff.lock", withIntermediateDirectories: true)
        expectRefused(try await world.ship(), mentioning: ["skiff.lock is a directory", "remove it"])
        try FileManager.default.removeItem(atPath: thanos + "/skiff.lock")
        #expect(mkfifo(thanos + "/skiff.lock", 0o600) == 0)
        let fifo = try await SkiffProcess.run(world.shipArguments, timeout: .seconds(30))
        expectRefused(fifo, mentioning: ["skiff.lock is not a regular file", "remove it"])
        try FileManager.default.removeItem(atPath: thanos + "/skiff.lock")
        #expect(try await world.ship().status == 0)
    }

    /// NL4: `ledger rebuild` while `ship` runs, and two rebuilds at once: the data dir's lock lets
    /// one through and tells the other who holds it; the ledger is never swapped under a shipper.
    @Test func rebuildRacingShipOrAnotherRebuild() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let lockFile = world.tsdb + "/thanos/skiff.lock"
        func waitForLock(_ running: SkiffProcess.Running) async throws {
            for _ in 0..<400 {
                if world.data(lockFile).map({ String(decoding: $0, as: UTF8.self) }) == "\(running.pid)\n" { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let before = try #require(world.data(world.ledgerPath))
        let first = try SkiffProcess.start(
            ["ledger", "rebuild", "--force", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig]
                + Self.labels, environment: ["SKIFF_FAILPOINTS": "before:ledger_swap=sleep(60000)"])
        defer { first.kill9() }
        try await waitForLock(first)
        expectRefused(try await rebuild(world, ["--force"]), mentioning: ["another skiff (pid \(first.pid))"])
        expectRefused(try await world.ship(), mentioning: ["another skiff (pid \(first.pid))"])
        first.kill9()
        _ = try? await first.wait(timeout: .seconds(10))
        #expect(world.data(world.ledgerPath) == before)
    }

    /// NL4, the variant the data dir lock missed: one `--ledger.path` shared by two data dirs. A
    /// rebuild for one swapped the file under the other's running `ship`, which went on writing
    /// into the old inode; now the ledger's own lock refuses it.
    @Test func ledgerSharedByTwoDataDirs() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let other = world.root.sub("tsdb-b")
        try FileManager.default.copyItem(atPath: world.tsdb, toPath: other)
        let shared = world.root.sub("shared/ledger.db")
        let ledgerFlag = ["--ledger.path", shared]
        let first = try SkiffProcess.start(
            world.shipArguments + ledgerFlag, environment: ["SKIFF_FAILPOINTS": "after:stage=sleep(60000)"])
        defer { first.kill9() }
        for _ in 0..<400 where world.data(shared + ".lock").map({ String(decoding: $0, as: UTF8.self) }) != "\(first.pid)\n" {
            try await Task.sleep(for: .milliseconds(50))
        }
        let common = ["--tsdb.path", other, "--objstore.config-file", world.bucketConfig] + Self.labels + ledgerFlag
        let rebuilt = try await SkiffProcess.run(["ledger", "rebuild", "--force"] + common)
        expectRefused(rebuilt, mentioning: ["another skiff (pid \(first.pid)) is already using the ledger \(shared)"])
        expectRefused(try await SkiffProcess.run(["ship"] + common), mentioning: ["already using the ledger"])
        first.kill9()
        _ = try? await first.wait(timeout: .seconds(10))
        let left = try FileManager.default.contentsOfDirectory(atPath: world.root.sub("shared"))
        #expect(!left.contains { $0.contains(".broken-") }, "\(left)")
    }

    /// NL5: `kill -9` between building the new ledger and swapping it in leaves the old ledger
    /// whole where it was; the next rebuild clears the scratch file and swaps.
    @Test func killDuringRebuildSwapKeepsTheOldLedger() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let killed = try await rebuild(world, ["--force"], environment: ["SKIFF_FAILPOINTS": "before:ledger_swap=exit"])
        #expect(killed.killedBySIGKILL, "\(killed)")
        let origins = try await SkiffProcess.run([
            "sql", "--tsdb.path", world.tsdb, "--output", "csv", "--", "SELECT DISTINCT origin FROM blocks",
        ])
        #expect(origins.stdout.contains("shipped") && !origins.stdout.contains("rebuilt"), "\(origins)")
        let again = try await rebuild(world, ["--force"])
        #expect(again.status == 0, "\(again)")
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(world.tsdb)/thanos")
        #expect(!left.contains { $0.contains(".rebuild-") }, "stale scratch left: \(left)")
        #expect(left.filter { $0.contains(".broken-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.count == 1, "\(left)")
    }

    /// NL7: `--tsdb.path` pointed at a block dir made `thanos/` and `thanos.shipper.json` inside
    /// it, changing a dir Prometheus owns.
    @Test func tsdbPathThatIsABlockDir() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let block = "\(world.tsdb)/\(world.localBlocks[0])"
        let common = ["--tsdb.path", block, "--objstore.config-file", world.bucketConfig] + Self.labels
        for command in [["ship"], ["reconcile", "--repair"], ["ledger", "rebuild"]] {
            let result = try await SkiffProcess.run(command + common)
            expectRefused(result, mentioning: ["is a Prometheus block dir, not the data dir", world.tsdb])
            #expect(!result.stderr.contains("has no wal/"), "no warning for what is refused: \(result)")
        }
        expectRefused(
            try await SkiffProcess.run(["ship", "--tsdb.path", block + "/"] + Array(common.dropFirst(2))),
            mentioning: ["is a Prometheus block dir"])
        try await expectBlocksPristine(world)
    }
}
