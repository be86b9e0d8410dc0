import Foundation

extension PromBlocks {
    /// Grows a real block's first chunk segment to about `bytes` by appending copies of its own
    /// chunk records (each keeps its length, encoding and CRC32C, so the segment stays valid
    /// Prometheus format), and raises `stats.numChunks` in meta.json to match, since skiff checks
    /// the count. For tests that need files bigger than a multipart part.
    public static func grow(block: String, chunkBytes bytes: Int) throws {
        let segment = block + "/chunks/000001"
        let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
        var records = 0
        var position = 8  // magic (4), format (1), padding (3)
        while position < data.count {
            var length = 0
            var shift = 0
            while true {
                let byte = data[position]
                position += 1
                length |= Int(byte & 0x7f) << shift
                if byte < 0x80 { break }
                shift += 7
            }
            position += 1 + length + 4  // encoding, data, CRC32C
            records += 1
        }
        let body = data[8...]
        guard let handle = FileHandle(forWritingAtPath: segment) else {
            throw Failure(description: "cannot open \(segment) for writing")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        var size = data.count
        var copies = 0
        while size < bytes {
            try handle.write(contentsOf: Data(body))
            size += body.count
            copies += 1
        }
        let metaPath = block + "/meta.json"
        var meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: metaPath))) as! [String: Any]
        var stats = meta["stats"] as! [String: Any]
        stats["numChunks"] = (stats["numChunks"] as! Int) + copies * records
        meta["stats"] = stats
        try JSONSerialization.data(withJSONObject: meta, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: metaPath))
    }
}
