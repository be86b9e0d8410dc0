import ArgumentParser
import Foundation
import Logging
import ObjectStorage
import ObjstoreConfig
import SkiffCore
import Synchronization

/// Flags shared by every command that reads the ledger.
struct LedgerOptions: ParsableArguments {
    @Option(name: .customLong("tsdb.path"), help: "Prometheus data directory.")
    var tsdbPath: String = "./data"

    @Option(
        name: .customLong("ledger.path"),
        help: "SQLite ledger file (default: <tsdb.path>/thanos/skiff-ledger.db).")
    var ledgerPath: String?

    var resolvedLedgerPath: String { ledgerPath ?? Self.defaultLedgerPath(tsdbPath: tsdbPath) }

    /// Under the data dir, the one place the prometheus-operator's read-only pod lets us write.
    static func defaultLedgerPath(tsdbPath: String) -> String {
        URL(fileURLWithPath: tsdbPath).appendingPathComponent("thanos/skiff-ledger.db").path
    }
}

/// Log flags, named as in Thanos.
struct LogOptions: ParsableArguments {
    @Option(name: .customLong("log.level"), help: "Log filtering level: error, warn, info or debug.")
    var level: String = "info"

    @Option(name: .customLong("log.format"), help: "Log format: logfmt or json.")
    var format: String = "logfmt"

    func validate() throws {
        guard ["error", "warn", "info", "debug"].contains(level) else {
            throw ValidationError("--log.level must be one of error, warn, info, debug")
        }
        guard ["logfmt", "json"].contains(format) else { throw ValidationError("--log.format must be logfmt or json") }
        bootstrapLogging()
    }

    func makeLogger(_ label: String) -> Logger {
        bootstrapLogging()
        return Logger(label: label)
    }

    /// Done as soon as the flags are known, before any client or server makes its logger.
    private func bootstrapLogging() { LogSetup.bootstrap(level: level, format: format) }
}

/// The one logging setup of the process, shared by the ArgumentParser commands and `sidecar`.
enum LogSetup {
    /// `level` and `format` are already checked; `debugName` (Thanos' hidden `--debug.name`)
    /// becomes a `name=` field on every line, as in Thanos.
    static func bootstrap(level: String, format: String, debugName: String = "") {
        let minimum: Logger.Level =
            switch level {
            case "error": .error
            case "warn": .warning
            case "debug": .debug
            default: .info
            }
        let json = format == "json"
        // Every logger of the process writes through this handler: also those the S3 and
        // Prometheus clients and the servers make for themselves, so a JSON log stays JSON.
        done.withLock { done in
            guard !done else { return }
            LoggingSystem.bootstrap { _ in
                var handler = StructuredLogHandler(json: json)
                handler.logLevel = minimum
                if !debugName.isEmpty { handler.metadata["name"] = "\(debugName)" }
                return handler
            }
            done = true
        }
    }

    /// swift-log allows one bootstrap per process.
    private static let done = Mutex(false)
}

/// `--label name=value`, repeated: the external labels our blocks were shipped with, which tell
/// our blocks in the bucket from other Prometheus servers' (reconcile, ledger rebuild).
struct OurLabelsOptions: ParsableArguments {
    @Option(name: .customLong("label"), help: "Our external label name=value (repeatable), as shipped.")
    var labels: [String] = []

    /// The labels given, which must not be empty (ledger rebuild: the ledger holds nothing yet).
    func parse() throws(SkiffError) -> LabelSet {
        let ours = try parseIfGiven()
        guard !ours.isEmpty else {
            throw SkiffError(.invalidArgument, "pass our external labels with --label (as shipped), e.g. --label cluster=eu1")
        }
        return ours
    }

    /// The labels given, empty when none were.
    func parseIfGiven() throws(SkiffError) -> LabelSet { try LabelSet.parse(flags: labels) }
}

/// Runs a command body, turning a SkiffError into a clean message and exit code 1.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as SkiffError {
        FileHandle.standardError.write(Data("skiff: \(error.message)\n".utf8))
        throw ExitCode(1)
    }
}

/// The bucket flags, named as in Thanos.
struct ObjstoreOptions: ParsableArguments {
    @Option(name: .customLong("objstore.config-file"), help: "Bucket config YAML (Thanos objstore format).")
    var configFile: String?

    @Option(name: .customLong("objstore.config"), help: "Bucket config YAML content (alternative to the file).")
    var config: String?

    /// The configured bucket, or nil when neither flag is set (blank content counts as unset).
    func loadIfSet() throws(SkiffError) -> BucketConfig? {
        switch (configFile, config) {
        case (.some, .some):
            throw SkiffError(.invalidArgument, "both --objstore.config-file and --objstore.config are set; use one")
        case (.some(let path), nil): return try BucketConfig.load(path: path)
        case (nil, .some(let yaml)): return yaml.allSatisfy(\.isWhitespace) ? nil : try BucketConfig.parse(yaml: yaml)
        case (nil, nil): return nil
        }
    }

    /// The configured bucket; a command that needs one says how to pass it.
    func load() throws(SkiffError) -> BucketConfig {
        guard let config = try loadIfSet() else {
            throw SkiffError(
                .invalidArgument,
                "no bucket configured: pass --objstore.config-file bucket.yml (e.g. type: FILESYSTEM, config: {directory: /var/skiff/bucket})"
            )
        }
        return config
    }
}
