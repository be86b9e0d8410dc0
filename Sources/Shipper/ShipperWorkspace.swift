import Foundation
import Ledger
import Logging
import ObjectStorage
import SkiffCore
import TSDB

/// Everything shipping needs before its first pass, opened in one place so that `skiff ship` and
/// the sidecar apply the same checks in the same order:
/// 1. `--tsdb.path` must be a readable data dir (its own clear message, before the lock);
/// 2. the data dir's lock, so two shippers never work on one ledger;
/// 3. the ledger, refused when SQLite's integrity check fails: a damaged ledger could make the
///    shipper re-upload or skip blocks;
/// 4. failpoints from `SKIFF_FAILPOINTS` (crash tests).
/// The lock is held for as long as the workspace lives.
public struct ShipperWorkspace: Sendable {
    public let tsdbPath: String
    public let ledger: Ledger
    let lock: DataDirLock
    let failpoints: Failpoints

    public static func open(
        tsdbPath: String, ledgerPath: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(SkiffError) -> ShipperWorkspace {
        let failpoints = try Failpoints.parse(environment["SKIFF_FAILPOINTS"] ?? "")
        _ = try BlockScanner(tsdbPath: tsdbPath)
        let lock = try DataDirLock(tsdbPath: tsdbPath)
        let ledger = try Ledger.open(path: ledgerPath)
        let problems = try await ledger.integrityProblems()
        guard problems.isEmpty else {
            throw SkiffError(.ledger, Ledger.corruptMessage(ledger.path, problems.joined(separator: "; ")), transient: false)
        }
        return ShipperWorkspace(tsdbPath: tsdbPath, ledger: ledger, lock: lock, failpoints: failpoints)
    }

    /// A shipper for one or more passes with `config`, on this workspace's data dir and ledger.
    public func makeShipper(config: ShipperConfig, bucket: any Bucket, logger: Logger) throws(SkiffError) -> Shipper {
        try BucketPlacement.check(bucket, tsdbPath: tsdbPath)
        var config = config
        config.tsdbPath = tsdbPath
        return try Shipper(config: config, ledger: ledger, bucket: bucket, failpoints: failpoints, logger: logger)
    }
}
