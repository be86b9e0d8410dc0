import Ledger
import ObjectStorage
import SkiffCore

/// `skiff fleet report`: the questions of `skiff report` (shipped, lag, failures) over every
/// source's audit records in a bucket, aggregated as they stream by (`FleetReader`). Memory grows
/// with the groups (days or sources, errors) and, for `shipped` and `lag`, with the committed
/// blocks (about 200 bytes each), never with the objects or their size.
///
/// A block counts once per source, at its first commit in the records: a block committed again
/// (uploaded anew after it went missing from the bucket, or recorded again by a rebuilt ledger)
/// is still one block shipped, as `skiff report shipped` counts it once.
///
/// - shipped: committed blocks and their bytes, per UTC day of the commit (default) or per source.
/// - lag: time from a block's end to its commit (count, median, p90, max, nearest rank, seconds),
///   over all blocks (default), per source or per commit day.
/// - failures: failed attempts by error (attempts, distinct blocks, last time), optionally per
///   source or per day.
public struct FleetReport: Sendable {
    public enum Name: String, Sendable, CaseIterable {
        case shipped, lag, failures
    }

    public enum Grouping: String, Sendable, CaseIterable {
        case source, day
    }

    public let name: Name
    public let grouping: Grouping?

    public init(_ name: Name, by grouping: Grouping? = nil) {
        self.name = name
        self.grouping = grouping
    }

    /// Streams the bucket's audit records and returns the report.
    public func run(on bucket: any Bucket) async throws(SkiffError) -> SQLResult {
        var aggregate = Aggregate(report: self)
        try await FleetReader.forEach(in: bucket) { (record: FleetRecord) throws(SkiffError) in aggregate.add(record) }
        return aggregate.result()
    }

    /// The running totals; `add` each record, then `result()`.
    public struct Aggregate: Sendable {
        struct Shipped {
            var blocks: Int64 = 0
            var bytes: Int64 = 0
        }
        /// A block's first commit: when, and what the reports need of it.
        struct Commit {
            var time: Int64
            var date: String
            var source: Int32
            var bytes: Int64
            var lag: Int64?
        }
        /// A committed block: its source (interned) and ULID text.
        struct BlockKey: Hashable {
            var source: Int32
            var ulid: String
        }
        struct Failures {
            var attempts: Int64 = 0
            var blocks: Set<String> = []
            var lastAt: Int64 = .min
        }

        let report: FleetReport
        var labels: [String: String] = [:]  // source id -> canonical labels
        var sources: [String: Int32] = [:]
        var sourceIDs: [String] = []
        var commits: [BlockKey: Commit] = [:]
        var failures: [String: [String: Failures]] = [:]

        public init(report: FleetReport) { self.report = report }

        func key(_ r: FleetRecord) -> String { key(source: r.source, date: r.date) }

        func key(source: String, date: String) -> String {
            switch report.grouping {
            case .source: source
            case .day: date
            case nil: report.name == .shipped ? date : ""
            }
        }

        mutating func interned(_ source: String) -> Int32 {
            if let i = sources[source] { return i }
            let i = Int32(sourceIDs.count)
            sources[source] = i
            sourceIDs.append(source)
            return i
        }

        public mutating func add(_ r: FleetRecord) {
            if report.grouping == .source, labels[r.source] == nil { labels[r.source] = r.labels }
            switch report.name {
            case .shipped, .lag:
                guard r.toState == "committed" else { return }
                let block = BlockKey(source: interned(r.source), ulid: r.ulid)
                if let first = commits[block], first.time <= r.timeMillis { return }
                commits[block] = Commit(
                    time: r.timeMillis, date: r.date, source: block.source, bytes: r.bytes ?? 0,
                    lag: r.blockMaxTime.map { r.timeMillis - $0 })
            case .failures:
                guard r.toState == "failed" else { return }
                // Mutated in place: a copy out and back would copy the set of blocks every row.
                let (k, error) = (key(r), r.error ?? "")
                failures[k, default: [:]][error, default: Failures()].attempts += 1
                failures[k, default: [:]][error, default: Failures()].blocks.insert(r.source + "/" + r.ulid)
                let last = failures[k]![error]!.lastAt
                failures[k]![error]!.lastAt = max(last, r.timeMillis)
            }
        }

        var groupColumns: [String] {
            switch report.grouping {
            case .source: ["source", "labels"]
            case .day: ["day"]
            case nil: report.name == .shipped ? ["day"] : []
            }
        }

        func groupValues(_ key: String) -> [SQLValue] {
            switch report.grouping {
            case .source: [.text(key), .text(labels[key] ?? "")]
            case .day: [.text(key)]
            case nil: report.name == .shipped ? [.text(key)] : []
            }
        }

        public func result() -> SQLResult {
            switch report.name {
            case .shipped:
                var shipped: [String: Shipped] = [:]
                for c in commits.values {
                    let k = key(source: sourceIDs[Int(c.source)], date: c.date)
                    shipped[k, default: Shipped()].blocks += 1
                    shipped[k, default: Shipped()].bytes += c.bytes
                }
                return SQLResult(
                    columns: groupColumns + ["blocks", "bytes"],
                    rows: shipped.keys.sorted().map { k in
                        groupValues(k) + [.integer(shipped[k]!.blocks), .integer(shipped[k]!.bytes)]
                    })
            case .lag:
                var lags: [String: [Int64]] = [:]
                for c in commits.values {
                    guard let lag = c.lag else { continue }
                    lags[key(source: sourceIDs[Int(c.source)], date: c.date), default: []].append(lag)
                }
                var keys = lags.keys.sorted()
                if report.grouping == nil && keys.isEmpty { keys = [""] }
                return SQLResult(
                    columns: groupColumns + ["blocks", "median_s", "p90_s", "max_s"],
                    rows: keys.map { k in groupValues(k) + Self.lagRow(lags[k] ?? []) })
            case .failures:
                var rows: [[SQLValue]] = []
                for k in failures.keys.sorted() {
                    let byError = failures[k]!.sorted { a, b in
                        a.value.attempts != b.value.attempts
                            ? a.value.attempts > b.value.attempts : a.value.lastAt > b.value.lastAt
                    }
                    for (error, f) in byError {
                        rows.append(
                            groupValues(k) + [
                                .text(error), .integer(f.attempts), .integer(Int64(f.blocks.count)),
                                .text(Self.rfc3339(f.lastAt)),
                            ])
                    }
                }
                return SQLResult(columns: groupColumns + ["error", "attempts", "blocks", "last_at"], rows: rows)
            }
        }

        /// Nearest-rank median and p90 and the max, in seconds, as `skiff report lag` computes them.
        static func lagRow(_ values: [Int64]) -> [SQLValue] {
            guard !values.isEmpty else { return [.integer(0), .null, .null, .null] }
            let sorted = values.sorted()
            let n = sorted.count
            let p90Rank = max(1, Int((Double(n) * 0.9).rounded(.up)))
            func s(_ ms: Int64) -> SQLValue { .real(Double(ms) / 1000) }
            return [.integer(Int64(n)), s(sorted[(n + 1) / 2 - 1]), s(sorted[p90Rank - 1]), s(sorted[n - 1])]
        }

        /// `2026-12-03T10:00:00Z` (UTC, whole seconds, as `skiff report` prints times).
        static func rfc3339(_ millis: Int64) -> String {
            RFC3339.format(millis: millis - ((millis % 1000) + 1000) % 1000)
        }
    }
}
