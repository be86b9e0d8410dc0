extension LabelSet {
    /// True for a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        func letter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    /// Why `name` cannot name an external label, or nil when it can. One rule for `--label` and
    /// for the labels read from Prometheus: both end up in every meta.json we ship.
    public static func externalNameProblem(_ name: String) -> String? {
        guard isValidName(name) else { return "label name \"\(name)\" is invalid: use [a-zA-Z_][a-zA-Z0-9_]*" }
        guard !name.hasPrefix("__") else { return "label name \"\(name)\" is reserved (names starting with __)" }
        return nil
    }

    /// Parses `name=value` flags (as `--label cluster=eu1`), rejecting bad names and duplicates.
    /// A value wrapped in double quotes loses them (byte-wise, as Go reads it); the value's bytes
    /// are kept as given, so a precomposed and a decomposed "é" stay different values.
    public static func parse(flags: [String]) throws(SkiffError) -> LabelSet {
        var labels: [Label] = []
        var names = Set<String>()  // a set, not a scan: 20,000 flags took minutes
        for flag in flags {
            guard let eq = flag.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw SkiffError(.invalidArgument, "label \"\(flag)\" is not name=value (e.g. --label cluster=eu1)")
            }
            let name = String(decoding: flag.utf8[..<eq], as: UTF8.self)
            var value = flag.utf8[flag.utf8.index(after: eq)...]
            if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
                value = value.dropFirst().dropLast()
            }
            if let problem = externalNameProblem(name) { throw SkiffError(.invalidArgument, problem) }
            guard !value.isEmpty else {
                throw SkiffError(
                    .invalidArgument,
                    "label \"\(name)\" has an empty value, which Prometheus reads as no label at all: "
                        + "give it a value (e.g. --label \(name)=eu1) or leave it out")
            }
            guard names.insert(name).inserted else {
                throw SkiffError(.invalidArgument, "label \"\(name)\" is given twice")
            }
            labels.append(Label(name: name, value: String(decoding: value, as: UTF8.self)))
        }
        return LabelSet(labels)
    }
}
