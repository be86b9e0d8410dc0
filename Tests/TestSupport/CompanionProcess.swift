import Foundation
import Synchronization

/// A test server's Python companion, as the S3 and GCS test servers run theirs: the process (its
/// pid is also the process group of it and the server), our end of the socket on its stdin (the
/// companion stops the server at EOF there, so even a `kill -9`ed test process leaves no server
/// behind), and the server's temp dir.
final class CompanionProcess: Sendable {
    let process: Process
    /// Our end of the companion's socket; one request at a time.
    let channel: Mutex<Int32>
    let directory: String

    init(process: Process, channel: Int32, directory: String) {
        (self.process, self.directory) = (process, directory)
        self.channel = Mutex(channel)
    }

    var isRunning: Bool { process.isRunning }

    /// A server still running when the last reference goes away is killed at once.
    deinit {
        let group = process.processIdentifier
        if process.isRunning { kill(-group, SIGKILL) }
        channel.withLock { fd in if fd >= 0 { close(fd) } }
        // SIGKILL is delivered asynchronously: until the group's processes are gone the server may
        // still create files in its directory, and a removal racing with that leaves the directory
        // behind. Wait (at most 0.5 s; a zombie nobody reaps would keep answering) for the group.
        for _ in 0..<250 where kill(-group, 0) == 0 { usleep(2_000) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Polls `ready` until it says yes; fails at once, with the log, if the server exits.
    ///
    /// A server whose log (`logPath`) has not grown for 30 s is declared dead; one that keeps
    /// logging (making progress) gets up to 120 s in all. At the start of the third test phase
    /// dozens of suites start promtool, Prometheus and servers on two cores: a juicefs gateway then
    /// took 15 s to format and 10 s more to log its first line, and a fake-gcs-server that logged
    /// nothing at start was declared dead at a fixed 30 s while it was still coming up.
    func waitUntilReady(_ what: String, logPath: String, ready: () async -> Bool) async throws {
        let started = ContinuousClock.now
        var quietSince = started
        var logSize = Self.fileSize(logPath)
        while await !ready() {
            guard isRunning else {
                throw S3TestServerError(
                    "\(what) exited (status \(process.terminationStatus)) before it was ready", log: logPath)
            }
            let now = ContinuousClock.now
            let size = Self.fileSize(logPath)
            if size != logSize { (logSize, quietSince) = (size, now) }
            guard now - quietSince < .seconds(30), now - started < .seconds(120) else {
                throw S3TestServerError(
                    "\(what) not ready after \((now - started).components.seconds) s "
                        + "(\((now - quietSince).components.seconds) s without a log line)", log: logPath)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The size of `path` in bytes, 0 when it cannot be read.
    static func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    /// SIGTERM to the companion, which stops the server; SIGKILL to the whole group if that takes
    /// over 15 s. Then closes the socket and removes the temp dir. Safe to call more than once.
    func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            try? await S3TestServer.waitForExit(process, within: .seconds(15))
            if process.isRunning {
                kill(-process.processIdentifier, SIGKILL)
                try? await S3TestServer.waitForExit(process, within: .seconds(5))
            }
        }
        channel.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Runs `body` with a started server and stops the server however `body` ends (an async `defer`).
func withStopping<Server: Sendable, T>(
    _ server: Server, stop: (Server) async -> Void, isolation: isolated (any Actor)? = #isolation,
    _ body: (Server) async throws -> T
) async throws -> T {
    do {
        let result = try await body(server)
        await stop(server)
        return result
    } catch {
        await stop(server)
        throw error
    }
}
