import BlockingWork
import Crypto
import FileIO
import Foundation
import ObjectStorage
import SkiffCore
import Synchronization

/// Digests of one byte range of a file.
struct RangeDigests {
    var sha256: String
    var md5: String?
}

/// The SHA-256 of a whole file, fed range by range in order (from the blocking pool, one range
/// at a time; the lock only makes that hand-over safe).
final class RunningSHA256: Sendable {
    private let hasher = Mutex(SHA256())

    func update(_ bytes: ArraySlice<UInt8>) { hasher.withLock { $0.update(data: bytes) } }

    func finalHex() -> String { Hex.lower(hasher.withLock { $0.finalize() }) }
}

/// `hashRange` on the blocking pool: a part is up to gigabytes of reads and hashing, which must not
/// hold one of the cooperative pool's few threads.
func hashRangeOffPool(
    _ path: String, offset: Int64, length: Int64, md5: Bool = false, whole: RunningSHA256? = nil
) async throws(SkiffError) -> RangeDigests {
    try await Blocking.run { () throws(SkiffError) in try hashRange(path, offset: offset, length: length, md5: md5, whole: whole)
    }
}

/// Reads `length` bytes of `path` from `offset` in 1 MiB pieces and hashes them; `whole`, when
/// given, is fed the same bytes.
func hashRange(
    _ path: String, offset: Int64, length: Int64, md5: Bool = false, whole: RunningSHA256? = nil
) throws(SkiffError) -> RangeDigests {
    let fd: Int32
    do throws(Errno) { fd = try Posix.openFile(path, O_RDONLY) } catch {
        throw SkiffError(.blockVanished, "open \(path): \(error.reason)")
    }
    defer { close(fd) }
    var sha = SHA256()
    var md = Insecure.MD5()
    var buffer = [UInt8](repeating: 0, count: FileRangeBody.pieceBytes)
    var position = offset
    let end = offset + length
    while position < end {
        let want = Int(min(Int64(buffer.count), end - position))
        let got: Int
        do throws(Errno) { got = try Posix.readSome(fd, into: &buffer, count: want, at: position, path: path) } catch {
            throw SkiffError(.blockVanished, "read \(path) at \(position): \(error.reason)")
        }
        guard got > 0 else { throw SkiffError(.blockVanished, "read \(path) at \(position): the file ended early") }
        let piece = buffer[0..<got]
        sha.update(data: piece)
        if md5 { md.update(data: piece) }
        whole?.update(piece)
        position += Int64(got)
    }
    return RangeDigests(sha256: Hex.lower(sha.finalize()), md5: md5 ? Hex.lower(md.finalize()) : nil)
}
