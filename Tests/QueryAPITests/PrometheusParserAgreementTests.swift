import PromQL
import PrometheusClient
import SkiffCore
import TestSupport
import Testing

/// Our parser against Prometheus' own (2.42's `/api/v1/format_query`): what we print must mean
/// what the text meant (Prometheus formats both the same), and what we refuse Prometheus refuses.
@Suite(.serialized, .needs(.prometheus)) struct PrometheusParserAgreementTests {
    static let meaningful = [
        "a - b - c", "a ^ b ^ c", "-2 ^ 2", "-a * b", "2 * 3 ^ 2", "a or b and c", "a unless b or c", "a and b == c",
        "a + b atan2 c", "a / b * c % d", "sum(x) by (a)", "sum without (a) (x)", "topk by (a) (3, x)",
        "count_values(\"v\", x)", "rate(x[5m] @ 100 offset 1m)", "x[5m:1m] offset 1m", "max_over_time(x[1h:])",
        "foo * on (a) group_left (b) bar", "foo / ignoring (a) group_right bar", "a > bool 1", "0x1F + 1e3 - .5",
        "x offset -5m", "x @ start()", "-x offset 5m", "absent(x{a=\"b\"})", "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")",
        "x{a=~\"\\\\d+\", b!~'c'}", "`raw\\n`", "{__name__=~\"job:.*\"}", "sum by (on, offset) (x)", "- - 1", "+x",
    ]

    static let refused = [
        "sum(", "x[5]", "(a + b)[5m]", "x offset 5m offset 1m", "a + bool b", "a and on(x) group_left b", "foo{a=b}",
        "1x", "5m", "x[5m:1m", "sum(1, x)", "topk(x)", "rate(x[5m],)", "x @ foo",
    ]

    static func format(_ client: PrometheusClient, _ query: String) async throws -> JSONValue {
        try JSONValue.parse(
            try await client.postQuery("/api/v1/format_query", form: [("query", query)], timeout: .seconds(10)).body)
    }

    @Test func printedFormsMeanWhatTheTextMeant() async throws {
        try await withPrometheus(externalLabels: [:]) { _, client in
            for text in Self.meaningful {
                let printed = try Parser.parse(text).description
                let original = try await Self.format(client, text)
                let ours = try await Self.format(client, printed)
                #expect(original["status"]?.stringValue == "success", "\(text): \(original)")
                #expect(ours["data"] == original["data"], "\(text) printed as \(printed)")
            }
            for text in Self.refused {
                #expect(throws: PromQLError.self, "\(text)") { try Parser.parse(text) }
                #expect(try await Self.format(client, text)["status"]?.stringValue == "error", "\(text)")
            }
        }
    }
}
