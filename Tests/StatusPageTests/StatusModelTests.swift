import HTTPServer
import Ledger
import SkiffCore
import TestSupport
import Testing

@testable import StatusPage

/// The model from a real ledger file: counts by state, bytes, lag, the oldest unshipped block,
/// the upload in progress, and the last reconcile's "missing" overriding "committed".
@Suite struct StatusModelTests {
    static let minute: Int64 = 60_000
    static let base: Int64 = 1_780_000_000_000

    @Test func lagIsNearestRank() throws {
        let lag = try #require(LagStats(lagsMillis: [100, 30, 10, 90, 50, 20, 80, 40, 70, 60]))
        #expect(lag.blocks == 10)
        #expect(lag.medianMillis == 50)
        #expect(lag.p90Millis == 90)
        #expect(lag.maxMillis == 100)
        let one = try #require(LagStats(lagsMillis: [7]))
        #expect([one.medianMillis, one.p90Millis, one.maxMillis] == [7, 7, 7])
        #expect(LagStats(lagsMillis: []) == nil)
    }

    /// Seven blocks, one of each kind, two hours each, back to back.
    static func mixedBlocks() -> [FixtureBlock] {
        func b(_ n: Int, _ state: String, lagMinutes: Int64? = nil) -> FixtureBlock {
            let min = base + Int64(n) * 120 * minute
            var block = FixtureBlock(n: n, minTime: min, maxTime: min + 120 * minute, state: state)
            block.committedAt = lagMinutes.map { block.maxTime + $0 * minute }
            block.updatedAt = block.maxTime + Int64(n)
            return block
        }
        var failed = b(4, "failed")
        failed.lastError = "upload index: connection reset"
        var quarantined = b(5, "failed")
        quarantined.quarantined = true
        quarantined.lastError = "chunks/000001: bad magic"
        var ignored = b(6, "ignored")
        ignored.reason = "level 2 block; --shipper.upload-compacted is off"
        var uploading = b(7, "chunks_uploaded")
        uploading.totalBytes = 200
        uploading.uploadedBytes = 50
        return [
            b(0, "committed", lagMinutes: 1), b(1, "committed", lagMinutes: 2), b(2, "committed", lagMinutes: 10),
            b(3, "committed", lagMinutes: 5), failed, quarantined, ignored, uploading,
        ]
    }

    @Test func modelCountsBytesLagAndAttention() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let blocks = Self.mixedBlocks()
        let ledger = try await LedgerFixture.make(
            in: dir, blocks: blocks, missing: [3],
            failures: [
                .init(n: 4, error: "connection reset", at: Self.base), .init(n: 5, error: "connection reset", at: Self.base + 1),
                .init(n: 4, error: "timeout", at: Self.base + 5),
            ], reconcileAt: Self.base + 1000 * Self.minute)
        let now = Self.base + 2000 * Self.minute
        let reading = try await LedgerReading.read(ledger)
        let model = StatusModel(reading: reading, prometheus: nil, bucket: "bucket-a", now: now)

