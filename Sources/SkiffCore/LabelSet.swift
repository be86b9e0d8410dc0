/// A label set: a series' labels, or the external labels that name a Prometheus and its blocks.
/// Sorted by name (byte-wise) with unique names, ordered like Prometheus' `labels.Compare`.
///
/// The order compares pair by pair, name first and then value, byte-wise; when one set is a prefix
/// of the other the shorter one sorts first. This is the order Prometheus streams remote-read
/// series in and the order the StoreAPI must emit them in; it is also the key order Go writes
/// meta.json's `thanos.labels` in. Equality is byte-wise too: `"é"` precomposed and `"e\u{301}"`
/// are different names or values, as in Go, though Swift's `String` calls them equal.
public struct LabelSet: Hashable, Comparable, Sendable, RandomAccessCollection, CustomStringConvertible,
    ExpressibleByDictionaryLiteral
{
    /// Sorted by name; names are unique.
    public private(set) var labels: [Label]

    public init() { labels = [] }

    /// Takes labels in any order. Input that is already sorted with unique names (what Prometheus
    /// sends) is kept as is after an O(n) check; otherwise it is sorted and, for a repeated name,
    /// the last occurrence wins.
    public init(_ labels: [Label]) {
        if Self.isSortedUnique(labels) {
            self.labels = labels
            return
        }
        // Sort by (name, input position) so "last wins" is well defined whatever sort Swift uses.
        let ordered = labels.indices.sorted { i, j in
            let c = ByteOrder.compare(labels[i].name, labels[j].name)
            return c != 0 ? c < 0 : i < j
        }
        var out: [Label] = []
        out.reserveCapacity(labels.count)
        for i in ordered {
            if let last = out.last, ByteOrder.equal(last.name, labels[i].name) { out.removeLast() }
            out.append(labels[i])
        }
        self.labels = out
    }

    /// From a dictionary. Its keys are unique by Swift's canonical equivalence, not byte-wise, so
    /// labels read from the wire or a file should come in as `[Label]` instead.
    public init(_ pairs: [String: String]) {
        self.init(pairs.map { Label(name: $0.key, value: $0.value) })
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { Label(name: $0.0, value: $0.1) })
    }

    /// Wraps labels the caller guarantees are sorted and unique (the package's fast path).
    package init(trusted labels: [Label]) { self.labels = labels }

    static func isSortedUnique(_ labels: [Label]) -> Bool {
        var i = 1
        while i < labels.count {
            if ByteOrder.compare(labels[i - 1].name, labels[i].name) >= 0 { return false }
            i += 1
        }
        return true
    }

    // MARK: Collection

    public var startIndex: Int { labels.startIndex }
    public var endIndex: Int { labels.endIndex }
    public subscript(position: Int) -> Label { labels[position] }
    // Direct forwards: the Collection defaults go through index arithmetic, slow in debug builds.
    public var count: Int { labels.count }
    public var isEmpty: Bool { labels.isEmpty }
    public var first: Label? { labels.first }
    public var last: Label? { labels.last }

    /// The value of `name`, or nil when the series has no such label.
    public subscript(name: String) -> String? {
        labels.first { ByteOrder.equal($0.name, name) }?.value
    }

    public var names: [String] { labels.map(\.name) }

    // MARK: Order

    @inlinable
    public static func == (a: LabelSet, b: LabelSet) -> Bool { a.labels == b.labels }

    public func hash(into hasher: inout Hasher) { hasher.combine(labels) }

    @inlinable
    public static func < (a: LabelSet, b: LabelSet) -> Bool { compare(a, b) < 0 }

    /// Prometheus' `labels.Compare`: negative, zero or positive.
    @inlinable
    public static func compare(_ a: LabelSet, _ b: LabelSet) -> Int {
        compare(a.labels[...], b.labels[...])
    }

    /// `labels.Compare` on slices, so a prefix of a set can be compared without copying it.
    @inlinable
    package static func compare(_ a: ArraySlice<Label>, _ b: ArraySlice<Label>) -> Int {
        var i = a.startIndex
        var j = b.startIndex
        while i < a.endIndex, j < b.endIndex {
            let c = Label.compare(a[i], b[j])
            if c != 0 { return c }
            i += 1
            j += 1
        }
        return a.count - b.count
    }

    /// `{a="1", b="2"}` as Prometheus prints a label set.
    public var description: String {
        "{" + labels.map(\.description).joined(separator: ", ") + "}"
    }
}
