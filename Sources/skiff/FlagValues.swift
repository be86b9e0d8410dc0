import SkiffCore

/// Checks of flag values that ArgumentParser cannot express: durations with a floor, counts
/// that must be positive. Each error names the flag and says what to pass instead.
enum FlagValues {
    /// A duration flag of at least `minimumMillis`; `allowZero` lets 0 mean "off".
    static func durationMillis(
        _ text: String, flag: String, minimumMillis: Int64 = 0, allowZero: Bool = false
    ) throws(SkiffError) -> Int64 {
        if text.hasPrefix("-") {
            throw SkiffError(.invalidArgument, "\(flag) \(text) is negative: pass a positive duration such as 30s")
        }
        let millis: Int64
        do { millis = try GoDuration.parseMillis(text) } catch {
            throw SkiffError(.invalidArgument, "\(flag): \(error.message)")
        }
        if millis == 0 && allowZero { return 0 }
        guard millis >= minimumMillis else {
            let floor = minimumMillis >= 1_000 ? "\(minimumMillis / 1_000)s" : "\(minimumMillis)ms"
            throw SkiffError(
                .invalidArgument,
                "\(flag) \(text) is too short: use \(floor) or more"
                    + (allowZero ? " (or 0 to turn it off)" : ""))
        }
        return millis
    }

    static func duration(
        _ text: String, flag: String, minimumMillis: Int64 = 0, allowZero: Bool = false
    ) throws(SkiffError) -> Duration {
        .milliseconds(try durationMillis(text, flag: flag, minimumMillis: minimumMillis, allowZero: allowZero))
    }

    /// How often a data dir is scanned for new blocks: below a second, the scan loop only burns CPU.
    static let minimumSyncMillis: Int64 = 1_000

    /// A count that must be 0 or more.
    static func nonNegative(_ value: Int, flag: String) throws(SkiffError) -> Int {
        guard value >= 0 else { throw SkiffError(.invalidArgument, "\(flag) \(value) must be 0 or more") }
        return value
    }

    /// A count that must be 1 or more.
    static func positive(_ value: Int, flag: String) throws(SkiffError) -> Int {
        guard value >= 1 else { throw SkiffError(.invalidArgument, "\(flag) \(value) must be 1 or more") }
        return value
    }

    /// A retry backoff whose first delay does not exceed its cap.
    static func backoff(first: String, max: String, firstFlag: String, maxFlag: String) throws(SkiffError) -> Backoff {
        let base = try durationMillis(first, flag: firstFlag, minimumMillis: 1)
        let cap = try durationMillis(max, flag: maxFlag, minimumMillis: 1)
        guard base <= cap else {
            throw SkiffError(
                .invalidArgument, "\(firstFlag) \(first) is longer than \(maxFlag) \(max): make the first delay the shorter one")
        }
        return Backoff(baseMillis: base, capMillis: cap)
    }

    /// A plain file name (no directory part), for files Skiff keeps in the data dir.
    static func fileName(_ text: String, flag: String) throws(SkiffError) -> String {
        guard !text.isEmpty, !text.contains("/"), text != ".", text != ".." else {
            throw SkiffError(
                .invalidArgument, "\(flag) \"\(text)\" must be a file name without a directory, e.g. thanos.shipper.json")
        }
        return text
    }

    /// A count written as Go's `Uint64Var` reads it: digits only, 0 and up.
    static func count(_ text: String, flag: String) throws(SkiffError) -> UInt64 {
        guard let value = UInt64(text) else {
            throw SkiffError(.invalidArgument, "\(flag) \"\(text)\" must be a whole number, 0 or more (0: no limit)")
        }
        return value
    }
}
