extension Snappy {
    /// Decodes a whole snappy block.
    ///
    /// Throws `.tooLarge` when the declared length is above `maxDecodedLength`, and `.corruptSnappy`
    /// for anything inconsistent: a declared length that input this short cannot produce, an
    /// element running past the input or the output, a copy reaching before the start, or a
    /// decoded size different from the declared one. Nothing is allocated before the header
    /// passes these checks.
    public static func decode(_ bytes: [UInt8], maxDecodedLength: Int = defaultMaxDecodedLength) throws(PromWireError) -> [UInt8]
    {
        try bytes.withUnsafeBytesTyped { (raw) throws(PromWireError) in try decode(raw, maxDecodedLength: maxDecodedLength) }
    }

    /// `decode(_:maxDecodedLength:)` over borrowed bytes (an HTTP body buffer, say).
    public static func decode(
        _ input: UnsafeRawBufferPointer, maxDecodedLength: Int = defaultMaxDecodedLength
    ) throws(PromWireError)
        -> [UInt8]
    {
        let (length, bodyStart) = try decodedLength(input, maxDecodedLength: maxDecodedLength)
        var failure: PromWireError?
        let output = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            failure = decodeElements(input, from: bodyStart, into: buffer.baseAddress, length: length)
            initialized = failure == nil ? length : 0
        }
        if let failure { throw failure }
        return output
    }

    /// Reads and vets the length header; returns it and where the elements start.
    public static func decodedLength(
        _ input: UnsafeRawBufferPointer, maxDecodedLength: Int = defaultMaxDecodedLength
    ) throws(PromWireError)
        -> (length: Int, bodyStart: Int)
    {
        guard case .value(let declared, let headerLength) = UVarint.parse(input, at: 0) else {
            throw corrupt("bad length header")
        }
        guard declared <= UInt64(UInt32.max) else { throw corrupt("declared length \(declared) is over the format's 4 GiB") }
        guard declared <= UInt64(maxDecodedLength) else {
            throw PromWireError(.tooLarge, "snappy: decoded length \(declared) exceeds the limit of \(maxDecodedLength) bytes")
        }
        // The densest element, a 3-byte copy of 64 bytes, expands 64/3 times; a header promising
        // more than that is a lie, refused before it can make us allocate.
        let body = UInt64(input.count - headerLength)
        guard declared <= body * 64 / 3 else {
            throw corrupt("declared length \(declared) cannot come from \(body) bytes")
        }
        return (Int(declared), headerLength)
    }

    /// Decodes the elements into `out` (exactly `length` bytes); returns the error instead of
    /// throwing so it can run inside the array's uninitialised-capacity initializer.
    private static func decodeElements(
        _ input: UnsafeRawBufferPointer, from start: Int, into out: UnsafeMutablePointer<UInt8>?, length: Int
    ) -> PromWireError? {
        guard let source = input.baseAddress else { return corrupt("no input") }  // the header check saw bytes
        var read = start
        var written = 0
        while read < input.count {
            let tag = input[read]
            if tag & 0b11 == 0 {
                // Literal.
                var runLength = Int(tag >> 2)
                read += 1
                if runLength >= 60 {
                    let extra = runLength - 59
                    guard extra <= input.count - read else {
                        return corrupt("literal length runs past the input at byte \(read - 1)")
                    }
                    runLength = 0
                    for byte in 0..<extra { runLength |= Int(input[read + byte]) << (8 * byte) }
                    read += extra
                }
                runLength += 1
                guard runLength <= input.count - read else { return corrupt("literal of \(runLength) bytes runs past the input") }
                guard runLength <= length - written, let out else { return overrun(length) }
                UnsafeMutableRawPointer(out + written).copyMemory(from: source + read, byteCount: runLength)
                read += runLength
                written += runLength
                continue
            }
            let copyLength: Int
            let offset: Int
            switch tag & 0b11 {
            case 1:
                guard read + 2 <= input.count else { return corrupt("copy runs past the input at byte \(read)") }
                copyLength = 4 + Int((tag >> 2) & 0b111)
                offset = Int(tag >> 5) << 8 | Int(input[read + 1])
                read += 2
            case 2:
                guard read + 3 <= input.count else { return corrupt("copy runs past the input at byte \(read)") }
                copyLength = 1 + Int(tag >> 2)
                offset = Int(input[read + 1]) | Int(input[read + 2]) << 8
                read += 3
            default:
                guard read + 5 <= input.count else { return corrupt("copy runs past the input at byte \(read)") }
                copyLength = 1 + Int(tag >> 2)
                offset = Int(input.loadUnaligned(fromByteOffset: read + 1, as: UInt32.self).littleEndian)
                read += 5
            }
            guard offset > 0, offset <= written else {
                return corrupt("copy offset \(offset) at output byte \(written) reaches outside the output")
            }
            guard copyLength <= length - written, let out else { return overrun(length) }
            let target = out + written
            if offset >= copyLength {
                UnsafeMutableRawPointer(target).copyMemory(from: target - offset, byteCount: copyLength)
            } else {
                // Overlapping copy: a short pattern repeated; each byte may read one just written.
                for index in 0..<copyLength { target[index] = target[index - offset] }
            }
            written += copyLength
        }
        guard written == length else { return corrupt("decoded \(written) bytes but the header says \(length)") }
        return nil
    }

    private static func corrupt(_ detail: String) -> PromWireError {
        PromWireError(.corruptSnappy, "snappy: corrupt input: \(detail)")
    }

    private static func overrun(_ length: Int) -> PromWireError {
        corrupt("elements decode to more than the declared \(length) bytes")
    }
}
