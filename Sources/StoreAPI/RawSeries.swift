import GRPCCore
import GRPCProtobuf
import GRPCRuntime
import SkiffCore
import StoreLogic
import StoreProto
import Tracing

/// A series whose chunks are already encoded (by `SeriesTranscoder`), with the size of its
/// `Series` message body, counted once.
struct BatchedSeries: Sendable {
    let labels: LabelSet
    let chunks: EncodedChunks
    let size: Int

    init(labels: LabelSet, chunks: EncodedChunks) {
        self.labels = labels
        self.chunks = chunks
        size = SeriesTranscoder.seriesSize(labels: labels, chunks: chunks)
    }

    init(_ series: ResortedSeries<EncodedChunks>) {
        self.init(labels: series.labels, chunks: series.payload)
    }
}

/// One `thanos.SeriesResponse` of already encoded series: `series` (field 1) when the client
/// asked for no batches, else `batch` (field 4, a `SeriesBatch` of up to `response_batch_size`
/// series). The serializer writes it straight into the transport's buffer.
struct RawSeriesResponse: Sendable {
    enum Content: Sendable {
        case series(BatchedSeries)
        case batch([BatchedSeries], bodySize: Int)
    }

    let content: Content
    /// Encoded size in bytes.
    let size: Int

    init(labels: LabelSet, chunks: EncodedChunks) {
        self.init(single: BatchedSeries(labels: labels, chunks: chunks))
    }

    init(single: BatchedSeries) {
        content = .series(single)
        size = SeriesTranscoder.lengthDelimitedSize(single.size)
    }

    init(batch: [BatchedSeries]) {
        let body = batch.reduce(0) { $0 + SeriesTranscoder.lengthDelimitedSize($1.size) }
        content = .batch(batch, bodySize: body)
        size = SeriesTranscoder.lengthDelimitedSize(body)
    }

    /// Series in this response (what `--store.limits.request-series` counts, per response as Thanos).
    var seriesCount: Int {
        switch content {
        case .series: 1
        case .batch(let series, _): series.count
        }
    }

    /// Chunks in this response (`--store.limits.request-samples` counts 120 samples each).
    var chunkCount: Int {
        switch content {
        case .series(let s): s.chunks.count
        case .batch(let series, _): series.reduce(0) { $0 + $1.chunks.count }
        }
    }
}

/// Encodes a `RawSeriesResponse` into the transport's bytes in one pass.
struct RawSeriesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: RawSeriesResponse) throws -> Bytes {
        // Zero-filling first is the only way into `Bytes` without an intermediate copy.
        var bytes = Bytes(repeating: 0, count: message.size)
        bytes.withUnsafeMutableBytes { out in
            switch message.content {
            case .series(let s):
                SeriesTranscoder.writeResponse(s, into: out)
            case .batch(let series, let bodySize):
                SeriesTranscoder.writeBatchResponse(series, bodySize: bodySize, into: out)
            }
        }
        return bytes
    }
}

extension PrometheusStore {
    /// The generated registration's methods and codecs, except that Series writes pre-encoded
    /// messages; the methods that call Prometheus stop when the client cancels.
    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Thanos_Store.Method.Info.descriptor, deserializer: ProtobufDeserializer<Thanos_InfoRequest>(),
            serializer: ProtobufSerializer<Thanos_InfoResponse>(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(
                    single: ServerResponse(message: try await self.info(request: single.message, context: context)))
            })
        router.registerHandler(
            forMethod: Thanos_Store.Method.Series.descriptor, deserializer: ProtobufDeserializer<Thanos_SeriesRequest>(),
            serializer: RawSeriesSerializer(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse<RawSeriesResponse>(metadata: [:]) { writer in
                    // A server span for `--tracing.config`; the remote read to Prometheus is its child.
                    try await withSpan("thanos.Store/Series", ofKind: .server) { span in
                        span.attributes["rpc.system"] = "grpc"
                        try await RPCCancellation.cancellingWork(when: context) {
                            try await self.streamSeries(single.message) { try await writer.write(contentsOf: $0) }
                        }
                    }
                    return [:]
                }
            })
        router.registerHandler(
            forMethod: Thanos_Store.Method.LabelNames.descriptor, deserializer: ProtobufDeserializer<Thanos_LabelNamesRequest>(),
            serializer: ProtobufSerializer<Thanos_LabelNamesResponse>(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                let answer = try await RPCCancellation.cancellingWork(when: context) {
                    try await self.labelNames(request: single.message, context: context)
                }
                return StreamingServerResponse(single: ServerResponse(message: answer))
            })
        router.registerHandler(
            forMethod: Thanos_Store.Method.LabelValues.descriptor,
            deserializer: ProtobufDeserializer<Thanos_LabelValuesRequest>(),
            serializer: ProtobufSerializer<Thanos_LabelValuesResponse>(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                let answer = try await RPCCancellation.cancellingWork(when: context) {
                    try await self.labelValues(request: single.message, context: context)
                }
                return StreamingServerResponse(single: ServerResponse(message: answer))
            })
    }
}
