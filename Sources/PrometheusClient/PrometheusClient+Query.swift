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
        let prepared = request
        do {
            // AsyncHTTPClient's deadline covers the response head only; the racing timer bounds the body too.
            let answer = try await withThrowingTaskGroup(of: QueryAnswer?.self) { group in
                group.addTask {
                    let response = try await http.execute(prepared, timeout: TimeAmount(timeout), logger: logger)
                    let body = try await Self.collect(response.body, limit: Self.queryBodyLimit, what: path)
                    return QueryAnswer(status: Int(response.status.code), body: body)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let answer = first else {
                    throw Self.unreachable(target, "no complete answer within \(timeout)")
                }
                return answer
            }
            span.attributes["http.response.status_code"] = answer.status
            return answer
        } catch let error as SkiffError {
            // Already names Prometheus' address (a timeout) or the answer (too large).
            throw Self.failed(span, error)
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
