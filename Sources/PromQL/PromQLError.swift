/// A PromQL text this parser refuses, with the byte offset where it went wrong.
public struct PromQLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let message: String

    public init(offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }

    /// Prometheus' shape: "parse error at char 5: ...".
    public var description: String { "parse error at char \(offset + 1): \(message)" }
}
