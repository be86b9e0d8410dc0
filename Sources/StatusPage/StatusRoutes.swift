import HTTPServer
import Ledger
import SkiffCore

/// The status page's endpoints, served by the sidecar's HTTP server behind `--http.config` (TLS,
/// basic auth, headers) like /metrics:
/// - `/`: the page; `/blocks/<ULID>`: one block; `/timeline.svg`: the timeline alone;
/// - `/api/v1/skiff/status`, `/api/v1/skiff/blocks`, `/api/v1/skiff/blocks/<ULID>`: the same as JSON.
public struct StatusRoutes: Sendable {
    public let source: StatusSource

    public init(source: StatusSource) { self.source = source }

    static let blockPage = "/blocks/", blockAPI = "/api/v1/skiff/blocks/"

    public var route: HTTPRoute {
        HTTPRoute(
            paths: ["/", "/timeline.svg", "/api/v1/skiff/status", "/api/v1/skiff/blocks"],
            pathPrefixes: [Self.blockPage, Self.blockAPI]
        ) { request in
            await handle(request)
        }
    }

    public func handle(_ request: HTTPRoute.Request) async -> HTTPRoute.Response {
        guard request.method == "GET" || request.method == "HEAD" else {
            return Self.text(405, "method not allowed: the status page answers GET and HEAD\n", extra: [("Allow", "GET, HEAD")])
        }
        let started = ContinuousClock.now
        var response = await answer(request.path)
        // How long the answer took on the server, for browsers' dev tools and the benchmark.
        let elapsed = (ContinuousClock.now - started) / .microseconds(1) / 1000
        response.headers.append(("Server-Timing", "render;dur=\(SVGNumber.format(elapsed))"))
        response.headers.append(("Cache-Control", "no-store"))
        if request.method == "HEAD" { response.body = [] }
        return response
    }

    private func answer(_ path: String) async -> HTTPRoute.Response {
        do throws(SkiffError) {
            switch path {
            case "/": return Self.html(StatusPageView.render(try await model().model))
            case "/timeline.svg":
                let model = try await model().model
                let title = "Block timeline \(model.prometheus?.externalLabels ?? "")"
                return Self.body(200, "image/svg+xml", TimelineSVG(title: title).render(model.timeline))
            case "/api/v1/skiff/status": return Self.json(200, StatusJSON.envelope(StatusJSON.status(try await model().model)))
            case "/api/v1/skiff/blocks":
                let (model, records) = try await model()
                return Self.json(200, StatusJSON.envelope(StatusJSON.blocks(model, records: records)))
            default: return try await block(path)
            }
        } catch {
            let message = "status page: \(error.message)"
            return path.hasPrefix("/api/")
                ? Self.json(500, StatusJSON.error("internal", message)) : Self.text(500, message + "\n")
        }
    }

    /// `/blocks/<ULID>` or `/api/v1/skiff/blocks/<ULID>`.
    private func block(_ path: String) async throws(SkiffError) -> HTTPRoute.Response {
        let api = path.hasPrefix(Self.blockAPI)
        let text = String(path.dropFirst(api ? Self.blockAPI.count : Self.blockPage.count))
        guard let ulid = ULID(text) else {
            let message = "not a block ULID: \(text) (26 characters, e.g. 01HSR8RBPC2JZ3GZWN1WGV240C)"
            return api ? Self.json(400, StatusJSON.error("bad_data", message)) : Self.text(400, message + "\n")
        }
        guard let ledger = source.ledger, let detail = try await BlockDetail.read(ulid, from: ledger, bucket: source.bucket)
        else {
            let message = "block \(ulid) is not in the ledger"
            return api ? Self.json(404, StatusJSON.error("not_found", message)) : Self.text(404, message + "\n")
        }
        return api ? Self.json(200, StatusJSON.envelope(StatusJSON.detail(detail))) : Self.html(BlockPageView.render(detail))
    }

    /// The model and the rows it came from (the block list's JSON wants both).
    public func model() async throws(SkiffError) -> (model: StatusModel, records: [BlockRecord]) {
        var reading = LedgerReading()
        if let ledger = source.ledger { reading = try await LedgerReading.read(ledger) }
        let model = StatusModel(
            reading: reading, prometheus: source.prometheus(), reloader: source.reloader(), bucket: source.bucket,
            now: source.clock.nowMillis())
        return (model, reading.blocks)
    }

    static func html(_ text: String) -> HTTPRoute.Response { body(200, "text/html; charset=utf-8", text) }

    static func text(_ status: Int, _ text: String, extra: [(name: String, value: String)] = []) -> HTTPRoute.Response {
        var response = body(status, "text/plain; charset=utf-8", text)
        response.headers += extra
        return response
    }

    static func json(_ status: Int, _ value: JSONValue) -> HTTPRoute.Response {
        HTTPRoute.Response(status: status, headers: [("Content-Type", "application/json")], body: value.encodedIndented())
    }

    static func body(_ status: Int, _ type: String, _ text: String) -> HTTPRoute.Response {
        HTTPRoute.Response(status: status, headers: [("Content-Type", type)], body: Array(text.utf8))
    }
}
