import SeededRandom
import Testing

@testable import PromWire

@Suite struct ChunkedFrameReaderTests {
    static func frame(_ data: [UInt8]) -> [UInt8] {
        let checksum = CRC32C.checksum(data)
        return UVarint.encode(UInt64(data.count)) + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: checksum >> $0) } + data
    }

    static func frames(sizes: [Int], seed: UInt64) -> [[UInt8]] {
        var random = SeededGenerator(seed: seed)
        return sizes.map { random.bytes($0) }
    }

    /// Feeds `stream` in the given pieces, draining after each one, then finishes.
    static func read(
        _ stream: [UInt8], cutAt cuts: [Int], maxFrameLength: Int = ChunkedFrameReader.defaultMaxFrameLength
    )
        throws(PromWireError) -> [[UInt8]]
    {
        var reader = ChunkedFrameReader(maxFrameLength: maxFrameLength)
        var frames: [[UInt8]] = []
        var start = 0
        for end in cuts + [stream.count] {
            reader.append(stream[start..<end])
            start = end
            while let frame = try reader.nextFrame() { frames.append(frame) }
        }
        try reader.finish()
        return frames
    }

    @Test func everySingleSplitPointYieldsTheSameFrames() throws {
        let payloads = Self.frames(sizes: [0, 1, 5, 127, 128, 300], seed: 1)
        let stream = payloads.flatMap(Self.frame)
        for cut in 0...stream.count {
            #expect(try Self.read(stream, cutAt: [cut]) == payloads)
        }
        #expect(try Self.read(stream, cutAt: Array(1..<stream.count)) == payloads, "one byte at a time")
    }

    @Test func randomPiecesOfABigStream() throws {
        var random = SeededGenerator(seed: 2)
        let payloads = Self.frames(sizes: (0..<200).map { _ in Int.random(in: 0...3000, using: &random) } + [100_000], seed: 3)
        let stream = payloads.flatMap(Self.frame)
        for _ in 0..<20 {
            let cuts = (0..<Int.random(in: 1...400, using: &random)).map { _ in Int.random(in: 0...stream.count, using: &random) }
                .sorted()
            #expect(try Self.read(stream, cutAt: cuts) == payloads)
        }
    }

    @Test func realPrometheusBodyAtEverySplitPoint() throws {
        let body = PrometheusFixtures.streamedBody
        let whole = try Self.read(body, cutAt: [])
        #expect(whole.map(\.count) == PrometheusFixtures.streamedFrameLengths)
        for cut in 0...body.count {
            #expect(try Self.read(body, cutAt: [cut]) == whole)
        }
    }

    @Test func rawBufferPiecesWork() throws {
        let payloads = Self.frames(sizes: [10, 20], seed: 4)
        let stream = payloads.flatMap(Self.frame)
        var reader = ChunkedFrameReader()
        stream.withUnsafeBytes { reader.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[..<7])) }
        #expect(try reader.nextFrame() == nil)
        stream.withUnsafeBytes { reader.append(contentsOf: UnsafeRawBufferPointer(rebasing: $0[7...])) }
        #expect(try reader.nextFrame() == payloads[0])
        #expect(try reader.nextFrame() == payloads[1])
        #expect(try reader.nextFrame() == nil)
        #expect(reader.unreadByteCount == 0)
        try reader.finish()
    }

    @Test func emptyBodyIsFine() throws {
        #expect(try Self.read([], cutAt: []) == [])
    }

    // MARK: - Errors

    @Test func oversizedFrameIsRefusedAsSoonAsItsLengthArrives() {
        var reader = ChunkedFrameReader(maxFrameLength: 100)
        reader.append(UVarint.encode(101))  // no checksum or data yet
        #expect(throws: PromWireError(.tooLarge, "chunkedReader: message size exceeded the limit 100 bytes; got: 101 bytes")) {
            try reader.nextFrame()
        }
        #expect((try? Self.read(Self.frame([UInt8](repeating: 1, count: 100)), cutAt: [], maxFrameLength: 100))?.count == 1)
        var huge = ChunkedFrameReader()
        huge.append(UVarint.encode(UInt64.max))
        #expect(throws: PromWireError.self) { try huge.nextFrame() }
    }

    @Test func damagedDataOrChecksumIsAMismatch() {
        let good = Self.frame(Array("hello".utf8))
        for index in 1..<good.count {
            var bad = good
            bad[index] ^= 0x20
            #expect(throws: PromWireError.self) { try Self.read(bad, cutAt: []) }
        }
        var bad = good
        bad[good.count - 1] ^= 1
        #expect(
            throws: PromWireError(
                .checksumMismatch,
                "chunkedReader: corrupted frame; checksum mismatch (frame at byte 0 says 0x9a71bb4c, its 5 data bytes have 0x681a384f)"
            )
        ) { try Self.read(bad, cutAt: []) }
    }

    @Test func mismatchReportsTheStreamOffsetAfterCompaction() {
        let first = Self.frame([UInt8](repeating: 3, count: 50))
        var second = Self.frame([1, 2, 3])
        second[second.count - 1] ^= 0xff
        do {
            _ = try Self.read(first + second, cutAt: [first.count, first.count + 1])
            Issue.record("expected a checksum mismatch")
        } catch {
            #expect(error.code == .checksumMismatch)
            #expect(error.message.contains("frame at byte \(first.count) "), "\(error)")
        }
    }

    @Test func overlongLengthVarintIsMalformed() {
        #expect(throws: PromWireError(.malformedVarint, "chunkedReader: malformed frame length varint at byte 0")) {
            try Self.read([UInt8](repeating: 0x80, count: 11), cutAt: [])
        }
    }

    @Test func bodyEndingInsideAFrameIsTruncated() throws {
        let stream = Self.frame([1, 2, 3, 4]) + Self.frame([UInt8](repeating: 5, count: 200))
        let firstEnd = 1 + 4 + 4
        for end in firstEnd + 1..<stream.count {
            do {
                _ = try Self.read(Array(stream[..<end]), cutAt: [])
                Issue.record("body cut at \(end) was accepted")
            } catch {
                #expect(error.code == .truncated)
                #expect(error.message.hasPrefix("chunkedReader: truncated frame"), "\(error)")
            }
        }
        #expect(try Self.read(Array(stream[..<firstEnd]), cutAt: []) == [[1, 2, 3, 4]])
    }

    @Test func finishWithUnreadFramesSaysSo() {
        var reader = ChunkedFrameReader()
        reader.append(Self.frame([1]))
        #expect(throws: PromWireError(.truncated, "chunkedReader: finish() with 6 bytes of unread frames at byte 0")) {
            try reader.finish()
        }
    }

    @Test func manySmallFramesKeepTheBufferSmall() throws {
        // 20,000 frames fed 1,000 bytes at a time: the unread tail never exceeds one piece plus one frame.
        let payloads = Self.frames(sizes: [UInt8](repeating: 0, count: 20_000).indices.map { $0 % 97 }, seed: 5)
        let stream = payloads.flatMap(Self.frame)
        var reader = ChunkedFrameReader()
        var count = 0
        for start in stride(from: 0, to: stream.count, by: 1000) {
            reader.append(stream[start..<min(start + 1000, stream.count)])
            while let frame = try reader.nextFrame() {
                #expect(frame == payloads[count])
                count += 1
            }
            #expect(reader.unreadByteCount < 1000 + 97 + 6)
        }
        try reader.finish()
        #expect(count == payloads.count)
    }
}
