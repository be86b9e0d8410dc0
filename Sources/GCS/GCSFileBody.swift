import BlockingWork
import Crypto
import FileIO
import Foundation
import NIOCore
import PromWire
import SkiffCore
import Synchronization

/// What one request body's pass over a file found: its CRC32C (GCS' own checksum, compared with
/// what the server reports it stored) and, when the bytes did not match their recorded SHA-256,
/// why. Readable after the request, whether it succeeded or failed.
final class BodyTally: Sendable {
    private let state = Mutex<(crc: CRC32C, bytes: Int64, mismatch: String?)>((CRC32C(), 0, nil))

    var crc32c: UInt32 { state.withLock { $0.crc.value } }
    var bytes: Int64 { state.withLock { $0.bytes } }
    var mismatch: String? { state.withLock { $0.mismatch } }

    func add(_ piece: [UInt8]) {
        state.withLock {
            $0.crc.update(piece)
            $0.bytes += Int64(piece.count)
        }
    }

    func fail(_ message: String) { state.withLock { $0.mismatch = message } }
}

/// `length` bytes of a file from `offset`, read in 1 MiB pieces on the blocking pool as the HTTP
/// client asks for them. Every piece goes into `tally` (CRC32C); with `expectedSHA256` the bytes
/// are also hashed and, before the last piece is handed over, compared: on a mismatch the
/// sequence throws, the server sees a short body and stores nothing.
struct GCSFileBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let pieceBytes = 1 << 20

    let path: String
    let offset: Int64
    let length: Int64
    let expectedSHA256: String?
    let tally: BodyTally

    /// Checks the file is there and long enough now, so a vanished block is reported as such
    /// rather than as a failed request.
    init(path: String, offset: Int64, length: Int64, expectedSHA256: String?, tally: BodyTally) throws(SkiffError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SkiffError(.blockVanished, "read \(path): \(String(cString: strerror(errno)))")
        }
        guard Int64(info.st_size) >= offset + length else {
            throw SkiffError(
                .bucket, "\(path) is \(info.st_size) bytes, shorter than the \(offset + length) to upload", transient: false)
        }
        (self.path, self.offset, self.length, self.expectedSHA256, self.tally) = (path, offset, length, expectedSHA256, tally)
    }

    func makeAsyncIterator() -> Iterator { Iterator(self) }

    final class Iterator: AsyncIteratorProtocol {
        private let source: GCSFileBody
        private var position: Int64
        private var hasher = SHA256()

        init(_ source: GCSFileBody) {
            self.source = source
            self.position = source.offset
        }

        func next() async throws -> ByteBuffer? {
            let end = source.offset + source.length
            guard position < end else { return nil }
            let (path, at, want) = (source.path, position, Int(Swift.min(Int64(GCSFileBody.pieceBytes), end - position)))
            let piece = try await Blocking.run { () throws(SkiffError) -> [UInt8] in try readPiece(path, at: at, count: want) }
            guard !piece.isEmpty else {
                throw SkiffError(.blockVanished, "read \(path) at \(position): the file ended early")
            }
            position += Int64(piece.count)
            source.tally.add(piece)
            if let expected = source.expectedSHA256 {
                hasher.update(data: piece)
                if position == end {
                    let actual = Hex.lower(hasher.finalize())
                    if actual != expected {
                        let message =
                            "sha256 of \(path) is \(actual), not the recorded \(expected); the local file changed since it was hashed"
                        source.tally.fail(message)
                        throw SkiffError(.bucket, message, transient: false)
                    }
                }
            }
            return ByteBuffer(bytes: piece)
        }
    }
}

/// Up to `count` bytes of `path` at `at` (fewer only at the end of the file).
func readPiece(_ path: String, at: Int64, count: Int) throws(SkiffError) -> [UInt8] {
    let fd: Int32
    do throws(Errno) { fd = try Posix.openFile(path, O_RDONLY) } catch {
        throw SkiffError(.blockVanished, "open \(path): \(error.reason)")
    }
    defer { close(fd) }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var buffer = [UInt8](repeating: 0, count: count)
    while out.count < count {
        let position = at + Int64(out.count)
        let got: Int
        do throws(Errno) {
            got = try Posix.readSome(fd, into: &buffer, count: count - out.count, at: position, path: path)
        } catch {
            throw SkiffError(.blockVanished, "read \(path) at \(position): \(error.reason)")
        }
        if got == 0 { break }
        out.append(contentsOf: buffer[0..<got])
    }
    return out
}
