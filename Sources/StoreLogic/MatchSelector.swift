import SkiffCore

/// The `match[]` parameter of Prometheus' HTTP API (`/api/v1/series`, `/labels`, `/label/…/values`).
///
/// Thanos joins every matcher's `String()` into one selector: `{name="value", name2!~"re"}`. Each
/// value is Go-quoted (`GoQuote`), which escapes `\`, `"` and newlines. A name outside
/// `[A-Za-z_][A-Za-z0-9_]*` is quoted too, as Prometheus 3 prints it (`{"my.name"="v"}`); older
/// Prometheus versions cannot parse that, but they cannot store such a name either.
public enum MatchSelector {
    public static func format(_ matchers: [Matcher]) -> String {
        "{" + matchers.map(\.description).joined(separator: ", ") + "}"
    }

    /// True when Prometheus prints `name` bare (Prometheus' `shouldQuoteName` is the negation).
    static func isBareName(_ name: String) -> Bool {
        guard !name.isEmpty else { return false }
        for (i, b) in name.utf8.enumerated() {
            let letter = (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || b == 0x5F
            let digit = b >= 0x30 && b <= 0x39
            if !(letter || (i > 0 && digit)) { return false }
        }
        return true
    }
}
