import ArgumentParser
import Foundation
import Logging
import SkiffCore

/// Flags shared by every command that reads the ledger.
struct LedgerOptions: ParsableArguments {
    @Option(name: .customLong("tsdb.path"), help: "Prometheus data directory.")
    var tsdbPath: String = "./data"

    @Option(
        name: .customLong("ledger.path"),
        help: "SQLite ledger file (default: <tsdb.path>/thanos/skiff-ledger.db).")
    var ledgerPath: String?

    var resolvedLedgerPath: String {
        ledgerPath ?? URL(fileURLWithPath: tsdbPath).appendingPathComponent("thanos/skiff-ledger.db").path
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
    }

    func makeLogger(_ label: String) -> Logger {
        let minimum: Logger.Level =
            switch level {
            case "error": .error
            case "warn": .warning
            case "debug": .debug
            default: .info
            }
        let json = format == "json"
        var logger = Logger(label: label) { _ in StructuredLogHandler(json: json) }
        logger.logLevel = minimum
        return logger
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
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
