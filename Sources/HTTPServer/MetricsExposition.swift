import Prometheus

/// Prometheus text exposition (format 0.0.4) of a registry, plus what Thanos' registry always has
/// (`thanos_build_info` and client_golang's `process_*`, rendered at each scrape, so no caller has to
/// register them), with metric families sorted by name.
///
/// `PrometheusCollectorRegistry.emit` walks a `Dictionary`, so its family order changes from one
/// process to the next; sorting makes `/metrics` diffable and tests stable. Only whole families are
/// moved: the lines inside a family (a histogram's buckets, `_sum` and `_count`) keep their order.
enum MetricsExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ registry: PrometheusCollectorRegistry) -> [UInt8] {
        var raw: [UInt8] = []
        registry.emit(into: &raw)
        emitBuildInfo(into: &raw)
        ProcessMetrics.emit(into: &raw)
        return sortedByFamily(raw)
    }

    /// `thanos_build_info`, as client_golang's `collectors/version` writes it: a constant 1. The label
    /// values are constants without quotes or backslashes, so nothing needs escaping.
    static func emitBuildInfo(into buffer: inout [UInt8]) {
        let labels = BuildInfo.labels.map { name, value in "\(name)=\"\(value)\"" }
        buffer.append(contentsOf: "# HELP thanos_build_info \(BuildInfo.help)\n".utf8)
        buffer.append(contentsOf: "# TYPE thanos_build_info gauge\n".utf8)
        buffer.append(contentsOf: "thanos_build_info{\(labels.joined(separator: ","))} 1\n".utf8)
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
