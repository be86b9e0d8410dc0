import Foundation
import GRPCCore
import Logging
import PrometheusClient
import StoreLogic
import StoreProto

/// Thanos' `thanos.Store` service over one Prometheus: Info, Series (remote read), LabelNames and
/// LabelValues (Prometheus' HTTP API), with Thanos' external-label rules. Registered by hand
/// (`RawSeries.swift`) rather than through the generated protocol, so Series can write messages
/// it encoded itself.
public struct PrometheusStore: RegistrableRPCService {
    let client: PrometheusClient
    let state: StoreState
    let reader: RemoteReader
    let logger: Logger
    /// Ask Prometheus for raw samples instead of streamed chunks (tests exercise that path).
    let forceSamples: Bool
    /// Timeout of the label and series API calls.
    let apiTimeout: Duration

    public init(
        client: PrometheusClient, state: StoreState, logger: Logger, forceSamples: Bool = false,
        apiTimeout: Duration = .seconds(120)
    ) {
        self.client = client
        self.state = state
        self.reader = RemoteReader(client: client)
        self.logger = logger
        self.forceSamples = forceSamples
        self.apiTimeout = apiTimeout
    }

    /// The deprecated Store/Info, still called by queriers older than v0.37.
    public func info(request: Thanos_InfoRequest, context: ServerContext) async throws -> Thanos_InfoResponse {
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        var response = Thanos_InfoResponse()
        response.labels = ProtoConversions.thanosLabels(external)
        if !external.isEmpty {
            var set = Thanos_ZLabelSet()
            set.labels = response.labels
            response.labelSets = [set]
        }
        response.minTime = state.minTimeMillis()
        response.maxTime = Int64.max
        response.storeType = .sidecar
        return response
    }

