import SkiffCore
import StoreLogic

/// What the StoreAPI needs to know about the Prometheus it serves, read at each call: the
/// heartbeat keeps both current.
public struct StoreState: Sendable {
    /// The external labels, or nil until Prometheus has told them (the API is not ready then).
    public let externalLabels: @Sendable () -> LabelSet?
    /// The oldest timestamp served (ms): `max(--min-time, Prometheus' lowest timestamp)`.
    public let minTimeMillis: @Sendable () -> Int64

    public init(externalLabels: @escaping @Sendable () -> LabelSet?, minTimeMillis: @escaping @Sendable () -> Int64) {
        self.externalLabels = externalLabels
        self.minTimeMillis = minTimeMillis
    }
}
