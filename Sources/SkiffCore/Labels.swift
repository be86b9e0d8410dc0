/// A set of label pairs kept sorted by name, as Prometheus and Thanos compare them.
public struct Labels: Hashable, Sendable, Sequence, CustomStringConvertible {
    public struct Label: Hashable, Sendable {
        public let name: String
        public let value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Sorted by name; names are unique.
    public private(set) var pairs: [Label]

    public init() { pairs = [] }

    /// Builds a label set; a later duplicate name replaces an earlier one.
    public init(_ dict: [String: String]) {
        pairs = dict.map { Label(name: $0.key, value: $0.value) }.sorted { $0.name < $1.name }
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var count: Int { pairs.count }
    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }
    public func makeIterator() -> IndexingIterator<[Label]> { pairs.makeIterator() }
    public var dictionary: [String: String] {
        Dictionary(uniqueKeysWithValues: pairs.map { ($0.name, $0.value) })
    }

    /// `{a="1", b="2"}` as Prometheus prints a label set.
    public var description: String {
        "{" + pairs.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ", ") + "}"
    }

    /// True for a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        func letter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Parses `name=value` flags (as `--label cluster=eu1`), rejecting bad names and duplicates.
    public static func parse(flags: [String]) throws(SkiffError) -> Labels {
        var dict: [String: String] = [:]
        for flag in flags {
            guard let eq = flag.firstIndex(of: "=") else {
                throw SkiffError(.invalidArgument, "label \"\(flag)\" is not name=value (e.g. --label cluster=eu1)")
            }
            let name = String(flag[..<eq])
            var value = String(flag[flag.index(after: eq)...])
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = String(value.dropFirst().dropLast()) }
            guard isValidName(name) else {
                throw SkiffError(.invalidArgument, "label name \"\(name)\" is invalid: use [a-zA-Z_][a-zA-Z0-9_]*")
            }
            guard !name.hasPrefix("__") else {
                throw SkiffError(.invalidArgument, "label name \"\(name)\" is reserved (names starting with __)")
            }
            guard dict[name] == nil else { throw SkiffError(.invalidArgument, "label \"\(name)\" is given twice") }
            dict[name] = value
        }
        return Labels(dict)
    }
}
