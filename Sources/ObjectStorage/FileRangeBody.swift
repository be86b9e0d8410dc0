import BlockingWork
import Crypto
import FileIO
import Foundation
import NIOCore
import SkiffCore
import Synchronization

/// Watches one request body's pass over a file: every piece as it is handed to the HTTP client,
/// and why the bytes did not match their recorded SHA-256 when they did not. A backend keeps what
/// it needs (S3 only the mismatch; GCS a CRC32C of what was sent, compared with what the server
/// says it stored), readable after the request whether it succeeded or failed.
public protocol BodyObserver: AnyObject, Sendable {
    func sent(_ piece: [UInt8])
    func mismatched(_ message: String)
}

/// The observer that keeps only the mismatch: a request judged for retrying asks it first, since
/// no retry sends the right bytes once the local file changed.
public final class DigestCheck: BodyObserver {
    private let state = Mutex<String?>(nil)

    public init() {}

    /// Why the local bytes did not match their recorded hash, or nil.
    public var mismatch: String? { state.withLock { $0 } }

    public func sent(_ piece: [UInt8]) {}

    public func mismatched(_ message: String) { state.withLock { $0 = message } }
}

/// `length` bytes of a file from `offset`, read in 1 MiB pieces as the HTTP client asks for them,
/// so memory stays bounded whatever the file's size. With `expectedSHA256`, the bytes are hashed
/// as they go; before the last piece is handed over the hash is compared with it, and on a
/// mismatch the sequence throws instead, so the server sees a short body and never stores the
/// object. The one streamed file body of every HTTP backend.
public struct FileRangeBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public static let pieceBytes = 1 << 20

    let path: String
    let offset: Int64
    let length: Int64
    let expectedSHA256: String?
    let observer: any BodyObserver

    /// Checks the file is there and long enough now, so a vanished block is reported as such
    /// rather than as a failed request.
    public init(
        path: String, offset: Int64, length: Int64, expectedSHA256: String?, observer: any BodyObserver
    ) throws(SkiffError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SkiffError(.blockVanished, "read \(path): \(String(cString: strerror(errno)))")
        }
        guard Int64(info.st_size) >= offset + length else {
            throw SkiffError(
                .bucket, "\(path) is \(info.st_size) bytes, shorter than the \(offset + length) to upload", transient: false)
        }
        (self.path, self.offset, self.length, self.expectedSHA256, self.observer) = (
            path, offset, length, expectedSHA256, observer
        )
    }

    public func makeAsyncIterator() -> Iterator { Iterator(self) }

    /// Each piece is read (and hashed) by `Blocking.run`, off the cooperative pool: a pread of
    /// 1 MiB from a cold disk, and its SHA-256, would otherwise hold one of its few threads.
    public final class Iterator: AsyncIteratorProtocol {
        private let source: FileRangeBody
        private var fd: Int32 = -1
        private var position: Int64
        private var hasher = SHA256()

        init(_ source: FileRangeBody) {
            self.source = source
            self.position = source.offset
        }

        deinit { if fd >= 0 { close(fd) } }

        public func next() async throws -> ByteBuffer? {
            let end = source.offset + source.length
            guard position < end else { return nil }
            let (path, at, want) = (source.path, position, Int(Swift.min(Int64(FileRangeBody.pieceBytes), end - position)))
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
            source.observer.sent(piece)
            guard let expected = source.expectedSHA256, let hashed else { return ByteBuffer(bytes: piece) }
            hasher = hashed
            if position == end {
                let actual = Hex.lower(hasher.finalize())
                if actual != expected {
                    let message =
                        "sha256 of \(path) is \(actual), not the recorded \(expected); the local file changed since it was hashed"
                    source.observer.mismatched(message)
                    throw SkiffError(.bucket, message, transient: false)
                }
            }
            return ByteBuffer(bytes: piece)
        }
    }
}

extension FileRangeBody {
    /// What every backend checks before uploading a file: the key is one the bucket can hold, and
    /// the file is still there with the size recorded when it was hashed (else the block is gone,
    /// or changed, and no request should start).
    public static func checkUpload(key: String, path: String, size: Int64, location: String) throws(SkiffError) {
        try ObjectKey.validate(key, op: "upload")
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw SkiffError(.blockVanished, "read \(path): \(String(cString: strerror(errno)))")
        }
        guard Int64(info.st_size) == size else {
            throw SkiffError(
                .bucket, "upload \(location): \(path) is \(info.st_size) bytes, not the recorded \(size)", transient: false)
        }
    }
}
