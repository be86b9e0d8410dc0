import ConfigYAML
import Logging
import SkiffCore

/// Thanos' `--request.logging-config` (pkg/logging): which gRPC calls and HTTP requests are
/// logged, read as Thanos reads it (yaml.v2 strict). A global `options` block applies to both
/// protocols, a protocol's own `options` overrides it, and a protocol's `config` list turns the
/// logging into an allowlist of exact matches (`service` + `method`, or `path` + `port`).
public struct RequestLogConfig: Sendable {
    public var grpc: RequestLogPolicy?
    public var http: RequestLogPolicy?

    public init(grpc: RequestLogPolicy? = nil, http: RequestLogPolicy? = nil) {
        self.grpc = grpc
        self.http = http
    }

    static let optionKeys = ["level", "decision"]

    /// nil for blank content (no request logging).
    public static func parse(_ yaml: String, source: String) throws(SkiffError) -> RequestLogConfig? {
        guard !yaml.allSatisfy(\.isWhitespace) else { return nil }
        let top = try StrictMapping(
            StrictMapping.document(yaml, source: source), source: source, allowed: ["http", "grpc", "options"])
        let global = try Options.read(top.mapping("options", allowed: optionKeys))
        let grpcSection = try top.mapping("grpc", allowed: ["options", "config"])
        let httpSection = try top.mapping("http", allowed: ["options", "config"])
        var config = RequestLogConfig()
        config.grpc = try policy(
            global: global, own: Options.read(grpcSection.mapping("options", allowed: optionKeys)),
            allow: entries(grpcSection, keys: ["service", "method"]).map { "/\($0[0])/\($0[1])" }, mapping: top)
        config.http = try policy(
            global: global, own: Options.read(httpSection.mapping("options", allowed: optionKeys)),
            allow: entries(httpSection, keys: ["path", "port"]).map { "\($0[0]):\($0[1])" }, mapping: top)
        return config
    }

    /// A protocol's options (its own, else the global ones), checked as Thanos checks them.
    static func policy(
        global: Options?, own: Options?, allow: [String], mapping: StrictMapping
    ) throws(SkiffError) -> RequestLogPolicy? {
        let options = own ?? global ?? Options(level: "ERROR", logStart: false, logEnd: false)
        guard ["INFO", "DEBUG", "ERROR", "WARNING"].contains(options.level) else {
            throw mapping.fail(
                "the format of level is invalid. Expected INFO/DEBUG/ERROR/WARNING, got this \(options.level)")
        }
        if options.logStart && !options.logEnd { throw mapping.fail("log decision combination is not supported") }
        guard options.logEnd else { return nil }
        return RequestLogPolicy(
            minimum: options.minimum, logStart: options.logStart, allowlist: allow.isEmpty ? nil : Set(allow))
    }

    /// The `config` list of a protocol section: each entry's values for `keys`, in order.
    static func entries(_ section: StrictMapping, keys: [String]) throws(SkiffError) -> [[String]] {
        guard let node = section.node("config") else { return [] }
        guard let list = node.sequence else { throw section.fail("\(section.name("config")) must be a list") }
        var out: [[String]] = []
        for (index, item) in list.enumerated() {
            let entry = try StrictMapping(
                item, source: section.source, path: "\(section.name("config"))[\(index)].", allowed: keys)
            var values: [String] = []
            for key in keys { values.append(try entry.string(key) ?? (key == "port" ? "0" : "")) }
            out.append(values)
        }
        return out
    }

    struct Options {
        var level: String
        var logStart: Bool
        var logEnd: Bool

        /// nil when the block is empty; a decision without a level is Thanos' "level field is empty".
        static func read(_ mapping: StrictMapping) throws(SkiffError) -> Options? {
            let decision = try mapping.mapping("decision", allowed: ["log_start", "log_end"])
            let level = try mapping.string("level") ?? ""
            let start = try decision.bool("log_start") ?? false
            let end = try decision.bool("log_end") ?? false
            if level.isEmpty && !start && !end { return nil }
            if level.isEmpty { throw mapping.fail("level field is empty") }
            return Options(level: level, logStart: start, logEnd: end)
        }

        /// Thanos filters with go-kit's level names, where WARNING matches none and allows all.
        var minimum: Logger.Level {
            switch level {
            case "ERROR": .error
            case "INFO": .info
            default: .debug
            }
        }
    }
}

/// What one protocol logs: calls in the allowlist (every call when nil), a "started call" line
/// when `logStart`, and a "finished call" line at the level its outcome maps to, dropped when
/// below `minimum` (the process' --log.level filters as well).
public struct RequestLogPolicy: Sendable, Equatable {
    public var minimum: Logger.Level
    public var logStart: Bool
    public var allowlist: Set<String>?

    public init(minimum: Logger.Level = .debug, logStart: Bool = false, allowlist: Set<String>? = nil) {
        self.minimum = minimum
        self.logStart = logStart
        self.allowlist = allowlist
    }

    /// `key` is `/service/method` for gRPC and `path:port` for HTTP.
    public func logs(_ key: String) -> Bool { allowlist?.contains(key) ?? true }

    /// Thanos' gRPC mapping: Unknown, Unimplemented, Internal and DataLoss are errors.
    public static func grpcLevel(code: Int) -> Logger.Level { [2, 12, 13, 15].contains(code) ? .error : .debug }

    /// Thanos' HTTP mapping: 200 to 499 are debug, the rest errors.
    public static func httpLevel(status: Int) -> Logger.Level { (200..<500).contains(status) ? .debug : .error }
}
