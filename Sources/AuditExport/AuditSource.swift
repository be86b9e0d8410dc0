import Crypto
import SkiffCore

/// One exporting sidecar or `skiff ship` as the fleet audit names it: its external labels and the
/// stable id derived from them, the `source=` partition of every object it writes.
///
/// The id is the first 16 hex digits of the SHA-256 of the labels' canonical text: the labels in
/// Prometheus' order (sorted by name), each as `name="value"` with the value quoted as Go's
/// `strconv.Quote` does, joined by "," with no spaces, e.g. `cluster="eu1",replica="0"`. The same
/// labels give the same id on every machine and every version.
public struct AuditSource: Sendable, Equatable {
    public let labels: LabelSet

    public init(labels: LabelSet) { self.labels = labels }

    /// `cluster="eu1",replica="0"`.
    public var canonicalText: String {
        labels.map { "\($0.name)=\(GoQuote.quote($0.value))" }.joined(separator: ",")
    }

    /// 16 lower-case hex digits.
    public var id: String {
        let digest = SHA256.hash(data: Array(canonicalText.utf8))
        return digest.prefix(8).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The labels as a JSON object in label order, as each record carries them.
    public var labelsJSON: JSONValue {
        .object(labels.map { JSONValue.Member($0.name, .string($0.value)) })
    }

    /// Reads back the labels the ledger planned a batch under (`labelsJSON`'s compact text).
    public static func fromLabelsJSON(_ text: String) throws(SkiffError) -> AuditSource {
        let value = try JSONValue.parse(Array(text.utf8))
        guard let members = value.members else {
            throw SkiffError(.ledger, "the audit export's planned labels are not a JSON object: \(text)", transient: false)
        }
        var pairs: [Label] = []
        for member in members {
            guard let v = member.value.stringValue else {
                throw SkiffError(.ledger, "the audit export's planned label \(member.key) is not a string", transient: false)
            }
            pairs.append(Label(name: member.key, value: v))
        }
        return AuditSource(labels: LabelSet(pairs))
    }
}
