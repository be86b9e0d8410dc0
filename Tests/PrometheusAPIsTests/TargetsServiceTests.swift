import Foundation
import GRPCCore
import StoreProto
import SwiftProtobuf
import TestSupport
import Testing

/// `thanos.Targets/Targets` against Prometheus' `/api/v1/targets`, field by field.
@Suite(.needs(.prometheus, .curl)) struct TargetsServiceTests {
    @Test(arguments: [Thanos_TargetsRequest.State.any, .active, .dropped])
    func everythingInOneMessageWithTheExternalLabels(state: Thanos_TargetsRequest.State) async throws {
        try await QuerierAPIs.with { apis in
            let query = state == .any ? "" : state == .active ? "?state=active" : "?state=dropped"
            let before = try await apis.fixture.data("/api/v1/targets" + query) as? [String: Any]
            let answer = try await apis.targets(state)
            let after = try await apis.fixture.data("/api/v1/targets" + query) as? [String: Any]
            try #require(answer.count == 1, "exactly one message")
            let discovery = try #require(answer.first?.targets)
            let external = QuerierFixture.external
            let active = before?["activeTargets"] as? [[String: Any]] ?? []
            let activeAfter = after?["activeTargets"] as? [[String: Any]] ?? []
            let dropped = before?["droppedTargets"] as? [[String: Any]] ?? []
            #expect(active.count == (state == .dropped ? 0 : 2))
            #expect(dropped.count == (state == .active ? 0 : 1))
            #expect(discovery.activeTargets.count == active.count)
            // Prometheus' order is the scrape pools' map order: match by pool.
            for target in discovery.activeTargets {
                let json = try #require(active.first { $0["scrapePool"] as? String == target.scrapePool })
                let later = try #require(activeAfter.first { $0["scrapePool"] as? String == target.scrapePool })
                #expect(Expect.labels(target.discoveredLabels) == Expect.labels(json["discoveredLabels"], external: external))
                #expect(Expect.labels(target.labels) == Expect.labels(json["labels"], external: external))
                #expect(target.scrapeURL == json["scrapeUrl"] as? String)
                #expect(target.globalURL == json["globalUrl"] as? String)
                #expect(target.lastError == json["lastError"] as? String)
                #expect(target.hasLastScrape)
                RulesServiceTests.between(target.lastScrape, json["lastScrape"], later["lastScrape"])
                if target.scrapePool == "idle" {
                    // Never scraped: unknown health, Go's zero time, no duration.
                    #expect(target.health == .unknown)
                    #expect(target.health.rawValue == 2)
                    #expect(target.lastScrape.seconds == -62_135_596_800)
                    #expect(target.lastScrapeDuration == 0)
                    #expect(json["health"] as? String == "unknown")
                } else {
                    #expect(target.health == .up)
                    #expect(target.lastScrapeDuration > 0)
                }
            }
            #expect(discovery.droppedTargets.count == dropped.count)
            for (target, json) in zip(discovery.droppedTargets, dropped) {
                #expect(target.hasDiscoveredLabels)
                #expect(Expect.labels(target.discoveredLabels) == Expect.labels(json["discoveredLabels"], external: external))
            }
        }
    }

    @Test func internalLabelsThatClashLoseToTheExternalOnes() async throws {
        try await QuerierAPIs.with { apis in
            let discovery = try #require(try await apis.targets(.active).first?.targets)
            let byPool = Dictionary(uniqueKeysWithValues: discovery.activeTargets.map { ($0.scrapePool, $0) })
            // The self job's target label cluster=local and the idle job's region=local lose.
            let selfLabels = Expect.labels(try #require(byPool["self"]).labels)
            #expect(selfLabels.contains("cluster=test") && !selfLabels.contains("cluster=local"))
            let idleLabels = Expect.labels(try #require(byPool["idle"]).discoveredLabels)
            #expect(idleLabels.contains("region=eu-west") && !idleLabels.contains("region=local"))
        }
    }

    /// An unknown state number goes to Prometheus as its digits; Prometheus 2.42 answers no
    /// targets for a state it does not know, so neither does the sidecar.
    @Test func anUnknownStateGetsWhatPrometheusAnswers() async throws {
        try await QuerierAPIs.with { apis in
            let answer = try await apis.targets(.UNRECOGNIZED(9))
            #expect(answer.count == 1)
            #expect(answer.first?.targets.activeTargets.isEmpty == true)
            #expect(answer.first?.targets.droppedTargets.isEmpty == true)
        }
    }
}
