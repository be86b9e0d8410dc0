import FileIO
import SkiffCore

/// Replaces a file atomically and durably (see `AtomicFile`): after a crash the path holds either
/// the old or the new bytes, never a mix, and once `write` returns the new bytes survive a power loss.
public enum DurableFile {
    /// Writes `bytes` through `<path>.tmp` in the same dir, renamed over `path`.
    public static func write(_ bytes: [UInt8], to path: String) throws(SkiffError) {
        do throws(Errno) { try AtomicFile.write(bytes, to: path, temp: path + ".tmp") } catch {
            throw SkiffError(
                .io, "cannot write \(path): \(error.message); check that the dir exists, is writable and the disk is not full")
        }
    }
}
