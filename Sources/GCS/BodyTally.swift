import FileIO
import Foundation
import ObjectStorage
import PromWire
import SkiffCore
import Synchronization

/// What one request body's pass found: its CRC32C (GCS' own checksum, compared with what the
/// server reports it stored) and, when the bytes did not match their recorded SHA-256, why.
/// Readable after the request, whether it succeeded or failed.
final class BodyTally: BodyObserver {
    private let state = Mutex<(crc: CRC32C, bytes: Int64, mismatch: String?)>((CRC32C(), 0, nil))

    var crc32c: UInt32 { state.withLock { $0.crc.value } }
    var bytes: Int64 { state.withLock { $0.bytes } }
    var mismatch: String? { state.withLock { $0.mismatch } }

    func sent(_ piece: [UInt8]) {
        state.withLock {
            $0.crc.update(piece)
            $0.bytes += Int64(piece.count)
        }
    }

    func mismatched(_ message: String) { state.withLock { $0.mismatch = message } }
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
