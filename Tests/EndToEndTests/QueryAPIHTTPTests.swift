import Foundation
import HummingbirdBcrypt
import TestSupport
import Testing

/// The query API on a running `skiff sidecar`: served on --http-address, behind --http.config's
/// basic auth like every other endpoint.
@Suite(.serialized, .needs(.promtool, .prometheus, .curl, .juicefs, .boto3)) struct QueryAPIHTTPTests {
    @Test func queryRoutesAreServedBehindBasicAuth() async throws {
        let world = try await SidecarTests.World.make()
        let hash = "$2y$" + Bcrypt.hash("s3cret", cost: 10).dropFirst(4)
        let webConfig = world.root.sub("web-query.yml")
        try "basic_auth_users:\n  prometheus: \(hash)\n".write(toFile: webConfig, atomically: true, encoding: .utf8)
        let (_, result) = try await SidecarTests.withSidecar(world.arguments(["--http.config", webConfig])) { running in
            let base = "http://127.0.0.1:\(world.httpPort)"
            func curl(_ path: String, user: String?) async throws -> String {
                var arguments = ["-s", "-w", "\n%{http_code}", "--max-time", "10"]
                if let user { arguments += ["-u", user] }
                return try await ExternalProgram.curl.run(arguments + [base + path]).stdout
            }
            let deadline = ContinuousClock.now + .seconds(60)
            var answer = ""
            while !answer.hasSuffix("\n200") && ContinuousClock.now < deadline {
                answer = try await curl("/api/v1/query?query=vector(1)%2B1", user: "prometheus:s3cret")
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(
                answer.hasSuffix("\n200") && answer.contains("\"resultType\":\"vector\""), "\(answer)\n\(running.stderrSoFar)")
            #expect(try await curl("/api/v1/query?query=1", user: nil).hasSuffix("\n401"))
            #expect(
                try await curl("/api/v1/query_range?query=1&start=1&end=2&step=1", user: "prometheus:wrong").hasSuffix("\n401"))
            let bad = try await curl("/api/v1/query_range?query=1&start=2&end=1", user: "prometheus:s3cret")
            #expect(
                bad
                    == "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"end timestamp must not be before start time\"}\n400"
            )
        }
        #expect(result.status == 0, "\(result)")
        await world.finish()
    }
}
