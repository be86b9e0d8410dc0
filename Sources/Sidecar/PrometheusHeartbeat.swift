import CoreMetrics
import HTTPServer
import Ledger
import Logging
import PrometheusClient
import ServiceLifecycle
import SkiffCore

/// Thanos' Prometheus actor: checks Prometheus' flags (when uploading), reads its version, then
/// every `--prometheus.get_config_interval` reads the external labels, flipping readiness and
/// `thanos_sidecar_prometheus_up`. On a failed heartbeat the last known labels are kept.
///
/// Empty external labels end the process with Thanos' message: blocks without them cannot be
/// told apart in the bucket. Nothing here blocks the HTTP server, which runs as its own service.
struct PrometheusHeartbeat: Service {
    let client: PrometheusClient
    let state: SidecarState
    let probe: StatusProbe
    let interval: Duration
    let timeout: Duration
    /// With uploads on, Prometheus must not compact blocks before they are shipped.
    let validateFlags: Bool
    let shipperFilePath: String
    let ignoreUnequalBlockSize: Bool
    let logger: Logger
    let up = Gauge(label: "thanos_sidecar_prometheus_up")

    func run() async throws {
        up.record(0)
        if validateFlags, try await !waitForValidFlags() { return }
        guard
            let version = await retrying(
                "read prometheus version",
                { () async throws(SkiffError) in
                    try await client.version(timeout: timeout)
                })
        else { return }
        state.recordVersion(version)
        logger.info("prometheus found", metadata: ["url": "\(client.url)", "version": "\(version)"])

        var first = true
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do throws(SkiffError) {
                let labels = try await client.externalLabels(timeout: timeout)
                // At start-up this ends the process (thrown outside this catch); later, the last
                // known labels are kept.
                if labels.isEmpty && first { break }
                if labels.isEmpty {
                    throw SkiffError(.prometheus, "prometheus now reports no external labels; keeping the last known ones")
                }
                let lowest = try? await client.lowestTimestampMillis(timeout: timeout)
                if first || labels != state.labels {
                    logger.info("external labels read from prometheus", metadata: ["labels": "\(labels)"])
                }
                state.update(labels: labels, lowestTimestampMillis: lowest)
                state.recordHeartbeat(error: nil, nowMillis: WallClock.system.nowMillis())
                up.record(1)
                probe.setReady()
                first = false
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                up.record(0)
                probe.setNotReady(reason: error.message)
                state.recordHeartbeat(error: error.message, nowMillis: WallClock.system.nowMillis())
                logger.warning(
                    first ? "prometheus not reachable yet; retrying" : "heartbeat failed",
                    metadata: ["url": "\(client.url)", "err": "\(error)", "retry_in": "\(interval)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        // The loop ends early only for a Prometheus without external labels at start-up.
        if first && !Task.isShuttingDownGracefully && !Task.isCancelled { throw Self.noExternalLabels }
    }

    static let noExternalLabels = SkiffError(
        .invalidArgument,
        "no external labels configured on Prometheus server, uniquely identifying external labels must be configured; "
            + "see https://thanos.io/tip/thanos/storage.md#external-labels for details. "
            + "Add global.external_labels (e.g. cluster and replica) to prometheus.yml and reload Prometheus",
        transient: false)

    /// Retries until Prometheus' flags allow shipping; false when shutting down first. A
    /// mismatch is retried rather than fatal (as in current Thanos): the sidecar stays not ready
    /// and the shipper gives up after `--prometheus.ready_timeout`.
    private func waitForValidFlags() async throws -> Bool {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            guard
                let flags = await retrying(
                    "read prometheus flags",
                    { () async throws(SkiffError) in
                        try await client.flags(timeout: timeout)
                    })
            else { return false }
            guard let flags else {
                logger.warning("prometheus has no flags endpoint (older than 2.2?); skipping its flag checks")
                return true
            }
            let check = PrometheusFlagsCheck.check(
                flags: flags, shipperFilePath: shipperFilePath, ignoreUnequalBlockSize: ignoreUnequalBlockSize)
            for warning in check.warnings { logger.warning("\(warning)") }
            if check.errors.isEmpty { return true }
            for problem in check.errors { logger.error("\(problem)", metadata: ["retry_in": "\(interval)"]) }
            probe.setNotReady(reason: check.errors.joined(separator: "; "))
            state.recordHeartbeat(error: check.errors.joined(separator: "; "), nowMillis: WallClock.system.nowMillis())
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        return false
    }

    /// `body` until it succeeds, with a warning and `prometheus_up` 0 after each failure; nil
    /// when shutdown comes first.
    private func retrying<T: Sendable>(_ what: String, _ body: () async throws(SkiffError) -> T) async -> T? {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do throws(SkiffError) {
                return try await body()
            } catch {
                // A call cut short because the sidecar is stopping (another service failed,
                // say) says nothing about Prometheus.
                if Task.isCancelled || Task.isShuttingDownGracefully { return nil }
                up.record(0)
                probe.setNotReady(reason: error.message)
                state.recordHeartbeat(error: error.message, nowMillis: WallClock.system.nowMillis())
                logger.warning(
                    "prometheus not reachable yet; retrying",
                    metadata: ["step": "\(what)", "url": "\(client.url)", "err": "\(error)", "retry_in": "\(interval)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        return nil
    }
}
