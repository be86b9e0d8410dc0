import Crypto
import Foundation
import HummingbirdBcrypt
import SkiffCore
import Synchronization

/// `basic_auth_users`: user names with bcrypt hashes of their passwords, as exporter-toolkit checks
/// them. bcrypt is slow on purpose (tens of milliseconds at cost 10), so a successful check is
/// remembered (by a SHA-256 of user, password and hash, never the password itself) and a scraper
/// pays it once; an unknown user still costs one bcrypt, so timing does not tell names apart.
public final class BasicAuthUsers: Sendable {
    private let hashes: [String: String]
    private let verified = Mutex<Set<SHA256Digest>>([])
    /// Bounds the memory a stream of distinct valid credentials could take.
    static let cacheLimit = 1024
    /// Compared against when the user is unknown: a bcrypt hash of a random password, at the cost
    /// htpasswd uses by default.
    private static let decoy = Bcrypt.hash(UUID().uuidString, cost: 10)

    init(_ hashes: [String: String], source: String) throws(SkiffError) {
        for (user, hash) in hashes where !Self.looksLikeBcrypt(hash) {
            throw SkiffError(
                .invalidArgument,
                "\(source): basic_auth_users.\(user) is not a bcrypt hash; make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`")
        }
        self.hashes = hashes
    }

    /// Whether `Authorization: Basic ...` names a user whose password matches. Blocking (bcrypt):
    /// call it off the event loop and the cooperative pool.
    public func allows(authorization: String?) -> Bool {
        guard let authorization, let (user, password) = Self.credentials(authorization) else { return false }
        guard let hash = hashes[user] else {
            _ = Bcrypt.verify(password, hash: Self.decoy)
            return false
        }
        let key = SHA256.hash(data: Array("\(user)\u{0}\(password)\u{0}\(hash)".utf8))
        if verified.withLock({ $0.contains(key) }) { return true }
        // Go's bcrypt accepts $2y$ as $2b$; the C implementation here knows $2a$ and $2b$.
        let compatible = hash.hasPrefix("$2y$") ? "$2b$" + hash.dropFirst(4) : hash
        guard Bcrypt.verify(password, hash: compatible) else { return false }
        verified.withLock { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll() }
            cache.insert(key)
        }
        return true
    }

    /// User and password of a `Basic` authorization header, nil when it is not one.
    static func credentials(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1])),
            let text = String(validating: [UInt8](decoded), as: UTF8.self),
            let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func looksLikeBcrypt(_ hash: String) -> Bool {
        ["$2a$", "$2b$", "$2y$"].contains { hash.hasPrefix($0) } && hash.count == 60
    }
}
