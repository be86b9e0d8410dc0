import Foundation
import GRPCCore
import GRPCRuntime
import Logging
import PrometheusClient
import SkiffCore
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
    /// `--store.limits.request-series` / `--store.limits.request-samples`.
    let limits: SeriesLimits

    public init(
        client: PrometheusClient, state: StoreState, logger: Logger, forceSamples: Bool = false,
        apiTimeout: Duration = .seconds(120), limits: SeriesLimits = SeriesLimits()
    ) {
        self.limits = limits
        self.client = client
        self.state = state
        self.reader = RemoteReader(client: client)
        self.logger = logger
        self.forceSamples = forceSamples
        self.apiTimeout = apiTimeout
    }

    /// What `thanos.info.Info` advertises in `StoreInfo.supports_sharding`: Series honours
    /// `shard_info` (Thanos' hash, `ShardMatcher`), so a querier need not shard this store itself.
    public static let supportsSharding = true
    /// What `thanos.info.Info` advertises in `StoreInfo.supports_without_replica_labels`: Series
    /// removes those labels and still answers sorted, so a querier need not re-sort it.
    public static let supportsWithoutReplicaLabels = true

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
    func streamSeries(
        _ request: Thanos_SeriesRequest, write unlimited: @escaping ([RawSeriesResponse]) async throws -> Void
    )
        async throws
    {
        var limiter = SeriesLimiter(limits)
        let write: ([RawSeriesResponse]) async throws -> Void = { batch in
            let (admitted, violation) = limiter.admit(batch)
            if !admitted.isEmpty { try await unlimited(Array(admitted)) }
            if let violation { throw violation }
        }
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        let matchers = try ProtoConversions.matchers(request.matchers)
        guard case .matchers(let kept) = ExternalLabelFilter.apply(matchers: matchers, external: external) else { return }
        guard !kept.isEmpty else {
            throw RPCFailure.badRequest("no matchers specified (excluding external labels)").rpcError
        }
        var framer = try SeriesFramer(request, write: write)
        let applied = Self.applied(external, without: request.withoutReplicaLabels)
        let start = max(request.minTime, state.minTimeMillis())
        if request.skipChunks {
            try await seriesLabels(kept, start: start, end: request.maxTime, limit: request.limit, applied: applied, &framer)
            return
        }
        let replicaNames = request.withoutReplicaLabels
        var sink = SeriesSink(external: external, applied: applied, replicaNames: replicaNames, framer: framer)
        // An internal label with an external label's name and value is invisible in what
        // Prometheus sends, yet it can reorder the stream beyond what the streaming re-sort
        // allows; so can removing an internal label named in without_replica_labels. Prometheus'
        // label-names API, asked for the same selection while the read runs, tells; until it
        // answers, series are held as they arrive (past `clashCheckHoldBytes` the read waits).
        let probe = ClashProbe()
        let watched = LabelSet(external.labels + replicaNames.map { Label(name: $0, value: "") })
        var waitedForCheck = false
        let stats = try await withThrowingTaskGroup(of: Void.self) { group in
            if watched.isEmpty {
                probe.answer(.clashing([]))
            } else {
                group.addTask {
                    probe.answer(await self.clashingNames(kept, start: start, end: request.maxTime, watched: watched))
                }
            }
            let stats = try await reader.read(start: start, end: request.maxTime, matchers: kept, forceSamples: forceSamples) {
                batch in
                guard !sink.isDecided else {
                    try await sink.push(batch)
                    return sink.wantsMore
                }
                sink.hold(batch)
                if sink.heldBytes >= Self.clashCheckHoldBytes, probe.current == nil {
                    waitedForCheck = true
                    try await Self.wait(for: probe, in: &group)
                }
                if let answer = probe.current { try await sink.decide(answer, logger: logger) }
                return sink.wantsMore
            }
            if !sink.isDecided {
                try await Self.wait(for: probe, in: &group)
                try await sink.decide(probe.current ?? .failed("the label-names check ended without an answer"), logger: logger)
            }
            return stats
        }
        let resorter = try await sink.finish()
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
                "waited_for_label_check": "\(waitedForCheck)", "limit_reached": "\(!sink.wantsMore)",
            ])
    }

    /// The internal label names among `watched` (the external labels and the replica names,
    /// values unused) for the selection (`ClashCheck`), from `/api/v1/labels`.
    private func clashingNames(_ matchers: [Matcher], start: Int64, end: Int64, watched: LabelSet) async -> ClashProbe.Answer {
        do {
            var query = timeRange(start, end, limit: 0)
            query.insert(("match[]", MatchSelector.format(matchers)), at: 0)
            let names = try await api("/api/v1/labels", query, as: [String].self) ?? []
            return .clashing(ClashCheck.clashingNames(internalNames: names, external: watched))
        } catch {
            return .failed("\(error)")
        }
    }

    private static func wait(for probe: ClashProbe, in group: inout ThrowingTaskGroup<Void, any Error>) async throws {
        while probe.current == nil, try await group.next() != nil {}
    }

    /// `skip_chunks`: label sets only, from `/api/v1/series` (an answer Prometheus builds whole).
    /// As in Thanos, `limit` is passed on (Prometheus 2.42 ignores it, so the framer applies it)
    /// and only the external labels lose the replica names: internal labels are kept as they are.
    private func seriesLabels(
        _ matchers: [Matcher], start: Int64, end: Int64, limit: Int64, applied: LabelSet, _ framer: inout SeriesFramer
    ) async throws {
        var query = [
            ("match[]", MatchSelector.format(matchers)), ("start", ProtoConversions.seconds(start)),
            ("end", ProtoConversions.seconds(end)),
        ]
        if limit > 0 { query.append(("limit", "\(limit)")) }
        let found = try await api("/api/v1/series", query, as: [[String: String]].self) ?? []
        for labels in found.map({ LabelSet($0).withExternal(applied) }).sorted() {
            guard framer.add(labels: labels, chunks: EncodedChunks()) else { break }
        }
        try await framer.finish()
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

    public func labelValues(request: Thanos_LabelValuesRequest, context: ServerContext) async throws -> Thanos_LabelValuesResponse
    {
        guard let external = state.externalLabels() else { throw RPCErrors.notReady }
        guard !request.label.isEmpty else {
            throw RPCFailure.badRequest("label name parameter cannot be empty").rpcError
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
            answer.values = (try await api(path, query, as: [String].self) ?? []).sorted {
                $0.utf8.lexicographicallyPrecedes($1.utf8)
            }
        }
        return answer
    }

    // MARK: - Helpers

    /// About how many bytes of series are handed to the gRPC stream at once.
    static let writeBatchBytes = 256 << 10

    /// Series bytes held while the label-names check runs; past this the read waits for it. It
    /// answers in ~5-10 ms for 10k series (while ~2 MB of a remote read arrive), ~100 ms for 100k
    /// series picked by a regex: a short pause then, instead of memory that grows with the answer.
    /// (2 MiB made the 10k-series read pause, measurably.)
    static let clashCheckHoldBytes = 6 << 20

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
