import GRPCCore
import GRPCProtobuf
import StoreLogic
import StoreProto

/// A `thanos.SeriesResponse` already encoded (by `SeriesTranscoder`).
struct RawSeriesResponse: Sendable {
    let bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    init(_ series: ResortedSeries<EncodedChunks>) {
        bytes = SeriesTranscoder.seriesResponse(labels: series.labels, chunks: series.payload)
    }
}

/// Hands the encoded bytes to the transport as they are.
struct RawSeriesSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: RawSeriesResponse) throws -> Bytes { Bytes(message.bytes) }
}

extension PrometheusStore {
    /// The generated registration's methods and codecs, except that Series writes pre-encoded messages.
    public func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        router.registerHandler(
            forMethod: Thanos_Store.Method.Info.descriptor, deserializer: ProtobufDeserializer<Thanos_InfoRequest>(),
            serializer: ProtobufSerializer<Thanos_InfoResponse>(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(single: ServerResponse(message: try await self.info(request: single.message, context: context)))
            })
        router.registerHandler(
            forMethod: Thanos_Store.Method.Series.descriptor, deserializer: ProtobufDeserializer<Thanos_SeriesRequest>(),
            serializer: RawSeriesSerializer(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse<RawSeriesResponse>(metadata: [:]) { writer in
                    try await self.streamSeries(single.message) { try await writer.write(contentsOf: $0) }
                    return [:]
                }
            })
        router.registerHandler(
            forMethod: Thanos_Store.Method.LabelNames.descriptor, deserializer: ProtobufDeserializer<Thanos_LabelNamesRequest>(),
            serializer: ProtobufSerializer<Thanos_LabelNamesResponse>(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(
                    single: ServerResponse(message: try await self.labelNames(request: single.message, context: context)))
            })
        router.registerHandler(
            forMethod: Thanos_Store.Method.LabelValues.descriptor, deserializer: ProtobufDeserializer<Thanos_LabelValuesRequest>(),
            serializer: ProtobufSerializer<Thanos_LabelValuesResponse>(),
            handler: { request, context in
                let single = try await ServerRequest(stream: request)
                return StreamingServerResponse(
                    single: ServerResponse(message: try await self.labelValues(request: single.message, context: context)))
            })
    }
}
