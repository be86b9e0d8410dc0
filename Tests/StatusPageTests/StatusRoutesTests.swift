import HTTPServer
import Ledger
import SkiffCore
import TestSupport
import Testing

@testable import StatusPage

/// The routes answered in process, against a real ledger file: the JSON API, the block page, the
/// SVG, and the answers to wrong requests.
@Suite struct StatusRoutesTests {
    static func routes(_ dir: TempDir) async throws -> (StatusRoutes, [FixtureBlock]) {
        let blocks = StatusModelTests.mixedBlocks()
        let ledger = try await LedgerFixture.make(in: dir, blocks: blocks, missing: [3], reconcileAt: StatusModelTests.base)
        let source = StatusSource(ledger: ledger, bucket: "bucket-a", clock: .fixed(StatusModelTests.base))
        return (StatusRoutes(source: source), blocks)
    }

    static func get(_ routes: StatusRoutes, _ path: String, method: String = "GET") async -> (Int, String, String?) {
        let response = await routes.handle(.init(method: method, path: path, query: ""))
        let type = response.headers.first { $0.name == "Content-Type" }?.value
        return (response.status, String(decoding: response.body, as: UTF8.self), type)
    }

    @Test func statusAndBlocksAsJSON() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (routes, blocks) = try await Self.routes(dir)
        let (status, body, type) = await Self.get(routes, "/api/v1/skiff/status")
        #expect(status == 200 && type == "application/json")
        let json = try JSONValue.parse(Array(body.utf8))
        #expect(json["status"]?.stringValue == "success")
        let shipping = try #require(json["data"]?["shipping"])
        #expect(shipping["counts"]?["committed"]?.int64Value == 3)
        #expect(shipping["counts"]?["missing"]?.int64Value == 1)
        #expect(shipping["bytes_shipped"]?.int64Value == 4000)
        #expect(shipping["lag_seconds"]?["median"] == .number("120.0"))
        #expect(json["data"]?["last_reconcile"]?["findings"]?.arrayValue?.count == 1)
        #expect(json["data"]?["prometheus"] == .null)

        let (_, list, _) = await Self.get(routes, "/api/v1/skiff/blocks")
        let rows = try #require(try JSONValue.parse(Array(list.utf8))["data"]?.arrayValue)
        #expect(rows.map { $0["ulid"]?.stringValue } == blocks.map(\.ulid))
        #expect(rows[3]["timeline_state"]?.stringValue == "missing")
    }

    @Test func oneBlockAsPageAndJSON() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (routes, blocks) = try await Self.routes(dir)
        let failed = blocks[4]
        let (status, page, type) = await Self.get(routes, "/blocks/\(failed.ulid)")
        #expect(status == 200 && type == "text/html; charset=utf-8")
        #expect(page.contains("discovered → hashed") && page.contains("hashed → failed"))
        #expect(page.contains("upload index: connection reset"))
        #expect(page.contains("key prefix <span class=\"mono\">\(failed.ulid)/</span>"))
        #expect(page.contains(String(repeating: "ab", count: 32)))
        #expect(!page.contains("template error"))

        let (_, body, _) = await Self.get(routes, "/api/v1/skiff/blocks/\(failed.ulid)")
        let data = try #require(try JSONValue.parse(Array(body.utf8))["data"])
        #expect(data["key_prefix"]?.stringValue == failed.ulid + "/")
        #expect(data["transitions"]?.arrayValue?.map { $0["to"]?.stringValue } == ["discovered", "hashed", "failed"])
        #expect(data["transitions"]?.arrayValue?.last?["took_ms"]?.int64Value == 1000)
        #expect(data["files"]?.arrayValue?.map { $0["path"]?.stringValue } == ["chunks/000001", "index"])
    }

    @Test func timelineSVGAndWrongRequests() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let (routes, blocks) = try await Self.routes(dir)
        let (status, svg, type) = await Self.get(routes, "/timeline.svg")
        #expect(status == 200 && type == "image/svg+xml")
        #expect(SVGBar.all(in: svg).count == blocks.count)
        #expect(XMLCheck.wellFormed(svg))

        #expect(await Self.get(routes, "/blocks/not-a-ulid").0 == 400)
        #expect(await Self.get(routes, "/api/v1/skiff/blocks/not-a-ulid").0 == 400)
        #expect(await Self.get(routes, "/blocks/\(TestULID.make(999))").0 == 404)
        let (missing, body, _) = await Self.get(routes, "/api/v1/skiff/blocks/\(TestULID.make(999))")
        #expect(missing == 404 && body.contains("\"not_found\""))
        #expect(await Self.get(routes, "/", method: "POST").0 == 405)
        let (head, headBody, _) = await Self.get(routes, "/", method: "HEAD")
        #expect(head == 200 && headBody.isEmpty)
    }

    @Test func withoutABucketThereIsNoLedgerAndThePageSaysSo() async throws {
        let routes = StatusRoutes(source: StatusSource(ledger: nil, bucket: nil, clock: .fixed(0)))
        let (status, page, _) = await Self.get(routes, "/")
        #expect(status == 200)
        #expect(page.contains("No bucket configured (--objstore.config-file)"))
        #expect(page.contains("No blocks in the ledger yet."))
        #expect(await Self.get(routes, "/api/v1/skiff/blocks/\(TestULID.make(1))").0 == 404)
    }
}
