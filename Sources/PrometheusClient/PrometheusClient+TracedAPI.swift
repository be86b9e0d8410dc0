import Tracing

extension PrometheusClient {
    /// `apiData` inside a client span (`--tracing.config`), as Thanos traces each of these calls
    /// (`/prom_rules HTTP[client]` and the like). The span's URL leaves out the query.
    func tracedAPIData<T: Decodable & Sendable>(
        _ path: String, query: [(name: String, value: String)], as type: T.Type, timeout: Duration
    ) async throws(PrometheusAPIError) -> T? {
        let span = Self.startCallSpan("GET", url + path)
        defer { span.end() }
        do {
            return try await apiData(path, query: query, as: type, timeout: timeout)
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }
}
