import CompressNIO
import NIOCore
import SkiffCore

/// The audit objects' gzip, through zlib (compress-nio).
///
/// Compression is deterministic: fixed settings (level 6, 32 KiB window, memory level 8, default
/// strategy) and zlib's own gzip header, which has no file name and a zero modification time, so
/// re-exporting a range after a crash writes the same bytes.
public enum AuditGzip {
    static let configuration = ZlibConfiguration(
        windowSize: 15, compressionLevel: 6, memoryLevel: 8, strategy: .default)

    public static func compress(_ bytes: [UInt8]) throws(SkiffError) -> [UInt8] {
        var input = ByteBuffer(bytes: bytes)
        do {
            var out = try input.compress(with: .gzip(configuration: configuration))
            return out.readBytes(length: out.readableBytes) ?? []
        } catch {
            throw SkiffError(.io, "gzip the audit records: \(error)", transient: false)
        }
    }

    /// Gunzips a stream piece by piece into lines: memory holds one output window (64 KiB) and one
    /// partial line, whatever the object's size.
    public final class LineReader {
        private let decompressor: any NIODecompressor
        private var window: ByteBuffer
        private var partial: [UInt8] = []
        private let maxLine: Int
        let what: String

        /// `what` names the object in errors; a line longer than `maxLine` bytes is refused.
        public init(what: String, maxLine: Int = 1 << 20) throws(SkiffError) {
            self.what = what
            self.maxLine = maxLine
            decompressor = CompressionAlgorithm.gzip().decompressor
            window = ByteBufferAllocator().buffer(capacity: 1 << 16)
            do { try decompressor.startStream() } catch {
                throw SkiffError(.io, "start gunzip of \(what): \(error)", transient: false)
            }
        }

        deinit { try? decompressor.finishStream() }

        /// Feeds compressed bytes; `line` gets every complete line (without its newline).
        public func feed(_ piece: ArraySlice<UInt8>, line: ([UInt8]) throws(SkiffError) -> Void) throws(SkiffError) {
            var input = ByteBufferAllocator().buffer(capacity: max(piece.count, 16))
            input.writeBytes(piece)
            while true {
                window.clear()
                let before = input.readableBytes
                var full = false
                do {
                    try decompressor.streamInflate(from: &input, to: &window)
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    full = true
                } catch let error as CompressNIOError where error == .inputBufferOverflow {
                    // zlib needs more input: the next piece.
                } catch {
                    throw SkiffError(.bucket, "\(what) is not valid gzip (\(error))", transient: false)
                }
                let produced = window.readableBytes
                try split(line: line)
                if full { continue }
                if input.readableBytes == 0 { return }
                if input.readableBytes == before && produced == 0 {
                    throw SkiffError(.bucket, "\(what) has data after its gzip stream", transient: false)
                }
            }
        }

        /// Ends the stream: the last line must have ended with a newline (a cut object does not).
        public func finish() throws(SkiffError) {
            guard partial.isEmpty else {
                throw SkiffError(.bucket, "\(what) ends in the middle of a line: is it cut short?", transient: false)
            }
        }

        private func split(line: ([UInt8]) throws(SkiffError) -> Void) throws(SkiffError) {
            window.withUnsafeReadableBytes { raw in partial.append(contentsOf: raw) }
            var start = 0
            while let nl = partial[start...].firstIndex(of: 0x0A) {
                try line(Array(partial[start..<nl]))
                start = nl + 1
            }
            partial.removeFirst(start)
            guard partial.count <= maxLine else {
                throw SkiffError(.bucket, "\(what) has a line longer than \(maxLine) bytes", transient: false)
            }
        }
    }
}