    /// Series, as encoded `SeriesResponse` messages handed to `write` in groups.
    func streamSeries(_ request: Thanos_SeriesRequest, write: ([RawSeriesResponse]) async throws -> Void) async throws {
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        let matchers = try ProtoConversions.matchers(request.matchers)
        guard case .matchers(let kept) = ExternalLabelFilter.apply(matchers: matchers, external: external) else { return }
        guard !kept.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "no matchers specified (excluding external labels)")
        }
        let applied = Self.applied(external, without: request.withoutReplicaLabels)
        let start = max(request.minTime, state.minTimeMillis())
        if request.skipChunks {
            try await seriesLabels(kept, start: start, end: request.maxTime, limit: request.limit, applied: applied, write)
            return
        }
        // Prometheus sorts by the series' own labels; Thanos' querier needs the order after the
        // external labels are added. The re-sorter holds back only series that can move.
        var resorter = StreamingResorter<EncodedChunks>(external: applied)
        // Messages go to the stream in groups of about 256 KiB: each write hops to the event loop
        // and flushes through NIO's HTTP/2 stack, which costs more than encoding a series, so one
        // write per series (or per HTTP body piece, often just one or two series) would dominate
        // the CPU time. (64 KiB groups measured ~5% slower end to end; 1 MiB no faster.)
        var outgoing: [RawSeriesResponse] = []
        var outgoingBytes = 0
        // Prometheus merged its own external labels in: with nothing removed from them, what it
        // sent is already the output label set.
        let receivedIsFinal = applied == external
        let stats = try await reader.read(start: start, end: request.maxTime, matchers: kept, forceSamples: forceSamples) {
            batch in
            do throws(ResortError) {
                for (received, chunks) in batch {
                    let out = receivedIsFinal
                        ? try resorter.push(received: received, payload: chunks)
                        : try resorter.push(internalLabels: received.removingNames(of: external), payload: chunks)
                    for series in out {
                        let raw = RawSeriesResponse(series)
                        outgoingBytes += raw.size
                        outgoing.append(raw)
                    }
                }
            } catch {
                throw RPCError(code: .internalError, message: "Prometheus' series came out of order: \(error)")
            }
            if outgoingBytes >= Self.writeBatchBytes {
                try await write(outgoing)
                outgoing.removeAll(keepingCapacity: true)
                outgoingBytes = 0
            }
        }
        try await write(outgoing + resorter.finish().map(RawSeriesResponse.init))
        if resorter.clashingInputs > 0 || resorter.unsortedInputs > 0 {
            logger.warning(
                "series labels clash with external labels (or came unsorted): the response was buffered to sort it",
                metadata: ["clashing": "\(resorter.clashingInputs)", "unsorted": "\(resorter.unsortedInputs)"])
        }
        logger.debug(
            "series served",
            metadata: [
                "frames": "\(stats.frames)", "series": "\(stats.series)", "chunks": "\(stats.chunks)",
                "max_held": "\(resorter.maxBuffered)", "samples_response": "\(stats.samplesResponse)",
            ])
    }

    /// `skip_chunks`: label sets only, from `/api/v1/series` (an answer Prometheus builds whole).
    private func seriesLabels(
        _ matchers: [Matcher], start: Int64, end: Int64, limit: Int64, applied: LabelSet,
        _ write: ([RawSeriesResponse]) async throws -> Void
    ) async throws {
        var query = [("match[]", MatchSelector.format(matchers)), ("start", ProtoConversions.seconds(start)),
                     ("end", ProtoConversions.seconds(end))]
        if limit > 0 { query.append(("limit", "\(limit)")) }
        let found = try await api("/api/v1/series", query, as: [[String: String]].self) ?? []
        try await write(found.map { LabelSet($0).withExternal(applied) }.sorted().map {
            RawSeriesResponse(labels: $0, chunks: EncodedChunks())
        })
    }

    public func labelNames(request: Thanos_LabelNamesRequest, context: ServerContext) async throws -> Thanos_LabelNamesResponse {
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        var answer = Thanos_LabelNamesResponse()
        let matchers = try ProtoConversions.matchers(request.matchers)
        guard case .matchers(let kept) = ExternalLabelFilter.apply(matchers: matchers, external: external) else { return answer }
        var query = timeRange(request.start, request.end, limit: request.limit)
        if !kept.isEmpty { query.insert(("match[]", MatchSelector.format(kept)), at: 0) }
        let names = try await api("/api/v1/labels", query, as: [String].self) ?? []
        answer.names = ExternalLabelFilter.labelNames(
            fromPrometheus: names, external: Self.applied(external, without: request.withoutReplicaLabels))
        return answer
    }

    public func labelValues(request: Thanos_LabelValuesRequest, context: ServerContext) async throws -> Thanos_LabelValuesResponse {
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        guard !request.label.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "label name parameter cannot be empty")
        }
        var answer = Thanos_LabelValuesResponse()
        let matchers = try ProtoConversions.matchers(request.matchers)
        let applied = Self.applied(external, without: request.withoutReplicaLabels)
        switch ExternalLabelFilter.valuesPlan(
            label: request.label, matchers: matchers, external: applied, withoutReplicaLabels: request.withoutReplicaLabels)
        {
        case .empty:
            break
        case .externalValue(let value):
            answer.values = [value]
        case .externalValueIfAnySeries(let value, let kept):
            let query = [("match[]", MatchSelector.format(kept))] + timeRange(request.start, request.end, limit: 1)
            if try await !(api("/api/v1/series", query, as: [[String: String]].self) ?? []).isEmpty { answer.values = [value] }
        case .askPrometheus(let kept):
            var query = timeRange(request.start, request.end, limit: request.limit)
            if !kept.isEmpty { query.insert(("match[]", MatchSelector.format(kept)), at: 0) }
            let path = "/api/v1/label/\(Self.pathEscaped(request.label))/values"
            answer.values = (try await api(path, query, as: [String].self) ?? []).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        return answer
    }

    // MARK: - Helpers

    /// About how many bytes of series are handed to the gRPC stream at once.
    static let writeBatchBytes = 256 << 10

    /// The external labels to add: without the request's `without_replica_labels`.
    static func applied(_ external: LabelSet, without names: [String]) -> LabelSet {
        names.isEmpty ? external : LabelSet(external.filter { !names.contains($0.name) })
    }

    private func timeRange(_ start: Int64, _ end: Int64, limit: Int64) -> [(String, String)] {
        var query = [("start", ProtoConversions.seconds(start)), ("end", ProtoConversions.seconds(end))]
        if limit > 0 { query.append(("limit", "\(limit)")) }
        return query
    }

    private func api<T: Decodable & Sendable>(_ path: String, _ query: [(String, String)], as type: T.Type) async throws -> T? {
        do throws(PrometheusAPIError) {
            return try await client.apiData(path, query: query.map { (name: $0.0, value: $0.1) }, as: type, timeout: apiTimeout)
        } catch {
            throw RPCErrors.from(error)
        }
    }

    private static func pathEscaped(_ name: String) -> String {
        name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "_-.~"))) ?? name
    }
}
