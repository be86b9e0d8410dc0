import Foundation
import Synchronization

/// A real Prometheus (Debian's 2.42 `prometheus`) on 127.0.0.1 for one test: temp config and
/// data dir, readiness awaited within a bound, stopped with SIGTERM then SIGKILL.
///
/// Spawned with `posix_spawn` and an empty signal mask rather than Foundation's `Process`: a
/// child inherits the spawning thread's mask, and Swift concurrency threads block SIGTERM, so a
/// `Process` child may ignore SIGTERM. Spawning ourselves also lets us reap with `waitpid`.
public final class PrometheusServer: Sendable {
    public let port: Int
    /// `http://127.0.0.1:<port>` plus the route prefix, if any.
    public let url: String
    public let dataDir: String
    /// Holds the config and the log (and the data dir unless one was given).
    private let workDir: String
    private let arguments: [String]
    /// The program started: Debian's prometheus, or a link to it whose name a test chose.
    private let executable: String?
    private let routePrefix: String
    /// YAML appended to the config after `global` (rule files, scrape configs), given the port
    /// (for a self-scrape), for one test.
    private let extraConfig: @Sendable (_ port: Int) -> String
    /// The running child's pid; 0 when stopped.
    private let pid = Mutex<pid_t>(0)

    /// The config file Prometheus reads (`--config.file`); a test may rewrite it and reload.
    public var configPath: String { workDir + "/prometheus.yml" }
    var logPath: String { workDir + "/prometheus.log" }

    private init(
        port: Int, workDir: String, dataDir: String?, routePrefix: String?, blockDurations: (String, String),
        extraFlags: [String],
        executable: String?, extraConfig: @escaping @Sendable (_ port: Int) -> String = { _ in "" }
    ) {
        self.extraConfig = extraConfig
        self.port = port
        self.executable = executable
        self.workDir = workDir
        self.dataDir = dataDir ?? workDir + "/data"
        var prefix = routePrefix ?? ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        if !prefix.isEmpty && !prefix.hasPrefix("/") { prefix = "/" + prefix }
        self.routePrefix = prefix
        self.url = "http://127.0.0.1:\(port)\(prefix)"
        arguments =
            [
                "--config.file=\(workDir)/prometheus.yml", "--web.listen-address=127.0.0.1:\(port)",
                "--storage.tsdb.path=\(self.dataDir)", "--web.enable-lifecycle", "--web.enable-remote-write-receiver",
                "--storage.tsdb.min-block-duration=\(blockDurations.0)", "--storage.tsdb.max-block-duration=\(blockDurations.1)",
            ] + (prefix.isEmpty ? [] : ["--web.route-prefix=\(prefix)"]) + extraFlags
    }

    /// Starts Prometheus and waits (bounded) until `/-/ready` answers 200. A port taken between
    /// probing and binding is retried on a fresh port. `executable` replaces the program (a
    /// symlink to prometheus under a name of the test's, for tests that find it by name).
    public static func start(
        externalLabels: [String: String], dataDir: String? = nil, minBlockDuration: String = "2h",
        maxBlockDuration: String = "2h", routePrefix: String? = nil, extraFlags: [String] = [], executable: String? = nil,
        extraConfig: @escaping @Sendable (_ port: Int) -> String = { _ in "" }
    ) async throws -> PrometheusServer {
        var lastError: (any Error)?
        for _ in 0..<3 {
            let workDir = try TempDir().path
            let server = PrometheusServer(
                port: try HTTPProbe.freePort(), workDir: workDir, dataDir: dataDir, routePrefix: routePrefix,
                blockDurations: (minBlockDuration, maxBlockDuration), extraFlags: extraFlags, executable: executable,
                extraConfig: extraConfig)
            try server.writeConfig(externalLabels: externalLabels)
            do {
                try await server.launch()
                return server
            } catch {
                lastError = error
                let portTaken = server.logTail().contains("address already in use")
                await server.stop()
                if !portTaken { break }
            }
        }
        throw lastError!
    }

