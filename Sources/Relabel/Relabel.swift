import Crypto
import Foundation
import SkiffCore

/// Prometheus' `relabel.Process`: applies the configs in order to a label set; nil when a keep,
/// drop, keepequal or dropequal dropped it. Labels whose value becomes empty are removed, as
/// Prometheus' label builder removes them.
public enum Relabel {
    public static func process(_ labels: LabelSet, _ configs: [RelabelConfig]) -> LabelSet? {
        var current: [String: String] = [:]
        for label in labels { current[label.name] = label.value }
        for config in configs {
            guard apply(config, to: &current) else { return nil }
        }
        return LabelSet(current.filter { !$0.value.isEmpty })
    }

    /// One config; false when the labels are dropped.
    static func apply(_ config: RelabelConfig, to labels: inout [String: String]) -> Bool {
        let value = config.sourceLabels.map { labels[$0] ?? "" }.joined(separator: config.separator)
        switch config.action {
        case .drop:
            if config.regex.matches(value) { return false }
        case .keep:
            if !config.regex.matches(value) { return false }
        case .dropequal:
            if (labels[config.targetLabel] ?? "") == value { return false }
        case .keepequal:
            if (labels[config.targetLabel] ?? "") != value { return false }
        case .replace:
            guard let match = config.regex.match(value) else { break }
            let target = config.regex.expand(config.targetLabel, value, match)
            guard !target.isEmpty else { break }  // not a valid label name: Prometheus leaves the labels alone
            let result = config.regex.expand(config.replacement, value, match)
            labels[target] = result.isEmpty ? nil : result
        case .lowercase:
            labels[config.targetLabel] = value.lowercased()
        case .uppercase:
            labels[config.targetLabel] = value.uppercased()
        case .hashmod:
            labels[config.targetLabel] = String(hashMod(value, config.modulus))
        case .labelmap:
            for (name, labelValue) in labels {
                guard let match = config.regex.match(name) else { continue }
                labels[config.regex.expand(config.replacement, name, match)] = labelValue
            }
        case .labeldrop:
            for name in labels.keys where config.regex.matches(name) { labels[name] = nil }
        case .labelkeep:
            for name in labels.keys where !config.regex.matches(name) { labels[name] = nil }
        }
        return true
    }

    /// Prometheus' hashmod: the last 8 bytes of the MD5 of the value, big-endian, modulo `modulus`.
    public static func hashMod(_ value: String, _ modulus: UInt64) -> UInt64 {
        let digest = Array(Insecure.MD5.hash(data: Array(value.utf8)))
        let low = digest[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return low % modulus
    }
}
