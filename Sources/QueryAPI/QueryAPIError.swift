/// An error answer of the query API: Prometheus' and Thanos' `errorType` and message.
public struct QueryAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `bad_data`, `execution`, `timeout`, `canceled`, `internal` (and whatever else Prometheus
    /// answers, passed on).
    public let type: String
    public let message: String

    public init(_ type: String, _ message: String) {
        self.type = type
        self.message = message
    }

    public static func badData(_ message: String) -> QueryAPIError { QueryAPIError("bad_data", message) }

    /// Thanos' `RespondError` statuses: bad_data 400, execution 422, canceled and timeout 503,
    /// anything else 500.
    public var httpStatus: Int {
        switch type {
        case "bad_data": 400
        case "execution": 422
        case "canceled", "timeout": 503
        default: 500
        }
    }

    public var description: String { "\(type): \(message)" }
}
