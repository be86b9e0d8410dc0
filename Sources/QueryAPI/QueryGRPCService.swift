import Foundation
import GRPCCore
import GRPCRuntime
import PromQL
import StoreProto
import SwiftProtobuf

/// `thanos.Query` (Query, QueryRange) as Thanos' Querier serves it at HEAD (`pkg/api/query/grpc.go`):
/// the warnings (one frame, joined by ", "), then the series (in `TimeSeriesBatch`es when
/// `response_batch_size` > 1), then always a final stats frame. A query that cannot be created
/// (a bad query) fails the call with code Unknown, as Thanos returns the engine's plain error;
/// one that fails to run answers a warnings frame under partial response (Query only), and
/// Aborted otherwise.
public struct QueryGRPCService: Thanos_Query.SimpleServiceProtocol {
    let service: QueryService
    let now: @Sendable () -> Int64

    public init(service: QueryService, now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) {
        self.service = service
        self.now = now
    }

    public func query(
        request: Thanos_QueryRequest, response: RPCWriter<Thanos_QueryResponse>, context: ServerContext
    ) async throws {
        var query = try common(
            text: request.query, hasPlan: request.hasQueryPlan, timeoutSeconds: request.timeoutSeconds,
            replicaLabels: request.replicaLabels, storeMatchers: request.storeMatchers, dedup: request.enableDedup,
            partial: request.enablePartialResponse, lookback: request.lookbackDeltaSeconds, sharded: request.hasShardInfo,
            evaluation: .instant(request.timeSeconds == 0 ? now() : request.timeSeconds * 1000))
        query.stats = "1"
        try await run(
            query, partialWarnings: request.enablePartialResponse, batchSize: request.responseBatchSize, context: context
        ) { try await response.write(Self.message($0)) }
    }

    public func queryRange(
        request: Thanos_QueryRangeRequest, response: RPCWriter<Thanos_QueryRangeResponse>, context: ServerContext
    ) async throws {
        var query = try common(
            text: request.query, hasPlan: request.hasQueryPlan, timeoutSeconds: request.timeoutSeconds,
            replicaLabels: request.replicaLabels, storeMatchers: request.storeMatchers, dedup: request.enableDedup,
            partial: request.enablePartialResponse, lookback: request.lookbackDeltaSeconds, sharded: request.hasShardInfo,
            evaluation: .range(
                start: request.startTimeSeconds * 1000, end: request.endTimeSeconds * 1000,
                stepNanoseconds: request.intervalSeconds * 1_000_000_000))
        query.stats = "1"
        // Thanos' QueryRange answers a failed evaluation with Aborted even under partial response.
        try await run(query, partialWarnings: false, batchSize: request.responseBatchSize, context: context) { frame in
            // QueryRangeResponse is QueryResponse on the wire (the same oneof, the same field numbers).
            let bytes: [UInt8] = try Self.message(frame).serializedBytes()
            try await response.write(try Thanos_QueryRangeResponse(serializedBytes: bytes))
        }
    }

    enum Frame {
        case warnings(String)
        case series(Prometheus_TimeSeries)
        case batch(Thanos_TimeSeriesBatch)
        case stats(Thanos_QueryStats)
    }

    static func message(_ frame: Frame) -> Thanos_QueryResponse {
        Thanos_QueryResponse.with {
            switch frame {
            case .warnings(let text): $0.warnings = text
            case .series(let series): $0.timeseries = series
            case .batch(let batch): $0.timeseriesBatch = batch
            case .stats(let stats): $0.stats = stats
            }
        }
    }

    private func common(
        text: String, hasPlan: Bool, timeoutSeconds: Int64, replicaLabels: [String], storeMatchers: [Thanos_StoreMatchers],
        dedup: Bool, partial: Bool, lookback: Int64, sharded: Bool, evaluation: QueryRequest.Evaluation
    ) throws -> QueryRequest {
        if text.isEmpty && hasPlan {
            throw RPCError(code: .invalidArgument, message: "query plans are not supported here; send the query text")
        }
        var warnings: [String] = []
        if lookback > 0 { warnings.append(QueryRequest.lookbackWarning) }
        if sharded { warnings.append(QueryRequest.shardWarning) }
        return QueryRequest(
            query: text, evaluation: evaluation,
            timeoutNanoseconds: timeoutSeconds != 0 ? timeoutSeconds * 1_000_000_000 : nil, dedup: dedup,
            replicaLabels: replicaLabels.isEmpty ? service.configuration.replicaLabels : replicaLabels,
            storeMatchers: storeMatchers.map { set in
                set.labelMatchers.map { m in
                    let op: MatchOperator =
                        switch m.type {
                        case .eq: .equal
                        case .neq: .notEqual
                        case .re: .regexMatch
                        case .nre: .regexNoMatch
                        case .UNRECOGNIZED: .equal
                        }
                    return LabelMatcher(m.name, op, m.value)
                }
            },
            partialResponse: partial, warnings: warnings)
    }

    private func run(
        _ query: QueryRequest, partialWarnings: Bool, batchSize: Int64, context: ServerContext,
        send: (Frame) async throws -> Void
    ) async throws {
        let service = self.service
        let outcome: QueryService.Outcome
        do {
            outcome = try await RPCCancellation.cancellingWork(when: context) { try await service.evaluate(query) }
        } catch let error as QueryAPIError {
            if error.type == "bad_data" { throw RPCError(code: .unknown, message: error.message) }
            if partialWarnings { return try await send(.warnings(error.message)) }
            throw RPCError(code: .aborted, message: error.message)
        }
        let (series, histograms) = SeriesConversion.series(resultType: outcome.resultType, result: outcome.result)
        var warnings = outcome.warnings
        if histograms > 0 {
            warnings.append("\(histograms) native histogram samples are left out of the gRPC answer")
        }
        if !warnings.isEmpty { try await send(.warnings(warnings.joined(separator: ", "))) }
        // An instant query's range-vector result (a bare `x[5m]`) sends no series in Thanos.
        var isInstant = false
        if case .instant = query.evaluation { isInstant = true }
        let sendable = outcome.resultType == "matrix" && isInstant ? [] : series
        if batchSize <= 1 {
            for item in sendable { try await send(.series(item)) }
        } else {
            var start = 0
            while start < sendable.count {
                let end = min(start + Int(clamping: batchSize), sendable.count)
                try await send(.batch(Thanos_TimeSeriesBatch.with { $0.series = Array(sendable[start..<end]) }))
                start = end
            }
        }
        let samples = outcome.stats?["samples"]
        try await send(
            .stats(
                Thanos_QueryStats.with {
                    $0.samplesTotal = samples?["totalQueryableSamples"]?.int64Value ?? 0
                    $0.peakSamples = samples?["peakSamples"]?.int64Value ?? 0
                }))
    }
}
