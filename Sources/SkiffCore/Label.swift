/// One name/value pair of a series' identity.
///
/// Equality and order are byte-wise like Go's, not Swift's canonical-equivalence `String` rules:
/// Prometheus treats `"é"` (U+00E9) and `"e\u{301}"` as different values, and so must we.
public struct Label: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    @inlinable
    public static func == (a: Label, b: Label) -> Bool {
        ByteOrder.equal(a.name, b.name) && ByteOrder.equal(a.value, b.value)
    }

    /// Hashes through `String` (consistent with byte-wise equality: byte-equal implies `String`-equal).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(value)
    }

    /// Name first, then value, both byte-wise: the pair order inside Prometheus' `labels.Compare`.
    @inlinable
    public static func < (a: Label, b: Label) -> Bool { compare(a, b) < 0 }

    /// Negative, zero or positive: name first, then value, both byte-wise.
    @inlinable @inline(__always)
    package static func compare(_ a: Label, _ b: Label) -> Int {
        let byName = ByteOrder.compare(a.name, b.name)
        return byName != 0 ? byName : ByteOrder.compare(a.value, b.value)
    }

    /// `name="value"` with the value Go-quoted, as Prometheus prints a label.
    public var description: String { "\(name)=\(GoQuote.quote(value))" }
}
