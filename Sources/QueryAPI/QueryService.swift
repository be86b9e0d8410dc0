import Foundation
import PromQL
import PrometheusClient
import SkiffCore
import StoreLogic

/// The query API's core: a query rewritten for the external labels (`QueryRewriter`), evaluated
/// by Prometheus (`/api/v1/query`, `/api/v1/query_range`), its answer or error put in Thanos'
/// terms. The HTTP and gRPC front ends share it.
public final class QueryService: Sendable {
    let client: PrometheusClient
    let externalLabels: @Sendable () -> LabelSet?
    public let configuration: QueryAPIConfiguration

    /// - Parameter externalLabels: Prometheus' external labels; nil while not yet known.
    public init(
        client: PrometheusClient, externalLabels: @escaping @Sendable () -> LabelSet?,
        configuration: QueryAPIConfiguration = QueryAPIConfiguration()
    ) {
        self.client = client
        self.externalLabels = externalLabels
        self.configuration = configuration
    }

    /// A successful answer: Prometheus' `data` (`resultType`, `result`, `stats` when asked) with
    /// labels as the Querier gives them, and the warnings.
    public struct Outcome: Sendable {
        public var resultType: String
        public var result: JSONValue
        public var stats: JSONValue?
        public var warnings: [String]
    }

    public func evaluate(_ request: QueryRequest) async throws(QueryAPIError) -> Outcome {
        guard let external = externalLabels() else {
            throw QueryAPIError(
                "unavailable", "Prometheus' external labels are not known yet; retry once the sidecar is ready")
        }
        let rewriter = QueryRewriter(
            externalLabels: external, dedup: request.dedup, replicaLabels: request.replicaLabels,
            noStore: try !storeSelected(request.storeMatchers), partialResponse: request.partialResponse)
        let output: QueryRewriter.Output
        do {
            output = try rewriter.rewrite(try Parser.parse(request.query))
        } catch let error as PromQLError {
            throw await diagnosis(request, ourError: "cannot parse the query to apply the external labels (\(error))")
        } catch let error as QueryRewriteError {
            switch error {
            case .invalid(let why): throw await diagnosis(request, ourError: why)
            case .noInternalMatchers: throw QueryAPIError("execution", QueryRewriter.noMatchersWarning)
            }
        } catch {
            throw QueryAPIError("internal", "\(error)")
        }
        var outcome: Outcome
        do {
            outcome = try await prometheus(request, query: output.expr.description)
        } catch  where error.type == "bad_data" {
            // A query Prometheus refuses (a type error, say) is refused with the message about the
            // text the user wrote, not about the rewritten one.
            do { _ = try await prometheus(request, query: request.query) } catch { throw error }
            throw error
        }
        if output.relabelResult { outcome.result = relabelled(outcome.result, rewriter) }
        outcome.warnings = outcome.warnings + request.warnings + output.warnings
        return outcome
    }

    /// Thanos' `storeMatch[]` at HEAD (`storeMatchDebugMetadata`): only `__address__` matchers
    /// count, against the store's address; the store is queried when any set matches.
    func storeSelected(_ sets: [[LabelMatcher]]) throws(QueryAPIError) -> Bool {
        guard !sets.isEmpty else { return true }
        for set in sets {
            var all = true
            for m in set where m.name == "__address__" {
                let matcher: Matcher
                do { matcher = try Matcher(QueryRewriter.matchType(m.op), name: m.name, value: m.value) } catch {
                    throw .badData(error.description)
                }
                if !matcher.matches(configuration.storeAddress) { all = false }
            }
            if all { return true }
        }
        return false
    }

    /// Asks Prometheus and reads its envelope.
    private func prometheus(_ request: QueryRequest, query: String) async throws(QueryAPIError) -> Outcome {
        var timeout = configuration.timeout
        if let nanoseconds = request.timeoutNanoseconds, nanoseconds >= 0 {
            timeout = min(timeout, .nanoseconds(nanoseconds))
        }
        var form: [(name: String, value: String)] = [("query", query)]
        let path: String
        switch request.evaluation {
        case .instant(let time):
            path = "/api/v1/query"
            form.append(("time", ParameterParsing.seconds(time)))
        case .range(let start, let end, let step):
            path = "/api/v1/query_range"
            form += [
                ("start", ParameterParsing.seconds(start)), ("end", ParameterParsing.seconds(end)),
                ("step", ParameterParsing.durationSeconds(step)),
            ]
        }
        let (seconds, attoseconds) = timeout.components
        form.append(("timeout", ParameterParsing.durationSeconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
        if !request.stats.isEmpty { form.append(("stats", request.stats)) }
        let answer: PrometheusClient.QueryAnswer
        do {
            // Prometheus bounds the evaluation itself; the margin lets its timeout answer arrive.
            answer = try await client.postQuery(path, form: form, timeout: timeout + .seconds(5))
        } catch {
            throw QueryAPIError("internal", error.message)
        }
        let envelope: JSONValue
        do { envelope = try JSONValue.parse(answer.body) } catch {
            let text = String(decoding: answer.body.prefix(512), as: UTF8.self)
            throw QueryAPIError("internal", "Prometheus answered \(answer.status) with no JSON envelope: \(text)")
        }
        guard envelope["status"]?.stringValue == "success" else {
            throw QueryAPIError(
                envelope["errorType"]?.stringValue ?? "internal",
                Self.unwrapped(envelope["error"]?.stringValue ?? "Prometheus answered \(answer.status)"))
        }
        guard let data = envelope["data"], let type = data["resultType"]?.stringValue, let result = data["result"] else {
            throw QueryAPIError("internal", "Prometheus' answer has no data.resultType or data.result")
        }
        let warnings = envelope["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        return Outcome(resultType: type, result: result, stats: data["stats"], warnings: warnings)
    }

    /// Prometheus' API wraps a parse error as `invalid parameter "query": …`; Thanos gives the
    /// parser's message alone.
    static func unwrapped(_ message: String) -> String {
        let prefix = "invalid parameter \"query\": "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }

    /// A query this side could not rewrite: Prometheus is asked about the original text, so a
    /// query Prometheus refuses gets Prometheus' own message, as Thanos' engine would give it.
    /// One Prometheus accepts is refused here, never evaluated without the external labels.
    private func diagnosis(_ request: QueryRequest, ourError: String) async -> QueryAPIError {
        do {
            _ = try await prometheus(request, query: request.query)
        } catch {
            return error
        }
        return QueryAPIError(
            "execution",
            "skiff: \(ourError); Prometheus accepts the query, but it cannot be evaluated exactly with the external labels")
    }

    /// A top-level range selector's series, labelled as the sidecar's Series would label them.
    private func relabelled(_ result: JSONValue, _ rewriter: QueryRewriter) -> JSONValue {
        guard let series = result.arrayValue else { return result }
        return .array(
            series.map { item in
                var out = item
                let labels = item["metric"]?.members?.map { (name: $0.key, value: $0.value.stringValue ?? "") } ?? []
                out.set("metric", .object(rewriter.resultLabels(labels).map { .init($0.name, .string($0.value)) }))
                return out
            })
    }
}
