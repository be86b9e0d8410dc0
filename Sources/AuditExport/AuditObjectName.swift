import SkiffCore

/// Where the fleet audit's objects live, pure: Hive-style partitions that DuckDB, Trino, Athena
/// and Spark read as columns,
/// `skiff-audit/v1/date=YYYY-MM-DD/source=<id>/<ledger>-<first>-<last>.ndjson.gz`.
///
/// `<ledger>` is the exporting ledger's identity (16 hex digits); `<first>` and `<last>` are the
/// ids of the first and last transition in the object, zero-padded to 20 digits so names sort as
/// numbers; `date` is the transitions' UTC day. A name is a pure function of what the object holds,
/// so re-exporting a range rewrites the same object, and only that ledger's range: a rebuilt
/// ledger, whose ids start at 1 again, writes beside the old objects, never over them.
public struct AuditObjectName: Sendable, Equatable, Hashable {
    /// The top-level prefix: not a ULID, so Thanos' tools and Skiff's block listings skip it.
    public static let root = "skiff-audit/"
    /// Every v1 object is under this prefix.
    public static let prefix = "skiff-audit/v1/"

    /// `YYYY-MM-DD` (UTC).
    public let date: String
    /// `AuditSource.id`.
    public let source: String
    /// `Ledger.identity()` of the exporting ledger.
    public let ledger: String
    public let first: Int64
    public let last: Int64

    public init(date: String, source: String, ledger: String, first: Int64, last: Int64) {
        self.date = date
        self.source = source
        self.ledger = ledger
        self.first = first
        self.last = last
    }

    public var key: String {
        "\(Self.prefix)date=\(date)/source=\(source)/\(ledger)-\(Self.padded(first))-\(Self.padded(last)).ndjson.gz"
    }

    /// The prefix of one source's objects of one day.
    public static func sourcePrefix(date: String, source: String) -> String {
        "\(prefix)date=\(date)/source=\(source)/"
    }

    /// Reads a key back; nil for anything that is not a v1 audit object name.
    public init?(key: String) {
        guard key.hasPrefix(Self.prefix) else { return nil }
        let parts = key.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("date="), parts[1].hasPrefix("source="),
            parts[2].hasSuffix(".ndjson.gz")
        else { return nil }
        let range = parts[2].dropLast(".ndjson.gz".count).split(separator: "-")
        let date = String(parts[0].dropFirst(5))
        let source = String(parts[1].dropFirst(7))
        guard range.count == 3, Self.isLedgerID(range[0]), let first = Int64(range[1]), let last = Int64(range[2]),
            first <= last, Self.isDate(date), !source.isEmpty
        else { return nil }
        self.init(date: date, source: source, ledger: String(range[0]), first: first, last: last)
    }

    static func padded(_ n: Int64) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// 16 lower-case hex digits, as `ledger_identity` holds them.
    static func isLedgerID(_ s: Substring) -> Bool {
        s.utf8.count == 16 && s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func isDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-") else { return false }
        return u.enumerated().allSatisfy { i, c in i == 4 || i == 7 || (c >= 0x30 && c <= 0x39) }
    }

    /// The UTC day of a Unix millisecond time, `YYYY-MM-DD` (proleptic Gregorian): the date part of
    /// its RFC 3339 text.
    public static func utcDate(millis: Int64) -> String {
        String(RFC3339.format(millis: millis).prefix(10))
    }
}
