import Foundation
import SkiffCore

/// What `thanos sidecar`'s `--reloader.*` flags ask for; `skiff sidecar` fills it. When there is
/// neither a config file nor a rule dir (`isEmpty`), the reloader has nothing to do and is not
/// started.
public struct ReloaderConfiguration: Sendable {
    /// How Prometheus is told to reload (`--reloader.method`).
    public enum Method: Sendable, Equatable {
        /// POST `<prometheus.url>/-/reload` (needs Prometheus' `--web.enable-lifecycle`).
        case http
        /// SIGHUP to the first process whose executable name is `processName`
        /// (`--reloader.process-name`), then `/api/v1/status/runtimeinfo` says whether it took.
        case signal(processName: String)

        /// `--reloader.method` (`http` or `signal`) with `--reloader.process-name`.
        public init(flag: String, processName: String) throws(SkiffError) {
            switch flag {
            case "http": self = .http
            case "signal":
                guard !processName.isEmpty else {
                    throw SkiffError(
                        .invalidArgument,
                        "--reloader.process-name must not be empty with --reloader.method=signal; e.g. prometheus")
                }
                self = .signal(processName: processName)
            default:
                throw SkiffError(.invalidArgument, "--reloader.method: invalid reload method \"\(flag)\"; use http or signal")
            }
        }

        /// The `method` label of `thanos_sidecar_reloader_info`.
        public var label: String {
            switch self {
            case .http: "http"
            case .signal: "signal"
            }
        }
    }

    /// `--reloader.config-file`: the watched config (template); nil when not given.
    public var configFile: String?
    /// `--reloader.config-envsubst-file`: where the config is written gunzipped, with `$(VAR)`
    /// substituted; nil when not given (the config is then only hashed).
    public var configEnvsubstFile: String?
    /// `--reloader.rule-dir`, each watched (top level) and hashed (recursively).
    public var ruleDirs: [String]
    /// `--reloader.watch-interval` (Thanos' default 3m): the periodic re-check, and the bound of
    /// each apply's reload retries. Zero writes the output once and never reloads.
    public var watchInterval: Duration
    /// `--reloader.retry-interval` (5s): the pause between reload attempts.
    public var retryInterval: Duration
    public var method: Method
    /// Where `$(VAR)` values come from; the process environment unless a test passes its own.
    public var environment: [String: String]

    public init(
        configFile: String? = nil, configEnvsubstFile: String? = nil, ruleDirs: [String] = [],
        watchInterval: Duration = .seconds(180), retryInterval: Duration = .seconds(5), method: Method = .http,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        // Kingpin's empty default ("") means "not given".
        self.configFile = configFile?.isEmpty == true ? nil : configFile
        self.configEnvsubstFile = configEnvsubstFile?.isEmpty == true ? nil : configEnvsubstFile
        self.ruleDirs = ruleDirs.filter { !$0.isEmpty }
        self.watchInterval = watchInterval
        self.retryInterval = retryInterval
        self.method = method
        self.environment = environment
    }

    /// Nothing to watch: the sidecar does not start the reloader.
    public var isEmpty: Bool { configFile == nil && ruleDirs.isEmpty }
}
