import Foundation
import SkiffCore

/// Real Prometheus blocks for tests, made by `promtool tsdb create-blocks-from openmetrics`.
/// Tests that use it carry `.needs(.promtool)`; promtool runs off the cooperative pool.
public enum PromBlocks {
    /// A failed promtool run (or no promtool at all).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Backfills `series` gauge series (plus up to 5 counters) with one sample every
    /// `stepSeconds` over `hours` ending at `endMillis` (default now) into `dir`, which is created
    /// if needed. Returns the new block dirs, sorted by name (so by ULID: creation order).
    public static func make(
        series: Int, hours: Double, stepSeconds: Int, endMillis: Int64? = nil, into dir: String
    ) async throws -> [String] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let before = Set(try blockNames(dir))
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("skiff-\(UUID().uuidString).om").path
        defer { try? FileManager.default.removeItem(atPath: input) }
        let end = (endMillis ?? Int64(Date().timeIntervalSince1970 * 1000)) / 1000
        try await offThePool {
            try writeOpenMetrics(series: series, start: end - Int64(hours * 3600), end: end, step: Int64(stepSeconds), to: input)
        }
        _ = try await run(["tsdb", "create-blocks-from", "openmetrics", input, dir])
        return try blockNames(dir).filter { !before.contains($0) }.sorted().map { dir + "/" + $0 }
    }

    /// `promtool tsdb list -r <dir>`: the human-readable block table (promtool reads every meta.json).
    public static func promtoolList(_ dir: String) async throws -> String {
        try await run(["tsdb", "list", "-r", dir])
    }

    /// OpenMetrics as the harness's genom.py writes it: each family contiguous, `# TYPE` once,
    /// timestamps in seconds, counters named `*_total`, samples of a series in time order,
    /// `# EOF` last. Streamed through a 1 MiB buffer so big inputs never sit in memory.
    static func writeOpenMetrics(series: Int, start: Int64, end: Int64, step: Int64, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw Failure(description: "cannot create \(path)") }
        defer { try? handle.close() }
        var buffer = ""
        func emit(_ line: String) throws {
            buffer += line
            if buffer.utf8.count >= 1 << 20 {
                try handle.write(contentsOf: Data(buffer.utf8))
                buffer = ""
            }
        }
        try emit("# HELP bf_gauge Backfilled gauge.\n# TYPE bf_gauge gauge\n")
        for i in 0..<series {
            for t in stride(from: start, to: end, by: Int(step)) {
                try emit("bf_gauge{job=\"backfill\",series=\"\(i)\"} \(Double(i) + sin(Double(t) / 600)) \(t)\n")
            }
        }
        try emit("# HELP bf_requests Backfilled counter.\n# TYPE bf_requests counter\n")
        for i in 0..<min(series, 5) {
            for t in stride(from: start, to: end, by: Int(step)) {
                try emit("bf_requests_total{job=\"backfill\",series=\"\(i)\"} \((t - start) / step) \(t)\n")
            }
        }
        try emit("# EOF\n")
        try handle.write(contentsOf: Data(buffer.utf8))
    }

    static func blockNames(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { ULID($0) != nil }
    }

    /// Runs promtool to completion; its output, or a failure with what it printed.
    static func run(_ arguments: [String]) async throws -> String {
        let result = try await ExternalProgram.promtool.run(arguments)
        guard result.succeeded else {
            throw Failure(
                description:
                    "promtool \(arguments.joined(separator: " ")) failed (status \(result.status)):\n\(result.stderr)\(result.stdout)"
            )
        }
        return result.stdout
    }
}
