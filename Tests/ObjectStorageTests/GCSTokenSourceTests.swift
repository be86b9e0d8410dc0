import AsyncHTTPClient
import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import GCS

/// Access tokens from a real HTTP token endpoint (Tests/Companions/oauth_token_server.py): fetched
/// with the signed assertion, cached until a minute before they expire, fetched again once
/// refused, and a refused grant reported with OAuth's error, never the key.
@Suite(.needs(.python3)) struct GCSTokenSourceTests {
    /// Runs `body` against a token endpoint in `mode` ("ok:SECONDS" or "refuse").
    func withEndpoint(
        _ mode: String, _ body: (_ source: GCSTokenSource, _ requests: () async throws -> Int) async throws -> Void
    ) async throws {
        let port = try HTTPProbe.freePort()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Companions/oauth_token_server.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ExternalProgram.python3.path())
        process.arguments = [script, "\(port)", mode]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        defer {
            // SIGKILL: the test process blocks signals its children inherit, SIGTERM included.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        _ = output.fileHandleForReading.availableData  // "ready": listening
        let uri = "http://127.0.0.1:\(port)/token"
        let credentials = try GCSCredentials.parse(
            Array(GCSCredentialsTests.serviceAccountJSON(tokenURI: uri).utf8), source: "config.service_account")
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await body(GCSTokenSource(credentials: credentials, http: http)) {
                let response = try await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/count"), timeout: .seconds(10))
                let bytes = try await response.body.collect(upTo: 1 << 10)
                let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]
                return (object?["count"] as? NSNumber)?.intValue ?? -1
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func aTokenIsFetchedOnceAndCachedUntilNearItsExpiry() async throws {
        try await withEndpoint("ok:3600") { source, requests in
            let fetched = try await source.token()
            let cached = try await source.token()
            #expect(fetched == "token-1" && cached == "token-1")
            let afterCaching = try await requests()
            #expect(afterCaching == 1)
            await source.invalidate()  // the storage API refused it
            let refetched = try await source.token()
            #expect(refetched == "token-2")
            let afterInvalidating = try await requests()
            #expect(afterInvalidating == 2)
        }
    }

    /// A token living less than the refresh margin is never reused.
    @Test func aTokenAboutToExpireIsReplaced() async throws {
        try await withEndpoint("ok:30") { source, requests in
            let first = try await source.token()
            let second = try await source.token()
            #expect(first == "token-1" && second == "token-2")
            let count = try await requests()
            #expect(count == 2)
        }
    }

    @Test func aRefusedGrantSaysWhyAndNeverShowsTheKey() async throws {
        try await withEndpoint("refuse") { source, requests in
            let error = await #expect(throws: SkiffError.self) { _ = try await source.token() }
            let message = error?.message ?? ""
            #expect(message.contains("invalid_grant: Invalid JWT Signature."), "\(message)")
            #expect(message.contains("check the credentials"), "\(message)")
            #expect(!message.contains("PRIVATE KEY"))
            let count = try await requests()
            #expect(count == 1)
        }
    }
}
