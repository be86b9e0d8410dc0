import Foundation
import Synchronization

/// Runs blocking `work` (waitpid, a blocking socket, a child process, a big file) on a thread of
/// its own and awaits its result.
///
/// Swift's cooperative pool has one thread per core, 2 on CI, and every test in the process shares
/// it: two tests blocking a pool thread each stall all the others, and a third test's server start
/// or timeout can then wait for seconds. So no test code blocks on the pool; it hops here instead.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    let job = OneShot(work)
    return try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: job.run()) }.start()
    }
}

/// `offThePool` for work that cannot fail.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    let job = OneShot { () throws -> T in work() }
    return await withCheckedContinuation { continuation in
        Thread {
            switch job.run() {
            case .success(let value): continuation.resume(returning: value)
            case .failure: preconditionFailure("non-throwing work threw")
            }
        }.start()
    }
}

/// The work, released as soon as it has run: a `Thread` keeps its block (and so everything the
/// work captured) until the thread has exited, which is after the awaiting task has resumed. A
/// test that drops its last reference to a server right after such a call (to check what the
/// server's deinit cleans up) would otherwise still find it alive.
private final class OneShot<T: Sendable>: Sendable {
    private let work: Mutex<(@Sendable () throws -> T)?>

    init(_ work: @escaping @Sendable () throws -> T) { self.work = Mutex(work) }

    func run() -> Result<T, any Error> {
        guard
            let work = work.withLock({ held in
                defer { held = nil }
                return held
            })
        else {
            return .failure(CancellationError())
        }
        return Result(catching: work)
    }
}

/// A value made once per test run by async work (real blocks, certificates), for every test that
/// asks. Unlike a `static let` initializer, which holds each thread that touches it until the
/// first one has finished, callers here wait without holding a thread of the pool. A failure is
/// kept too: every caller sees it.
public actor MadeOnce<Value: Sendable> {
    private enum State {
        case idle
        case making(waiters: [CheckedContinuation<Value, any Error>])
        case done(Result<Value, any Error>)
    }

    private var state = State.idle
    private let make: @Sendable () async throws -> Value

    public init(_ make: @escaping @Sendable () async throws -> Value) {
        self.make = make
    }

    /// The value, made by the first caller; later callers wait for it.
    public func value() async throws -> Value {
        switch state {
        case .done(let result):
            return try result.get()
        case .making:
            return try await withCheckedThrowingContinuation { continuation in
                if case .making(let waiters) = state { state = .making(waiters: waiters + [continuation]) }
            }
        case .idle:
            state = .making(waiters: [])
            let result: Result<Value, any Error>
            do {
                result = .success(try await make())
            } catch {
                result = .failure(error)
            }
            if case .making(let waiters) = state { waiters.forEach { $0.resume(with: result) } }
            state = .done(result)
            return try result.get()
        }
    }
}
