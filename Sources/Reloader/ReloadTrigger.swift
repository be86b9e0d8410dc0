import BlockingWork
import Foundation
import Logging
import PrometheusClient
import SkiffCore

#if canImport(Glibc)
import Glibc
#endif

/// Tells Prometheus to reload, as Thanos' `HTTPReloader` and `PIDReloader` do. One call is one
/// attempt; the caller retries.
struct ReloadTrigger: Sendable {
    let method: ReloaderConfiguration.Method
    let client: PrometheusClient
    let logger: Logger

    /// One attempt, all of it (the signal method's post-check too) over by `deadline`.
    func reload(until deadline: ContinuousClock.Instant) async throws(SkiffError) {
        switch method {
        case .http:
            try await client.reload(timeout: remaining(until: deadline))
        case .signal(let processName):
            try await signal(processName, until: deadline)
        }
    }

    private func remaining(until deadline: ContinuousClock.Instant) throws(SkiffError) -> Duration {
        let left = deadline - .now
        guard left > .zero else {
            throw SkiffError(.prometheus, "context deadline exceeded: the reload did not finish within --reloader.watch-interval")
        }
        return left
    }

    /// SIGHUP with the runtimeinfo checks around it (Thanos' `prometheusReloadTracker`).
    private func signal(_ processName: String, until deadline: ContinuousClock.Instant) async throws(SkiffError) {
        let before: PrometheusRuntimeInfo
        do throws(SkiffError) { before = try await client.runtimeInfo(timeout: remaining(until: deadline)) } catch {
            throw SkiffError(.prometheus, "pre-reload check failed: failed to get config status before reload: \(error.message)")
        }
        logger.debug(
            "Pre-reload check",
            metadata: ["success": "\(before.reloadConfigSuccess)", "last_config_reload": "\(before.lastConfigTime)"])
        // lastConfigTime has whole seconds: a reload within the second of the previous one would
        // look like no reload at all, and the post-check would wait out the whole deadline. So
        // the signal goes out in a later second than the time Prometheus reports.
        let nextSecond = (before.lastConfigTime.timeIntervalSince1970.rounded(.down) + 1)
        let wait = nextSecond - Date().timeIntervalSince1970
        if wait > 0 {
            do { try await Task.sleep(for: .milliseconds(Int64(wait * 1000) + 1)) } catch {
                throw SkiffError(.prometheus, "reload cancelled")
            }
        }
        let pid: Int32?
        pid = try await Blocking.run { () throws(SkiffError) in try ProcessFinder.find(processName) }
        guard let pid else {
            throw SkiffError(
                .prometheus, "failed to find process matching \"\(processName)\"; check --reloader.process-name")
        }
        guard kill(pid, SIGHUP) == 0 else {
            throw SkiffError(.prometheus, "failed to send SIGHUP to pid \(pid): \(String(cString: strerror(errno)))")
        }
        while true {
            let after: PrometheusRuntimeInfo
            do throws(SkiffError) { after = try await client.runtimeInfo(timeout: remaining(until: deadline)) } catch {
                throw SkiffError(
                    .prometheus, "post-reload check failed: failed to get config status after reload: \(error.message)")
            }
            if after.reloadConfigSuccess && after.lastConfigTime > before.lastConfigTime {
                logger.debug("Post-reload hook successful", metadata: ["pid": "\(pid)"])
                return
            }
            // The previous config was good and the new one is not: no need to poll on.
            if before.reloadConfigSuccess && !after.reloadConfigSuccess {
                throw SkiffError(.prometheus, "post-reload check failed: configuration reload has failed")
            }
            guard ContinuousClock.now + .seconds(1) < deadline else {
                let result = after.reloadConfigSuccess ? "successful" : "failed"
                throw SkiffError(
                    .prometheus,
                    "post-reload check failed: context deadline exceeded: configuration reload \(result) "
                        + "(last successful reload at \(after.lastConfigTime))")
            }
            do { try await Task.sleep(for: .seconds(1)) } catch { throw SkiffError(.prometheus, "reload cancelled") }
        }
    }
}
