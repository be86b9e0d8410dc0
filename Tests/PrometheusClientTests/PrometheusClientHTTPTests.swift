import Foundation
import SkiffCore
import Testing

@testable import PrometheusClient

/// What needs a scripted server: the headers sent, odd status codes, a stalled body.
struct PrometheusClientHTTPTests {
    func withServer(
        _ reply: RecordingHTTPServer.Reply, config: PrometheusHTTPClientConfig = .init(),
        _ body: (RecordingHTTPServer, PrometheusClient) async throws -> Void
    ) async throws {
        let server = try await RecordingHTTPServer.start(reply: reply)
        let client = try PrometheusClient(url: server.url + "/base/", config: config)
        do {
            try await body(server, client)
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
        await client.shutdown()
        await server.stop()
    }

    @Test func basicAuthAndUserAgentOnEveryCall() async throws {
        let config = try PrometheusHTTPClientConfig.parse(yaml: "basic_auth:\n  username: skiff\n  password: pa55\n")
        try await withServer(.answer(status: 200, body: "OK"), config: config) { server, client in
            try await client.checkReady(timeout: .seconds(5))
            _ = try? await client.flags(timeout: .seconds(5))
            let heads = server.recorded
            #expect(heads.map(\.uri) == ["/base/-/ready", "/base/api/v1/status/flags"])
            for head in heads {
                #expect(head.headers["Authorization"] == ["Basic " + Data("skiff:pa55".utf8).base64EncodedString()])
                #expect(head.headers["User-Agent"] == ["skiff"])
            }
        }
    }

    @Test func bearerTokenHeader() async throws {
        let config = try PrometheusHTTPClientConfig.parse(yaml: "bearer_token: t0ken\n")
        try await withServer(.answer(status: 200, body: "OK"), config: config) { server, client in
            try await client.checkReady(timeout: .seconds(5))
            #expect(server.recorded.first?.headers["Authorization"] == ["Bearer t0ken"])
        }
    }

    @Test func notReadyIsTransientWithStatusAndBody() async throws {
        try await withServer(.answer(status: 503, body: "Service Unavailable")) { server, client in
            do {
                try await client.checkReady(timeout: .seconds(5))
                Issue.record("503 counted as ready")
            } catch let error as SkiffError {
                #expect(error.transient)
                #expect(error.message.contains("\(server.url)/base/-/ready") && error.message.contains("503"))
                #expect(error.message.contains("Service Unavailable"))
            }
        }
    }

    @Test func oldPrometheusAnswers() async throws {
        try await withServer(.answer(status: 404, body: "404 page not found")) { _, client in
            let flags = try await client.flags(timeout: .seconds(5))
            #expect(flags == nil)
            let version = try await client.version(timeout: .seconds(5))
            #expect(version == "0")
        }
        try await withServer(.answer(status: 405, body: "")) { _, client in
            let version = try await client.version(timeout: .seconds(5))
            #expect(version == "0")
        }
    }

    @Test func wrongCredentialsAreAConfigurationError() async throws {
        let config = try PrometheusHTTPClientConfig.parse(yaml: "bearer_token: wr0ng-t0ken\n")
        try await withServer(.answer(status: 401, body: "Unauthorized"), config: config) { _, client in
            do {
                _ = try await client.externalLabels(timeout: .seconds(5))
                Issue.record("401 accepted")
            } catch let error as SkiffError {
                #expect(error.code == .invalidArgument && !error.transient)
                #expect(error.message.contains("401") && !error.message.contains("wr0ng-t0ken"))
            }
        }
    }

    @Test func errorEnvelopeAndBadJSON() async throws {
        try await withServer(.answer(status: 200, body: #"{"status":"error","error":"boom"}"#)) { _, client in
            await #expect(throws: SkiffError.self) { _ = try await client.version(timeout: .seconds(5)) }
        }
        try await withServer(.answer(status: 200, body: "not json")) { _, client in
            await #expect(throws: SkiffError.self) { _ = try await client.externalLabels(timeout: .seconds(5)) }
        }
    }

    @Test func stalledBodyHitsTheCallTimeout() async throws {
        try await withServer(.stallBody) { _, client in
            let started = ContinuousClock.now
            do {
                _ = try await client.lowestTimestampMillis(timeout: .milliseconds(500))
                Issue.record("a stalled body returned")
            } catch let error as SkiffError {
                #expect(error.transient && error.message.contains("within"), "\(error.message)")
            }
            // Generous: on 2 cores, CPU-bound suites running alongside can hold the cooperative pool for seconds.
            #expect(ContinuousClock.now - started < .seconds(60), "the 500 ms call timeout did not end a stalled body")
        }
    }
}
