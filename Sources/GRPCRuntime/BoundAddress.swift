import Synchronization

/// The server's bound address, handed to callers that may ask before the server listens.
final class BoundAddress: Sendable {
    private enum State {
        case pending(waiters: [Int: CheckedContinuation<GRPCListenAddress, any Error>], nextID: Int)
        case bound(GRPCListenAddress)
        case closed
    }

    private let state = Mutex(State.pending(waiters: [:], nextID: 0))

    /// The address once `set`; throws if `close()` comes first or the caller is cancelled.
    func value() async throws -> GRPCListenAddress {
        let id = Mutex<Int?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let immediate: Result<GRPCListenAddress, any Error>? = state.withLock { state in
                    switch state {
                    case .bound(let address):
                        return .success(address)
                    case .closed:
                        return .failure(GRPCServerNotListeningError())
                    case .pending(var waiters, let nextID):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[nextID] = continuation
                        id.withLock { $0 = nextID }
                        state = .pending(waiters: waiters, nextID: nextID + 1)
                        return nil
                    }
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<GRPCListenAddress, any Error>? in
                guard case .pending(var waiters, let nextID) = state, let key = id.withLock({ $0 }),
                    let waiter = waiters.removeValue(forKey: key)
                else { return nil }
                state = .pending(waiters: waiters, nextID: nextID)
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    func set(_ address: GRPCListenAddress) {
        for waiter in settle(.bound(address)) { waiter.resume(returning: address) }
    }

    /// The server has stopped. Callers still waiting get an error; later ones do too unless it had bound.
    func close() {
        for waiter in settle(.closed) { waiter.resume(throwing: GRPCServerNotListeningError()) }
    }

    /// Moves out of `pending` (the first settlement wins) and returns the waiters to resume.
    private func settle(_ settled: State) -> [CheckedContinuation<GRPCListenAddress, any Error>] {
        state.withLock { state in
            guard case .pending(let waiters, _) = state else { return [] }
            state = settled
            return Array(waiters.values)
        }
    }
}
