import BlockingWork
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

    /// Each piece is read (and hashed) by `Blocking.run`, off the cooperative pool: a pread of
    /// 1 MiB from a cold disk, and its SHA-256, would otherwise hold one of its few threads.
    final class Iterator: AsyncIteratorProtocol {
        private let source: FileRangeSequence
        private var fd: Int32 = -1
        private var position: Int64
        private var hasher = SHA256()

        init(_ source: FileRangeSequence) {
            self.source = source
            self.position = source.offset
        }

        deinit { if fd >= 0 { close(fd) } }

        func next() async throws -> ByteBuffer? {
            let end = source.offset + source.length
            guard position < end else { return nil }
            let (path, at, want) = (source.path, position, Int(Swift.min(Int64(FileRangeSequence.pieceBytes), end - position)))
            let (opened, hashing) = (fd, source.expectedSHA256 == nil ? nil : hasher)
            let (newFD, piece, hashed) = try await Blocking.run {
                () throws(SkiffError) -> (Int32, [UInt8], SHA256?) in
                var fd = opened
                if fd < 0 {
                    do throws(Errno) { fd = try Posix.openFile(path, O_RDONLY) } catch {
                        throw SkiffError(.blockVanished, "open \(path): \(error.reason)")
                    }
                }
                var buffer = [UInt8](repeating: 0, count: want)
                let got: Int
                do throws(Errno) { got = try Posix.readSome(fd, into: &buffer, count: want, at: at, path: path) } catch {
                    if opened < 0 { close(fd) }
                    throw SkiffError(.blockVanished, "read \(path) at \(at): \(error.reason)")
                }
                buffer.removeLast(want - got)
                var hasher = hashing
                hasher?.update(data: buffer)
                return (fd, buffer, hasher)
            }
            fd = newFD
            guard !piece.isEmpty else {
                throw SkiffError(.blockVanished, "read \(path) at \(position): the file ended early")
            }
            position += Int64(piece.count)
            guard let expected = source.expectedSHA256, let hashed else { return ByteBuffer(bytes: piece) }
            hasher = hashed
            if position == end {
                let actual = Hex.lower(hasher.finalize())
                if actual != expected {
                    let message =
                        "sha256 of \(path) is \(actual), not the recorded \(expected); the local file changed since it was hashed"
                    source.check.fail(message)
                    throw SkiffError(.bucket, message, transient: false)
                }
            }
            return ByteBuffer(bytes: piece)
        }
    }
}
