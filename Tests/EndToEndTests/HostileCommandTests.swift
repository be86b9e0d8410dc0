import Foundation
import TestSupport
import Testing

/// Hostile input on the command line, the SQL command, logs and listen addresses: each case of
/// `bad-inputs-2026-12.md` (the number in each test's comment) ends in a clear message, never a
/// hang, a busy loop or an unbounded buffer.
@Suite(.needs(.promtool, .python3)) struct HostileCommandTests {
    func expectFailure(
        _ result: SkiffProcess.Result, status: Int32 = 1, mentioning parts: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == status && !result.signaled, "\(result)", sourceLocation: sourceLocation)
        for part in parts {
            #expect(result.stderr.contains(part), "stderr lacks \"\(part)\": \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    /// Cases 55 and 56, and the note's silent backoff and attempt values: refused with the flag
    /// named, before anything is touched (a 0s interval used to scan in a busy loop; a negative
    /// value used to read as a missing one).
    @Test(arguments: [
        (["--watch", "--sync-interval", "0s"], "--sync-interval 0s is too short: use 1s or more"),
        (["--watch", "--sync-interval", "1ms"], "--sync-interval 1ms is too short"),
        (["--sync-interval", "-5s"], "--sync-interval -5s is negative"),
        (["--sync-interval", "9223372036854775807ms1ms"], "--sync-interval: duration"),
        (["--shipper.attempts-per-pass", "-1"], "--shipper.attempts-per-pass -1 must be 1 or more"),
        (["--shipper.attempts-per-pass", "0"], "--shipper.attempts-per-pass 0 must be 1 or more"),
        (["--shipper.retry-backoff", "10m", "--shipper.retry-backoff-max", "1s"], "is longer than --shipper.retry-backoff-max"),
    ])
    func shipFlagValues(_ extra: [String], _ message: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        expectFailure(try await world.ship(extra: extra), mentioning: [message])
        #expect(!FileManager.default.fileExists(atPath: world.ledgerPath), "nothing should start on a bad flag")
    }

    /// Case 46: a statement that starts with an SQL comment reaches SQLite (the parser took it for
    /// an option); case 49: `--by` where it means nothing is refused, not ignored.
    @Test func sqlCommentsAndReportFlags() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let counted = try await SkiffProcess.run([
            "sql", "--tsdb.path", world.tsdb, "--output", "csv", "-- count blocks\nSELECT count(*) AS n FROM blocks",
        ])
        #expect(counted.status == 0 && counted.stdout == "n\r\n\(world.localBlocks.count)\r\n", "\(counted)")
        let separated = try await SkiffProcess.run([
            "sql", "--tsdb.path", world.tsdb, "--output", "csv", "--", "SELECT count(*) AS n FROM blocks",
        ])
        #expect(separated.stdout == counted.stdout, "\(separated)")
        expectFailure(
            try await SkiffProcess.run(["report", "lag", "--by", "hour", "--tsdb.path", world.tsdb]), status: 64,
            mentioning: ["--by applies to `skiff report shipped` only"])
        let hourly = try await SkiffProcess.run(["report", "shipped", "--by", "hour", "--tsdb.path", world.tsdb])
        #expect(hourly.status == 0 && hourly.stdout.hasPrefix("HOUR"), "\(hourly)")
    }

    /// Case 42: rows are written as they are read, so memory stays flat however long the result
    /// (it used to hold every row, 2.9 GB for 800 MB of CSV, and print nothing before the end);
    /// `--timeout` stops a query that would run for ever.
    @Test func sqlStreamsWithFlatMemory() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        let endless = "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT x, hex(zeroblob(500)) FROM r"
        let running = try SkiffProcess.start([
            "sql", "--tsdb.path", world.tsdb, "--output", "csv", "--timeout", "3s", endless,
        ])
        var peakKiB = 0
        while running.isRunning {
            peakKiB = max(peakKiB, Self.residentKiB(pid: running.pid) ?? 0)
            try await Task.sleep(for: .milliseconds(50))
        }
        let result = try await running.wait()
        expectFailure(result, mentioning: ["the query was stopped after --timeout"])
        #expect(result.stdout.utf8.count > 1 << 20, "rows should be printed while the query runs")
        #expect(result.stdout.hasPrefix("x,hex(zeroblob(500))\r\n1,"))
        #expect(peakKiB > 0 && peakKiB < 128 << 10, "peak RSS \(peakKiB) KiB for \(result.stdout.utf8.count) bytes out")
    }

    /// Cases 59 and 60: an S3 endpoint that refuses connections fails each attempt at once (each
    /// used to take 10 s: 144 s in all), within the retry budget of `max_retries`, and every log
    /// line, the S3 client's included, is JSON under `--log.format json`.
    @Test func refusedS3EndpointFailsFastInJSON() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship().status == 0)
        try "type: S3\nconfig:\n  bucket: thanos\n  endpoint: 127.0.0.1:1\n  insecure: true\n  access_key: a\n  secret_key: b\n"
            .write(toFile: world.bucketConfig, atomically: true, encoding: .utf8)
        let began = ContinuousClock.now
        let result = try await SkiffProcess.run([
            "reconcile", "--tsdb.path", world.tsdb, "--objstore.config-file", world.bucketConfig, "--label", "cluster=eu1",
            "--log.format", "json",
        ])
        let took = ContinuousClock.now - began
        expectFailure(result, mentioning: ["after 11 attempts", "connection refused: nothing listens at 127.0.0.1:1"])
        #expect(took < .seconds(30), "took \(took); the 10 retries back off at most 1 s each")
        let logLines = result.stderr.split(separator: "\n").filter { !$0.hasPrefix("skiff: ") }
        #expect(logLines.count >= 10, "\(result.stderr)")
        for line in logLines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["msg"] != nil, "not a JSON log line: \(line)")
        }
    }

    /// Cases 57, 63 and 64: `--min-time -2d` as two arguments parses (only `--min-time=-2d` did);
    /// a listen failure names the flag, the address and what to do, without a false
    /// "prometheus not reachable … CancellationError" on the way out.
    @Test func sidecarListenFailuresNameTheFlag() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let taken = try HeldPort()
        defer { taken.release() }
        let base = [
            "sidecar", "--tsdb.path", world.tsdb, "--grpc-address", "127.0.0.1:0", "--prometheus.url", "http://127.0.0.1:9",
        ]
        let inUse = try await SkiffProcess.run(
            base + ["--min-time", "-2d", "--http-address", "127.0.0.1:\(taken.port)"])
        expectFailure(
            inUse, mentioning: ["--http-address 127.0.0.1:\(taken.port): cannot listen: the address is already in use"])
        #expect(!inUse.stderr.contains("CancellationError"), "\(inUse.stderr)")
        let foreign = try await SkiffProcess.run(base + ["--http-address", "192.0.2.1:18950"])
        expectFailure(foreign, mentioning: ["--http-address 192.0.2.1:18950: cannot listen", "not one of this machine's"])
        let outOfRange = try await SkiffProcess.run(base + ["--min-time", "9223372036854775807ms"])
        expectFailure(outOfRange, mentioning: ["--min-time \"9223372036854775807ms\" is out of range"])
    }

    /// New cases: an endless file (/dev/zero) given as a config, certificate or key file was read
    /// into memory until the process died (7 GB RSS in 10 s for --objstore.config-file). Every
    /// such file is read with a 16 MiB cap.
    @Test func endlessConfigFilesAreRefused() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        var args = world.shipArguments
        args[args.firstIndex(of: world.bucketConfig)!] = "/dev/zero"
        expectFailure(try await SkiffProcess.run(args), mentioning: ["/dev/zero", "larger than 16 MiB"])
        let sidecar = ["sidecar", "--tsdb.path", world.tsdb, "--http-address", "127.0.0.1:0", "--grpc-address", "127.0.0.1:0"]
        expectFailure(
            try await SkiffProcess.run(sidecar + ["--grpc-server-tls-cert", "/dev/zero", "--grpc-server-tls-key", "/dev/zero"]),
            mentioning: ["server certificate /dev/zero: cannot read"])
        expectFailure(
            try await SkiffProcess.run(sidecar + ["--prometheus.http-client-file", "/dev/zero"]),
            mentioning: ["--prometheus.http-client-file /dev/zero"])
    }

    /// New case: a --tsdb.path longer than the system allows was told to check permissions.
    @Test func overlongPathsSayWhatToDo() async throws {
        let long = "/tmp/" + String(repeating: "a", count: 5_000)
        let result = try await SkiffProcess.run(["blocks", "--tsdb.path", long])
        expectFailure(result, mentioning: ["File name too long", "pass a shorter --ledger.path or --tsdb.path"])
    }

    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}
