import SkiffCore
import Testing

@testable import Reconcile

/// How the reconciler reads a block's labels from its meta.json in the bucket.
@Suite struct BucketInventoryTests {
    static let ulid = ULID("01M88KSQB7NPRR96QBQPG346H2")!

    static func meta(labels: String) -> [UInt8] {
        Array(#"{"ulid":"01M88KSQB7NPRR96QBQPG346H2","thanos":{"labels":{\#(labels)},"source":"sidecar"}}"#.utf8)
    }

    @Test func labelsAreOursOnlyWhenTheirBytesAre() {
        let ours = LabelSet([Label(name: "site", value: "\u{E9}")])
        // JSON escapes and raw UTF-8 are the same bytes once parsed.
        #expect(BucketInventory.parse(Self.ulid, Self.meta(labels: #""site":"\u00e9""#)).labels == ours)
        #expect(BucketInventory.parse(Self.ulid, Self.meta(labels: #""site":"é""#)).labels == ours)
        // A decomposed "é" is canonically equal but another label set, as for Thanos' compactor.
        #expect(BucketInventory.parse(Self.ulid, Self.meta(labels: #""site":"e\u0301""#)).labels != ours)
    }

    @Test func aRepeatedNameKeepsTheLastValueAndCanonicalTwinsStayApart() {
        let parsed = BucketInventory.parse(Self.ulid, Self.meta(labels: #""a":"1","a":"2","\u00e9":"x","e\u0301":"y""#))
        #expect(parsed.labels.count == 3)
        #expect(parsed.labels["a"] == "2")
        #expect(parsed.labels.names.map { Array($0.utf8) } == [[0x61], [0x65, 0xCC, 0x81], [0xC3, 0xA9]])
    }
}
