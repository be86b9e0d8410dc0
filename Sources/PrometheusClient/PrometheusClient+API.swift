import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkiffCore

/// A failed call to Prometheus' query API. The HTTP status is kept so the StoreAPI can turn it
/// into the gRPC code Thanos gives (`get2xxResultWithGRPCErrors`).
public struct PrometheusAPIError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No answer: refused, reset, timed out.
        case transport
        /// A non-2xx answer with this status.
        case status(Int)
        /// 2xx, but `status` was not "success": the HTTP status it came with.
        case failed(Int)
        /// 2xx, but not the JSON expected.
        case decoding
    }

    public let kind: Kind
    public let message: String
    public var description: String { message }
}

extension PrometheusClient {
    /// Label and series answers can be large (every label value of a big Prometheus).
    static let apiBodyLimit = 256 << 20

    /// GETs an API path with query parameters and decodes the envelope's `data`: nil on 204 No
    /// Content (Thanos treats it as an empty success).
    public func apiData<T: Decodable & Sendable>(
        _ path: String, query: [(name: String, value: String)], as type: T.Type, timeout: Duration
    ) async throws(PrometheusAPIError) -> T? {
        var components = URLComponents()
        components.queryItems = query.map { URLQueryItem(name: $0.name, value: $0.value) }
        // URLComponents leaves "+" alone, which Go's form parser would read as a space.
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let target = url + path + (encoded.isEmpty ? "" : "?" + encoded)
        let response: HTTPClientResponse
        let bytes: [UInt8]
        do {
            response = try await http.execute(
                request(target, accept: "application/json"), timeout: TimeAmount(timeout), logger: logger)
            bytes = Array(buffer: try await response.body.collect(upTo: Self.apiBodyLimit))
        } catch is NIOTooManyBytesError {
            throw PrometheusAPIError(kind: .decoding, message: "\(path): the answer is larger than \(Self.apiBodyLimit) bytes")
        } catch {
            throw PrometheusAPIError(
                kind: .transport, message: "\(path): \(Self.classify(error, target: target, timeout: timeout).message)")
        }
        let status = Int(response.status.code)
        if status == 204 { return nil }
        guard (200..<300).contains(status) else {
            let body = String(decoding: bytes.prefix(4096), as: UTF8.self)
            throw PrometheusAPIError(kind: .status(status), message: "expected 2xx response, got \(status). Body: \(body)")
        }
        let envelope: Envelope<T>
        do { envelope = try JSONDecoder().decode(Envelope<T>.self, from: Data(bytes)) } catch {
            throw PrometheusAPIError(kind: .decoding, message: "\(path): the answer is not the expected JSON (\(error))")
        }
        guard envelope.status == "success" else {
            throw PrometheusAPIError(kind: .failed(status), message: envelope.error ?? "status \(envelope.status)")
        }
        return envelope.data
    }

    /// The answer to a POST whose body the caller reads as it arrives.
    public struct StreamedAnswer: Sendable {
        public let status: Int
        public let contentType: String
        public let contentEncoding: String
        public let body: HTTPClientResponse.Body
    }

    /// POSTs `body` to `path` and hands the streamed answer to `handle`. Only the response head is
    /// bounded by `headTimeout`: a long body is read for as long as the caller wants, and the
    /// caller's cancellation (a gRPC client going away) closes the connection at once.
    public func postStreaming<T: Sendable>(
        _ path: String, body: [UInt8], headers: [(String, String)], headTimeout: Duration,
        handle: (StreamedAnswer) async throws -> T
    ) async throws -> T {
        let target = url + path
        var request = request(target)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let span = Self.startCallSpan("POST", target)
        defer { span.end() }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: TimeAmount(headTimeout), logger: logger)
        } catch {
            throw Self.failed(span, Self.classify(error, target: target, timeout: headTimeout))
        }
        span.attributes["http.response.status_code"] = Int(response.status.code)
        return try await handle(
            StreamedAnswer(
                status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type") ?? "",
                contentEncoding: response.headers.first(name: "Content-Encoding") ?? "", body: response.body))
    }
}
