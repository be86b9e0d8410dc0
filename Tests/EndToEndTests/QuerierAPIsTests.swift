import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import StoreProto
import TestSupport
import Testing

/// What a Thanos Querier asks `skiff sidecar` besides series, over a real socket: Info, Rules,
/// Targets, Metadata, Exemplars and Status, against Debian's Prometheus 2.42 (`QuerierFixture`).
@Suite(.serialized, .needs(.prometheus, .curl)) struct QuerierAPIsTests {
    static func withSidecar(
        _ body: (QuerierFixture, GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Void
    )
        async throws
    {
        let fixture = try await QuerierFixture.start()
        let grpcPort = try HTTPProbe.freePort()
        let sidecar: SkiffProcess.Running
        do {
            sidecar = try SkiffProcess.start([
                "sidecar", "--tsdb.path", fixture.prometheus.dataDir, "--prometheus.url", fixture.prometheus.url,
                "--http-address", "127.0.0.1:\(try HTTPProbe.freePort())", "--grpc-address", "127.0.0.1:\(grpcPort)",
                "--prometheus.get_config_interval", "300ms", "--grpc-grace-period", "1s", "--http-grace-period", "1s",
            ])
        } catch {
            await fixture.stop()
            throw error
        }
        do {
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: grpcPort), transportSecurity: .plaintext)
            try await withGRPCClient(transport: transport) { client in
                // The server listens once Prometheus' external labels are known.
                let info = Thanos_Info_Info.Client(wrapping: client)
                let deadline = ContinuousClock.now + .seconds(60)
                while (try? await info.info(Thanos_Info_InfoRequest())) == nil, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(200))
                }
                try await body(fixture, client)
            }
        } catch {
            print(sidecar.stderrSoFar)
            sidecar.terminate()
            _ = try? await sidecar.wait(timeout: .seconds(20))
            await fixture.stop()
            throw error
        }
        sidecar.terminate()
        _ = try? await sidecar.wait(timeout: .seconds(20))
        await fixture.stop()
    }

    static func labels(_ set: Thanos_ZLabelSet) -> [String] { set.labels.map { "\($0.name)=\($0.value)" } }

    @Test func theSidecarServesEveryQuerierAPI() async throws {
        try await Self.withSidecar { fixture, client in
            let info = try await Thanos_Info_Info.Client(wrapping: client).info(Thanos_Info_InfoRequest())
            #expect(info.hasRules && info.hasTargets && info.hasMetricMetadata && info.hasExemplars && info.hasStatus)
            #expect(info.store.supportsSharding && info.store.supportsWithoutReplicaLabels)
            #expect(info.store.tsdbInfos.map { Self.labels($0.labels) } == [["cluster=test", "region=eu-west"]])
            #expect(info.store.tsdbInfos.first?.maxTime == Int64.max)

            let groups = try await Thanos_Rules.Client(wrapping: client).rules(.with { $0.type = .alert }) {
                try await $0.messages.reduce(into: []) { $0.append($1.group) }
            }
            #expect(groups.map(\.name).sorted() == ["daily", "fast"])
            let firing = try #require(groups.first { $0.name == "fast" }?.rules.first?.alert)
            #expect(firing.state == .firing)
            #expect(Self.labels(firing.labels) == ["cluster=test", "region=eu-west", "severity=page"])
            #expect(groups.allSatisfy { $0.partialResponseStrategy == .abort })

            let targets = try await Thanos_Targets.Client(wrapping: client).targets(.with { $0.state = .any }) {
                try await $0.messages.reduce(into: []) { $0.append($1.targets) }
            }
            #expect(targets.count == 1)
            #expect(targets.first?.activeTargets.count == 2)
            #expect(targets.first?.droppedTargets.first.map { Self.labels($0.discoveredLabels).contains("cluster=test") } == true)

            let metadata = try await Thanos_Metadata.Client(wrapping: client).metricMetadata(
                .with {
                    $0.metric = "prometheus_build_info"
                    $0.limit = -1
                }
            ) { try await $0.messages.reduce(into: []) { $0.append($1.metadata) } }
            #expect(metadata.count == 1)
            #expect(metadata.first?.metadata["prometheus_build_info"]?.metas.first?.type == "gauge")

            let times = fixture.exemplarTimes
            let exemplars = try await Thanos_Exemplars.Client(wrapping: client).exemplars(
                .with {
                    $0.query = "{__name__=\"rw_exemplar\"}"
                    $0.start = times[0]
                    $0.end = times[2]
                }
            ) { try await $0.messages.reduce(into: []) { $0.append($1.data) } }
            #expect(exemplars.count == 2)
            #expect(exemplars.first.map { Self.labels($0.seriesLabels) }?.contains("cluster=test") == true)
            #expect(exemplars.flatMap(\.exemplars).map(\.ts).sorted() == times)

            let bad = await #expect(throws: RPCError.self) {
                try await Thanos_Exemplars.Client(wrapping: client).exemplars(.with { $0.query = "up{" }) {
                    for try await _ in $0.messages {}
                }
            }
            #expect(bad?.code == .invalidArgument)

            let status = try await Thanos_Status.Client(wrapping: client).tsdbStatistics(.with { $0.limit = 2 }) {
                try await $0.messages.reduce(into: []) { $0.append($1.statistics) }
            }
            #expect(status.count == 1)
            let entry = try #require(status.first?.statistics[""])
            #expect(entry.headStatistics.numSeries > 2)
            #expect(entry.seriesCountByMetricName.count == 2)
            let other = try await Thanos_Status.Client(wrapping: client).tsdbStatistics(
                .with {
                    $0.matchers = [
                        .with {
                            $0.name = "cluster"
                            $0.value = "elsewhere"
                        }
                    ]
                }
            ) { try await $0.messages.reduce(into: []) { $0.append($1.statistics) } }
            #expect(other.first?.statistics.isEmpty == true)
        }
    }
}
