import Foundation
import HTTPServer
import SkiffCore

/// `GET|POST /api/v1/query` and `/api/v1/query_range` as Thanos' Querier answers them
/// (`pkg/api/query/v1.go`, the envelope of `pkg/api/api.go`).
public struct QueryHTTPHandler: Sendable {
    let service: QueryService
    let now: @Sendable () -> Int64

    /// - Parameter now: the current Unix ms (the default `time` of an instant query).
    public init(service: QueryService, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.service = service
        self.now = now
    }

    /// The route to hand to `SidecarHTTPServer(routes:)`.
    public var route: HTTPRoute {
        HTTPRoute(paths: ["/api/v1/query", "/api/v1/query_range"]) { request in await self.respond(request) }
    }

    public func respond(_ request: HTTPRoute.Request) async -> HTTPRoute.Response {
        guard request.method == "GET" || request.method == "POST" else {
            return HTTPRoute.Response(
                status: 405, headers: [("Allow", "GET, POST"), ("Content-Type", "text/plain; charset=utf-8")],
                body: Array("Method Not Allowed\n".utf8))
        }
        let form = FormValues(
            query: request.query, body: request.method == "POST" ? request.body : [], contentType: request.contentType)
        do {
            let query =
                request.path == "/api/v1/query_range"
                ? try QueryRequest.range(form, configuration: service.configuration)
                : try QueryRequest.instant(form, configuration: service.configuration, nowMillis: now())
            let outcome = try await service.evaluate(query)
            return Self.success(outcome)
        } catch {
            return Self.failure(error)
        }
    }

    /// `{"status":"success","data":{"resultType","result","stats"?,"analysis":{}},"warnings"?}`:
    /// Thanos' queryData always carries `analysis` (a struct, which `omitempty` never omits).
    static func success(_ outcome: QueryService.Outcome) -> HTTPRoute.Response {
        var data: [JSONValue.Member] = [.init("resultType", .string(outcome.resultType)), .init("result", outcome.result)]
        if let stats = outcome.stats { data.append(.init("stats", stats)) }
        data.append(.init("analysis", .object([])))
        var envelope: [JSONValue.Member] = [.init("status", .string("success")), .init("data", .object(data))]
        if !outcome.warnings.isEmpty { envelope.append(.init("warnings", .array(outcome.warnings.map { .string($0) }))) }
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if !outcome.warnings.isEmpty { headers.append(("Cache-Control", "no-store")) }
        return HTTPRoute.Response(status: 200, headers: headers, body: Array(JSONValue.object(envelope).encodedCompact().utf8))
    }

    /// `{"status":"error","errorType":…,"error":…}` with Thanos' status for the type.
    static func failure(_ error: QueryAPIError) -> HTTPRoute.Response {
        let envelope = JSONValue.object([
            .init("status", .string("error")), .init("errorType", .string(error.type)), .init("error", .string(error.message)),
        ])
        return HTTPRoute.Response(
            status: error.httpStatus, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            body: Array(envelope.encodedCompact().utf8))
    }
}
