import Crypto
import CryptoExtras
import FileIO
import Foundation
import SkiffCore

/// Google credentials as Google's libraries read a credentials JSON: a service account key
/// (signs its own token requests, RS256) or an authorized user (gcloud's application default
/// credentials: a refresh token). Nothing here is ever logged or put in a message.
enum GCSCredentials: Sendable {
    case serviceAccount(email: String, keyID: String, key: _RSA.Signing.PrivateKey, tokenURI: String)
    case authorizedUser(clientID: String, clientSecret: String, refreshToken: String, tokenURI: String)

    /// Google's token endpoint, when the JSON names none.
    static let defaultTokenURI = "https://oauth2.googleapis.com/token"
    /// Read and write objects (Thanos asks for `storage.ScopeFullControl`).
    static let scope = "https://www.googleapis.com/auth/devstorage.full_control"

    /// The credentials `config` asks for: its `service_account` JSON, else the first default
    /// credentials file that exists. Google's metadata server (GCE, GKE) is not asked.
    static func resolve(_ config: GCSConfig) throws(SkiffError) -> GCSCredentials {
        if config.hasServiceAccount {
            return try parse(Array(config.serviceAccount.utf8), source: "config.service_account")
        }
        if let path = config.credentialsFile {
            return try parse(try readCredentials(path, variable: "GOOGLE_APPLICATION_CREDENTIALS"), source: path)
        }
        if let path = config.gcloudCredentialsFile, FileManager.default.fileExists(atPath: path) {
            return try parse(try readCredentials(path, variable: nil), source: path)
        }
        throw SkiffError(
            .invalidArgument,
            "no Google credentials for GCS bucket \(config.bucket): set config.service_account in --objstore.config-file to a "
                + "service account key JSON, or GOOGLE_APPLICATION_CREDENTIALS to its path (Google's metadata server is not "
                + "supported yet)")
    }

    private static func readCredentials(_ path: String, variable: String?) throws(SkiffError) -> [UInt8] {
        do throws(Errno) { return try Posix.readAll(path) } catch {
            let named = variable.map { "\($0) names \(path)" } ?? "read Google credentials \(path)"
            throw SkiffError(
                .invalidArgument, "\(named): \(error.reason); point it at a service account key JSON file")
        }
    }

    /// Parses a credentials JSON; messages name `source` and the missing field, never a value.
    static func parse(_ bytes: [UInt8], source: String) throws(SkiffError) -> GCSCredentials {
        func fail(_ what: String) -> SkiffError {
            SkiffError(
                .invalidArgument, "\(source): \(what); use a service account key JSON as Google Cloud's console exports it")
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        func field(_ name: String) throws(SkiffError) -> String {
            guard let value = object[name] as? String, !value.isEmpty else { throw fail("no \(name)") }
            return value
        }
        let tokenURI = (object["token_uri"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? defaultTokenURI
        guard tokenURI.hasPrefix("https://") || tokenURI.hasPrefix("http://") else { throw fail("token_uri is not a URL") }
        switch object["type"] as? String {
        case "service_account"?:
            let email = try field("client_email")
            let pem = try field("private_key")
            let key: _RSA.Signing.PrivateKey
            do { key = try _RSA.Signing.PrivateKey(pemRepresentation: pem) } catch {
                throw fail("private_key is not an RSA private key in PEM form (2048 bits or more)")
            }
            return .serviceAccount(email: email, keyID: object["private_key_id"] as? String ?? "", key: key, tokenURI: tokenURI)
        case "authorized_user"?:
            return .authorizedUser(
                clientID: try field("client_id"), clientSecret: try field("client_secret"),
                refreshToken: try field("refresh_token"), tokenURI: tokenURI)
        case let other?:
            throw fail("credentials of type \"\(other.prefix(40))\" are not supported (service_account, authorized_user are)")
        case nil:
            throw fail("no type")
        }
    }

    var tokenURI: String {
        switch self {
        case .serviceAccount(_, _, _, let uri), .authorizedUser(_, _, _, let uri): return uri
        }
    }

    /// The form body that asks `tokenURI` for an access token, at Unix time `now` (seconds).
    func tokenRequestBody(now: Int64) throws(SkiffError) -> String {
        switch self {
        case .serviceAccount(let email, let keyID, let key, let tokenURI):
            let assertion = try Self.jwt(email: email, keyID: keyID, key: key, audience: tokenURI, now: now)
            return "grant_type=" + Self.formEncoded("urn:ietf:params:oauth:grant-type:jwt-bearer") + "&assertion=" + assertion
        case .authorizedUser(let clientID, let clientSecret, let refreshToken, _):
            return [
                ("grant_type", "refresh_token"), ("client_id", clientID), ("client_secret", clientSecret),
                ("refresh_token", refreshToken),
            ].map { "\($0.0)=\(Self.formEncoded($0.1))" }.joined(separator: "&")
        }
    }

    /// A JWT bearer assertion (RFC 7523) for a service account: RS256 over header.claims, valid
    /// for an hour, as Google's libraries make it.
    static func jwt(
        email: String, keyID: String, key: _RSA.Signing.PrivateKey, audience: String, now: Int64
    ) throws(SkiffError) -> String {
        var header: [String: Any] = ["alg": "RS256", "typ": "JWT"]
        if !keyID.isEmpty { header["kid"] = keyID }
        let claims: [String: Any] = ["iss": email, "scope": scope, "aud": audience, "iat": Int(now), "exp": Int(now) + 3600]
        guard let headerJSON = try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]),
            let claimsJSON = try? JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        else { throw SkiffError(.invalidArgument, "GCS credentials: cannot encode the token request") }
        let input = base64URL(Array(headerJSON)) + "." + base64URL(Array(claimsJSON))
        let signature: _RSA.Signing.RSASignature
        do { signature = try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5) } catch {
            throw SkiffError(.invalidArgument, "GCS credentials: signing the token request failed; check the service account key")
        }
        return input + "." + base64URL(Array(signature.rawRepresentation))
    }

    /// Base64url without padding (RFC 7515).
    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `application/x-www-form-urlencoded` value encoding: unreserved characters stay, the rest is %XX.
    static func formEncoded(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
