/// Exponential backoff with full jitter for request-level retries: after failed attempt `n`
/// (1-based) wait a random time in [0, min(cap, base * 2^(n-1))]. Full jitter spreads retries of
/// many clients apart, which matters when the server is the one throttling (AWS' advice).
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt; 0 disables retrying.
    public var maxRetries: Int
    public var baseMillis: Int64
    public var capMillis: Int64

    public init(maxRetries: Int, baseMillis: Int64 = 200, capMillis: Int64 = 10_000) {
        self.maxRetries = maxRetries
        self.baseMillis = baseMillis
        self.capMillis = capMillis
    }

    /// The wait before retry number `attempt` (1 for the first retry); `random` is in [0, 1).
    public func delayMillis(attempt: Int, random: Double) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 30)
        let ceiling = min(capMillis, baseMillis << Int64(exponent))
        return Int64(Double(ceiling) * random)
    }
}
