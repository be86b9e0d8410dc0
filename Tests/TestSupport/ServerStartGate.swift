/// Lets at most two test servers (moto, juicefs, fake-gcs-server) start at once in this process.
///
/// Starting one is seconds of CPU (moto imports most of boto; juicefs formats a volume), and the
/// third `swift test` phase starts a dozen together. On a 2-core machine each then waited for the
/// others' CPU inside its own 30 s readiness budget, and the slowest ran out ("moto_server not ready
/// after 30 s") although nothing was wrong with it. Through this gate a server's readiness clock
/// runs only while it is one of two starting, so its budget measures the server, not the crowd.
actor ServerStartGate {
    static let shared = ServerStartGate(permits: 2)

    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(permits: Int) { available = permits }

    /// Runs `body` holding a permit; the permit passes to the next waiter however `body` ends.
    func starting<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
