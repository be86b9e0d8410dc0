/// CRC-32C (Castagnoli), the checksum Prometheus uses in index, chunk and tombstone files.
/// Table-driven, one byte at a time: it only ever runs over small ranges (the index TOC),
/// never over whole files.
public enum CRC32C {
    /// Reflected polynomial 0x1EDC6F41.
    private static let table: [UInt32] = (0..<256).map { (i: UInt32) in
        var crc = i
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The checksum of `bytes`, e.g. 0xE3069283 for "123456789".
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
