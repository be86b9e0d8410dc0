import HTTPServer
import Ledger
import SkiffCore
import TestSupport
import Testing

@testable import StatusPage

/// The page must stay fast with a long history: 10,000 blocks (over two years of two-hour
/// blocks) with their transitions and files in a real ledger file, a reconcile run and failures.
@Suite struct StatusPagePerformanceTests {
    @Test func tenThousandBlocksRenderQuickly() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let hour: Int64 = 3_600_000
        let base: Int64 = 1_700_000_000_000
        let blocks = (0..<10_000).map { n in
            let min = base + Int64(n) * 2 * hour
            var block = FixtureBlock(n: n, minTime: min, maxTime: min + 2 * hour, committedAt: min + 2 * hour + 60_000)
            block.updatedAt = min + 2 * hour
            if n % 500 == 7 {
                block.state = "failed"
                block.committedAt = nil
                block.lastError = "upload chunks/000001: connection reset by peer"
            }
            return block
        }
        let ledger = try await LedgerFixture.make(
            in: dir, blocks: blocks, missing: Array(stride(from: 3, to: 10_000, by: 250)),
            failures: (0..<200).map { .init(n: $0 * 50 + 7, error: "error \($0 % 7)", at: base + Int64($0)) },
            reconcileAt: base)
        let routes = StatusRoutes(source: StatusSource(ledger: ledger, bucket: "bucket-a", clock: .fixed(base)))
        var millis: [Double] = []
        var page = ""
        for _ in 0..<5 {
            let started = ContinuousClock.now
            let response = await routes.handle(.init(method: "GET", path: "/", query: ""))
            millis.append((ContinuousClock.now - started) / .microseconds(1) / 1000)
            #expect(response.status == 200)
            page = String(decoding: response.body, as: UTF8.self)
        }
        #expect(SVGBar.all(in: page).count == 10_000)
        // Where the time goes, for the report.
        func time(_ what: String, _ body: () async throws -> Void) async rethrows {
            let started = ContinuousClock.now
            try await body()
            print("  \(what): \((ContinuousClock.now - started) / .microseconds(1) / 1000) ms")
        }
        var reading = LedgerReading()
        try await time("ledger read") { reading = try await LedgerReading.read(ledger) }
        var model: StatusModel?
        await time("model") { model = StatusModel(reading: reading, prometheus: nil, bucket: "b", now: base) }
        await time("timeline layout") { _ = TimelineSVG().layout(model!.timeline) }
        await time("timeline svg") { _ = TimelineSVG().render(model!.timeline) }
        await time("page") { _ = StatusPageView.render(model!) }
        let median = millis.sorted()[millis.count / 2]
        print(
            "status page with 10,000 blocks: median \(median) ms over \(millis.count) renders (\(millis.map { Int($0) }) ms), \(page.utf8.count) bytes"
        )
        // Generous: a debug build on a shared two-core machine. The release figure is in the README.
        #expect(median < 3000)
    }
}
