import AsyncHTTPClient
import Foundation
import NIOCore
import SkiffCore

extension PrometheusClient {
    /// Prometheus' answer to a query call: the HTTP status and the JSON body, whatever they are
    /// (an error envelope is an answer too; the query API passes its `errorType` on).
    public struct QueryAnswer: Sendable {
        public let status: Int
        public let body: [UInt8]
    }

    /// Query answers can be as large as the series they return.
    static let queryBodyLimit = 512 << 20

    /// POSTs `form` (URL-encoded) to `path` (`/api/v1/query` or `/api/v1/query_range`) and
    /// returns the raw answer, bounded by `timeout` (head and body). POST, because a rewritten
    /// query can be longer than a URL should be.
    public func postQuery(
        _ path: String, form: [(name: String, value: String)], timeout: Duration
    )
        async throws(SkiffError) -> QueryAnswer
    {
        let target = url + path
        var request = request(target, accept: "application/json")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: Self.formEncoded(form)))
        let span = Self.startCallSpan("POST", target)
        defer { span.end() }
        let http = self.http
        let logger = self.logger
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            let response = try await http.execute(request, deadline: deadline, logger: logger)
            let body = try await Self.collect(response.body, limit: Self.queryBodyLimit, what: path)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            return QueryAnswer(status: Int(response.status.code), body: body)
        } catch let error as SkiffError {
            throw Self.failed(span, SkiffError(error.code, "Prometheus at \(target): \(error.message)", transient: true))
        } catch {
            throw Self.failed(span, Self.classify(error, target: target, timeout: timeout))
        }
    }

    /// `application/x-www-form-urlencoded` as Go's `url.Values.Encode` reads it back.
    static func formEncoded(_ form: [(name: String, value: String)]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return form.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }
}
