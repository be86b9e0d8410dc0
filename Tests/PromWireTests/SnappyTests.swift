import SeededRandom
import Testing

@testable import PromWire

@Suite struct SnappyTests {
    // MARK: - Literal-only encoding

    static let literalLengths = [0, 1, 59, 60, 61, 255, 256, 257, 65_535, 65_536, 65_537, 200_000]

    @Test(arguments: literalLengths)
    func literalEncodingRoundtrips(_ length: Int) throws {
        var random = SeededGenerator(seed: UInt64(length))
        let input = random.bytes(length)
        let encoded = Snappy.encodeLiteral(input)
        #expect(try Snappy.decode(encoded) == input)
        // Header plus at most 3 tag bytes per 64 KiB run: never meaningfully bigger than the input.
        #expect(encoded.count <= input.count + UVarint.maxLength + 3 * (input.count / Snappy.maxLiteralRun + 1))
    }

    @Test func literalTagsUseTheShortestLengthForm() {
        #expect(Snappy.encodeLiteral([UInt8]()) == [0x00])
        #expect(Snappy.encodeLiteral([7]) == [0x01, 0x00, 7])
        #expect(Array(Snappy.encodeLiteral([UInt8](repeating: 1, count: 60)).prefix(2)) == [60, 59 << 2])
        #expect(Array(Snappy.encodeLiteral([UInt8](repeating: 1, count: 61)).prefix(3)) == [61, 60 << 2, 60])
        #expect(Array(Snappy.encodeLiteral([UInt8](repeating: 1, count: 300)).prefix(5)) == [0xac, 0x02, 61 << 2, 0x2b, 0x01])
        // 64 KiB + 1 byte: one full run (length-1 = 0xffff in 2 bytes), then a 1-byte run.
        let encoded = Snappy.encodeLiteral([UInt8](repeating: 2, count: 65_537))
        #expect(Array(encoded.prefix(6)) == [0x81, 0x80, 0x04, 61 << 2, 0xff, 0xff])
        #expect(Array(encoded[6 + 65_536..<encoded.count]) == [0x00, 2])
    }

    @Test func literalEncodingAcceptsAnyByteCollection() throws {
        let input: [UInt8] = Array(0..<200)
        #expect(Snappy.encodeLiteral(input[10..<50]) == Snappy.encodeLiteral(Array(input[10..<50])))
        #expect(Snappy.encodeLiteral((0..<200).lazy.map { UInt8($0) }) == Snappy.encodeLiteral(input))
    }

    // MARK: - Decoding real compressed data

    /// What Tools/make-promwire-fixtures.py compressed with cramjam (`snappy_inputs`), rebuilt here.
    static func cramjamInput(_ name: String) -> [UInt8] {
        switch name {
        case "text":
            return Array((0..<1200).map { "series_\($0 % 37){job=\"x\"} \($0 % 10)\n" }.joined().utf8)
        case "runs":
            return [UInt8](repeating: UInt8(ascii: "a"), count: 1000) + Array(String(repeating: "ab", count: 500).utf8)
                + Array((0..<4).map { _ in Array(0...255) as [UInt8] }.joined())
                + Array(String(repeating: "xyz", count: 100).utf8)
        case "noise":
            var state: UInt64 = 12345
            return (0..<3000).map { _ in
                state = (state * 1_103_515_245 + 12345) % (1 << 31)
                return UInt8(truncatingIfNeeded: state >> 16)
            }
        default:
            return []
        }
    }

    @Test(arguments: ["text", "runs", "noise", "empty"])
    func decodesCramjamOutput(_ name: String) throws {
        let compressed = try #require(SnappyFixtures.cramjam[name])
        #expect(try Snappy.decode(compressed) == Self.cramjamInput(name))
    }

    @Test func decodesPrometheusSamplesResponse() throws {
        // Go's encoder: literals, 1- and 2-byte-offset copies (the generator prints the tag census).
        let decoded = try Snappy.decode(PrometheusFixtures.samplesBody)
        #expect(decoded.count == PrometheusFixtures.samplesDecodedLength)
        #expect(CRC32C.checksum(decoded) == PrometheusFixtures.samplesDecodedCRC32C)
    }

    @Test func decodesEveryCopyForm() throws {
        // "abcd", copy-1 len 4 off 4, copy-2 len 3 off 2 (overlapping), copy-4 len 5 off 1 (a run of "c").
        let block: [UInt8] = [16, 3 << 2, 0x61, 0x62, 0x63, 0x64, 0b000_000_01, 4, (2 << 2) | 2, 2, 0, (4 << 2) | 3, 1, 0, 0, 0]
        #expect(try Snappy.decode(block) == Array("abcdabcdcdcccccc".utf8))
    }

