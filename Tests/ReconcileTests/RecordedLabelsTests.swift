import Ledger
import Reconcile
import SkiffCore
import TestSupport
import Testing

/// `skiff reconcile` without `--label` takes the one label set the ledger's blocks were shipped
/// with; with none or several it says what to pass instead of guessing.
@Suite struct RecordedLabelsTests {
    static let ulids = ["01M88KSQB7NPRR96QBQPG346H2", "01M88KSQB7NPRR96QBQPG346H3", "01M88KSQB7NPRR96QBQPG346H4"]

    /// A ledger whose committed blocks carry `labels[i]` in their recorded meta.json.
    func ledger(_ dir: TempDir, labels: [LabelSet]) async throws -> Ledger {
        let ledger = try Ledger.open(path: dir.sub("ledger.db"))
        let found = try zip(Self.ulids, labels).map { ulid, labels in
            let meta = try BlockMeta(
                json: Array(
                    #"{"ulid":"\#(ulid)","version":1,"minTime":0,"maxTime":1,"stats":{"numSamples":1},"compaction":{"level":1}}"#
                        .utf8),
                dirName: ulid)
            return Ledger.FoundBlock(
                summary: BlockSummary(meta), files: [],
                metaJSON: meta.thanosDocument(labels: labels, files: [], uploadTimeMillis: 0))
        }
        try await ledger.insertCommitted(found, origin: .rebuilt, detail: "test", at: 0)
        return ledger
    }

    func resolve(_ ledger: Ledger, flags: LabelSet = LabelSet()) async throws(SkiffError) -> (LabelSet, [String]) {
        var notes: [String] = []
        let labels = try await RecordedLabels.resolve(flags: flags, ledger: ledger) { notes.append($0) }
        return (labels, notes)
    }

    @Test func oneRecordedSetIsUsedAndSaidSo() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let eu1 = LabelSet(["cluster": "eu1"])
        let ledger = try await ledger(dir, labels: [eu1, eu1])
        let (labels, notes) = try await resolve(ledger)
        #expect(labels == eu1)
        #expect(notes.count == 1 && notes[0].contains("cluster=\"eu1\""), "\(notes)")
        let given = LabelSet(["cluster": "eu2"])
        #expect(try await resolve(ledger, flags: given).0 == given, "flags win")
    }

    @Test func noRecordedBlockAsksForLabels() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let ledger = try await ledger(dir, labels: [])
        let error = await #expect(throws: SkiffError.self) { _ = try await resolve(ledger) }
        #expect(error?.message.contains("records no shipped block") == true, "\(String(describing: error))")
        #expect(error?.message.contains("--label") == true)
    }

    @Test func severalRecordedSetsAreListed() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let ledger = try await ledger(dir, labels: [LabelSet(["cluster": "eu1"]), LabelSet(["cluster": "eu2"])])
        let error = await #expect(throws: SkiffError.self) { _ = try await resolve(ledger) }
        #expect(error?.message.contains("2 different label sets") == true, "\(String(describing: error))")
        #expect(error?.message.contains("eu1") == true && error?.message.contains("eu2") == true)
    }
}
