import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// Local blocks a hostile or careless hand has changed: each ends in a quarantined block named in
/// the output, never a hang, while the healthy blocks ship in the same pass (issue 17).
@Suite(.needs(.promtool, .python3)) struct HostileBlockTests {
    /// Every run is bounded well below the runner's timeout: a hang must fail the test, not stall it.
    static let bound = Duration.seconds(30)

    func ship(_ world: ShippingWorld) async throws -> SkiffProcess.Result {
        try await SkiffProcess.run(world.shipArguments, timeout: Self.bound)
    }

    func records(_ world: ShippingWorld) async throws -> [ULID: BlockRecord] {
        let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
        return Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
    }

    func quarantineLine(_ result: SkiffProcess.Result, _ ulid: ULID) -> String {
        String(result.stdout.split(separator: "\n").first { $0.hasPrefix("quarantined \(ulid)") } ?? "")
    }

    /// The bad block is quarantined after one attempt; every other block is committed.
    func expectOnlyQuarantined(
        _ bad: ULID, in world: ShippingWorld, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let records = try await records(world)
        for ulid in world.localBlocks where ulid != bad {
            #expect(records[ulid]?.state == .committed, "\(ulid)", sourceLocation: sourceLocation)
        }
        let record = try #require(records[bad], sourceLocation: sourceLocation)
        #expect(
            record.state == .failed && record.quarantined && record.attempts == 1, "\(record)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: "\(world.bucket)/\(bad)/meta.json"), sourceLocation: sourceLocation)
    }

    /// Cases 14 and 15: a FIFO among the block's files used to hang `ship` forever.
    @Test(arguments: ["chunks/000001", "index", "meta.json", "tombstones"])
    func aFIFOInTheOldestBlockIsQuarantinedAndTheOthersShip(_ file: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        let path = "\(world.tsdb)/\(bad)/\(file)"
        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o644) == 0)
        let result = try await ship(world)
        #expect(result.status == 1, "\(result)")
        let line = quarantineLine(result, bad)
        #expect(line.contains(file) && line.contains("a FIFO, not a regular file"), "\(result.stdout)")
        try await expectOnlyQuarantined(bad, in: world)
    }

    /// Case 11: a chunk path that is a directory is a corrupt block, not a transient failure that
    /// holds back every newer block.
    @Test func aChunkThatIsADirectoryIsQuarantinedAtOnce() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        let path = "\(world.tsdb)/\(bad)/chunks/000001"
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let result = try await ship(world)
        #expect(result.status == 1, "\(result)")
        #expect(quarantineLine(result, bad).contains("chunks/000001 is a directory"), "\(result.stdout)")
        #expect(!result.stdout.contains("holds back newer blocks"), "\(result.stdout)")
        try await expectOnlyQuarantined(bad, in: world)
    }

    func setNumSamples(_ value: String, in world: ShippingWorld, _ ulid: ULID) throws {
        let path = "\(world.tsdb)/\(ulid)/meta.json"
        let text = String(decoding: try #require(world.data(path)), as: UTF8.self)
        let edited = text.replacing(#/"numSamples": [0-9]+/#, with: "\"numSamples\": \(value)")
        #expect(edited != text)
        try edited.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Case 8: a malformed sample count is a corrupt meta.json (Thanos cannot read it either), not
    /// an empty block silently ignored with exit code 0.
    @Test(arguments: ["\"1200\"", "1.5e3", "null", "18446744073709551616"])
    func aMalformedSampleCountIsQuarantinedNotIgnored(_ value: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[1]
        try setNumSamples(value, in: world, bad)
        let result = try await ship(world)
        #expect(result.status == 1, "\(result)")
        #expect(quarantineLine(result, bad).contains("stats.numSamples"), "\(result.stdout)")
        try await expectOnlyQuarantined(bad, in: world)
    }

    /// Case 8, the Thanos-compatible half: no stats at all is an empty block, ignored, and the
    /// summary says so.
    @Test func aBlockWithoutStatsIsIgnoredAndTheSummarySaysSo() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let empty = world.localBlocks[1]
        let path = "\(world.tsdb)/\(empty)/meta.json"
        var doc = try JSONValue.parse([UInt8](try #require(world.data(path))))
        doc = .object((doc.members ?? []).filter { $0.key != "stats" })
        try Data(doc.encodedIndented()).write(to: URL(fileURLWithPath: path))
        let result = try await ship(world)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("ignored \(empty)  empty block (0 samples)"), "\(result.stdout)")
        #expect(result.stdout.contains("1 ignored;"), "\(result.stdout)")
        #expect(try await records(world)[empty]?.state == .ignored)
    }

    /// Cases 2 and 3: a quarantined block, once fixed, ships on the very next run, and its ledger
    /// row then describes the real block (times, samples), with no stale error.
    @Test func aFixedBlockShipsAtOnceWithItsRealSummary() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        let path = "\(world.tsdb)/\(bad)/meta.json"
        let original = try #require(world.data(path))
        try Data("{\"ulid\": 12".utf8).write(to: URL(fileURLWithPath: path))
        let first = try await ship(world)
        #expect(first.status == 1, "\(first)")
        #expect(quarantineLine(first, bad).contains("next attempt after"), "\(first.stdout)")

        try original.write(to: URL(fileURLWithPath: path))
        let second = try await ship(world)
        #expect(second.status == 0, "\(second)")
        #expect(second.stdout.contains("shipped \(bad)"), "\(second.stdout)")
        let meta = try BlockMeta(json: [UInt8](original))
        let record = try #require(try await records(world)[bad])
        #expect(record.state == .committed)
        #expect(record.minTime == meta.minTime && record.maxTime == meta.maxTime, "\(record)")
        #expect(record.numSamples == meta.numSamples && record.numSeries == meta.numSeries, "\(record)")
        #expect(record.lastError == nil, "\(record)")
        try await world.expectFullyShipped()
    }

    /// Case 2: an unchanged quarantined block is not retried before its time, and the output says when.
    @Test func anUnchangedQuarantinedBlockWaitsAndSaysUntilWhen() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        try Data("{\"ulid\": 12".utf8).write(to: URL(fileURLWithPath: "\(world.tsdb)/\(bad)/meta.json"))
        _ = try await ship(world)
        let again = try await ship(world)
        #expect(again.status == 1, "\(again)")
        #expect(quarantineLine(again, bad).contains("next attempt after"), "\(again.stdout)")
        let ledger = try Ledger.open(path: world.ledgerPath, readOnly: true)
        #expect(try await ledger.history(bad).filter { $0.to == .failed }.count == 1)
    }
}
