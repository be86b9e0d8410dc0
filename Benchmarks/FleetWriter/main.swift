import AuditExport
import Foundation
import Ledger
import ObjectStorage
import SkiffCore

/// Tools/bench-fleet's simulated fleet: `sources` sources with `transitions` transitions in all,
/// written into a FILESYSTEM bucket through the exporter's own object builder
/// (`AuditExporter.objects`: records, day split, names, gzip) and the bucket's upload.
/// Usage: bench-fleet-writer <bucket-dir> <sources> <transitions> [max-rows]
@main
struct FleetWriter {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 4, let sources = Int(args[2]), let total = Int(args[3]) else {
            FileHandle.standardError.write(
                Data("usage: bench-fleet-writer <bucket-dir> <sources> <transitions> [max-rows]\n".utf8))
            exit(2)
        }
        let maxRows = args.count > 4 ? Int(args[4]) ?? 10_000 : 10_000
        let bucket = try FilesystemBucket(directory: args[1])
        let perSource = total / sources
        let start: Int64 = 1_796_205_600_000  // 2026-12-02T10:00:00Z: a fleet day crosses midnight
        var objects = 0
        for s in 0..<sources {
            let labels: LabelSet = ["cluster": "c\(s / 10)", "replica": "\(s % 10)"]
            let ledger = String(format: "%016x", 0xbe0c_0000_0000 + s)
            let rows = simulate(source: s, count: perSource, start: start + Int64(s) * 1_000)
            var first = 0
            while first < rows.count {
                let batch = Array(rows[first..<min(first + maxRows, rows.count)])
                for (name, bytes) in try AuditExporter.objects(
                    batch, source: AuditSource(labels: labels), ledger: ledger, skiffVersion: "bench")
                {
                    try await bucket.upload(key: name.key, bytes: bytes)
                    objects += 1
                }
                first += maxRows
            }
        }
        print("wrote \(objects) objects, \(perSource * sources) transitions from \(sources) sources")
    }

    /// One source's ledger history: 2h blocks, each discovered, hashed, uploaded and committed
    /// (a quarter fail once at the index and retry), one transition a minute.
    static func simulate(source: Int, count: Int, start: Int64) -> [AuditTransition] {
        var rows: [AuditTransition] = []
        rows.reserveCapacity(count)
        var now = start
        var block = 0
        while rows.count < count {
            let ulid = String(format: "01JBENCH%06d%012d", source, block)
            let maxTime = now - 1_800_000
            let size = Int64(50_000_000 + (block * 7919 + source * 104_729) % 20_000_000)
            var steps: [(ShipState?, ShipState, Int64?, String?)] = [
                (nil, .discovered, nil, nil), (.discovered, .hashed, size, "3 files"),
                (.hashed, .chunksUploaded, size - 1000, nil),
            ]
            if (block + source) % 4 == 0 {
                steps += [
                    (.chunksUploaded, .failed, nil, "upload index: connection reset"), (.failed, .chunksUploaded, nil, nil),
                ]
            }
            steps += [(.chunksUploaded, .indexUploaded, 1000, nil), (.indexUploaded, .committed, size, nil)]
            for (from, to, bytes, detail) in steps where rows.count < count {
                now += 60_000
                let t = TransitionRecord(
                    id: Int64(rows.count + 1), ulid: ulid, from: from, to: to, at: now, attempt: 1, bytes: bytes,
                    detail: detail)
                rows.append(AuditTransition(transition: t, blockMinTime: maxTime - 7_200_000, blockMaxTime: maxTime))
            }
            block += 1
        }
        return rows
    }
}
