import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCRuntime
import StoreProto
import Testing

@Suite("grpc.health.v1 over a real server")
struct HealthServiceTests {
    @Test("Check follows setServing for \"\" and the sidecar's services")
    func check() async throws {
        let health = HealthService()
        try await RunningGRPCServer.with(health: health) { server async throws in
            #expect(try await checkHealth(port: server.port) == .notServing)
            health.setServing(true)
            for name in ["", "thanos.Store", "thanos.info.Info"] {
                #expect(try await checkHealth(port: server.port, service: name) == .serving)
            }
            health.setServing(false)
            #expect(try await checkHealth(port: server.port, service: "thanos.Store") == .notServing)
        }
    }

    @Test("Check of an unknown service is NOT_FOUND")
    func unknownService() async throws {
        try await RunningGRPCServer.with { server in
            let error = await #expect(throws: RPCError.self) {
                try await checkHealth(port: server.port, service: "thanos.Rules")
            }
            #expect(error?.code == .notFound)
        }
    }

    @Test("Watch sends the current status, each change, and ends after shutDown")
    func watch() async throws {
        let health = HealthService()
        try await RunningGRPCServer.with(health: health) { server in
            let seen = try await withHealthClient(port: server.port) { client in
                try await client.watch(.with { $0.service = "thanos.Store" }, options: testCallOptions) { response in
                    var seen: [HealthService.Status] = []
                    for try await message in response.messages {
                        seen.append(message.status)
                        // Each step waits for the previous status to arrive, so none is coalesced away.
                        switch seen.count {
                        case 1: health.setServing(true)
                        case 2: health.setServing(false)
                        case 3: health.setServing(true)
                        case 4: health.shutDown()
                        default: break
                        }
                    }
                    return seen
                }
            }
            #expect(seen == [.notServing, .serving, .notServing, .serving, .notServing])
            // After shutDown the status is pinned.
            health.setServing(true)
            #expect(try await checkHealth(port: server.port) == .notServing)
        }
    }

    @Test("a Watch the client abandons ends at once (grpc-swift does not cancel its task)")
    func abandonedWatchEnds() async throws {
        let health = HealthService()
        try await RunningGRPCServer.with(health: health) { server in
            let first = try await withHealthClient(port: server.port) { client in
                try await client.watch(.with { $0.service = "thanos.Store" }, options: testCallOptions) {
                    response -> HealthService.Status? in
                    for try await message in response.messages { return message.status }  // then the call is cancelled
                    return nil
                }
            }
            #expect(first == .notServing)
            let deadline = ContinuousClock.now + .seconds(3)
            while health.watcherCount > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(health.watcherCount == 0, "the abandoned Watch still waits for a status change")
        }
    }

    @Test("Watch of an unknown service says SERVICE_UNKNOWN and stays open")
    func watchUnknown() async throws {
        try await RunningGRPCServer.with { server in
            let first = try await withHealthClient(port: server.port) { client in
                try await client.watch(.with { $0.service = "no.Such" }, options: testCallOptions) {
                    response -> HealthService.Status? in
                    // Returning after the first message cancels the RPC: the stream had not ended.
                    for try await message in response.messages { return message.status }
                    return nil
                }
            }
            #expect(first == .serviceUnknown)
        }
    }

    @Test("other services are served beside health")
    func otherServices() async throws {
        try await RunningGRPCServer.with(services: [FixedInfo()]) { server in
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: server.port), transportSecurity: .plaintext)
            let info = try await withGRPCClient(transport: transport) { client in
                try await Thanos_Info_Info.Client(wrapping: client).info(.init(), options: testCallOptions)
            }
            #expect(info.componentType == "sidecar")
            #expect(info.labelSets.first?.labels.map(\.name) == ["cluster", "replica"])
            #expect(info.store.supportsWithoutReplicaLabels)
            #expect(info.store.maxTime == Int64.max)
        }
    }
}

/// thanos.info.Info answering with fixed data, as a stand-in for the sidecar's.
struct FixedInfo: Thanos_Info_Info.SimpleServiceProtocol {
    func info(request: Thanos_Info_InfoRequest, context: ServerContext) async throws -> Thanos_Info_InfoResponse {
        .with {
            $0.componentType = "sidecar"
            $0.labelSets = [
                .with {
                    $0.labels = [
                        .with {
                            $0.name = "cluster"
                            $0.value = "eu1"
                        },
                        .with {
                            $0.name = "replica"
                            $0.value = "a"
                        },
                    ]
                }
            ]
            $0.store = .with {
                $0.minTime = 1_700_000_000_000
                $0.maxTime = .max
                $0.supportsWithoutReplicaLabels = true
            }
        }
    }
}
