import Foundation
import Ledger
import SkiffCore

/// A real ledger filled through the Ledger API with block lifecycles at chosen times: each block
/// is discovered, hashed, uploads its chunks and index, may fail once and retry, then commits.
struct AuditLedgerFixture {
    /// 2026-12-02T23:00:00Z: the fixtures' transitions cross a UTC midnight.
    static let start: Int64 = 1_796_252_400_000

    /// What the fixture recorded, for the expected report numbers.
    struct Expected {
        var transitions = 0
        var commits: [(day: String, bytes: Int64, lagMillis: Int64)] = []
        var failures: [(error: String, ulid: String)] = []
    }

    /// A ULID unique per (seed, index).
    static func ulid(_ seed: Int, _ index: Int) -> ULID {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var n = seed * 100_000 + index
        var tail = ""
        for _ in 0..<8 {
            tail = String(alphabet[n % 32]) + tail
            n /= 32
        }
        return ULID("01M88KSQB7NPRR96QB" + tail)!
    }

    /// Records `blocks` lifecycles starting at `start + offset`, one step every `step` ms; every
    /// third block fails once (error "boom <block % 2>") before it commits.
    @discardableResult
    static func record(
        into ledger: Ledger, seed: Int, blocks: Int, offset: Int64 = 0, step: Int64 = 60_000
    ) async throws -> Expected {
        var expected = Expected()
        var now = start + offset
        for i in 0..<blocks {
            let id = ulid(seed, i)
            let maxTime = now - 3_600_000
            let meta = try BlockMeta(
                json: Array(
                    #"{"ulid":"\#(id.string)","minTime":\#(maxTime - 7_200_000),"maxTime":\#(maxTime),"stats":{"numSamples":10,"numSeries":2,"numChunks":2},"compaction":{"level":1},"version":1}"#
                        .utf8))
            var m = ShipStateMachine.initial(ignored: false)
            try await ledger.insertBlock(BlockSummary(meta), machine: m, reason: nil, at: now)
            let size = Int64(1000 + i)
            let files = [BlockMeta.File(relPath: "index", sizeBytes: size, sha256: "aa")]
            now += step
            try await ledger.recordHashed(id, try m.handle(.hashed), machine: m, files: files, metaJSON: [1], at: now)
            now += step
            try await ledger.recordTransition(id, try m.handle(.chunksUploaded), machine: m, at: now, bytes: 0)
            expected.transitions += 3
            if i % 3 == 0 {
                now += step
                let error = "boom \(i % 2)"
                try await ledger.recordTransition(
                    id, try m.handle(.failed(quarantine: false, at: now, jitter: 0)), machine: m, at: now, detail: error)
                now += step
                try await ledger.recordTransition(id, try m.handle(.retry), machine: m, at: now)
                expected.failures.append((error, id.string))
                expected.transitions += 2
            }
            now += step
            try await ledger.recordTransition(id, try m.handle(.indexUploaded), machine: m, at: now, bytes: size)
            now += step
            try await ledger.recordTransition(id, try m.handle(.committed), machine: m, at: now, bytes: size)
            expected.transitions += 2
            expected.commits.append((AuditObjectNameDay.of(now), size, now - maxTime))
        }
        return expected
    }
}

/// The UTC day of a time, computed with Foundation (independently of `AuditObjectName`).
enum AuditObjectNameDay {
    static func of(_ millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
