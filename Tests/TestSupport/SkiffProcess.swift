import Foundation

/// Runs the built `skiff` binary as a subprocess, as an operator (or a crash) would.
public struct SkiffProcess: Sendable {
    /// How a run ended.
    public struct Result: Sendable, CustomStringConvertible {
        public let status: Int32
        /// True when the process was killed by a signal (`status` is then the signal number).
        public let signaled: Bool
        public let stdout: String
        public let stderr: String

        public var killedBySIGKILL: Bool { signaled && status == SIGKILL }
        public var description: String {
            "status=\(status) signaled=\(signaled)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
        }
    }

    /// The binary: `$SKIFF_BINARY`, else `skiff` next to the test bundle (`.build/<config>/`).
    public static var binaryPath: String {
        if let path = ProcessInfo.processInfo.environment["SKIFF_BINARY"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // The swift-testing runner may be inside the .xctest bundle on Linux.
        while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("skiff").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        let candidate = dir.appendingPathComponent("skiff").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/skiff").path
    }

    /// Runs to completion (bounded by `timeout`; a run that hangs is killed and reported).
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(120)
    ) async throws -> Result {
        let running = try start(arguments, environment: environment)
        return try await running.wait(timeout: timeout)
    }

    /// Starts the binary and returns at once, so a test can kill it at a moment of its choosing.
    public static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "SKIFF_FAILPOINTS")
        env.merge(environment) { $1 }
        process.environment = env
        let out = TempFile()
        let err = TempFile()
        process.standardOutput = out.handle
        process.standardError = err.handle
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    /// A started process.
    public final class Running: @unchecked Sendable {
        let process: Process
        let out: TempFile
        let err: TempFile

        init(process: Process, out: TempFile, err: TempFile) {
            self.process = process
            self.out = out
            self.err = err
        }

        public var pid: Int32 { process.processIdentifier }

        /// Sends SIGKILL (`kill -9`).
        public func kill9() { kill(process.processIdentifier, SIGKILL) }

        /// Sends SIGTERM.
        public func terminate() { kill(process.processIdentifier, SIGTERM) }

        /// What the process has written to stderr so far (its logs), while it runs.
        public var stderrSoFar: String { String(decoding: err.peek(), as: UTF8.self) }

        public var isRunning: Bool { process.isRunning }

        public func wait(timeout: Duration = .seconds(120)) async throws -> Result {
            let deadline = ContinuousClock.now + timeout
            while process.isRunning {
                if ContinuousClock.now > deadline {
                    kill9()
                    process.waitUntilExit()
                    throw SkiffProcessError.timedOut(String(decoding: err.contents(), as: UTF8.self))
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                stdout: String(decoding: out.contents(), as: UTF8.self),
                stderr: String(decoding: err.contents(), as: UTF8.self))
        }
    }
}

public enum SkiffProcessError: Error, CustomStringConvertible {
    case timedOut(String)
    public var description: String {
        switch self {
        case .timedOut(let stderr): "skiff did not finish in time; stderr:\n\(stderr)"
        }
    }
}

/// Output captured to a file (pipes can fill up and block a child that writes a lot).
final class TempFile: @unchecked Sendable {
    let path: String
    let handle: FileHandle

    init() {
        path = NSTemporaryDirectory() + "skiff-out-" + UUID().uuidString
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)!
    }

    /// The output so far, leaving the file in place.
    func peek() -> Data { FileManager.default.contents(atPath: path) ?? Data() }

    func contents() -> Data {
        defer { try? FileManager.default.removeItem(atPath: path) }
        return FileManager.default.contents(atPath: path) ?? Data()
    }
}
