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

/// Where the status page reads from: the shared ledger (nil without a bucket: nothing is
/// shipped), the sidecar's Prometheus state, the bucket's name, and the clock ages count from.
public struct StatusSource: Sendable {
    public var ledger: Ledger?
    public var prometheus: @Sendable () -> PrometheusStatus?
    public var bucket: String?
    public var clock: WallClock

    public init(
        ledger: Ledger?, bucket: String?, clock: WallClock,
        prometheus: @escaping @Sendable () -> PrometheusStatus? = { nil }
    ) {
        self.ledger = ledger
        self.bucket = bucket
        self.clock = clock
        self.prometheus = prometheus
    }
}
