import SkiffCore
import Synchronization

/// What the sidecar knows about its Prometheus: the external labels (nil until first read) and
/// the lowest timestamp it holds. The heartbeat writes it; the shipper and the StoreAPI read it,
/// and wait on `labelsKnown()` rather than polling until the first heartbeat has succeeded.
public final class SidecarState: Sendable {
    private struct Inner {
        var labels: LabelSet?
        var lowestTimestampMillis: Int64?
        /// Callers of `labelsKnown()` suspended until the first labels arrive.
        var waiters: [Int: CheckedContinuation<LabelSet, any Error>] = [:]
        var nextWaiter = 0
        var heartbeat = Heartbeat()
    }

    /// The heartbeat's last word, for the status page.
    public struct Heartbeat: Sendable, Equatable {
        public var version: String?
        /// Whether the last call to Prometheus succeeded.
        public var up = false
        public var lastSuccessMillis: Int64?
        public var lastError: String?
    }

    private let inner = Mutex(Inner())

    public init() {}

    public var labels: LabelSet? { inner.withLock { $0.labels } }
    public var lowestTimestampMillis: Int64? { inner.withLock { $0.lowestTimestampMillis } }
    public var heartbeat: Heartbeat { inner.withLock { $0.heartbeat } }

    func recordVersion(_ version: String) { inner.withLock { $0.heartbeat.version = version } }

    /// A heartbeat's outcome: nil error for success at `nowMillis`.
    func recordHeartbeat(error: String?, nowMillis: Int64) {
        inner.withLock { state in
            state.heartbeat.up = error == nil
            state.heartbeat.lastError = error
            if error == nil { state.heartbeat.lastSuccessMillis = nowMillis }
        }
    }

    public func update(labels: LabelSet, lowestTimestampMillis: Int64?) {
        let waiters = inner.withLock { state in
            state.labels = labels
            if let lowestTimestampMillis { state.lowestTimestampMillis = lowestTimestampMillis }
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: labels) }
    }

    /// The external labels, once known: returns at once when they are, else suspends until the
    /// heartbeat first reads them. Throws `CancellationError` when the calling task is cancelled.
    public func labelsKnown() async throws -> LabelSet {
        let id = inner.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let known: LabelSet? = inner.withLock { state in
                    if let labels = state.labels { return labels }
                    if Task.isCancelled { return nil }
                    state.waiters[id] = continuation
                    return nil
                }
                if let known {
                    continuation.resume(returning: known)
                } else if Task.isCancelled, inner.withLock({ $0.waiters[id] == nil }) {
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = inner.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
