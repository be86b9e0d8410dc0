import SkiffCore

/// How a multipart upload cuts a file, and how many parts it sends at once.
///
/// Parts in flight are lost when the process is killed (S3 keeps a part only once it is whole),
/// so the plan keeps at most `part_size` bytes unacknowledged at any moment: the configured part
/// size is cut into up to `maxInFlight` smaller parts sent together (64 MiB becomes four 16 MiB
/// parts), never below S3's 5 MiB minimum nor above its 10,000 parts. A crash then costs at
/// most one configured part of bytes sent again, while the link still carries several streams.
/// The journal records the part size used, so a resumed upload keeps the plan it began with.
public struct PartPlan: Sendable, Equatable {
    /// Every part but the last has this size.
    public let partSize: Int64
    public let partCount: Int
    /// Parts sent at once.
    public let inFlight: Int

    /// Parts sent at once at most (like minio-go's default of 4): enough to fill a fast link, few
    /// enough to bound server load.
    public static let maxInFlight = 4

    public init(fileSize: Int64, configuredPartSize: Int64) {
        let forPartLimit = (fileSize + Int64(S3Config.maximumParts) - 1) / Int64(S3Config.maximumParts)
        let part = max(configuredPartSize / Int64(Self.maxInFlight), S3Config.minimumPartSize, forPartLimit)
        partSize = part
        partCount = Int(max(1, (fileSize + part - 1) / part))
        inFlight = max(1, min(Self.maxInFlight, Int(configuredPartSize / part), partCount))
    }

    /// The size of part `number` (1-based).
    public func length(of number: Int, fileSize: Int64) -> Int64 {
        number == partCount ? fileSize - Int64(number - 1) * partSize : partSize
    }
}
