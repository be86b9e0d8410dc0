// Values describing a multipart upload's progress, shared by the bucket that performs it and the
// ledger that records it.

/// One part of a multipart upload that the bucket acknowledged.
public struct UploadedPart: Sendable, Equatable {
    /// 1-based, as S3 numbers parts.
    public let number: Int
    public let size: Int64
    /// The ETag the server returned, quotes included, as CompleteMultipartUpload wants it.
    public let etag: String
    /// Lower-case hex SHA-256 of the part's bytes, sent as `x-amz-content-sha256`.
    public let sha256: String

    public init(number: Int, size: Int64, etag: String, sha256: String) {
        self.number = number
        self.size = size
        self.etag = etag
        self.sha256 = sha256
    }
}

/// A multipart upload as the journal recorded it.
public struct RecordedMultipartUpload: Sendable, Equatable {
    public let uploadID: String
    public let partSize: Int64
    public let parts: [UploadedPart]

    public init(uploadID: String, partSize: Int64, parts: [UploadedPart]) {
        self.uploadID = uploadID
        self.partSize = partSize
        self.parts = parts
    }
}
