import Foundation
import TestSupport
import Testing

@testable import Reloader

/// The gunzip the reloader uses for a `.gz` config, against what the real `gzip` writes.
@Suite struct GunzipTests {
    /// Compresses `bytes` with /bin/gzip at `level` (a real encoder's stored, fixed and dynamic blocks).
    func gzip(_ bytes: [UInt8], level: Int, in dir: TempDir, name: String) async throws -> [UInt8] {
        let path = dir.sub(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let result = try await ExternalProgram.run(atPath: "/bin/gzip", ["-\(level)", "-f", path])
        #expect(result.succeeded, "\(result.stderr)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
    }

    @Test func matchesGzipForEveryKindOfBlock() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var random = SystemRandomNumberGenerator()
        let text = Array(
            (0..<4000).map { "  - record: rule_\($0 % 97)\n    expr: sum(rate(x_total[5m])) by (job)\n" }.joined().utf8)
        let inputs: [(String, [UInt8])] = [
            ("empty", []),
            ("tiny", Array("global: {}\n".utf8)),  // a fixed-Huffman block
            ("text", text),  // dynamic blocks, long back-references
            ("random", (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &random) }),  // stored blocks
            ("runs", [UInt8](repeating: 0x61, count: 100_000)),  // overlapping copies
        ]
        for (name, bytes) in inputs {
            for level in [1, 9] {
                let compressed = try await gzip(bytes, level: level, in: dir, name: "\(name)-\(level)")
                #expect(Gunzip.isGzip(compressed))
                #expect(try Gunzip.decompress(compressed, maxOutput: 1 << 24) == bytes, "\(name) at -\(level)")
            }
        }
    }

    @Test func concatenatedMembersAreOneStream() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let first = try await gzip(Array("global:\n".utf8), level: 6, in: dir, name: "a")
        let second = try await gzip(Array("  scrape_interval: 15s\n".utf8), level: 6, in: dir, name: "b")
        #expect(try Gunzip.decompress(first + second, maxOutput: 1 << 20) == Array("global:\n  scrape_interval: 15s\n".utf8))
    }

    @Test func damagedTruncatedAndOversizedInputsFail() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let plain = Array(String(repeating: "scrape_configs: []\n", count: 500).utf8)
        let good = try await gzip(plain, level: 6, in: dir, name: "c")
        var damaged = good
        damaged[damaged.count - 6] ^= 0xff  // inside the CRC-32
        #expect(throws: Gunzip.Failure.self) { try Gunzip.decompress(damaged, maxOutput: 1 << 20) }
        #expect(throws: Gunzip.Failure.self) { try Gunzip.decompress(Array(good.prefix(good.count / 2)), maxOutput: 1 << 20) }
        #expect(throws: Gunzip.Failure(reason: "it decompresses to more than 100 bytes")) {
            try Gunzip.decompress(good, maxOutput: 100)
        }
        #expect(throws: Gunzip.Failure.self) { try Gunzip.decompress(good + [1, 2, 3], maxOutput: 1 << 20) }
    }
}
