import SkiffCore

/// Numbers as an operator reads them on the page (the JSON keeps the raw values).
enum Humanize {
    /// "1.5 GiB", "312 B".
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : "\(SVGNumber.format(value)) \(units[unit])"
    }

    /// "2h 5m", "41s", "3d 4h": the two largest units are enough to judge a lag.
    static func duration(millis: Int64) -> String {
        if millis < 0 { return "-" + duration(millis: millis == .min ? .max : -millis) }
        if millis < 1000 { return "\(millis)ms" }
        let seconds = millis / 1000
        let parts: [(Int64, String)] = [
            (seconds / 86400, "d"), (seconds / 3600 % 24, "h"), (seconds / 60 % 60, "m"), (seconds % 60, "s"),
        ]
        let shown = parts.drop { $0.0 == 0 }.prefix(2).filter { $0.0 != 0 }
        return shown.map { "\($0.0)\($0.1)" }.joined(separator: " ")
    }

    /// Times as drawn and printed: year 0 to 9999. A hostile meta.json can hold any Int64, and
    /// sums or differences of such times would overflow (a trap, not a page).
    static func clamp(_ millis: Int64) -> Int64 { min(max(millis, -62_167_219_200_000), 253_402_300_799_999) }

    /// "2026-12-03 10:15:02 UTC".
    static func time(_ millis: Int64) -> String {
        let text = RFC3339.format(millis: clamp(millis) / 1000 * 1000)
        return text.replacingFirst("T", with: " ").dropLast() + " UTC"
    }
}

extension String {
    fileprivate func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let index = firstIndex(of: target) else { return self }
        return self[..<index] + replacement + self[self.index(after: index)...]
    }
}