    @Test func decodesLongLiteralLengthForms() throws {
        // Tags 62 and 63 (3- and 4-byte lengths) are legal though encoders rarely emit them.
        for (tag, lengthBytes) in [(UInt8(62), 3), (UInt8(63), 4)] {
            let payload = [UInt8](repeating: 9, count: 70)
            let header = UVarint.encode(70) + [tag << 2, 69] + [UInt8](repeating: 0, count: lengthBytes - 1)
            #expect(try Snappy.decode(header + payload) == payload)
        }
    }

    // MARK: - Corrupt and hostile input

    static let corrupt: [(String, [UInt8])] = [
        ("no header", []),
        ("header overflows", [UInt8](repeating: 0xff, count: 11)),
        ("copy before any output", [4, 0b000_000_01, 1]),
        ("copy offset 0", [5, 0, 0x61, 0b000_000_01, 0]),
        ("copy offset beyond output", [6, 0, 0x61, 0b000_000_01, 2]),
        ("literal past input", [3, 2 << 2, 0x61]),
        ("literal length bytes past input", [3, 61 << 2, 1]),
        ("copy-2 cut short", [5, 0, 0x61, 2, 1]),
        ("copy-4 cut short", [5, 0, 0x61, 3, 1, 0, 0]),
        ("output longer than declared", [1, 1 << 2, 0x61, 0x62]),
        ("output shorter than declared", [3, 1 << 2, 0x61, 0x62]),
        ("copy runs past declared length", [3, 0, 0x61, 0b000_000_01, 1]),
    ]

    @Test(arguments: corrupt)
    func corruptInputThrowsCorruptSnappy(_ name: String, _ block: [UInt8]) {
        #expect(throws: PromWireError.self, "\(name)") { try Snappy.decode(block) }
        do {
            _ = try Snappy.decode(block)
        } catch {
            #expect(error.code == .corruptSnappy, "\(name): \(error)")
            #expect(error.message.hasPrefix("snappy: corrupt input"))
        }
    }

    @Test func declaredLengthOverTheLimitIsRefused() {
        let block = Snappy.encodeLiteral([UInt8](repeating: 1, count: 1000))
        #expect(throws: PromWireError(.tooLarge, "snappy: decoded length 1000 exceeds the limit of 999 bytes")) {
            try Snappy.decode(block, maxDecodedLength: 999)
        }
        #expect((try? Snappy.decode(block, maxDecodedLength: 1000))?.count == 1000)
    }

    @Test func aHostileHeaderCannotForceABigAllocation() {
        // 4 GiB - 1 declared over 10 bytes: no 10-byte body can decode to that, refused before allocating.
        let block = UVarint.encode(UInt64(UInt32.max)) + [UInt8](repeating: 0, count: 10)
        #expect(throws: PromWireError.self) { try Snappy.decode(block, maxDecodedLength: Int.max) }
        #expect(throws: PromWireError.self) {
            try Snappy.decode(UVarint.encode(UInt64(UInt32.max) + 1), maxDecodedLength: Int.max)
        }
    }

    @Test func theExpansionBoundIsTight() throws {
        // Three-byte copies of 64 bytes are the densest element: 1 literal byte, then k of them.
        let copies = 1000
        let body: [UInt8] = [0, 0x61] + (0..<copies).flatMap { _ in [UInt8((63 << 2) | 2), 1, 0] }
        let block = UVarint.encode(UInt64(1 + 64 * copies)) + body
        #expect(try Snappy.decode(block).count == 1 + 64 * copies)
    }

    @Test func everyStrictPrefixOfAValidBlockThrows() {
        let block = PrometheusFixtures.samplesBody
        for length in 0..<block.count {
            #expect(throws: PromWireError.self) { try Snappy.decode(Array(block[..<length])) }
        }
    }

    @Test func randomDamageNeverCrashes() {
        var random = SeededGenerator(seed: 42)
        let original = SnappyFixtures.cramjam["runs"]!
        for _ in 0..<3000 {
            var block = original
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                block[Int.random(in: 0..<block.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if let decoded = try? Snappy.decode(block) {
                let declared = block.withUnsafeBytes { try? Snappy.decodedLength($0) }
                #expect(decoded.count == declared?.length)
            }
        }
    }
}
