import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// A Prometheus data dir of real promtool blocks, a filesystem bucket and a ledger, in a temp dir,
/// plus the checks that bucket, ledger and local dir agree.
struct ShippingWorld {
    let root: TempDir
    var tsdb: String { root.sub("tsdb") }
    var bucket: String { root.sub("bucket") }
    var bucketConfig: String { root.sub("bucket.yml") }
    var ledgerPath: String { root.sub("tsdb/thanos/skiff-ledger.db") }

    /// Pristine promtool blocks, made once per test run and copied into each world.
    static let pristine = MadeOnce {
        let dir = try TempDir()
        _ = try await PromBlocks.make(series: 6, hours: 7, stepSeconds: 30, into: dir.sub("blocks"))
        return dir.sub("blocks")
    }

    init() async throws {
        root = try TempDir()
        try FileManager.default.copyItem(atPath: try await Self.pristine.value(), toPath: root.sub("tsdb"))
        try FileManager.default.createDirectory(atPath: root.sub("tsdb/wal"), withIntermediateDirectories: true)
        try "type: FILESYSTEM\nconfig:\n  directory: \(bucket)\n".write(
            toFile: bucketConfig, atomically: true, encoding: .utf8)
    }

    var shipArguments: [String] {
        [
            "ship", "--tsdb.path", tsdb, "--objstore.config-file", bucketConfig, "--label", "cluster=eu1",
            "--label", "replica=0", "--shipper.retry-backoff", "10ms", "--log.level", "debug",
        ]
    }

    func ship(failpoints: String? = nil, extra: [String] = []) async throws -> SkiffProcess.Result {
        try await SkiffProcess.run(
            shipArguments + extra, environment: failpoints.map { ["SKIFF_FAILPOINTS": $0] } ?? [:])
    }

    /// The block dirs Prometheus would have (ULID names).
    var localBlocks: [ULID] {
        ((try? FileManager.default.contentsOfDirectory(atPath: tsdb)) ?? []).compactMap(ULID.init).sorted()
    }

    func data(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    func inode(_ path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_ino) : nil
    }

    /// Inodes of the bucket objects the ledger records as uploaded: a re-upload (tmp + rename)
    /// would change them.
    func recordedUploads() async throws -> [String: UInt64] {
        guard FileManager.default.fileExists(atPath: ledgerPath) else { return [:] }
        let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
        var out: [String: UInt64] = [:]
        for block in try await ledger.blocks() {
            for file in try await ledger.files(block.ulid) where file.uploaded {
                let key = "\(block.ulid)/\(file.relPath)"
                out[key] = inode("\(bucket)/\(key)")
            }
        }
        return out
    }

    /// Every invariant of a finished ship, checked from the outside.
    func expectFullyShipped(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let ledger = try Ledger.open(path: ledgerPath, readOnly: true)
        let records = Dictionary(uniqueKeysWithValues: try await ledger.blocks().map { ($0.ulid, $0) })
        let pristine = try await Self.pristine.value()
        for ulid in localBlocks {
            let record = try #require(records[ulid], "block \(ulid) not in ledger", sourceLocation: sourceLocation)
            #expect(record.state == .committed, "block \(ulid) is \(record.state)", sourceLocation: sourceLocation)
            // The history is a valid walk of the state machine, committed exactly once.
            let history = try await ledger.history(ulid)
            var machine = ShipStateMachine.initial(ignored: history.first?.to == .ignored)
            for row in history.dropFirst() where row.from != row.to {  // from == to: a note, not a step
                let event = Self.event(from: row, machine: machine)
                #expect(throws: Never.self, "\(ulid): \(row.from?.rawValue ?? "-") -> \(row.to)", sourceLocation: sourceLocation)
                {
                    _ = try machine.handle(event)
                }
            }
            #expect(history.filter { $0.to == .committed }.count == 1, sourceLocation: sourceLocation)
            // Bucket copies are byte-identical to Prometheus' files; nothing extra is there.
            let src = "\(tsdb)/\(ulid)"
            var expected =
                ["index"] + (try FileManager.default.contentsOfDirectory(atPath: "\(src)/chunks")).map { "chunks/\($0)" }
            for rel in expected {
                #expect(
                    data("\(bucket)/\(ulid)/\(rel)") == data("\(src)/\(rel)"), "\(ulid)/\(rel)", sourceLocation: sourceLocation)
            }
            expected.append("meta.json")
            let objects = try FileManager.default.subpathsOfDirectory(atPath: "\(bucket)/\(ulid)")
                .filter { !$0.hasSuffix("chunks") }
            #expect(Set(objects) == Set(expected), sourceLocation: sourceLocation)
            // meta.json is the ledger's bytes, and keeps every Prometheus field.
            let shipped = try #require(data("\(bucket)/\(ulid)/meta.json"), sourceLocation: sourceLocation)
            #expect([UInt8](shipped) == record.metaJSON, sourceLocation: sourceLocation)
            let shippedDoc = try JSONValue.parse([UInt8](shipped))
            let sourceDoc = try JSONValue.parse([UInt8](try #require(data("\(src)/meta.json"))))
            for member in sourceDoc.members ?? [] {
                #expect(shippedDoc[member.key] == member.value, "\(member.key)", sourceLocation: sourceLocation)
            }
            #expect(shippedDoc["thanos"]?["labels"]?["cluster"] == .string("eu1"), sourceLocation: sourceLocation)
            // Prometheus' own files are untouched.
            for rel in expected {
                #expect(data("\(src)/\(rel)") == data("\(pristine)/\(ulid)/\(rel)"), sourceLocation: sourceLocation)
            }
        }
        // No staging left, and thanos.shipper.json lists every committed block.
        let staging = (try? FileManager.default.contentsOfDirectory(atPath: "\(tsdb)/thanos/upload")) ?? []
        #expect(staging.isEmpty, "staging left: \(staging)", sourceLocation: sourceLocation)
        let shipperFile = try JSONValue.parse([UInt8](try #require(data("\(tsdb)/thanos.shipper.json"))))
        let listed = (shipperFile["uploaded"]?.arrayValue ?? []).compactMap(\.stringValue)
        #expect(listed == localBlocks.map(\.string), sourceLocation: sourceLocation)
        // No temp files left in the bucket.
        let leftovers = (FileManager.default.subpaths(atPath: bucket) ?? []).filter { $0.contains(".skiff-tmp-") }
        #expect(leftovers.isEmpty, sourceLocation: sourceLocation)
    }

    /// The event that explains a recorded transition.
    static func event(from row: TransitionRecord, machine: ShipStateMachine) -> ShipEvent {
        switch (row.from, row.to) {
        case (_, .hashed) where row.from != .failed: .hashed
        case (_, .chunksUploaded) where row.from != .failed: .chunksUploaded
        case (_, .indexUploaded) where row.from != .failed: .indexUploaded
        case (.indexUploaded, .committed): .committed
        case (_, .committed): .adopted
        case (_, .failed) where machine.state == .failed: .vanished
        case (_, .failed): .failed(quarantine: false, at: row.at, jitter: 0)
        case (.failed, .cleaned): .cleaned
        case (.failed, _): .retry
        case (.ignored, .discovered): .eligible
        case (.committed, .discovered): .reship
        default: .retry
        }
    }
}
