import Synchronization

/// A wake-up signal from the watcher thread to the reloader's loop. Signals coalesce (many
/// events before the loop looks are one wake-up), as Thanos' notify channel drops a send when one
/// is pending: the loop re-reads everything whenever it wakes.
final class Wakeup: Sendable {
    private enum State {
        case idle
        case pending
        case waiting(CheckedContinuation<Bool, Never>)
    }

    private let state = Mutex<State>(.idle)

    func signal() {
        let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
            switch state {
            case .idle, .pending:
                state = .pending
                return nil
            case .waiting(let continuation):
                state = .idle
                return continuation
            }
        }
        waiter?.resume(returning: true)
    }

    /// Returns when signalled (consuming the signal: true), at `deadline` or when the task is
    /// cancelled (false).
    @discardableResult
    func wait(until deadline: ContinuousClock.Instant) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.wait() }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return false
            }
            var signalled = await group.next() ?? false
            group.cancelAll()
            // Both children are drained: a signal that reached the waiter while the deadline won
            // (or while the waiter was being cancelled) was consumed, so it must count here, or the
            // change that sent it would go unseen until the next watch interval.
            for await consumed in group where consumed { signalled = true }
            return signalled
        }
    }

    /// True when a signal was consumed, false when cancelled first.
    private func wait() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Bool? = state.withLock { state -> Bool? in
                    if case .pending = state {
                        state = .idle
                        return true
                    }
                    // Cancelled before the handler below could see a waiter: do not wait at all.
                    if Task.isCancelled { return false }
                    state = .waiting(continuation)
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Bool, Never>? = state.withLock { state in
                guard case .waiting(let continuation) = state else { return nil }
                state = .idle
                return continuation
            }
            waiter?.resume(returning: false)
        }
    }
}
