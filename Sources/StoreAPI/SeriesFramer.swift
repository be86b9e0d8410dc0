import GRPCCore
import GRPCRuntime
import SkiffCore
import StoreLogic
import StoreProto

/// The last steps of a Series answer, series by series in their final (sorted) order: the
/// request's `shard_info` and `limit`, then `response_batch_size` (Thanos' `batchableServer`: 0
/// or 1 sends a `series` response each, N > 1 a `batch` response of up to N series, the last one
/// shorter), then the responses go to the gRPC stream in groups of about
/// `PrometheusStore.writeBatchBytes`. Memory: one open batch and one group.
struct SeriesFramer {
    /// Up to this many series a response; nil: one `series` response each.
    private let batchSize: Int?
    private var shard: ShardMatcher?
    private var limit: SeriesRequestLimit
    private let write: ([RawSeriesResponse]) async throws -> Void
    private var batch: [BatchedSeries] = []
    private var outgoing: [RawSeriesResponse] = []
    private var outgoingBytes = 0

    /// False once `limit` was reached: nothing more will be sent.
    private(set) var wantsMore = true

    init(_ request: Thanos_SeriesRequest, write: @escaping ([RawSeriesResponse]) async throws -> Void) throws(RPCError) {
        guard request.responseBatchSize >= 0 else {
            // Thanos' `make(..., 0, batchSize)` panics on a negative size; say what is wrong instead.
            throw RPCFailure.badRequest("response_batch_size must not be negative, got \(request.responseBatchSize)").rpcError
        }
        batchSize = request.responseBatchSize > 1 ? Int(clamping: request.responseBatchSize) : nil
        shard =
            request.hasShardInfo
            ? ShardMatcher(
                shardIndex: request.shardInfo.shardIndex, totalShards: request.shardInfo.totalShards, by: request.shardInfo.by,
                labels: request.shardInfo.labels)
            : nil
        limit = SeriesRequestLimit(request.limit)
        self.write = write
        // A batch holds at most 64 series for a current querier; a huge size must not reserve memory.
        if let batchSize { batch.reserveCapacity(min(batchSize, 1024)) }
    }

    /// One series, the next in the final order; false once past the limit (the caller should
    /// stop reading and `finish`). Call `flushIfFull` now and then.
    mutating func add(labels: LabelSet, chunks: EncodedChunks) -> Bool {
        guard wantsMore else { return false }
        if shard?.matches(labels) == false { return true }
        guard limit.admit(labels) else {
            wantsMore = false
            return false
        }
        let series = BatchedSeries(labels: labels, chunks: chunks)
        guard let batchSize else {
            enqueue(RawSeriesResponse(single: series))
            return true
        }
        batch.append(series)
        if batch.count >= batchSize { closeBatch() }
        return true
    }

    /// Writes the responses made so far once they reach about `PrometheusStore.writeBatchBytes`.
    mutating func flushIfFull() async throws {
        if outgoingBytes >= PrometheusStore.writeBatchBytes { try await flushGroup() }
    }

    /// Sends everything still open.
    mutating func finish() async throws {
        closeBatch()
        try await flushGroup()
    }

    private mutating func closeBatch() {
        guard !batch.isEmpty else { return }
        enqueue(RawSeriesResponse(batch: batch))
        batch.removeAll(keepingCapacity: true)
    }

    private mutating func enqueue(_ response: RawSeriesResponse) {
        outgoing.append(response)
        outgoingBytes += response.size
    }

    private mutating func flushGroup() async throws {
        guard !outgoing.isEmpty else { return }
        try await write(outgoing)
        outgoing.removeAll(keepingCapacity: true)
        outgoingBytes = 0
    }
}
