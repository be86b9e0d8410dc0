import SeededRandom
import Testing

@testable import PromWire

@Suite struct CRC32CTests {
    /// The textbook bit-at-a-time definition, to check the table-driven one against.
    static func bitwise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    @Test func publishedVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        // RFC 3720 (iSCSI) B.4: 32 bytes of 0xFF, and 0...31 ascending.
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32) as [UInt8]) == 0x46DD_794E)
    }

    @Test func matchesTheBitwiseDefinitionAtEveryLengthAndAlignment() {
        var random = SeededGenerator(seed: 7)
        let buffer = random.bytes(600)
        for start in 0..<9 {
            for length in 0...(buffer.count - start - 10) where length < 80 || length % 37 == 0 {
                let piece = Array(buffer[start..<start + length])
                #expect(CRC32C.checksum(buffer[start..<start + length]) == Self.bitwise(piece), "start \(start) length \(length)")
            }
        }
    }

    @Test func incrementalUpdatesEqualOneShot() {
        var random = SeededGenerator(seed: 8)
        let data = random.bytes(10_000)
        let whole = CRC32C.checksum(data)
        for _ in 0..<50 {
            var crc = CRC32C()
            var start = 0
            while start < data.count {
                let end = min(data.count, start + Int.random(in: 0...700, using: &random))
                data[start..<end].withUnsafeBytes { crc.update($0) }
                start = end
            }
            #expect(crc.value == whole)
        }
        #expect(CRC32C.update(CRC32C.checksum(data[..<1234]), with: data[1234...]) == whole)
    }

    @Test func everyInputShapeAgrees() {
        let data: [UInt8] = Array(0..<255)
        let expected = Self.bitwise(data)
        #expect(data.withUnsafeBytes { CRC32C.checksum($0) } == expected)
        #expect(CRC32C.checksum(data[...]) == expected)
        #expect(CRC32C.checksum(data.lazy.map { $0 }) == expected)  // not contiguous: copied once
        var crc = CRC32C()
        crc.update(data[..<100])
        crc.update(data[100...].lazy.map { $0 })
        #expect(crc.value == expected)
    }

    /// The CPU-instruction path (used whenever the CPU has one) and the software tables agree at
    /// every length and alignment, including the 8-byte steps' tails and continued checksums.
    @Test func instructionAndSoftwareAgree() {
        var random = SeededGenerator(seed: 9)
        let buffer = random.bytes(5_000)
        buffer.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in 0...(all.count - start) where length < 100 || length % 97 == 0 {
                    let piece = UnsafeRawBufferPointer(rebasing: all[start..<start + length])
                    let seed = UInt32(truncatingIfNeeded: length &* 2_654_435_761)
                    #expect(
                        CRC32C.update(seed, with: piece) == CRC32C.softwareUpdate(seed, with: piece),
                        "start \(start) length \(length)")
                }
            }
        }
        #if arch(x86_64)
        // Every x86-64 machine this runs on has SSE4.2; if this fails the fast path is silently off.
        #expect(CRC32C.hasInstruction)
        #endif
    }
}
