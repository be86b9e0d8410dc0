import SkiffCore
import Synchronization

/// What the config reloader has done so far, readable at any moment from another task (the
/// status page): the counts its metrics export, with the times and the words behind them.
public final class ReloaderProgress: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// Reload attempts (`thanos_sidecar_reloader_reloads_total`) and failed ones.
        public var reloads = 0
        public var failedReloads = 0
        /// The last time Prometheus accepted a reload (Unix ms).
        public var lastSuccessMillis: Int64?
        /// The last failure of a reload or of reading and rendering the inputs, and when.
        public var lastError: String?
        public var lastErrorMillis: Int64?

        public init() {}
    }

    private let state = Mutex(Snapshot())
    let clock: WallClock

    public init(clock: WallClock) { self.clock = clock }

    public var snapshot: Snapshot { state.withLock { $0 } }

    func reloadSucceeded() {
        let now = clock.nowMillis()
        state.withLock {
            $0.reloads += 1
            $0.lastSuccessMillis = now
        }
    }

    func reloadFailed(_ error: String) {
        let now = clock.nowMillis()
        state.withLock {
            $0.reloads += 1
            $0.failedReloads += 1
            ($0.lastError, $0.lastErrorMillis) = (error, now)
        }
    }

    func applyFailed(_ error: String) {
        let now = clock.nowMillis()
        state.withLock { ($0.lastError, $0.lastErrorMillis) = (error, now) }
    }
}