        #expect(model.counts[.committed] == 3)
        #expect(model.counts[.missing] == 1)
        #expect(model.counts[.failed] == 1)
        #expect(model.counts[.quarantined] == 1)
        #expect(model.counts[.ignored] == 1)
        #expect(model.counts[.inProgress] == 1)
        #expect(model.bytesShipped == 4000)
        // Lags 1, 2, 5 and 10 minutes (the missing block was committed too).
        #expect(model.lag == LagStats(lagsMillis: [1, 2, 5, 10].map { $0 * Self.minute }))
        #expect(model.lag?.medianMillis == 2 * Self.minute)
        #expect(model.lag?.p90Millis == 10 * Self.minute)
        // The oldest unfinished block is the failed one (block 4).
        #expect(model.oldestUnshippedAgeMillis == now - blocks[4].maxTime)
        #expect(
            model.uploads == [UploadProgress(ulid: blocks[7].ulid, state: "chunks_uploaded", uploadedBytes: 50, totalBytes: 200)])
        #expect(model.attention.map(\.block.ulid.string) == [5, 4, 3].map { blocks[$0].ulid })
        #expect(model.attention.map(\.state) == [.quarantined, .failed, .missing])
        #expect(
            model.timeline.map(\.state) == [
                .committed, .committed, .committed, .missing, .failed, .quarantined, .ignored, .inProgress,
            ])
        #expect(model.reconcile?.findings.map(\.ulid) == [blocks[3].ulid])
        // Failures grouped by error, the most recent first: the failed blocks' own (after their
        // range ended), then the two added.
        #expect(
            model.failures.map(\.error) == [
                "chunks/000001: bad magic", "upload index: connection reset", "timeout", "connection reset",
            ])
        #expect(model.failures.last?.attempts == 2)
        #expect(model.failures.last?.blocks == 2)
    }

    @Test func pageShowsEverySectionAndEscapesWhatCameFromDiskOrPrometheus() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var blocks = Self.mixedBlocks()
        blocks[4].lastError = "<img src=x onerror=alert(1)>"
        let ledger = try await LedgerFixture.make(
            in: dir, blocks: blocks, missing: [3], failures: [.init(n: 4, error: "<script>alert(2)</script>", at: Self.base)],
            reconcileAt: Self.base)
        let prometheus = PrometheusStatus(
            url: "http://127.0.0.1:9090", up: true, version: "2.53.0", externalLabels: "{cluster=\"<script>alert(3)</script>\"}",
            lastHeartbeatMillis: Self.base, ready: false, notReadyReason: "waiting for <b>gRPC</b>")
        let routes = StatusRoutes(
            source: StatusSource(ledger: ledger, bucket: "b", clock: .fixed(Self.base + Self.minute)) { prometheus })
        let response = await routes.handle(.init(method: "GET", path: "/", query: ""))
        #expect(response.status == 200)
        let page = String(decoding: response.body, as: UTF8.self)
        #expect(!page.contains("<script>"))
        #expect(!page.contains("<img src=x"))
        #expect(!page.contains("<b>gRPC"))
        #expect(page.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(page.contains("&lt;script&gt;alert(2)&lt;/script&gt;"))
        #expect(page.contains("cluster=&quot;&lt;script&gt;alert(3)"))
        for section in ["prometheus", "shipping", "timeline", "attention", "reconcile", "failures"] {
            #expect(page.contains("<section id=\"\(section)\">"))
        }
        #expect(page.contains("2.53.0") && page.contains("not ready"))
        #expect(page.contains("median 2m, p90 10m, max 10m (4 blocks)"))
        #expect(SVGBar.all(in: page).count == blocks.count)
        #expect(page.contains("<progress max=\"200\" value=\"50\">"))
        #expect(page.contains("</a></td><td>missing from bucket</td>"), "the attention table says how the block is drawn")
        #expect(!page.contains("template error"))
    }

    /// The reloader's card: what it watches, its counts, the last reload, and the last error,
    /// escaped; `failing` while the error is newer than the last success. The JSON has the same.
    @Test func reloaderStatusShowsOnThePageAndInTheJSON() async throws {
        let failing = ReloaderStatus(
            method: "http", configFile: "/etc/prom/prometheus.yml.tmpl", outputFile: "/etc/prom/prometheus.yml",
            ruleDirs: ["/etc/prom/rules"], reloads: 5, failedReloads: 2, lastSuccessMillis: Self.base,
            lastError: "reload: Prometheus answered 500 <b>bad config</b>", lastErrorMillis: Self.base + 1000)
        #expect(failing.failing)
        var healthy = failing
        healthy.lastSuccessMillis = Self.base + 2000
        #expect(!healthy.failing)
        #expect(!ReloaderStatus(method: "signal").failing)

        let routes = StatusRoutes(
            source: StatusSource(ledger: nil, bucket: nil, clock: .fixed(Self.base + Self.minute), reloader: { failing }))
        let page = String(decoding: await routes.handle(.init(method: "GET", path: "/", query: "")).body, as: UTF8.self)
        #expect(page.contains("<section id=\"reloader\">"))
        #expect(page.contains("<span class=\"bad\">failing</span> (reload via http)"))
        #expect(page.contains("/etc/prom/prometheus.yml.tmpl, /etc/prom/rules"))
        #expect(page.contains("5 (2 failed)"))
        #expect(page.contains("Prometheus answered 500 &lt;b&gt;bad config&lt;/b&gt;"))
        #expect(!page.contains("<b>bad config"))
        #expect(!page.contains("template error"))

        let json = await routes.handle(.init(method: "GET", path: "/api/v1/skiff/status", query: ""))
        let status = try JSONValue.parse(json.body)
        let r = try #require(status["data"]?["reloader"])
        #expect(r["method"] == .string("http"))
        #expect(r["rule_dirs"] == .array([.string("/etc/prom/rules")]))
        #expect(r["reloads"]?.int64Value == 5 && r["failed_reloads"]?.int64Value == 2)
        #expect(r["last_success_at"]?.int64Value == Self.base && r["last_error_at"]?.int64Value == Self.base + 1000)
        #expect(r["failing"] == .bool(true))

        // No reloader configured: no card, and null in the JSON.
        let plain = StatusRoutes(source: StatusSource(ledger: nil, bucket: nil, clock: .fixed(Self.base)))
        let plainPage = String(decoding: await plain.handle(.init(method: "GET", path: "/", query: "")).body, as: UTF8.self)
        #expect(!plainPage.contains("id=\"reloader\""))
        let plainJSON = try JSONValue.parse(
            await plain.handle(.init(method: "GET", path: "/api/v1/skiff/status", query: "")).body)
        #expect(plainJSON["data"]?["reloader"] == .null)
    }
}
