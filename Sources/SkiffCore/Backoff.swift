/// Exponential backoff with full jitter, bounded. Pure: the random fraction is a parameter.
public struct Backoff: Sendable, Equatable {
    public var baseMillis: Int64
    public var capMillis: Int64

    public init(baseMillis: Int64 = 1_000, capMillis: Int64 = 300_000) {
        self.baseMillis = baseMillis
        self.capMillis = capMillis
    }

    /// Delay before retry number `attempt` (1-based). `jitter` in [0, 1) picks a point in the
    /// upper half of the window, so retries spread out but never collapse to zero.
    public func delayMillis(attempt: Int, jitter: Double) -> Int64 {
        let exponent = min(max(attempt - 1, 0), 30)
        let window = min(capMillis, baseMillis << Int64(exponent))
        return window / 2 + Int64(Double(window / 2) * min(max(jitter, 0), 0.999_999))
    }
}
