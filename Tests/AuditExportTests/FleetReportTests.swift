import AuditExport
import Foundation
import Ledger
import ObjectStorage
import SkiffCore
import TestSupport
import Testing

@Suite struct FleetReportTests {
    static let sources: [LabelSet] = [
        ["cluster": "eu1", "replica": "0"], ["cluster": "eu1", "replica": "1"], ["cluster": "us1"],
    ]

    /// Three ledgers with different labels export into one bucket; the fleet reports must equal
    /// the numbers the fixtures recorded.
    @Test func reportsAggregateEverySource() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        var expected: [(source: String, AuditLedgerFixture.Expected)] = []
        for (i, labels) in Self.sources.enumerated() {
            let ledger = try Ledger.open(path: tmp.sub("ledger-\(i).db"))
            let e = try await AuditLedgerFixture.record(into: ledger, seed: i, blocks: 5 + 4 * i, step: 90_000)
            try await AuditExporterTests.exporter(ledger, bucket, labels: labels, maxRows: 9).exportAll()
            expected.append((AuditSource(labels: labels).id, e))
        }
        let all = expected.flatMap(\.1.commits)

        let shipped = try await FleetReport(.shipped).run(on: bucket)
        #expect(shipped.columns == ["day", "blocks", "bytes"])
        let days = Set(all.map(\.day)).sorted()
        #expect(days.count == 2)
        var shippedRows: [[SQLValue]] = []
        for day in days {
            let commits = all.filter { $0.day == day }
            let bytes: Int64 = commits.map(\.bytes).reduce(0, +)
            shippedRows.append([.text(day), .integer(Int64(commits.count)), .integer(bytes)])
        }
        #expect(shipped.rows == shippedRows)

        let bySource = try await FleetReport(.shipped, by: .source).run(on: bucket)
        #expect(bySource.columns == ["source", "labels", "blocks", "bytes"])
        var sourceRows: [[SQLValue]] = []
        for (i, labels) in Self.sources.enumerated() {
            let commits = expected[i].1.commits
            let bytes: Int64 = commits.map(\.bytes).reduce(0, +)
            let source = AuditSource(labels: labels)
            sourceRows.append([.text(source.id), .text(source.canonicalText), .integer(Int64(commits.count)), .integer(bytes)])
        }
        sourceRows.sort { a, b in
            if case .text(let x) = a[0], case .text(let y) = b[0] { return x < y }
            return false
        }
        #expect(bySource.rows == sourceRows)

        let lag = try await FleetReport(.lag).run(on: bucket)
        let lags: [Int64] = all.map(\.lagMillis).sorted()
        let n = lags.count
        let p90Index = Int((Double(n) * 0.9).rounded(.up)) - 1
        #expect(lag.columns == ["blocks", "median_s", "p90_s", "max_s"])
        let expectedLag: [SQLValue] = [
            .integer(Int64(n)), .real(Double(lags[(n + 1) / 2 - 1]) / 1000), .real(Double(lags[p90Index]) / 1000),
            .real(Double(lags[n - 1]) / 1000),
        ]
        #expect(lag.rows == [expectedLag])

        let failures = try await FleetReport(.failures).run(on: bucket)
        #expect(failures.columns == ["error", "attempts", "blocks", "last_at"])
        let errors = expected.flatMap(\.1.failures)
        #expect(Set(failures.rows.map { row in if case .text(let e) = row[0] { e } else { "" } }) == ["boom 0", "boom 1"])
        for row in failures.rows {
            guard case .text(let error) = row[0] else { continue }
            #expect(row[1] == .integer(Int64(errors.filter { $0.error == error }.count)))
        }
        let failuresByDay = try await FleetReport(.failures, by: .day).run(on: bucket)
        #expect(failuresByDay.columns == ["day", "error", "attempts", "blocks", "last_at"])
        var attemptsByDay: Int64 = 0
        for row in failuresByDay.rows { if case .integer(let v) = row[2] { attemptsByDay += v } }
        #expect(attemptsByDay == Int64(errors.count))
    }

    @Test func anEmptyBucketHasEmptyReports() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        #expect(try await FleetReport(.shipped).run(on: bucket).rows.isEmpty)
        #expect(try await FleetReport(.lag).run(on: bucket).rows == [[.integer(0), .null, .null, .null]])
        #expect(try await FleetReport(.failures, by: .source).run(on: bucket).rows.isEmpty)
    }

    /// The same blocks committed again later by a second ledger of the same source (a rebuilt
    /// ledger, or an upload after the block went missing): each still counts once, at its first
    /// commit, in `shipped` and in `lag`.
    @Test func aBlockCommittedTwiceCountsOnceAtItsFirstCommit() async throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let bucket = try FilesystemBucket(directory: tmp.sub("bucket"))
        let labels = Self.sources[0]
        let first = try Ledger.open(path: tmp.sub("first.db"))
        let e = try await AuditLedgerFixture.record(into: first, seed: 7, blocks: 6)
        try await AuditExporterTests.exporter(first, bucket, labels: labels, maxRows: 5).exportAll()
        let shippedBefore = try await FleetReport(.shipped).run(on: bucket)
        let lagBefore = try await FleetReport(.lag, by: .source).run(on: bucket)

        // Three days later, a second ledger commits the same blocks again (bigger, later).
        let second = try Ledger.open(path: tmp.sub("second.db"))
        try await AuditLedgerFixture.record(into: second, seed: 7, blocks: 6, offset: 3 * 86_400_000)
        try await AuditExporterTests.exporter(second, bucket, labels: labels, maxRows: 5).exportAll()

        #expect(try await FleetReport(.shipped).run(on: bucket).rows == shippedBefore.rows)
        #expect(try await FleetReport(.lag, by: .source).run(on: bucket).rows == lagBefore.rows)
        let total = try await FleetReport(.shipped, by: .source).run(on: bucket)
        #expect(total.rows.count == 1)
        #expect(total.rows.first?[2] == .integer(Int64(e.commits.count)))
        // Another source's copy of the same ULIDs is another block.
        let other = try Ledger.open(path: tmp.sub("other.db"))
        try await AuditLedgerFixture.record(into: other, seed: 7, blocks: 6)
        try await AuditExporterTests.exporter(other, bucket, labels: Self.sources[2], maxRows: 5).exportAll()
        let blocks = try await FleetReport(.shipped, by: .source).run(on: bucket).rows.map { $0[2] }
        #expect(blocks == [.integer(6), .integer(6)])
    }
}
