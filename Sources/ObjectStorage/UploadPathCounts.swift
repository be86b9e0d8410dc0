import Synchronization

/// How many uploads took each path (`FilesystemCopyPath`, S3's `PartHashSource`), for tests and
/// benchmarks to see which work a bucket could skip.
public final class UploadPathCounts<Path: Hashable & Sendable>: Sendable {
    private let counts = Mutex<[Path: Int]>([:])

    public init() {}

    public subscript(_ path: Path) -> Int { counts.withLock { $0[path, default: 0] } }

    package func add(_ path: Path) { counts.withLock { $0[path, default: 0] += 1 } }
}
