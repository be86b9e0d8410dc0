import Foundation
import Ledger
import SkiffCore

/// `--min-time`: RFC3339, or a duration relative to now (`-2d`, `2h45m`), as Thanos takes it.
public enum MinTime {
    /// Thanos' default, 0000-01-01T00:00:00Z, in Unix milliseconds.
    public static let yearZeroMillis: Int64 = -62_167_219_200_000

    public static func millis(_ text: String, nowMillis: Int64 = WallClock.system.nowMillis()) throws(SkiffError) -> Int64 {
        let negative = text.hasPrefix("-")
        if let duration = try? GoDuration.parseMillis(negative ? String(text.dropFirst()) : text) {
            let (result, overflow) = nowMillis.addingReportingOverflow(negative ? -duration : duration)
            guard !overflow else {
                throw SkiffError(.invalidArgument, "--min-time \"\(text)\" is out of range: use e.g. -2d or an RFC3339 time")
            }
            return result
        }
        if text == "0000-01-01T00:00:00Z" { return yearZeroMillis }
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        throw SkiffError(
            .invalidArgument, "--min-time \"\(text)\" is neither RFC3339 (2024-01-01T00:00:00Z) nor a duration (-2d)")
    }
}
