import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRuntime
import NIOPosix
import ServiceLifecycle
import StoreProto
import TestSupport
import Testing

@Suite("Readiness gate and graceful shutdown")
struct LifecycleTests {
    @Test("the server does not listen until the readiness gate opens")
    func readinessGate() async throws {
        // Port 0, not a "free" port probed from outside: on a busy machine another test may take
        // a port between our probe and the bind. The bound address is published once listening.
        let gate = TestGate()
        let health = HealthService()
        let service = GRPCServerService(
            address: GRPCListenAddress(host: "127.0.0.1", port: 0), services: [], health: health,
            logger: quietLogger, waitUntilReady: { try await gate.wait() })
        let group = ServiceGroup(configuration: .init(services: [service], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await withTimeout(.seconds(60), "server run") { try await group.run() } }
            // Listening before the gate opens would be the bug under test.
            await #expect(throws: TestTimeout.self) {
                _ = try await withTimeout(.milliseconds(500), "listening before the gate") { try await service.boundAddress() }
            }
            health.setServing(true)  // the sidecar does this once it knows the external labels
            gate.open()
            let bound = try await withTimeout(.seconds(20), "listening after the gate") {
                try await service.boundAddress()
            }
            #expect(bound.host == "127.0.0.1" && bound.port > 0)
            #expect(try await checkHealth(port: bound.port) == .serving)

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("shutdown while waiting at the gate returns without listening")
    func shutdownAtGate() async throws {
        let service = GRPCServerService(
            address: GRPCListenAddress(host: "127.0.0.1", port: 0), services: [], logger: quietLogger,
            waitUntilReady: { try await TestGate().wait() })  // never opens
        let group = ServiceGroup(configuration: .init(services: [service], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await withTimeout(.seconds(20), "run() returning") { try await group.run() } }
            try await Task.sleep(for: .milliseconds(100))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await #expect(throws: GRPCServerNotListeningError.self) { try await service.boundAddress() }
    }

    @Test("boundAddress() gives up when its caller is cancelled")
    func boundAddressCancelled() async throws {
        let service = GRPCServerService(
            address: GRPCListenAddress(host: "127.0.0.1", port: 0), services: [], logger: quietLogger)  // never run
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await #expect(throws: CancellationError.self) { try await service.boundAddress() }
            }
            // Cancelling before or after the wait begins must both end it; the pause makes "after" likely.
            try? await Task.sleep(for: .milliseconds(50))
            group.cancelAll()
        }
    }

    @Test("a port already in use makes run() throw")
    func portInUse() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(taken.localAddress?.port)
        let service = GRPCServerService(
            address: GRPCListenAddress(host: "127.0.0.1", port: port), services: [], logger: quietLogger)
        let error = await #expect(throws: GRPCServerFailure.self) {
            try await withTimeout(.seconds(20), "run() failing") { try await service.run() }
        }
        #expect(error.map { "\($0)" }?.contains("127.0.0.1:\(port)") == true)
        #expect(error.map { "\($0)" }?.contains("Address already in use") == true)
        await #expect(throws: GRPCServerNotListeningError.self) { try await service.boundAddress() }
        try await taken.close()
    }

    @Test("an in-flight RPC finishes during the grace period and the server then stops")
    func gracefulDrain() async throws {
        let release = TestGate()
        let observed = try await observeShutdown(services: [SlowWatch(release: release)], gracePeriod: .seconds(60)) {
            port in
            // Released only once the listener has closed, so the RPC is surely in flight during shutdown.
            while await acceptsConnections(port: port) { try await Task.sleep(for: .milliseconds(20)) }
            release.open()
        }
        #expect(try observed.messages.get() == 2)  // the RPC ran to its end
        #expect(observed.elapsed < .seconds(30))
    }

    @Test("an RPC still running when the grace period ends is cut off")
    func hardStop() async throws {
        let observed = try await observeShutdown(
            services: [SlowWatch(release: TestGate())], gracePeriod: .seconds(1))  // never released
        #expect(throws: RPCError.self) { try observed.messages.get() }
        #expect(observed.elapsed >= .seconds(1))
        #expect(observed.elapsed < .seconds(30))
    }

    @Test("an open health Watch does not hold up shutdown")
    func healthWatchEnds() async throws {
        let observed = try await observeShutdown(services: [], health: HealthService(), gracePeriod: .seconds(60))
        // NOT_SERVING on connecting; shutDown's NOT_SERVING repeats it, so it is not sent again.
        #expect(try observed.messages.get() == 1)
        #expect(observed.elapsed < .seconds(30))
    }

    /// Starts a server, opens a health Watch on it, triggers graceful shutdown once the first message
    /// has arrived, runs `afterTrigger`, and reports how many messages the Watch got and how long
    /// the server took to stop after the trigger.
    private func observeShutdown(
        services: [any RegistrableRPCService], health: HealthService? = nil, gracePeriod: Duration,
        afterTrigger: @escaping @Sendable (_ port: Int) async throws -> Void = { _ in }
    ) async throws -> (messages: Result<Int, any Error>, elapsed: Duration) {
        let service = GRPCServerService(
            address: GRPCListenAddress(host: "127.0.0.1", port: 0), services: services, health: health,
            gracePeriod: gracePeriod, logger: quietLogger)
        let group = ServiceGroup(configuration: .init(services: [service], logger: quietLogger))
        let firstMessage = TestGate()
        let (results, resultContinuation) = AsyncStream.makeStream(of: Result<Int, any Error>.self)

        let elapsed = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await withTimeout(gracePeriod + .seconds(60), "server run") { try await group.run() }
            }
            let port = try await withTimeout(.seconds(20), "server start") { try await service.boundAddress().port }
            tasks.addTask {
                let result: Result<Int, any Error>
                do {
                    result = .success(
                        try await withHealthClient(port: port) { client in
                            try await client.watch(.init(), options: testCallOptions) { response in
                                var count = 0
                                for try await _ in response.messages {
                                    count += 1
                                    firstMessage.open()
                                }
                                return count
                            }
                        })
                } catch {
                    result = .failure(error)
                }
                resultContinuation.yield(result)
                resultContinuation.finish()
            }

            try await withTimeout(.seconds(20), "first message") { try await firstMessage.wait() }
            let start = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await afterTrigger(port)
            try await tasks.waitForAll()
            return ContinuousClock.now - start
        }
        let messages = try #require(await results.first(where: { _ in true }))
        return (messages, elapsed)
    }
}

/// Watch that sends one message, waits for `release`, sends a second and ends: an RPC in flight.
struct SlowWatch: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let release: TestGate

    func check(
        request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse { .init() }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>,
        context: ServerContext
    ) async throws {
        try await response.write(.with { $0.status = .serving })
        try await release.wait()
        try await response.write(.with { $0.status = .notServing })
    }
}
