import BlockingWork
import Crypto
import Logging
import PrometheusClient
import ServiceLifecycle
import SkiffCore

/// `thanos sidecar`'s config reloader (Thanos' `pkg/reloader`) as a lifecycle service: renders
/// `--reloader.config-file` into `--reloader.config-envsubst-file`, watches it and the rule dirs,
/// and tells Prometheus to reload when what it reads has changed. Runs until graceful shutdown.
///
/// As in Thanos, a file, hash or environment-variable error in the first apply ends `run` with
/// that error (the sidecar exits: nothing it could reload would be right); later apply errors
/// are logged and counted; reload failures are retried and never end it.
public struct ConfigReloader: Service {
    let configuration: ReloaderConfiguration
    let trigger: ReloadTrigger
    let logger: Logger
    let metrics: ReloaderMetrics
    let progress: ReloaderProgress?

    public init(
        configuration: ReloaderConfiguration, client: PrometheusClient, logger: Logger,
        metrics: ReloaderMetrics = ReloaderMetrics(), progress: ReloaderProgress? = nil
    ) {
        var logger = logger
        logger[metadataKey: "component"] = "reloader"
        self.configuration = configuration
        self.trigger = ReloadTrigger(method: configuration.method, client: client, logger: logger)
        self.logger = logger
        self.metrics = metrics
        self.progress = progress
        metrics.recordInfo(method: configuration.method)
    }

    public func run() async throws {
        let config = configuration
        guard !config.isEmpty else {
            logger.info("nothing to be watched")
            try? await gracefulShutdown()
            return
        }
        logger.info(config.method == .http ? "reloading via HTTP" : "reloading via process signal")
        let watcher = try FileWatcher()
        let wakeup = Wakeup()
        let metrics = self.metrics
        let logger = self.logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await watcher.runOnThread { batch in
                    metrics.watchEvents.increment(by: Int64(batch.events))
                    metrics.watchErrors.increment(by: Int64(batch.errors))
                    if let message = batch.errorMessage { logger.error("watch error", metadata: ["err": "\(message)"]) }
                    wakeup.signal()
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await watch(watcher, wakeup) }
            } catch {
                watcher.stop()
                // Shutdown cancels whatever was in flight (a reload, a wait): not a failure.
                if Task.isShuttingDownGracefully || Task.isCancelled || error is CancellationError { return }
                throw error
            }
            watcher.stop()
        }
    }

    /// Thanos' `Watch`: the first apply, then an apply on every change and every watch interval.
    private func watch(_ watcher: FileWatcher, _ wakeup: Wakeup) async throws {
        let config = configuration
        var state = ApplyState()
        if let configFile = config.configFile {
            try watcher.add(configFile, flag: "--reloader.config-file", isFile: true)
            metrics.watches.record(watcher.count)
            try await apply(&state, until: .now + config.watchInterval, wakeup: wakeup)
        }
        if config.watchInterval == .zero {
            // Thanos' reloader returns here, which ends the whole `thanos sidecar`; the flag's
            // meaning ("write the output once, never reload") is kept and the sidecar stays up.
            logger.info("--reloader.watch-interval is 0: the config was written once; not watching for changes")
            try await gracefulShutdown()
            return
        }
        for dir in config.ruleDirs { try watcher.add(dir, flag: "--reloader.rule-dir", isFile: false) }
        metrics.watches.record(watcher.count)
        logger.info(
            "started watching config file and directories for changes",
            metadata: [
                "cfg": "\(config.configFile ?? "")", "out": "\(config.configEnvsubstFile ?? "")",
                "dirs": "\(config.ruleDirs.joined(separator: ","))",
            ])
        var deadline = ContinuousClock.now + config.watchInterval
        while !Task.isCancelled {
            await wakeup.wait(until: deadline)
            if Task.isCancelled { return }
            deadline = .now + config.watchInterval
            watcher.rearm()
            metrics.applyOperations.increment()
            do {
                try await apply(&state, until: deadline, wakeup: wakeup)
            } catch {
                if Task.isCancelled { return }
                metrics.applyOperationsFailed.increment()
                progress?.applyFailed(error.message)
                logger.error("apply error", metadata: ["err": "\(error)"])
            }
        }
    }

    /// The hashes of the last successful reload, and whether the next apply must reload anyway.
    struct ApplyState {
        var configHash: [UInt8]?
        var dirsHash: [UInt8]?
        /// Set when an apply's attempts ran out, so returning to the last reloaded content still
        /// reloads (Prometheus may hold a config that is neither).
        var forceReload = false
    }

    /// Thanos' `apply`: hash and render the config, hash the rule dirs, and when either changed
    /// (or a reload is owed) reload, retrying every `--reloader.retry-interval` until `deadline`.
    /// A change seen while waiting to retry ends the retries at once and wakes the loop for a
    /// new apply (Thanos retries the old content until the watch interval ends): a fix for a
    /// config Prometheus refused is applied right away, not minutes later.
    func apply(
        _ state: inout ApplyState, until deadline: ContinuousClock.Instant, wakeup: Wakeup
    ) async throws(SkiffError) {
        let config = configuration
        let metrics = self.metrics
        let (configHash, dirsHash) = try await Blocking.run { () throws(SkiffError) -> ([UInt8]?, [UInt8]?) in
            var configHash: [UInt8]?
            if let configFile = config.configFile {
                let bytes = try ReloadInputs.readConfig(configFile)
                var hasher = SHA256()
                ReloadInputs.hash(path: configFile, bytes: bytes, into: &hasher)
                configHash = Array(hasher.finalize())
                if let output = config.configEnvsubstFile {
                    var unset = false
                    defer { metrics.environmentExpansionErrors.record(unset ? 1 : 0) }
                    let rendered = try ReloadInputs.render(bytes, path: configFile, environment: config.environment) {
                        unset = true
                    }
                    try ReloadInputs.writeOutput(rendered, to: output)
                }
            }
            return (configHash, try ReloadInputs.hashDirectories(config.ruleDirs))
        }
        if !state.forceReload && configHash == state.configHash && dirsHash == state.dirsHash { return }
        // `--reloader.watch-interval=0`: the output is written, Prometheus never told.
        if config.watchInterval == .zero { return }
        while true {
            let attemptStarted = ContinuousClock.now
            metrics.reloads.increment()
            do throws(SkiffError) {
                try await trigger.reload(until: deadline)
                state = ApplyState(configHash: configHash, dirsHash: dirsHash, forceReload: false)
                logger.info(
                    "Reload triggered",
                    metadata: [
                        "cfg_in": "\(config.configFile ?? "")", "cfg_out": "\(config.configEnvsubstFile ?? "")",
                        "watched_dirs": "\(config.ruleDirs.joined(separator: ", "))",
                    ])
                metrics.recordReloadSuccess()
                progress?.reloadSucceeded()
                return
            } catch {
                if Task.isCancelled { return }
                metrics.recordReloadFailure()
                progress?.reloadFailed(error.message)
                let next = attemptStarted + config.retryInterval
                guard next < deadline else {
                    state.forceReload = true
                    logger.error("Failed to trigger reload. Retrying.", metadata: ["err": "\(error.message)"])
                    return
                }
                logger.warning(
                    "reload failed; retrying", metadata: ["err": "\(error.message)", "retry_in": "\(config.retryInterval)"])
                if await wakeup.wait(until: next) {
                    state.forceReload = true
                    wakeup.signal()
                    return
                }
                if Task.isCancelled { return }
            }
        }
    }
}
