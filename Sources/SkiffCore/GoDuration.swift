/// Durations written the way Prometheus and Thanos flags write them: `30s`, `1m30s`, `2h`,
/// `500ms`, plus `d`, `w` and `y` as Prometheus model durations allow.
public enum GoDuration {
    /// Parses into milliseconds; a bare `0` is zero. Throws a message naming the flag's text.
    public static func parseMillis(_ text: String) throws(SkiffError) -> Int64 {
        if text == "0" { return 0 }
        let units: [(String, Int64)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
            ("w", 604_800_000), ("y", 31_536_000_000),
        ]
        var rest = Substring(text)
        var total: Int64 = 0
        guard !rest.isEmpty else { throw bad(text) }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Int64(digits) else { throw bad(text) }
            rest = rest.dropFirst(digits.count)
            // Longest unit first so "ms" is not read as "m".
            guard let (unit, scale) = units.sorted(by: { $0.0.count > $1.0.count }).first(where: { rest.hasPrefix($0.0) })
            else { throw bad(text) }
            rest = rest.dropFirst(unit.count)
            let (product, overflow) = value.multipliedReportingOverflow(by: scale)
            let (sum, sumOverflow) = total.addingReportingOverflow(product)
            guard !overflow, !sumOverflow else { throw bad(text) }
            total = sum
        }
        return total
    }

    private static func bad(_ text: String) -> SkiffError {
        SkiffError(.invalidArgument, "duration \"\(text)\" is invalid: use e.g. 500ms, 30s, 5m, 2h", transient: false)
    }
}
