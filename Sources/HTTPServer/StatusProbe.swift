import Logging
import Prometheus
import Synchronization

/// Thanos' prober (`pkg/prober`): the healthy and ready flags behind `/-/healthy` and `/-/ready`,
/// mirrored in `thanos_status{component="sidecar",check="healthy"|"ready"}` (0 or 1).
///
/// Readiness is driven by other components (a good Prometheus heartbeat makes the sidecar ready, a
/// failed one makes it not ready) and held back by gates that must open first (the gRPC server
/// accepting connections: Thanos' prober is ready only once every server is), health by the HTTP
/// server's lifetime. Changes are logged only on
/// transitions, like Thanos' "changing probe status", so a heartbeat every few seconds stays quiet.
public final class StatusProbe: Sendable {
    private struct State {
        var healthy = false
        var ready = false
        var closedGates: Set<String>
        var effectivelyReady: Bool { ready && closedGates.isEmpty }
    }

    private let state: Mutex<State>
    private let healthyGauge: Prometheus.Gauge
    private let readyGauge: Prometheus.Gauge
    private let logger: Logger

    /// Registers both gauges at 0: a process that has not started serving is neither healthy nor ready.
    /// `readyGates` name what must `openGate` before the probe can be ready.
    public init(
        component: String = "sidecar", registry: PrometheusCollectorRegistry, readyGates: Set<String> = [],
        logger: Logger = Logger(label: "skiff.prober")
    ) {
        state = Mutex(State(closedGates: readyGates))
        let descriptor = MetricNameDescriptor(
            namespace: "thanos", metricName: "status", unitName: "",
            helpText: "Represents status (0 indicates failure, 1 indicates success) of the component.")
        // Label names in sorted order, as client_golang emits them.
        self.healthyGauge = registry.makeGauge(
            descriptor: descriptor, labels: [("check", "healthy"), ("component", component)])
        self.readyGauge = registry.makeGauge(
            descriptor: descriptor, labels: [("check", "ready"), ("component", component)])
        self.logger = logger
        healthyGauge.set(to: 0)
        readyGauge.set(to: 0)
    }

    public var isHealthy: Bool { state.withLock { $0.healthy } }
    public var isReady: Bool { state.withLock { $0.effectivelyReady } }

    public func setHealthy() {
        if update(\.healthy, to: true, gauge: healthyGauge) {
            logger.info("changing probe status", metadata: ["status": "healthy"])
        }
    }

    public func setNotHealthy() {
        if update(\.healthy, to: false, gauge: healthyGauge) {
            logger.info("changing probe status", metadata: ["status": "not-healthy"])
        }
    }

    public func setReady() {
        if updateReadiness({ $0.ready = true }) {
            logger.info("changing probe status", metadata: ["status": "ready"])
        }
    }

    /// `reason` is only logged: the HTTP endpoint answers a bare "NOT OK", as Thanos does.
    public func setNotReady(reason: String) {
        if updateReadiness({ $0.ready = false }) {
            logger.warning("changing probe status", metadata: ["status": "not-ready", "reason": "\(reason)"])
        }
    }

    /// Opens one of the `readyGates`; the probe is ready once all are open and `setReady` was called.
    public func openGate(_ name: String) {
        if updateReadiness({ $0.closedGates.remove(name) }) {
            logger.info("changing probe status", metadata: ["status": "ready"])
        }
    }

    /// Applies `change` and sets the ready gauge under the lock; returns whether readiness changed.
    private func updateReadiness(_ change: (inout State) -> Void) -> Bool {
        state.withLock { state in
            let before = state.effectivelyReady
            change(&state)
            readyGauge.set(to: state.effectivelyReady ? 1 : 0)
            return before != state.effectivelyReady
        }
    }

    /// Sets the flag and its gauge under the lock, so the gauge never disagrees with the flag for
    /// long; returns whether the value changed.
    private func update(_ flag: WritableKeyPath<State, Bool>, to value: Bool, gauge: Prometheus.Gauge) -> Bool {
        state.withLock { state in
            gauge.set(to: value ? 1 : 0)
            guard state[keyPath: flag] != value else { return false }
            state[keyPath: flag] = value
            return true
        }
    }
}
