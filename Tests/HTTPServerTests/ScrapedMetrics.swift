/// A text exposition split into what tests check: each family's TYPE and HELP, and each sample's
/// value by its series ("name" or "name{labels}", as written).
struct ScrapedMetrics {
    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [String: Double] = [:]

    init(_ text: String) {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") || line.hasPrefix("# HELP ") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count == 4 else { continue }
                if parts[1] == "TYPE" {
                    types[String(parts[2])] = String(parts[3])
                } else {
                    help[String(parts[2])] = String(parts[3])
                }
            } else if let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) {
                samples[String(line[..<space])] = value
            }
        }
    }

    /// The value of a series, failing the test's `#require` when absent.
    func value(_ series: String) -> Double? { samples[series] }
}
