import SkiffCore
import Testing

/// What a meta.json found at a block's key means: ours (adopt), unreadable (Thanos' partial
/// upload: ship over it) or someone else's (never adopted, never overwritten).
@Suite struct MetaVerdictTests {
    static let ulid = ULID("01M88KSQB7NPRR96QBQPG346H2")!
    static let ours = LabelSet([Label(name: "cluster", value: "eu1"), Label(name: "replica", value: "0")])

    static func meta(ulid: String = "01M88KSQB7NPRR96QBQPG346H2", version: String = "1", thanos: String?) -> String {
        #"{"ulid":"\#(ulid)","version":\#(version),"minTime":0,"maxTime":1"# + (thanos.map { #","thanos":\#($0)"# } ?? "")
            + "}"
    }

    static let sidecar =
        #"{"labels":{"replica":"0","cluster":"eu1"},"source":"sidecar","files":[{"rel_path":"index","size_bytes":7}]}"#

    func verdict(_ text: String) -> ThanosMeta.Verdict {
        ThanosMeta.verdict(Array(text.utf8), ulid: Self.ulid, labels: Self.ours)
    }

    @Test func oursIsAdoptedWithTheFilesItLists() throws {
        guard case .ours(let meta) = verdict(Self.meta(thanos: Self.sidecar)) else {
            Issue.record("not ours")
            return
        }
        #expect(meta.files == [BlockMeta.File(relPath: "index", sizeBytes: 7, sha256: "")])
    }

    @Test(arguments: ["garbage{", "", "[]", "null", "\"x\""])
    func notAJSONObjectIsUnreadable(_ text: String) {
        guard case .unreadable = verdict(text) else {
            Issue.record("\(text): \(verdict(text))")
            return
        }
    }

    @Test(arguments: [
        (MetaVerdictTests.meta(thanos: nil), "no \"thanos\" section"),
        (
            MetaVerdictTests.meta(ulid: "01BX5ZZKBKACTAV9WEVGEMMVRZ", thanos: MetaVerdictTests.sidecar),
            "names block 01BX5ZZKBKACTAV9WEVGEMMVRZ"
        ),
        (MetaVerdictTests.meta(ulid: "nope", thanos: MetaVerdictTests.sidecar), "no valid \"ulid\""),
        (MetaVerdictTests.meta(version: "2", thanos: MetaVerdictTests.sidecar), "version 2"),
        ("{}", "version (none)"),
        (MetaVerdictTests.meta(thanos: #"{"labels":{"cluster":"eu9","replica":"0"},"source":"sidecar"}"#), "cluster=\"eu9\""),
        (MetaVerdictTests.meta(thanos: #"{"labels":{"cluster":"eu1"},"source":"sidecar"}"#), "ours are"),
        (
            MetaVerdictTests.meta(thanos: #"{"labels":{"cluster":"eu1","replica":"0"},"source":"compactor"}"#),
            "written by compactor"
        ),
    ])
    func readableButNotOursIsNeverAdopted(_ text: String, _ reason: String) {
        guard case .notOurs(let why) = verdict(text) else {
            Issue.record("\(text): \(verdict(text))")
            return
        }
        #expect(why.contains(reason), "\(why)")
    }
}
