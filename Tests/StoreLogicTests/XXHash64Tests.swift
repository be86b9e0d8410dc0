import Testing

@testable import StoreLogic

/// XXH64 against the xxHash C reference library: the vectors below were printed by
/// `Tests/Companions/xxhash_reference.py vectors` (Debian's libxxhash0 0.8.1 through ctypes).
@Suite struct XXHash64Tests {
    /// The first n bytes of (i * 7 + 3) mod 256, as the script's PATTERN.
    static func pattern(_ n: Int) -> [UInt8] { (0..<n).map { UInt8((($0 * 7) + 3) % 256) } }

    static let vectors: [([UInt8], UInt64)] = [
        ([], 0xEF46_DB37_51D8_E999),
        ([97], 0xD24E_C4F1_A98C_6E5B),
        ([97, 98, 99], 0x44BC_2CF5_AD77_0999),
        (
            [
                95, 95, 110, 97, 109, 101, 95, 95, 255, 117, 112, 255, 99, 108, 117, 115, 116, 101, 114, 255, 116, 101, 115, 116,
                255,
            ],
            0xE169_896B_55D1_E26D
        ),
        ([114, 195, 169, 103, 105, 111, 110, 195, 191, 195, 169], 0x13FB_259A_AAD7_4CCF),
        (pattern(1), 0x1F25_C8D0_BC1F_4BB6),
        (pattern(3), 0x31D2_363F_52E5_64C9),
        (pattern(4), 0x9BB6_4B7D_66EE_9FDA),
        (pattern(5), 0xC760_8EFD_DB70_51FE),
        (pattern(7), 0x9A7B_1499_59CE_60D8),
        (pattern(8), 0xDAB9_9D95_C6F9_0092),
        (pattern(9), 0x170B_B6BF_975B_4C02),
        (pattern(15), 0x1B47_CB82_43CC_8E32),
        (pattern(16), 0x4348_5023_2B78_7BE2),
        (pattern(17), 0x1EFA_7025_F1B9_7A7A),
        (pattern(31), 0xA2AA_5F33_CC4A_6119),
        (pattern(32), 0x23C3_C17E_F790_FD97),
        (pattern(33), 0x50A7_CFC7_BA58_8784),
        (pattern(35), 0xA5B3_4560_11D2_913B),
        (pattern(63), 0x5E3E_54B4_31C7_493C),
        (pattern(64), 0x0EB6_4B3E_F6EE_B01F),
        (pattern(65), 0xA383_B724_B2BD_12F1),
        (pattern(100), 0xA61F_8D4C_170F_E531),
        (pattern(1000), 0x5F23_5FA0_33F1_A3FB),
        (pattern(1100), 0xB5AC_606E_7B0C_D96E),
    ]

    @Test(arguments: vectors) func matchesTheReferenceLibrary(input: [UInt8], expected: UInt64) {
        #expect(XXHash64.hash(input) == expected, "\(input.count) bytes")
    }

    /// Every length up to three stripes through every tail path, at an odd offset so the reads are
    /// unaligned: the hash depends only on the bytes.
    @Test func unalignedInputHashesTheSame() {
        let bytes = Self.pattern(1100)
        var shifted = [UInt8](repeating: 0, count: 1)
        shifted += bytes
        shifted.withUnsafeBytes { raw in
            for (input, expected) in Self.vectors where input.count > 0 && input == Array(bytes.prefix(input.count)) {
                #expect(XXHash64.hash(UnsafeRawBufferPointer(rebasing: raw[1..<(1 + input.count)])) == expected)
            }
        }
    }
}
