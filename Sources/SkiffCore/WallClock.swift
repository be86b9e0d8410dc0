/// Wall-clock time in Unix milliseconds (the ledger's unit), injected wherever a decision or a
/// record depends on "now", so tests can fix or move it. `WallClock.system` (in the Ledger target,
/// which has Foundation) reads the real clock; it is the only place that does.
public struct WallClock: Sendable {
    public let nowMillis: @Sendable () -> Int64

    public init(nowMillis: @escaping @Sendable () -> Int64) {
        self.nowMillis = nowMillis
    }

    /// A clock that always says `millis`.
    public static func fixed(_ millis: Int64) -> WallClock { WallClock { millis } }
}
