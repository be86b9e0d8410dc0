import Ledger
import SkiffCore

/// What the sidecar knows about its Prometheus at one instant, for the status page. The sidecar
/// fills it (StatusPage cannot see the Sidecar target: that target depends on this one).
public struct PrometheusStatus: Sendable, Equatable {
    public var url: String
    /// The last heartbeat read the external labels.
    public var up: Bool
    public var version: String?
    /// The external labels as Prometheus prints them (`{cluster="a", replica="0"}`); nil until read.
    public var externalLabels: String?
    public var lastHeartbeatMillis: Int64?
    /// The last heartbeat's error, when it failed.
    public var lastError: String?
    public var ready: Bool
    /// Why `/-/ready` says no, when it does.
    public var notReadyReason: String?

    public init(
        url: String, up: Bool = false, version: String? = nil, externalLabels: String? = nil,
        lastHeartbeatMillis: Int64? = nil, lastError: String? = nil, ready: Bool = false, notReadyReason: String? = nil
    ) {
        self.url = url
        self.up = up
        self.version = version
        self.externalLabels = externalLabels
        self.lastHeartbeatMillis = lastHeartbeatMillis
        self.lastError = lastError
        self.ready = ready
        self.notReadyReason = notReadyReason
    }
}

/// What the sidecar's config reloader watches and has done, for the status page (filled by the
/// sidecar from its `--reloader.*` flags and the reloader's progress).
public struct ReloaderStatus: Sendable, Equatable {
    /// `--reloader.method`: "http" or "signal".
    public var method: String
    public var configFile: String?
    public var outputFile: String?
    public var ruleDirs: [String]
    public var reloads: Int
    public var failedReloads: Int
    public var lastSuccessMillis: Int64?
    public var lastError: String?
    public var lastErrorMillis: Int64?

    public init(
        method: String, configFile: String? = nil, outputFile: String? = nil, ruleDirs: [String] = [], reloads: Int = 0,
        failedReloads: Int = 0, lastSuccessMillis: Int64? = nil, lastError: String? = nil, lastErrorMillis: Int64? = nil
    ) {
        self.method = method
        self.configFile = configFile
        self.outputFile = outputFile
        self.ruleDirs = ruleDirs
        self.reloads = reloads
        self.failedReloads = failedReloads
        self.lastSuccessMillis = lastSuccessMillis
        self.lastError = lastError
        self.lastErrorMillis = lastErrorMillis
    }

    /// The last thing that happened was an error (none since, or no success at all).
    public var failing: Bool {
        guard let failedAt = lastErrorMillis else { return false }
        return failedAt >= (lastSuccessMillis ?? .min)
    }
}

/// Where the status page reads from: the shared ledger (nil without a bucket: nothing is
/// shipped), the sidecar's Prometheus state and reloader (nil when no `--reloader.*` input is
/// set), the bucket's name, and the clock ages count from.
public struct StatusSource: Sendable {
    public var ledger: Ledger?
    public var prometheus: @Sendable () -> PrometheusStatus?
    public var reloader: @Sendable () -> ReloaderStatus?
    public var bucket: String?
    public var clock: WallClock

    public init(
        ledger: Ledger?, bucket: String?, clock: WallClock,
        prometheus: @escaping @Sendable () -> PrometheusStatus? = { nil },
        reloader: @escaping @Sendable () -> ReloaderStatus? = { nil }
    ) {
        self.ledger = ledger
        self.bucket = bucket
        self.clock = clock
        self.prometheus = prometheus
        self.reloader = reloader
    }
}
