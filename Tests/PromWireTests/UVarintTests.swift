import SeededRandom
import Testing

@testable import PromWire

@Suite struct UVarintTests {
    static let known: [(UInt64, [UInt8])] = [
        (0, [0x00]), (127, [0x7f]), (128, [0x80, 0x01]), (300, [0xac, 0x02]), (16384, [0x80, 0x80, 0x01]),
        (UInt64.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ]

    @Test(arguments: known)
    func encodesLikeGo(_ value: UInt64, _ expected: [UInt8]) throws {
        #expect(UVarint.encode(value) == expected)
        var offset = 0
        #expect(try UVarint.read(expected, at: &offset) == value)
        #expect(offset == expected.count)
    }

    @Test func randomValuesOfEveryWidthRoundtrip() throws {
        var random = SeededGenerator(seed: 1)
        var stream: [UInt8] = []
        let values = (0..<2000).map { i in UInt64.random(in: 0...UInt64.max, using: &random) >> (i % 64) }
        for value in values { UVarint.append(value, to: &stream) }
        var offset = 0
        for value in values { #expect(try UVarint.read(stream, at: &offset) == value) }
        #expect(offset == stream.count)
    }

    @Test func lengthAndWriteIntoABufferAgreeWithAppend() {
        // Every width boundary: 2^(7k) - 1 and 2^(7k), k = 0 ... 9, and the extremes.
        let values =
            (0...9).flatMap { k -> [UInt64] in
                let power: UInt64 = k == 0 ? 1 : 1 << (7 * k)
                return [power - 1, power, power + 1]
            } + [UInt64.max - 1, UInt64.max]
        for value in values {
            let expected = UVarint.encode(value)
            #expect(UVarint.length(of: value) == expected.count, "\(value)")
            var buffer = [UInt8](repeating: 0xAA, count: expected.count + 2)
            var offset = 1
            buffer.withUnsafeMutableBytes { UVarint.write(value, into: $0, at: &offset) }
            #expect(offset == 1 + expected.count)
            #expect(Array(buffer[1..<offset]) == expected && buffer.first == 0xAA && buffer.last == 0xAA, "\(value)")
        }
    }

    @Test func everyStrictPrefixIsIncomplete() {
        let encoded = UVarint.encode(UInt64.max)
        for length in 0..<encoded.count {
            let parsed = Array(encoded[..<length]).withUnsafeBytes { UVarint.parse($0, at: 0) }
            #expect(parsed == .incomplete)
        }
    }

    @Test func overflowIsMalformed() {
        let elevenBytes = [UInt8](repeating: 0xff, count: 10) + [0x01]
        let tenthByteTooBig = [UInt8](repeating: 0xff, count: 9) + [0x02]
        for bytes in [elevenBytes, tenthByteTooBig] {
            #expect(bytes.withUnsafeBytes { UVarint.parse($0, at: 0) } == .overflow)
            var offset = 0
            #expect(throws: PromWireError.self) { try UVarint.read(bytes, at: &offset) }
        }
    }

    /// `decode` over `bytes` from `offset` to `end`: the value or the failure, and where it stopped.
    static func decode(_ bytes: [UInt8], at offset: Int, end: Int) -> (Result<UInt64, UVarint.Failure>, Int) {
        bytes.withUnsafeBytes { raw in
            var position = offset
            do throws(UVarint.Failure) {
                return (.success(try UVarint.decode(raw, at: &position, end: end)), position)
            } catch {
                return (.failure(error), position)
            }
        }
    }

    @Test func decodeLooksNoFurtherThanItsEnd() {
        let bytes: [UInt8] = [0xAC, 0x02, 0x80, 0x01]
        let (first, next) = Self.decode(bytes, at: 0, end: 2)
        #expect(first == .success(300) && next == 2)
        #expect(Self.decode(bytes, at: 2, end: 3).0 == .failure(.incomplete))
        #expect(Self.decode(bytes, at: 2, end: 99).0 == .success(128), "an end past the buffer is the buffer's end")
        #expect(Self.decode([UInt8](repeating: 0xFF, count: 9) + [0x02], at: 0, end: 10).0 == .failure(.overflow))
    }

    @Test func readsAtAnOffsetAndThrowsWhenShort() {
        var offset = 1
        #expect((try? UVarint.read([0xff, 0xac, 0x02], at: &offset)) == 300)
        offset = 0
        #expect(throws: PromWireError(.truncated, "varint: input ends inside a varint at byte 0")) {
            try UVarint.read([0x80], at: &offset)
        }
    }

    static let zigZagPairs: [(Int64, UInt64)] = [(0, 0), (-1, 1), (1, 2), (-2, 3), (2, 4), (.max, .max - 1), (.min, .max)]

    @Test(arguments: zigZagPairs)
    func zigZagMapsLikeGo(_ signed: Int64, _ unsigned: UInt64) {
        #expect(UVarint.zigZag(signed) == unsigned)
        #expect(UVarint.unZigZag(unsigned) == signed)
    }
}
