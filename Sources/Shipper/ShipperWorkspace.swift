import BlockingWork
import Foundation
import Ledger
import Logging
import ObjectStorage
import SkiffCore
import TSDB

/// Everything shipping needs before its first pass, opened in one place so that `skiff ship` and
/// the sidecar apply the same checks in the same order:
/// 1. `--tsdb.path` must be a readable data dir (its own clear message, before the lock), and one
///    with neither `wal/` nor a block dir is warned about (`/var/lib` for `/var/lib/prometheus`);
/// 2. the data dir's lock, so two shippers never work on one data dir, and the ledger's own lock
///    when it lies elsewhere, so two data dirs never ship into one ledger file;
/// 3. the ledger, which `Ledger.open` refuses when it is not a ledger file (a Prometheus file, a
///    device, an emptied ledger...) and this refuses when SQLite's integrity check fails: a
///    damaged ledger could make the shipper re-upload or skip blocks;
/// 4. failpoints from `SKIFF_FAILPOINTS` (crash tests).
/// The lock is held for as long as the workspace lives.
public struct ShipperWorkspace: Sendable {
    public let tsdbPath: String
    public let ledger: Ledger
    let lock: DataDirLock
    /// Held too when the ledger lies outside `<tsdb>/thanos` (see `DataDirLock(ledgerPath:tsdbPath:)`).
    let ledgerLock: DataDirLock?
    let failpoints: Failpoints

    public static func open(
        tsdbPath: String, ledgerPath: String, logger: Logger? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(SkiffError) -> ShipperWorkspace {
        let failpoints = try Failpoints.parse(environment["SKIFF_FAILPOINTS"] ?? "")
        _ = try BlockScanner(tsdbPath: tsdbPath)
        let lock = try await Blocking.run { () throws(SkiffError) in try DataDirLock(tsdbPath: tsdbPath) }
        // After the lock, which refuses a block dir outright: no warning for what is an error.
        if let logger, let warning = await dataDirWarning(tsdbPath) {
            logger.warning("\(warning)", metadata: ["tsdb": "\(tsdbPath)"])
        }
        let (ledgerLock, ledger) = try await Blocking.run { () throws(SkiffError) in
            // The path is judged before a lock file is made beside it.
            try LedgerPath.check(ledgerPath, for: .write)
            let ledgerLock = try DataDirLock(ledgerPath: LedgerPath.resolve(ledgerPath), tsdbPath: tsdbPath)
            return (ledgerLock, try Ledger.open(path: ledgerPath))
        }
        let problems = try await ledger.integrityProblems()
        guard problems.isEmpty else {
            throw SkiffError(.ledger, Ledger.corruptMessage(ledger.path, problems.joined(separator: "; ")), transient: false)
        }
        return ShipperWorkspace(
            tsdbPath: tsdbPath, ledger: ledger, lock: lock, ledgerLock: ledgerLock, failpoints: failpoints)
    }

    /// A warning when `tsdbPath` has neither `wal/` nor a block dir: a running Prometheus always has
    /// a `wal/`, so this is most likely a parent or a neighbour of the data dir. Only a warning, as
    /// in Thanos: a sidecar may start before Prometheus creates its dir's contents.
    static func dataDirWarning(_ tsdbPath: String) async -> String? {
        let names =
            (try? await Blocking.run { () throws(SkiffError) in
                (try? FileManager.default.contentsOfDirectory(atPath: tsdbPath)) ?? []
            }) ?? []
        let prometheusLike = names.contains("wal") || names.contains { ULID(String($0.prefix(26))) != nil }
        guard !prometheusLike else { return nil }
        return "--tsdb.path \(tsdbPath) has no wal/ and no block dirs, so it does not look like a Prometheus data dir; "
            + "point it at the directory Prometheus' --storage.tsdb.path names (e.g. /var/lib/prometheus/metrics2, or "
            + "/prometheus in the container image). Nothing will ship until blocks appear here"
    }

    /// A shipper for one or more passes with `config`, on this workspace's data dir and ledger.
    public func makeShipper(config: ShipperConfig, bucket: any Bucket, logger: Logger) throws(SkiffError) -> Shipper {
        try BucketPlacement.check(bucket, tsdbPath: tsdbPath)
        var config = config
        config.tsdbPath = tsdbPath
        return try Shipper(config: config, ledger: ledger, bucket: bucket, failpoints: failpoints, logger: logger)
    }
}
