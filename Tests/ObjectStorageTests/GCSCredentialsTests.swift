import CryptoExtras
import Foundation
import SkiffCore
import Testing

@testable import GCS

/// Service account keys and the RS256 JWT assertion exchanged for an access token.
@Suite struct GCSCredentialsTests {
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static func serviceAccountJSON(tokenURI: String = "https://oauth2.example.test/token") -> String {
        let json: [String: Any] = [
            "type": "service_account", "project_id": "p", "private_key_id": "kid-1",
            "private_key": key.pkcs8PEMRepresentation, "client_email": "skiff@p.iam.gserviceaccount.com",
            "token_uri": tokenURI,
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    }

    static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    /// The assertion verifies with the key's public half, names the account, the token endpoint as
    /// audience and the storage scope, and lives an hour.
    @Test func assertionIsASignedJWT() throws {
        let credentials = try GCSCredentials.parse(Array(Self.serviceAccountJSON().utf8), source: "config.service_account")
        let body = try credentials.tokenRequestBody(now: 1_700_000_000)
        #expect(body.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
        let assertion = try #require(body.split(separator: "=").last)
        let parts = assertion.split(separator: ".")
        try #require(parts.count == 3)
        let signature = _RSA.Signing.RSASignature(rawRepresentation: try #require(Self.base64URLDecoded(parts[2])))
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        #expect(Self.key.publicKey.isValidSignature(signature, for: input, padding: .insecurePKCS1v1_5))
        #expect(!Self.key.publicKey.isValidSignature(signature, for: input + [0], padding: .insecurePKCS1v1_5))
        let headerBytes = try #require(Self.base64URLDecoded(parts[0]))
        let header = try #require(try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any])
        #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == "kid-1")
        let claimBytes = try #require(Self.base64URLDecoded(parts[1]))
        let claims = try #require(try JSONSerialization.jsonObject(with: claimBytes) as? [String: Any])
        #expect(claims["iss"] as? String == "skiff@p.iam.gserviceaccount.com")
        #expect(claims["aud"] as? String == "https://oauth2.example.test/token")
        #expect(claims["scope"] as? String == "https://www.googleapis.com/auth/devstorage.full_control")
        #expect((claims["iat"] as? NSNumber)?.int64Value == 1_700_000_000)
        #expect((claims["exp"] as? NSNumber)?.int64Value == 1_700_003_600)
    }

    /// Broken keys are named by field, never echoed.
    @Test(arguments: [
        (#"{"type": "service_account", "client_email": "a@b"}"#, "no private_key"),
        (#"{"type": "service_account", "client_email": "a@b", "private_key": "SECRET-NOT-PEM"}"#, "not an RSA private key"),
        (#"{"type": "external_account"}"#, "not supported"),
        ("not json SECRET-NOT-PEM", "not a JSON object"),
    ])
    func brokenKeys(_ json: String, _ message: String) {
        let error = #expect(throws: SkiffError.self) {
            try GCSCredentials.parse(Array(json.utf8), source: "config.service_account")
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
        #expect(error?.message.contains("SECRET") == false)
    }

    /// `GOOGLE_APPLICATION_CREDENTIALS` naming a missing file is an error saying so.
    @Test func missingCredentialsFile() throws {
        var config = GCSConfig(bucket: "b")
        config.credentialsFile = "/nonexistent/key.json"
        let error = #expect(throws: SkiffError.self) { _ = try GCSCredentials.resolve(config) }
        #expect(error?.message.contains("GOOGLE_APPLICATION_CREDENTIALS names /nonexistent/key.json") == true)
    }
}
