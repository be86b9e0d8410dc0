/// A request, endpoint or parameter that cannot be signed as given. The message names the bad
/// input so an operator can fix it; it never contains a secret (no error here is built from one).
public struct SigV4Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, for an operator.
    public let message: String

    /// Makes an error with an operator-facing message.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
