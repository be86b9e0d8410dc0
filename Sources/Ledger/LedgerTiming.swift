import Synchronization

/// How many transactions a ledger ran and what they cost, for `skiff ship` to report and
/// `Tools/bench-ship` and `Tools/bench-s3` to set against the time of a ship. Two clocks:
/// - *waited*: from a caller's call to its return, all a caller can wait on (the hops to and
///   from SQLite's thread, waiting for the writer or for a core, the transaction itself);
/// - *worked*: on SQLite's thread, the transaction itself: statements, commit, and the fsync of
///   a synchronous commit. On a machine whose cores are busy elsewhere (an S3 server on the same
///   two cores) waiting for a core inflates the first, not this one.
public final class LedgerTiming: Sendable {
    public struct Totals: Sendable, Equatable {
        public var reads = 0
        public var writes = 0
        public var readWaited = Duration.zero
        public var writeWaited = Duration.zero
        public var readWorked = Duration.zero
        public var writeWorked = Duration.zero

        public var transactions: Int { reads + writes }
        public var waited: Duration { readWaited + writeWaited }
        public var worked: Duration { readWorked + writeWorked }

        /// What was added after `earlier`.
        public func since(_ earlier: Totals) -> Totals {
            Totals(
                reads: reads - earlier.reads, writes: writes - earlier.writes,
                readWaited: readWaited - earlier.readWaited, writeWaited: writeWaited - earlier.writeWaited,
                readWorked: readWorked - earlier.readWorked, writeWorked: writeWorked - earlier.writeWorked)
        }

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

    /// A caller's call returned (counts the transaction).
    func waited(read: Bool, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        totals.withLock {
            if read {
                $0.reads += 1
                $0.readWaited += elapsed
            } else {
                $0.writes += 1
                $0.writeWaited += elapsed
            }
        }
    }

    /// A transaction ended on SQLite's thread.
    func worked(read: Bool, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        totals.withLock {
            if read { $0.readWorked += elapsed } else { $0.writeWorked += elapsed }
        }
    }
}
