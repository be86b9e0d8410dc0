import CoreMetrics
import Foundation

/// The reloader's metrics under the names `thanos sidecar` exports (Thanos' `reloader_*`
/// registered with the `thanos_sidecar_` prefix), all created at construction so they exist at 0
/// before the first reload, as Thanos registers them.
public struct ReloaderMetrics: Sendable {
    let reloads: Counter
    let reloadsFailed: Counter
    let lastReloadSuccessful: Gauge
    let lastReloadSuccessTimestamp: Gauge
    let applyOperations: Counter
    let applyOperationsFailed: Counter
    let environmentExpansionErrors: Gauge
    let watches: Gauge
    let watchEvents: Counter
    let watchErrors: Counter
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        let prefix = "thanos_sidecar_reloader_"
        reloads = Counter(label: prefix + "reloads_total", factory: factory)
        reloadsFailed = Counter(label: prefix + "reloads_failed_total", factory: factory)
        lastReloadSuccessful = Gauge(label: prefix + "last_reload_successful", factory: factory)
        lastReloadSuccessTimestamp = Gauge(label: prefix + "last_reload_success_timestamp_seconds", factory: factory)
        applyOperations = Counter(label: prefix + "config_apply_operations_total", factory: factory)
        applyOperationsFailed = Counter(label: prefix + "config_apply_operations_failed_total", factory: factory)
        environmentExpansionErrors = Gauge(label: prefix + "config_environment_variable_expansion_errors", factory: factory)
        watches = Gauge(label: prefix + "watches", factory: factory)
        watchEvents = Counter(label: prefix + "watch_events_total", factory: factory)
        watchErrors = Counter(label: prefix + "watch_errors_total", factory: factory)
    }

    /// `thanos_sidecar_reloader_info{method}` = 1.
    func recordInfo(method: ReloaderConfiguration.Method) {
        Gauge(label: "thanos_sidecar_reloader_info", dimensions: [("method", method.label)], factory: factory).record(1)
    }

    func recordReloadSuccess() {
        lastReloadSuccessful.record(1)
        lastReloadSuccessTimestamp.record(Date().timeIntervalSince1970)
    }

    func recordReloadFailure() {
        reloadsFailed.increment()
        lastReloadSuccessful.record(0)
    }
}
