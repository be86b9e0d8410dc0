import GRPCCore
import GRPCProtobuf
import GRPCRuntime
import SkiffCore
import StoreLogic
import StoreProto
import Tracing

/// A `thanos.SeriesResponse` whose chunks are already encoded (by `SeriesTranscoder`); the
/// serializer writes it straight into the transport's buffer.
struct RawSeriesResponse: Sendable {
    let labels: LabelSet
    let chunks: EncodedChunks
    /// Encoded size in bytes.
    let size: Int

    init(labels: LabelSet, chunks: EncodedChunks) {
        self.labels = labels
        self.chunks = chunks
        size = SeriesTranscoder.responseSize(labels: labels, chunks: chunks)
    }

    init(_ series: ResortedSeries<EncodedChunks>) {
        self.init(labels: series.labels, chunks: series.payload)
    }
}

/// Encodes a `RawSeriesResponse` into the transport's bytes in one pass.
struct RawSeriesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: RawSeriesResponse) throws -> Bytes {
        // Zero-filling first is the only way into `Bytes` without an intermediate copy.
        var bytes = Bytes(repeating: 0, count: message.size)
        bytes.withUnsafeMutableBytes { SeriesTranscoder.writeResponse(labels: message.labels, chunks: message.chunks, into: $0) }
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
