import NIOPosix
import SkiffCore

/// Blocking work (file copies, hashing, directory scans) runs on NIO's blocking thread pool, never
/// on Swift's cooperative pool. That pool has one thread per core (two on a small node); a thread
/// held by a 1 GiB copy or a hash stalls every task queued behind it, the HTTP probes' handlers
/// and the gRPC calls among them, and a kubelet whose liveness probe times out restarts the sidecar
/// mid-upload.
public enum Blocking {
    /// Runs `work` on the blocking pool and returns its result. The work is not interrupted by
    /// cancellation (a syscall cannot be); callers check for cancellation between pieces of work.
    public static func run<T: Sendable>(
        _ work: @escaping @Sendable () throws(SkiffError) -> T
    ) async throws(SkiffError) -> T {
        do {
            return try await NIOThreadPool.singleton.runIfActive { () throws -> T in try work() }
        } catch let error as SkiffError {
            throw error
        } catch {
            throw SkiffError(.io, "the blocking-work thread pool is not running: \(error)", transient: true)
        }
    }
}
