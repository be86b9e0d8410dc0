/// A byte stream from Prometheus (or one we are about to send) is not what the format allows.
///
/// Every case means the input is bad, not that a retry could help: a corrupt response stays
/// corrupt. The message names the format and the numbers involved so a log line is enough to
/// tell a truncated body from a hostile one.
public struct PromWireError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A uvarint ran past 10 bytes or past 64 bits.
        case malformedVarint = "malformed_varint"
        /// The input ended in the middle of a varint, frame, snappy block or chunk.
        case truncated = "truncated"
        /// A snappy block is internally inconsistent (bad offset, wrong length, stray bytes).
        case corruptSnappy = "corrupt_snappy"
        /// A declared size is over the caller's limit (decoded snappy length, frame length).
        case tooLarge = "too_large"
        /// A streamed remote-read frame's CRC32C does not match its data.
        case checksumMismatch = "checksum_mismatch"
        /// An XOR chunk's bits do not decode (impossible bit widths).
        case corruptChunk = "corrupt_chunk"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
