import CompressNIO
import NIOCore

/// Gunzip, as Go's `gzip.Reader` reads a compressed `--reloader.config-file`
/// (prometheus-operator stores `prometheus.yaml.gz`): every member of the stream, through zlib
/// (compress-nio), which checks each member's CRC-32 and length. The output is bounded.
enum Gunzip {
    struct Failure: Error, Equatable {
        let reason: String
    }

    /// Whether `bytes` starts as a gzip member (magic and the deflate method), the test Thanos uses.
    static func isGzip<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        bytes.starts(with: [0x1f, 0x8b, 0x08])
    }

    /// The decompressed bytes of every member in `bytes`; more than `maxOutput` bytes fails.
    static func decompress(_ bytes: [UInt8], maxOutput: Int) throws(Failure) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        var out: [UInt8] = []
        repeat {
            guard isGzip(input.readableBytesView) else {
                throw Failure(reason: "not gzip data (bad magic or method)")
            }
            do {
                var member = try input.decompress(with: .gzip(), maxSize: maxOutput - out.count)
                let size = member.readableBytes
                out += member.readBytes(length: size) ?? []
                // zlib checks a member's CRC-32 and length when it reaches them, but compress-nio
                // returns quietly when the input ends first: a cut-short last member is caught by
                // its length field, the last four bytes.
                if input.readableBytes == 0, bytes.count >= 4 {
                    let tail = bytes.suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                    guard tail == UInt32(truncatingIfNeeded: size) else {
                        throw Failure(reason: "the file is cut short (its gzip trailer is missing)")
                    }
                }
            } catch let error as Failure {
                throw error
            } catch let error as CompressNIOError where error == .bufferOverflow {
                throw Failure(reason: "it decompresses to more than \(maxOutput) bytes")
            } catch {
                throw Failure(reason: "the file is damaged or cut short (\(error))")
            }
        } while input.readableBytes > 0
        return out
    }
}
