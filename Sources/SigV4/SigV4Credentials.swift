/// An access key pair and optional session token.
///
/// The secret and the token are not public and never printed: `description`, `debugDescription`
/// and the reflection mirror (`dump`, default struct printing of anything that holds credentials)
/// all show `<redacted>`, so logging a config or a signer cannot leak them.
public struct SigV4Credentials: Sendable, Equatable {
    /// The access key id, e.g. `AKIAIOSFODNN7EXAMPLE`. Not a secret: it is sent in every request.
    public let accessKeyID: String
    let secretAccessKey: String
    let sessionToken: String?

    /// - Parameter sessionToken: for temporary credentials (STS); an empty string counts as none,
    ///   because unset-but-exported environment variables arrive as "".
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken?.isEmpty == false ? sessionToken : nil
    }

    /// Whether requests carry and sign `x-amz-security-token`.
    public var hasSessionToken: Bool { sessionToken != nil }
}

extension SigV4Credentials: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let token = hasSessionToken ? redacted : "nil"
        return "SigV4Credentials(accessKeyID: \(accessKeyID), secretAccessKey: \(redacted), sessionToken: \(token))"
    }

    public var debugDescription: String { description }

    // Without this, `dump(credentials)` and Mirror-based printers walk the stored properties.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyID": accessKeyID, "secretAccessKey": redacted,
                "sessionToken": hasSessionToken ? redacted : "nil",
            ], displayStyle: .struct)
    }
}

/// What stands in for a secret in any printed form.
let redacted = "<redacted>"
