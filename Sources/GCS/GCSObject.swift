import Foundation
import SkiffCore

/// An object resource of GCS' JSON API, as much of it as Skiff reads.
struct GCSObject: Sendable {
    var name: String
    var size: Int64
    var updatedMillis: Int64
    /// CRC32C of the stored bytes (the JSON carries it as base64 of the big-endian value).
    var crc32c: UInt32?

    init?(json: Any?) {
        guard let object = json as? [String: Any], let name = object["name"] as? String else { return nil }
        self.name = name
        // int64 fields are JSON strings in Google's APIs.
        size = (object["size"] as? String).flatMap { Int64($0) } ?? (object["size"] as? NSNumber)?.int64Value ?? 0
        updatedMillis = (object["updated"] as? String).flatMap(Self.parseTime) ?? 0
        crc32c = (object["crc32c"] as? String).flatMap(Self.decodeCRC)
    }

    init?(body: [UInt8]) {
        self.init(json: try? JSONSerialization.jsonObject(with: Data(body)))
    }

    /// RFC 3339 (`2026-12-03T07:11:51.331726Z`) in Unix milliseconds.
    static func parseTime(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }

    static func decodeCRC(_ base64: String) -> UInt32? {
        guard let data = Data(base64Encoded: base64), data.count == 4 else { return nil }
        return data.reduce(0) { $0 << 8 | UInt32($1) }
    }

    static func encodeCRC(_ value: UInt32) -> String {
        Data([UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
            .base64EncodedString()
    }
}
