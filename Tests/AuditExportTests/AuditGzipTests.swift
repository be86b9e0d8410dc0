import AuditExport
import SkiffCore
import Testing

@Suite struct AuditGzipTests {
    static func lines(_ count: Int) -> [[UInt8]] {
        (0..<count).map { i in Array(#"{"seq":\#(i),"detail":"\#(String(repeating: "x", count: i % 300))"}"#.utf8) }
    }

    /// The lines as one NDJSON body.
    static func body(_ lines: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for line in lines { out += line + [0x0A] }
        return out
    }

    /// Reads `gz` back through the line reader in pieces of `size` bytes.
    static func readBack(_ gz: [UInt8], pieces size: Int) throws -> [[UInt8]] {
        let reader = try AuditGzip.LineReader(what: "test object")
        var out: [[UInt8]] = []
        var start = 0
        while start < gz.count {
            try reader.feed(gz[start..<min(start + size, gz.count)]) { (line: [UInt8]) throws(SkiffError) in out.append(line) }
            start += size
        }
        try reader.finish()
        return out
    }

    @Test func compressionIsDeterministicWithoutATimestamp() throws {
        let body = Self.body(Self.lines(2000))
        let a = try AuditGzip.compress(body)
        let b = try AuditGzip.compress(body)
        #expect(a == b)
        #expect(Array(a.prefix(3)) == [0x1F, 0x8B, 0x08])
        #expect(a[3] == 0, "no name or comment flags")
        #expect(Array(a[4..<8]) == [0, 0, 0, 0], "the header's modification time is zero")
        #expect(a.count < body.count / 4)
    }

    @Test func linesStreamBackWhateverThePieceSize() throws {
        let lines = Self.lines(3000)  // about 450 KB: several 64 KiB windows
        let gz = try AuditGzip.compress(Self.body(lines))
        for size in [1, 7, 1000, 65_536, gz.count] {
            #expect(try Self.readBack(gz, pieces: size) == lines, "pieces of \(size)")
        }
    }

    @Test func damagedObjectsAreRefused() throws {
        let gz = try AuditGzip.compress(Self.body(Self.lines(100)))
        #expect(throws: SkiffError.self) { try Self.readBack(gz + [1, 2, 3], pieces: 100) }
        #expect(throws: SkiffError.self) { try Self.readBack(Array(gz.prefix(gz.count / 2)), pieces: 100) }
        #expect(throws: SkiffError.self) { try Self.readBack(Array("not gzip at all\n".utf8), pieces: 100) }
        let unterminated = try AuditGzip.compress(Array(#"{"seq":1}"#.utf8))
        #expect(throws: SkiffError.self) { try Self.readBack(unterminated, pieces: 100) }
    }
}
