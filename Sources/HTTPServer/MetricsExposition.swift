import Prometheus

/// Prometheus text exposition (format 0.0.4) of a registry, with metric families sorted by name.
///
/// `PrometheusCollectorRegistry.emit` walks a `Dictionary`, so its family order changes from one
/// process to the next; sorting makes `/metrics` diffable and tests stable. Only whole families are
/// moved: the lines inside a family (a histogram's buckets, `_sum` and `_count`) keep their order.
enum MetricsExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ registry: PrometheusCollectorRegistry) -> [UInt8] {
        var raw: [UInt8] = []
        registry.emit(into: &raw)
        return sortedByFamily(raw)
    }

    /// Splits the exposition at `# HELP` and `# TYPE` lines (the registry writes one of them first for
    /// every family, and HELP precedes TYPE for the same name) and orders the chunks by family name.
    static func sortedByFamily(_ text: [UInt8]) -> [UInt8] {
        var families: [(name: Substring, lines: [Substring])] = []
        let string = String(decoding: text, as: UTF8.self)
        for line in string.split(separator: "\n", omittingEmptySubsequences: true) {
            if let name = familyName(ofComment: line), families.last?.name != name {
                families.append((name, [line]))
            } else if families.isEmpty {
                families.append(("", [line]))  // samples before any comment: keep them first
            } else {
                families[families.count - 1].lines.append(line)
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.count + 1)
        // Swift's sort is not stable, but family names are unique, so ties cannot occur.
        for family in families.sorted(by: { $0.name < $1.name }) {
            for line in family.lines {
                out.append(contentsOf: line.utf8)
                out.append(UInt8(ascii: "\n"))
            }
        }
        return out
    }

    /// The metric name in "# HELP name ..." or "# TYPE name ...", nil for any other line.
    private static func familyName(ofComment line: Substring) -> Substring? {
        for prefix in ["# HELP ", "# TYPE "] where line.hasPrefix(prefix) {
            return line.dropFirst(prefix.count).prefix(while: { $0 != " " })
        }
        return nil
    }
}
