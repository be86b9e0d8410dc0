import ArgumentParser
import Foundation
import ObjectStorage
import ObjstoreConfig
import SkiffCore

/// `skiff bucket ls|inspect|download|verify`: any producer's blocks in a bucket, as Thanos'
/// `tools bucket` shows them. No ledger: these read only the bucket (and `--dir`).
struct BucketCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bucket",
        abstract: "List, inspect, download and verify the blocks in a bucket (any producer's; no ledger needed).",
        subcommands: [BucketLs.self, BucketInspect.self, BucketDownload.self, BucketVerify.self])
}

/// Opens the configured bucket, runs `body`, and shuts the bucket down however `body` ends.
func withConfiguredBucket<T>(_ options: ObjstoreOptions, _ body: (any Bucket) async throws -> T) async throws -> T {
    try await withBucket(try options.load().makeBucket(), body)
}

/// ULIDs given as arguments, each checked, so a typo is named before any request.
func parseULIDs(_ texts: [String]) throws(SkiffError) -> [ULID] {
    try texts.map { text throws(SkiffError) in
        guard let ulid = ULID(text) else {
            throw SkiffError(
                .invalidArgument, "\"\(text)\" is not a ULID (26 characters, e.g. 01HSR8RBPC2JZ3GZWN1WGV240C)")
        }
        return ulid
    }
}

/// Writes text to stdout as it is produced (print's buffer, flushed at the end by `finish`).
enum Stdout {
    static func write(_ text: String) { print(text, terminator: "") }
    static func finish() { fflush(nil) }  // every stream: stdout is a C global Swift 6 will not touch
}

/// Go's `time.Duration.String()` for a whole number of milliseconds: "2h0m0s", "1m30s", "1.5s",
/// "500ms", "0s", "-8h0m0s".
enum GoDurationText {
    static func format(millis: Int64) -> String {
        if millis == 0 { return "0s" }
        let sign = millis < 0 ? "-" : ""
        let ms = millis.magnitude
        if ms < 1000 { return "\(sign)\(ms)ms" }
        let hours = ms / 3_600_000
        let minutes = ms / 60_000 % 60
        let wholeSeconds = ms / 1000 % 60
        var fraction = String(ms % 1000)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let seconds = "\(wholeSeconds)" + (fraction.isEmpty ? "" : "." + fraction) + "s"
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(seconds)" }
        if minutes > 0 { return "\(sign)\(minutes)m\(seconds)" }
        return sign + seconds
    }
}

/// Thousands separators as Go's `message.NewPrinter(language.English).Sprintf("%d")`: 1,234,567.
enum Grouped {
    static func format(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }
}

/// Seconds-precision RFC 3339, as Thanos prints block times (`time.Unix(ms/1000, 0)`), in UTC.
enum BlockTime {
    static func format(millis: Int64) -> String { RFC3339.format(millis: millis / 1000 * 1000) }
}