    /// SIGTERM, up to 5 s for a clean exit, then SIGKILL. Removes the temp dir; a data dir passed
    /// to `start` is kept (the test owns it).
    public func stop() async {
        await terminate()
        // The data dir lives inside workDir only when this server created it.
        try? FileManager.default.removeItem(atPath: workDir)
    }

    /// Stops the process but keeps every file, so `restart()` can bring the same Prometheus back
    /// (for tests of what a sidecar does while its Prometheus is down).
    public func halt() async {
        await terminate()
    }

    /// Stops the process (keeping every file) and starts it again on the same port and data dir.
    public func restart() async throws {
        await terminate()
        try await launch()
    }

    /// Rewrites the config with new external labels and POSTs `/-/reload` (needs 200).
    public func reload(externalLabels: [String: String]) async throws {
        try writeConfig(externalLabels: externalLabels)
        let answer = await HTTPProbe.get(port: port, path: routePrefix + "/-/reload", method: "POST", timeout: .seconds(10))
        guard let answer, answer.status == 200 else {
            let got = answer.map { "\($0.status): \($0.body)" } ?? "nothing"
            throw Failure(description: "POST /-/reload answered \(got)\n\(logTail())")
        }
    }

    /// The last `lines` lines of Prometheus' log, for failure messages.
    public func logTail(lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log at \(logPath))"
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    deinit {
        // A test that forgot stop() must not leave Prometheus running.
        let pid = self.pid.withLock { $0 }
        if pid != 0 {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    // MARK: - Process

    private func writeConfig(externalLabels: [String: String]) throws {
        var yaml = "global:\n  scrape_interval: 15s\n"
        if !externalLabels.isEmpty {
            yaml += "  external_labels:\n"
            for (name, value) in externalLabels.sorted(by: { $0.key < $1.key }) {
                // JSON string escaping is valid YAML double-quoted scalar syntax.
                let quoted = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
                yaml += "    \(name): \(quoted)\n"
            }
        }
        yaml += extraConfig(port)
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    private func launch() async throws {
        let child = try Self.spawn(executable ?? ExternalProgram.prometheus.path(), arguments, logPath: logPath)
        pid.withLock { $0 = child }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(child, &status, WNOHANG) == child {
                pid.withLock { $0 = 0 }
                throw Failure(description: "prometheus exited during start (wait status \(status)):\n\(logTail())")
            }
            if await HTTPProbe.get(port: port, path: routePrefix + "/-/ready", timeout: .seconds(1))?.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "prometheus was not ready within 60 s on port \(port):\n\(logTail())")
    }

    private func terminate() async {
        let child = pid.withLock { pid in
            defer { pid = 0 }
            return pid
        }
        guard child != 0 else { return }
        kill(child, SIGTERM)
        var status: Int32 = 0
        for _ in 0..<250 {  // 5 s
            if waitpid(child, &status, WNOHANG) == child { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(child, SIGKILL)
        waitpid(child, &status, 0)
    }

    /// posix_spawn with default signal dispositions, an empty mask and no descriptors but 0-2;
    /// output appended to `logPath`.
    private static func spawn(_ path: String, _ arguments: [String], logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else: posix_spawn passes on every descriptor not marked close-on-exec, and NIO's
        // sockets are not (accept4 without SOCK_CLOEXEC). A Prometheus that lives through a test
        // would hold every connection and listener open at its start, so a test server's close
        // would not reach its client, nor a stopped server free its port, until Prometheus exits.
        #if os(Linux)
        // glibc 2.34+; Swift's Glibc module does not declare it, so it is looked up by name.
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            throw Failure(description: "this libc has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34+ needed)")
        }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        #else
        let closeOthers = Int16(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        #if os(Linux)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        #else
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | closeOthers)
        #endif

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let result = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw Failure(description: "posix_spawn \(path): \(String(cString: strerror(result)))") }
        return child
    }
}
