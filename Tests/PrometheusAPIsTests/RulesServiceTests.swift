import Foundation
import GRPCCore
import StoreProto
import SwiftProtobuf
import TestSupport
import Testing

/// `thanos.Rules/Rules` against Prometheus' `/api/v1/rules`, field by field.
@Suite(.needs(.prometheus, .curl)) struct RulesServiceTests {
    /// The JSON groups, the gRPC answer, the JSON groups again: what changes with each evaluation
    /// (times) must lie between the two JSON answers, everything else must equal them.
    @Test(arguments: [Thanos_RulesRequest.TypeEnum.all, .alert, .record])
    func everyGroupIsOneMessageWithTheExternalLabelsOnItsRules(type: Thanos_RulesRequest.TypeEnum) async throws {
        try await QuerierAPIs.with { apis in
            let query = type == .all ? "" : type == .alert ? "?type=alert" : "?type=record"
            let before = try await apis.fixture.data("/api/v1/rules" + query) as? [String: Any]
            let answer = try await apis.rules(type)
            let after = try await apis.fixture.data("/api/v1/rules" + query) as? [String: Any]
            let groups = before?["groups"] as? [[String: Any]] ?? []
            let groupsAfter = after?["groups"] as? [[String: Any]] ?? []
            try #require(answer.count == groups.count, "one message per group")
            #expect(groups.count == 2)
            for ((message, json), jsonAfter) in zip(zip(answer, groups), groupsAfter) {
                let group = message.group
                #expect(message.result != nil)
                Self.check(group, json, jsonAfter, type: type)
            }
        }
    }

    static func check(
        _ group: Thanos_RuleGroup, _ json: [String: Any], _ after: [String: Any], type: Thanos_RulesRequest.TypeEnum
    ) {
        #expect(group.name == json["name"] as? String)
        #expect(group.file == json["file"] as? String)
        #expect(group.interval == json["interval"] as? Double)
        #expect(group.limit == json["limit"] as? Int64)
        #expect(group.partialResponseStrategy == .abort)
        #expect(group.hasLastEvaluation)
        between(group.lastEvaluation, json["lastEvaluation"], after["lastEvaluation"])
        let rules = json["rules"] as? [[String: Any]] ?? []
        let rulesAfter = after["rules"] as? [[String: Any]] ?? []
        #expect(group.rules.count == rules.count)
        for ((rule, r), a) in zip(zip(group.rules, rules), rulesAfter) {
            let external = QuerierFixture.external
            switch rule.result {
            case .recording(let recording):
                #expect(type != .alert)
                #expect(r["type"] as? String == "recording")
                #expect(recording.name == r["name"] as? String)
                #expect(recording.query == r["query"] as? String)
                #expect(recording.hasLabels)
                #expect(Expect.labels(recording.labels) == Expect.labels(r["labels"], external: external))
                #expect(recording.health == r["health"] as? String)
                #expect(recording.lastError == (r["lastError"] as? String ?? ""))
                between(recording.lastEvaluation, r["lastEvaluation"], a["lastEvaluation"])
            case .alert(let alert):
                #expect(type != .record)
                #expect(r["type"] as? String == "alerting")
                #expect(alert.name == r["name"] as? String)
                #expect(alert.query == r["query"] as? String)
                #expect(alert.durationSeconds == r["duration"] as? Double)
                #expect(alert.keepFiringForSeconds == r["keepFiringFor"] as? Double)
                #expect(Expect.labels(alert.labels) == Expect.labels(r["labels"], external: external))
                #expect(Expect.labels(alert.annotations) == Expect.labels(r["annotations"]))
                #expect(alert.health == r["health"] as? String)
                // HEAD's numbering: UNKNOWN 0, INACTIVE 1, PENDING 2, FIRING 3.
                let state = ["inactive": 1, "pending": 2, "firing": 3][r["state"] as? String ?? ""]
                #expect(alert.state.rawValue == state)
                between(alert.lastEvaluation, r["lastEvaluation"], a["lastEvaluation"])
                let instances = r["alerts"] as? [[String: Any]] ?? []
                #expect(alert.alerts.count == instances.count)
                for (instance, i) in zip(alert.alerts, instances) {
                    // Instance labels are Prometheus' own: its internal region=internal stays.
                    #expect(Expect.labels(instance.labels) == Expect.labels(i["labels"]))
                    #expect(Expect.labels(instance.annotations) == Expect.labels(i["annotations"]))
                    #expect(instance.state.rawValue == ["pending": 2, "firing": 3][i["state"] as? String ?? ""])
                    #expect(instance.activeAt == Expect.time(i["activeAt"]))
                    #expect(instance.value == i["value"] as? String)
                    #expect(instance.partialResponseStrategy == .warn)
                }
            case nil:
                Issue.record("a rule without a type")
            }
        }
    }

    /// A time that changes with each evaluation: at or after the first answer's, at or before
    /// the second's; Go's zero time when never evaluated (then both JSON answers say so).
    static func between(_ time: Google_Protobuf_Timestamp, _ first: Any?, _ second: Any?) {
        guard let low = Expect.time(first), let high = Expect.time(second) else {
            Issue.record("not a time: \(String(describing: first)) / \(String(describing: second))")
            return
        }
        #expect(Expect.seconds(low) <= Expect.seconds(time) && Expect.seconds(time) <= Expect.seconds(high), "\(time)")
    }

    @Test func theDailyGroupWasNeverEvaluatedSoItsTimesAreGosZeroTime() async throws {
        try await QuerierAPIs.with { apis in
            let answer = try await apis.rules(.all)
            let daily = try #require(answer.map(\.group).first { $0.name == "daily" })
            #expect(daily.lastEvaluation.seconds == -62_135_596_800)
            #expect(daily.lastEvaluation.nanos == 0)
            #expect(daily.interval == 86_400)
            let alert = try #require(daily.rules.first?.alert)
            #expect(alert.state == .inactive)
            #expect(alert.health == "unknown")
            #expect(alert.durationSeconds == 300)
            #expect(alert.lastEvaluation.seconds == -62_135_596_800)
            #expect(alert.alerts.isEmpty)
            // No labels of its own: exactly the external ones.
            #expect(Expect.labels(alert.labels) == ["cluster=test", "region=eu-west"])
            let recording = try #require(daily.rules.last?.recording)
            #expect(recording.lastEvaluation.seconds == -62_135_596_800)
            #expect(Expect.labels(recording.labels) == ["cluster=test", "region=eu-west"])
        }
    }

    @Test func theFiringAlertAndItsClashingLabels() async throws {
        try await QuerierAPIs.with { apis in
            let fast = try #require(try await apis.rules(.alert).map(\.group).first { $0.name == "fast" })
            let alert = try #require(fast.rules.first?.alert)
            #expect(fast.rules.count == 1)
            #expect(alert.state == .firing)
            #expect(alert.state.rawValue == 3)
            // The rule's internal region=internal loses to the external region.
            #expect(Expect.labels(alert.labels) == ["cluster=test", "region=eu-west", "severity=page"])
            let instance = try #require(alert.alerts.first)
            #expect(Expect.labels(instance.labels) == ["alertname=AlwaysFiring", "region=internal", "severity=page"])
            #expect(instance.hasActiveAt)
            #expect(instance.value == "1e+00")
            let recording = try #require(
                try await apis.rules(.record).map(\.group).first { $0.name == "fast" }?.rules.first?.recording)
            #expect(Expect.labels(recording.labels) == ["cluster=test", "region=eu-west", "team=storage"])
        }
    }

    @Test func noExternalLabelsLeavesTheRuleLabelsAsPrometheusHasThem() async throws {
        try await QuerierAPIs.with(labels: .init()) { apis in
            let fast = try #require(try await apis.rules(.alert).map(\.group).first { $0.name == "fast" })
            #expect(Expect.labels(try #require(fast.rules.first?.alert).labels) == ["region=internal", "severity=page"])
        }
    }

    /// An unknown type number goes to Prometheus as its digits, which it refuses with 400.
    @Test func anUnknownTypeIsRefusedByPrometheusAsInvalidArgument() async throws {
        try await QuerierAPIs.with(scrape: false) { apis in
            let error = await #expect(throws: RPCError.self) { try await apis.rules(.UNRECOGNIZED(7)) }
            #expect(error?.code == .invalidArgument)
            // Thanos' wording for a non-2xx answer, with Prometheus' body.
            #expect(error?.message.hasPrefix("expected 2xx response, got 400. Body: ") == true)
            #expect(error?.message.contains("not supported value") == true, "\(String(describing: error))")
        }
    }
}
