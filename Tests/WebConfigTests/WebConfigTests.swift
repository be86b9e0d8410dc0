import Foundation
import HummingbirdBcrypt
import NIOSSL
import SkiffCore
import Testing

@testable import WebConfig

/// exporter-toolkit's rules for the web config, and basic auth as Go's bcrypt checks it.
@Suite struct WebConfigTests {
    func refusal(_ yaml: String) -> String? {
        do {
            _ = try WebConfig.parse(yaml, source: "--http.config web.yml")
            return nil
        } catch { return error.message }
    }

    @Test func noCertificateMeansPlainHTTP() throws {
        let config = try WebConfig.parse("tls_server_config: {}\nhttp_server_config:\n  http2: false\n", source: "x")
        #expect(config.tls == nil)
        #expect(config.users == nil)
    }

    @Test func refusals() {
        #expect(refusal("tls_server_config:\n  key_file: k.pem\n")?.contains("a key but no certificate") == true)
        #expect(
            refusal("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_ca_file: ca\n")?.contains(
                "Client CA's have been configured without a Client Auth Policy") == true)
        #expect(
            refusal("tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Maybe\n")?.contains(
                "Invalid ClientAuth: Maybe") == true)
        #expect(refusal("http_server_config:\n  headers:\n    Set-Cookie: x\n")?.contains("Set-Cookie cannot be set") == true)
        #expect(refusal("basic_auth_users:\n  bob: \"$1$abc\"\n")?.contains("not a bcrypt hash") == true)
        // The message names the key, never the value (it may be a secret).
        #expect(refusal("basic_auth_users:\n  bob: hunter2\n")?.contains("hunter2") == false)
    }

    @Test func basicAuthChecksBcryptHashesOfEveryVariant() throws {
        let b = Bcrypt.hash("pw", cost: 4)
        let users = try BasicAuthUsers(
            ["b": b, "y": "$2y$" + b.dropFirst(4), "a": "$2a$" + Bcrypt.hash("pa", cost: 4).dropFirst(4)], source: "x")
        func header(_ credentials: String) -> String { "Basic " + Data(credentials.utf8).base64EncodedString() }
        #expect(users.allows(authorization: header("b:pw")))
        #expect(users.allows(authorization: header("y:pw")))
        #expect(users.allows(authorization: header("b:pw")), "cached")
        #expect(!users.allows(authorization: header("b:nope")))
        #expect(!users.allows(authorization: header("nobody:pw")))
        #expect(!users.allows(authorization: nil))
        #expect(!users.allows(authorization: "Bearer abc"))
        #expect(!users.allows(authorization: "Basic !!!"))
        #expect(!users.allows(authorization: header("no-colon")))
        // A password with a colon keeps everything after the first one.
        let colon = try BasicAuthUsers(["c": Bcrypt.hash("p:w", cost: 4)], source: "x")
        #expect(colon.allows(authorization: header("c:p:w")))
    }
}
