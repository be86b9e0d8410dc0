import HTTPServer
import PrometheusClient
import QueryAPI
import SkiffCore
import Testing

/// Answers without a usable Prometheus: never a hang, always Prometheus' envelope.
@Suite struct QueryAPIUnavailableTests {
    static func answer(labels: LabelSet?) async throws -> (Int, String) {
        // Port 1 refuses at once on loopback.
        let client = try PrometheusClient(url: "http://127.0.0.1:1")
        let handler = QueryHTTPHandler(service: QueryService(client: client, externalLabels: { labels }))
        let answer = await handler.respond(HTTPRoute.Request(method: "GET", path: "/api/v1/query", query: "query=up"))
        await client.shutdown()
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    @Test func unreachablePrometheusIsAnInternalError() async throws {
        let (status, body) = try await Self.answer(labels: LabelSet(["cluster": "eu"]))
        #expect(status == 500)
        #expect(
            body.hasPrefix("{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"Prometheus at http://127.0.0.1:1"),
            "\(body)")
    }

    @Test func unknownExternalLabelsAreUnavailable() async throws {
        let (status, body) = try await Self.answer(labels: nil)
        #expect(status == 500)
        #expect(
            body
                == "{\"status\":\"error\",\"errorType\":\"unavailable\",\"error\":\"Prometheus' external labels are not known yet; retry once the sidecar is ready\"}"
        )
    }
}
