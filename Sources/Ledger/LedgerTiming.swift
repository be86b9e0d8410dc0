import Synchronization

/// How many transactions a ledger ran and how long its callers waited for them (wall time, from
/// the call to its return: the statements, the commit's fsync of the WAL, and any wait for the
/// writer), so `skiff ship` can say what the ledger cost and `Tools/bench-ship` can set it
/// against the time of the ship.
public final class LedgerTiming: Sendable {
    public struct Totals: Sendable, Equatable {
        public var reads = 0
        public var writes = 0
        public var readTime = Duration.zero
        public var writeTime = Duration.zero

        public var transactions: Int { reads + writes }
        public var time: Duration { readTime + writeTime }

        /// `duration` in milliseconds, to the microsecond, for logs.
        public static func milliseconds(_ duration: Duration) -> String {
            let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
            let fraction = String(micros % 1000)
            return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
        }
    }

    private let totals = Mutex(Totals())

    public init() {}

    public var current: Totals { totals.withLock { $0 } }

    func add(read: Bool, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        totals.withLock {
            if read {
                $0.reads += 1
                $0.readTime += elapsed
            } else {
                $0.writes += 1
                $0.writeTime += elapsed
            }
        }
    }
}
