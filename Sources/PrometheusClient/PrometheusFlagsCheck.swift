import SkiffCore

/// Thanos' `validatePrometheus` (HEAD) as a pure function of Prometheus' flags: Prometheus must
/// not compact blocks the sidecar has not shipped yet. Either compaction is off (min block
/// duration = max) or Prometheus delays compaction until blocks appear in the shipper file
/// (`storage.tsdb.delay-compact-file.path`, which must then be the file Skiff writes). Errors stop
/// shipping; warnings are logged. Messages keep Thanos' wording, then say what to change.
public struct PrometheusFlagsCheck: Sendable, Equatable {
    public var errors: [String] = []
    public var warnings: [String] = []

    public init(errors: [String] = [], warnings: [String] = []) {
        self.errors = errors
        self.warnings = warnings
    }

    static let minKey = "storage.tsdb.min-block-duration"
    static let maxKey = "storage.tsdb.max-block-duration"
    static let delayCompactKey = "storage.tsdb.delay-compact-file.path"

    /// `flags` as `/api/v1/status/flags` returns them; `shipperFilePath` is the
    /// `thanos.shipper.json` Skiff writes; `ignoreUnequalBlockSize` is
    /// `--shipper.ignore-unequal-block-size`. A missing duration flag counts as 0, as Go's zero value.
    public static func check(
        flags: [String: String], shipperFilePath: String, ignoreUnequalBlockSize: Bool
    ) -> PrometheusFlagsCheck {
        var result = PrometheusFlagsCheck()
        let minText = flags[minKey] ?? "0s"
        let maxText = flags[maxKey] ?? "0s"
        guard let minMillis = try? GoDuration.parseMillis(minText), let maxMillis = try? GoDuration.parseMillis(maxText) else {
            result.errors.append(
                "cannot read Prometheus' \(minKey)=\"\(minText)\" or \(maxKey)=\"\(maxText)\" as durations; is this a Prometheus server?"
            )
            return result
        }

        if let delayPath = flags[delayCompactKey], !delayPath.isEmpty {
            // Prometheus waits for the shipper file before compacting, so min != max is safe.
            if cleanPath(delayPath) != cleanPath(shipperFilePath) {
                result.errors.append(
                    "found that Prometheus and Thanos use different paths for tracking block uploads: Prometheus \(delayCompactKey) is \(delayPath), Skiff writes \(shipperFilePath). "
                        + "Set --\(delayCompactKey)=\(shipperFilePath) on Prometheus, or point Skiff's --tsdb.path at Prometheus' storage.tsdb.path"
                )
            }
        } else if minMillis != maxMillis {
            if ignoreUnequalBlockSize {
                result.warnings.append(
                    "flag to ignore Prometheus min/max block duration flags differing is being used. If the upload of a 2h block fails and a Prometheus compaction happens that block may be missing from your Thanos bucket storage."
                )
            } else {
                result.errors.append(
                    "found that TSDB Max time is \(maxText) and Min time is \(minText). Compaction needs to be disabled (storage.tsdb.min-block-duration = storage.tsdb.max-block-duration). "
                        + "Start Prometheus with --\(minKey)=2h --\(maxKey)=2h, or pass --shipper.ignore-unequal-block-size to accept the risk of missing blocks"
                )
            }
        }
        if minMillis != 2 * 3_600_000 {
            result.warnings.append(
                "found that TSDB block time is not 2h. Only 2h block time is recommended. Prometheus has \(minKey)=\(minText); set it (and \(maxKey)) to 2h"
            )
        }
        return result
    }

    /// Go's `filepath.Clean` for comparing paths: no empty or `.` parts, `..` resolved lexically.
    static func cleanPath(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/") where part != "." {
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", absolute {
                continue  // "/.." is "/"
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : (joined.isEmpty ? "." : joined)
    }
}
