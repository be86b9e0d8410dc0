import Foundation
import PrometheusClient
import Testing

/// The pure parts of the Querier-facing calls: Go's RFC 3339 times, Thanos' time formatting for
/// exemplar ranges, and decoding as Thanos' protos decode (states, types, absent fields).
struct PrometheusQuerierDecodingTests {
    @Test(arguments: [
        ("0001-01-01T00:00:00Z", Int64(-62_135_596_800), Int32(0)),
        ("1970-01-01T00:00:00Z", 0, 0),
        ("1970-01-01T01:00:00+01:00", 0, 0),
        ("1969-12-31T23:00:00-01:00", 0, 0),
        ("2026-12-03T07:23:25.089211317Z", 1_796_282_605, 89_211_317),
        ("1999-12-31T23:59:59.5Z", 946_684_799, 500_000_000),
        ("1999-12-31T23:59:59.1234567891Z", 946_684_799, 123_456_789),
    ])
    func goTimes(text: String, seconds: Int64, nanos: Int32) {
        #expect(PrometheusTimestamp.parse(text) == PrometheusTimestamp(seconds: seconds, nanos: nanos))
    }

    @Test(arguments: ["", "x", "2026-13-01T00:00:00Z", "2026-12-03T07:23:25", "2026-12-03T07:23:25.Z", "2026-12-03 07:23:25Z"])
    func notGoTimes(text: String) {
        #expect(PrometheusTimestamp.parse(text) == nil)
    }

    /// Thanos' `formatTime`: `strconv.FormatFloat(sec + ns/1e9, 'f', -1, 64)` (values from Go).
    @Test(arguments: [
        (Int64(0), "0"), (1500, "1.5"), (1000, "1"), (-1, "-0.0010000000000000009"), (-1500, "-1.5"),
        (1_733_212_800_123, "1733212800.123"), (9_223_372_036_854_775_807, "9223372036854776"),
        (-9_223_372_036_854_775_808, "-9223372036854776"),
    ])
    func exemplarRangeTimes(millis: Int64, text: String) {
        #expect(PrometheusClient.goSeconds(millis) == text)
    }

    @Test func goFloatFormatNeverUsesAnExponent() {
        #expect(PrometheusClient.goFormatFloat(1e-05) == "0.00001")
        #expect(PrometheusClient.goFormatFloat(1.5e16) == "15000000000000000")
        #expect(PrometheusClient.goFormatFloat(1e21) == "1000000000000000000000")
        #expect(PrometheusClient.goFormatFloat(-2.5e-7) == "-0.00000025")
    }

    static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    @Test func rulesDecodeAsThanosDoes() throws {
        let group = try Self.decode(
            PrometheusRuleGroup.self,
            #"{"name":"g","rules":[{"type":"Recording","name":"r"},{"type":"alerting","state":"Pending","alerts":[{"state":"firing"}]}]}"#
        )
        #expect(group.lastEvaluation == .goZero)
        guard case .recording(let r) = group.rules[0], case .alerting(let a) = group.rules[1] else {
            Issue.record("wrong rule types")
            return
        }
        #expect(r.name == "r" && r.labels.isEmpty && r.lastEvaluation == .goZero)
        #expect(a.state == .pending && a.alerts.first?.state == .firing && a.alerts.first?.activeAt == nil)
        #expect(throws: DecodingError.self) { try Self.decode(PrometheusRule.self, #"{"name":"x"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(PrometheusRule.self, #"{"type":"other"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(PrometheusRule.self, #"{"type":"alerting","state":"loud"}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(PrometheusRule.self, #"{"type":"alerting","state":""}"#) }
    }

    @Test func targetHealthIsUpperCasedAndAnUnknownOneFails() throws {
        let targets = try Self.decode(
            PrometheusTargets.self, #"{"activeTargets":[{"health":"up"},{"health":"unknown"},{}],"droppedTargets":[{}]}"#)
        #expect(targets.activeTargets.map(\.health) == [.up, .unknown, .down])
        #expect(targets.activeTargets[2].lastScrape == .goZero)
        #expect(throws: DecodingError.self) {
            try Self.decode(PrometheusTargets.self, #"{"activeTargets":[{"health":"sick"}]}"#)
        }
    }

    @Test func exemplarValuesAndTimes() throws {
        let series = try Self.decode(
            [PrometheusExemplarSeries].self,
            #"[{"seriesLabels":{"a":"1"},"exemplars":[{"labels":{},"value":"NaN","timestamp":1.5},{"value":"+Inf","timestamp":1733212800.123}]}]"#
        )
        #expect(series[0].exemplars[0].value.isNaN && series[0].exemplars[0].timestampMillis == 1500)
        #expect(series[0].exemplars[1].value == .infinity && series[0].exemplars[1].timestampMillis == 1_733_212_800_123)
    }
}
