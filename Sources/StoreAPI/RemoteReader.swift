import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCRuntime
import Metrics
import NIOCore
import PromWire
import PrometheusClient
import SkiffCore
import StoreLogic
import StoreProto
import SwiftProtobuf

/// Prometheus' remote read (`POST /api/v1/read`) as the sidecar uses it: one query, streamed XOR
/// chunks preferred, raw samples accepted from a Prometheus that only answers that way.
///
/// Memory: the streamed answer is read frame by frame as it arrives; the only series held is the
/// one being assembled (a long series comes split over consecutive frames, each repeating its
/// labels). The SAMPLES answer is a single snappy block, so it is read whole, as in Thanos.
public struct RemoteReader: Sendable {
    /// Thanos' histogram of frames per streamed answer (no `thanos_` prefix, as in Thanos' code),
    /// and its buckets, which the metrics factory must be given.
    public static let framesMetric = "prometheus_store_received_frames"
    public static let framesBuckets: [Double] = [10, 100, 1000, 10000, 100000]

    let client: PrometheusClient
    /// Prometheus' own limit on a frame (`DefaultChunkedReadLimit`).
    var maxFrameBytes = ChunkedFrameReader.defaultMaxFrameLength
    /// A SAMPLES answer larger than this (compressed) is refused rather than buffered.
    var maxSamplesResponseBytes = 1 << 30

    struct Stats: Sendable {
        var frames = 0
        var series = 0
        var chunks = 0
        var samplesResponse = false
    }

    static let streamedContentType = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"

    /// A whole series: labels as Prometheus sent them, chunks already encoded for Thanos.
    typealias Series = (labels: LabelSet, chunks: EncodedChunks)

    /// Reads [start, end] for `matchers` and hands the whole series, in Prometheus' order, to
    /// `onSeries` in batches: those completed by one piece of the HTTP body (so a few frames' worth
    /// at most), which saves an await per series on the way to the gRPC stream. `onSeries`
    /// returns false to stop reading (the request's limit is reached): the body is abandoned,
    /// which closes the connection to Prometheus.
    func read(
        start: Int64, end: Int64, matchers: [Matcher], forceSamples: Bool = false,
        onSeries: ([Series]) async throws -> Bool
    ) async throws -> Stats {
        var query = Prometheus_Query()
        query.startTimestampMs = start
        query.endTimestampMs = end
        query.matchers = ProtoConversions.prometheusMatchers(matchers)
        var request = Prometheus_ReadRequest()
        request.queries = [query]
        request.acceptedResponseTypes = forceSamples ? [.samples] : [.streamedXorChunks, .samples]
        let body = Snappy.encodeLiteral(try request.serializedBytes() as [UInt8])
        let headers = [
            ("Content-Encoding", "snappy"), ("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Read-Version", "0.1.0"),
        ]
        return try await client.postStreaming("/api/v1/read", body: body, headers: headers, headTimeout: .seconds(120)) {
            answer in
            guard (200..<300).contains(answer.status) else {
                let text = String(
                    decoding: Array(buffer: (try? await answer.body.collect(upTo: 4096)) ?? ByteBuffer()), as: UTF8.self)
                throw RPCFailure.remoteRead("request failed with code \(answer.status); msg \(text)").rpcError
            }
            if answer.contentType.hasPrefix("application/x-streamed-protobuf") {
                guard answer.contentType.hasPrefix(Self.streamedContentType) else {
                    throw RPCFailure.remoteRead("not supported remote read content type: \(answer.contentType)").rpcError
                }
                return try await readStreamed(answer.body, onSeries: onSeries)
            }
            if answer.contentType.hasPrefix("application/x-protobuf") {
                return try await readSamples(answer.body, onSeries: onSeries)
            }
            throw RPCFailure.remoteRead("not supported remote read content type: \(answer.contentType)").rpcError
        }
    }

    private func readStreamed(
        _ body: HTTPClientResponse.Body, onSeries: ([Series]) async throws -> Bool
    ) async throws -> Stats {
        var reader = ChunkedFrameReader(maxFrameLength: maxFrameBytes)
        var stats = Stats()
        defer { Recorder(label: Self.framesMetric).record(stats.frames) }  // ended or failed, as Thanos
        var pending: Series?
        var done: [Series] = []
        for try await piece in body {
            piece.withUnsafeReadableBytes { reader.append(contentsOf: $0) }
            // Each frame is decoded where it lies in the reader's buffer (chunk bytes are copied
            // once, into the series being assembled).
            while let decoded = try Self.nextFrame(&reader, number: stats.frames + 1) {
                stats.frames += 1
                for (labels, chunks) in decoded {
                    stats.chunks += chunks.count
                    // A series bigger than Prometheus' frame size continues in the next frame.
                    if pending?.labels == labels {
                        pending?.chunks.bytes += chunks.bytes
                        pending?.chunks.count += chunks.count
                        continue
                    }
                    if let complete = pending { done.append(complete) }
                    pending = (labels, chunks)
                }
            }
            if !done.isEmpty {
                stats.series += done.count
                guard try await onSeries(done) else { return stats }
                done.removeAll(keepingCapacity: true)
            }
        }
        do throws(PromWireError) { try reader.finish() } catch { throw RPCFailure.remoteRead(error.message).rpcError }
        if let complete = pending {
            stats.series += 1
            _ = try await onSeries([complete])
        }
        return stats
    }

    private static func nextFrame(
        _ reader: inout ChunkedFrameReader, number: Int
    ) throws(RPCError) -> [Series]? {
        do {
            return try reader.nextFrame { frame throws(ProtoWire.Malformed) in try SeriesTranscoder.decodeFrame(frame) }
        } catch let error as PromWireError {
            throw RPCFailure.remoteRead(error.message).rpcError
        } catch {
            throw RPCFailure.remoteRead("remote read frame \(number): \(error)").rpcError
        }
    }

    private func readSamples(
        _ body: HTTPClientResponse.Body, onSeries: ([Series]) async throws -> Bool
    ) async throws -> Stats {
        let compressed = Array(buffer: try await body.collect(upTo: maxSamplesResponseBytes))
        let bytes: [UInt8]
        do throws(PromWireError) { bytes = try Snappy.decode(compressed) } catch {
            throw RPCFailure.remoteRead("decompress remote read response: \(error.message)").rpcError
        }
        let response = try Prometheus_ReadResponse(serializedBytes: bytes)
        guard response.results.count == 1 else {
            throw RPCFailure.remoteRead("unexpected result size \(response.results.count)").rpcError
        }
        var stats = Stats(samplesResponse: true)
        var batch: [Series] = []
        for series in response.results[0].timeseries where !series.samples.isEmpty {
            let chunks = ProtoConversions.encodedChunks(series.samples)
            stats.series += 1
            stats.chunks += chunks.count
            batch.append((ProtoConversions.labelSet(series.labels), chunks))
            if batch.count == 256 {
                guard try await onSeries(batch) else { return stats }
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { _ = try await onSeries(batch) }
        return stats
    }
}
