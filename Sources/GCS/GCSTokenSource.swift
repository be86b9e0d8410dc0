import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkiffCore

/// OAuth2 access tokens for GCS requests, fetched from the credentials' token endpoint and cached
/// until a minute before they expire. Tokens are never logged or put in messages.
actor GCSTokenSource {
    private let credentials: GCSCredentials
    private let http: HTTPClient
    private var cached: (token: String, refreshAfter: ContinuousClock.Instant)?

    /// A token is replaced this long before its expiry, so none expires in flight.
    static let margin = Duration.seconds(60)

    init(credentials: GCSCredentials, http: HTTPClient) {
        self.credentials = credentials
        self.http = http
    }

    /// A current access token.
    func token() async throws(SkiffError) -> String {
        if let cached, ContinuousClock.now < cached.refreshAfter { return cached.token }
        let fresh = try await fetch()
        cached = fresh
        return fresh.token
    }

    /// Forgets the cached token (the server refused it).
    func invalidate() { cached = nil }

    private func fetch() async throws(SkiffError) -> (token: String, refreshAfter: ContinuousClock.Instant) {
        let uri = credentials.tokenURI
        let started = ContinuousClock.now
        var request = HTTPClientRequest(url: uri)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(
            ByteBuffer(string: try credentials.tokenRequestBody(now: Int64(Date().timeIntervalSince1970))))
        let status: Int
        let body: [UInt8]
        do {
            let response = try await http.execute(request, timeout: .seconds(30), logger: nil)
            status = Int(response.status.code)
            body = Array(buffer: try await response.body.collect(upTo: 1 << 20))
        } catch {
            throw SkiffError(
                .bucket, "get a GCS access token from \(uri): \(GCSClient.describeTransport(error, origin: uri))",
                transient: true)
        }
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        guard status == 200, let token = object?["access_token"] as? String, !token.isEmpty else {
            // OAuth's error and description say what is wrong with the grant, never the secret.
            let error = object?["error"] as? String ?? "HTTP \(status)"
            let description = (object?["error_description"] as? String).map { ": \($0.prefix(200))" } ?? ""
            throw SkiffError(
                .invalidArgument,
                "get a GCS access token from \(uri): \(error)\(description); check the credentials "
                    + "(config.service_account or GOOGLE_APPLICATION_CREDENTIALS)",
                transient: status >= 500 || status == 429)
        }
        let lifetime = (object?["expires_in"] as? NSNumber)?.int64Value ?? 3600
        let refreshAfter = started + .seconds(max(lifetime, 0)) - Self.margin
        return (token, refreshAfter)
    }
}
