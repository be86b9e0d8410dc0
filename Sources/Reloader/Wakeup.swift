import Synchronization

/// A wake-up signal from the watcher thread to the reloader's loop. Signals coalesce (many
/// events before the loop looks are one wake-up), as Thanos' notify channel drops a send when one
/// is pending: the loop re-reads everything whenever it wakes.
final class Wakeup: Sendable {
    private enum State {
        case idle
        case pending
        case waiting(CheckedContinuation<Void, Never>)
    }

    private let state = Mutex<State>(.idle)

    func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            switch state {
            case .idle, .pending:
                state = .pending
                return nil
            case .waiting(let continuation):
                state = .idle
                return continuation
            }
        }
        waiter?.resume()
    }

    /// Returns when signalled (consuming the signal: true), at `deadline` or when the task is
    /// cancelled (false).
    @discardableResult
    func wait(until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.wait()
                return !Task.isCancelled
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            let signalled = await group.next() ?? false
            group.cancelAll()
            return signalled
        }
    }

    private func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if case .pending = state {
                        state = .idle
                        return true
                    }
                    // Cancelled before the handler below could see a waiter: do not wait at all.
                    if Task.isCancelled { return true }
                    state = .waiting(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
                guard case .waiting(let continuation) = state else { return nil }
                state = .idle
                return continuation
            }
            waiter?.resume()
        }
    }
}
