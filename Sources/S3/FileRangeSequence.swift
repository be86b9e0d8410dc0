import Crypto
import FileIO
import Foundation
import NIOCore
import ObjectStorage
import SkiffCore
import Synchronization

/// What a request body's hash check found, readable after the request failed.
final class DigestCheck: Sendable {
    private let state = Mutex<String?>(nil)

    /// Why the local bytes did not match their recorded hash, or nil.
    var mismatch: String? { state.withLock { $0 } }

    func fail(_ message: String) { state.withLock { $0 = message } }
}

/// `length` bytes of a file from `offset`, read in 1 MiB pieces as the HTTP client asks for them,
/// so memory stays bounded whatever the file's size. With `expectedSHA256`, the bytes are hashed
/// as they go; before the last piece is handed over the hash is compared with it, and on a
/// mismatch the sequence throws instead, so the server sees a short body and never stores the object.
struct FileRangeSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    static let pieceBytes = 1 << 20

    let path: String
    let offset: Int64
    let length: Int64
    let expectedSHA256: String?
    let check: DigestCheck

    /// Checks the file is there and long enough now, so a vanished block is reported as such
    /// rather than as a failed request.
    init(path: String, offset: Int64, length: Int64, expectedSHA256: String?, check: DigestCheck) throws(SkiffError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SkiffError(.blockVanished, "read \(path): \(String(cString: strerror(errno)))")
        }
        guard Int64(info.st_size) >= offset + length else {
            throw SkiffError(
                .bucket, "\(path) is \(info.st_size) bytes, shorter than the \(offset + length) to upload", transient: false)
        }
        self.path = path
        self.offset = offset
        self.length = length
        self.expectedSHA256 = expectedSHA256
        self.check = check
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(self)
    }

    final class Iterator: AsyncIteratorProtocol {
        private let source: FileRangeSequence
        private var fd: Int32 = -1
        private var position: Int64
        private var hasher = SHA256()
        private var buffer: [UInt8]

        init(_ source: FileRangeSequence) {
            self.source = source
            self.position = source.offset
            self.buffer = [UInt8](repeating: 0, count: FileRangeSequence.pieceBytes)
        }

        deinit { if fd >= 0 { close(fd) } }

        func next() async throws -> ByteBuffer? {
            let end = source.offset + source.length
            guard position < end else { return nil }
            if fd < 0 {
                do throws(Errno) { fd = try Posix.openFile(source.path, O_RDONLY) } catch {
                    throw SkiffError(.blockVanished, "open \(source.path): \(error.reason)")
                }
            }
            let want = Int(Swift.min(Int64(buffer.count), end - position))
            let got: Int
            do throws(Errno) {
                got = try Posix.readSome(fd, into: &buffer, count: want, at: position, path: source.path)
            } catch {
                throw SkiffError(.blockVanished, "read \(source.path) at \(position): \(error.reason)")
            }
            guard got > 0 else {
                throw SkiffError(.blockVanished, "read \(source.path) at \(position): the file ended early")
            }
            position += Int64(got)
            guard let expected = source.expectedSHA256 else { return ByteBuffer(bytes: buffer[0..<got]) }
            hasher.update(data: buffer[0..<got])
            if position == end {
                let actual = Hex.lower(hasher.finalize())
                if actual != expected {
                    let message =
                        "sha256 of \(source.path) is \(actual), not the recorded \(expected); the local file changed since it was hashed"
                    source.check.fail(message)
                    throw SkiffError(.bucket, message, transient: false)
                }
            }
            return ByteBuffer(bytes: buffer[0..<got])
        }
    }
}
