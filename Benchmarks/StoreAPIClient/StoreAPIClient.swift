// The two clients of Tools/bench-storeapi, in Swift so both sides of the comparison cost the
// same kind of client work: (a) Prometheus' streamed remote read read directly (frames, CRC32C
// checked), (b) thanos.Store/Series through skiff's gRPC server. Each prints one line per run:
// seconds series chunks.
//
// DECODE says how every message is read, the same way on both sides:
//   full  decoded into swift-protobuf's generated types (a message object per series and chunk);
//   walk  the protobuf fields walked in place, counting series and chunks and comparing each
//         series' label bytes with the previous one's, as a minimal client would: on a 2-core
//         machine a heavy client competes with skiff for the CPU, which is not skiff's cost.
//
// BATCH (grpc only) asks for `response_batch_size` series a response (0: one a response).
//
//   bench-storeapi-client remote-read|grpc HOST:PORT METRIC MINT MAXT RUNS [full|walk] [BATCH]
import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import PromWire
import StoreProto
import SwiftProtobuf

@main
struct StoreAPIClient {
    static func main() async throws {
        let args = CommandLine.arguments
        guard (7...9).contains(args.count), let mint = Int64(args[4]), let maxt = Int64(args[5]),
            let runs = Int(args[6]), let colon = args[2].lastIndex(of: ":"),
            let port = Int(args[2][args[2].index(after: colon)...]),
            args.count == 7 || ["full", "walk"].contains(args[7]), args.count < 9 || Int64(args[8]) != nil
        else {
            FileHandle.standardError.write(
                Data("usage: bench-storeapi-client remote-read|grpc HOST:PORT METRIC MINT MAXT RUNS [full|walk] [BATCH]\n".utf8))
            exit(2)
        }
        let batch = args.count == 9 ? Int64(args[8]) ?? 0 : 0
        let host = String(args[2][..<colon])
        let metric = args[3]
        let walk = args.count >= 8 && args[7] == "walk"
        for _ in 0..<runs {
            let started = ContinuousClock.now
            let (series, chunks) =
                args[1] == "grpc"
                ? try await grpc(host: host, port: port, metric: metric, mint: mint, maxt: maxt, walk: walk, batch: batch)
                : try await remoteRead(host: host, port: port, metric: metric, mint: mint, maxt: maxt, walk: walk)
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(String(format: "%.4f %d %d", seconds, series, chunks))
        }
    }

    static func remoteRead(
        host: String, port: Int, metric: String, mint: Int64, maxt: Int64, walk: Bool
    ) async throws -> (Int, Int) {
        var matcher = Prometheus_LabelMatcher()
        matcher.name = "__name__"
        matcher.value = metric
        var query = Prometheus_Query()
        query.startTimestampMs = mint
        query.endTimestampMs = maxt
        query.matchers = [matcher]
        var request = Prometheus_ReadRequest()
        request.queries = [query]
        request.acceptedResponseTypes = [.streamedXorChunks]
        var http = HTTPClientRequest(url: "http://\(host):\(port)/api/v1/read")
        http.method = .POST
        http.headers.add(name: "Content-Encoding", value: "snappy")
        http.headers.add(name: "Content-Type", value: "application/x-protobuf")
        http.headers.add(name: "X-Prometheus-Remote-Read-Version", value: "0.1.0")
        http.body = .bytes(ByteBuffer(bytes: Snappy.encodeLiteral(try request.serializedBytes() as [UInt8])))
        let response = try await HTTPClient.shared.execute(http, timeout: .seconds(300))
        var reader = ChunkedFrameReader()
        var counter = SeriesCounter()
        var series = 0
        var chunks = 0
        var previous: [Prometheus_Label] = []
        for try await piece in response.body {
            piece.withUnsafeReadableBytes { reader.append(contentsOf: $0) }
            if walk {
                while let message = try reader.nextFrame({ try WalkedMessage($0) }) { counter.add(message) }
                continue
            }
            while let frame = try reader.nextFrame() {
                for s in try Prometheus_ChunkedReadResponse(serializedBytes: frame).chunkedSeries {
                    if s.labels != previous { series += 1 }  // a big series continues in the next frame
                    previous = s.labels
                    chunks += s.chunks.count
                }
            }
        }
        try reader.finish()
        return walk ? (counter.series, counter.chunks) : (series, chunks)
    }

    static func grpc(
        host: String, port: Int, metric: String, mint: Int64, maxt: Int64, walk: Bool, batch: Int64
    ) async throws -> (Int, Int) {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            var request = Thanos_SeriesRequest()
            request.minTime = mint
            request.maxTime = maxt
            var matcher = Thanos_LabelMatcher()
            matcher.name = "__name__"
            matcher.value = metric
            request.matchers = [matcher]
            request.responseBatchSize = batch
            var options = CallOptions.defaults
            options.maxResponseMessageBytes = Int(Int32.max)
            if walk {
                return try await client.serverStreaming(
                    request: ClientRequest(message: request), descriptor: Thanos_Store.Method.Series.descriptor,
                    serializer: ProtobufSerializer<Thanos_SeriesRequest>(), deserializer: WalkingDeserializer(), options: options
                ) { response in
                    var counter = SeriesCounter()
                    for try await message in response.messages { counter.add(message) }
                    return (counter.series, counter.chunks)
                }
            }
            let store = Thanos_Store.Client(wrapping: client)
            return try await store.series(request, options: options) { response in
                var series = 0
                var chunks = 0
                for try await message in response.messages {
                    switch message.result {
                    case .series(let s):
                        series += 1
                        chunks += s.chunks.count
                    case .batch(let b):
                        series += b.series.count
                        chunks += b.series.reduce(0) { $0 + $1.chunks.count }
                    default: break
                    }
                }
                return (series, chunks)
            }
        }
    }
}

/// Walks each message where the transport holds it.
struct WalkingDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> WalkedMessage {
        try serializedMessageBytes.withUnsafeBytes { try WalkedMessage($0) }
    }
}

/// Series in counts and counts of chunks, tallied across messages: a series whose label bytes
/// equal the previous one's continues it (Prometheus splits big series over frames).
struct SeriesCounter {
    var series = 0
    var chunks = 0
    private var previousLabels: [UInt8] = []
    private var first = true

    mutating func add(_ message: WalkedMessage) {
        for (labels, chunkCount) in message.series {
            if first || labels != previousLabels { series += 1 }
            first = false
            previousLabels = labels
            chunks += chunkCount
        }
    }
}

/// The series of a Prometheus `ChunkedReadResponse` or a Thanos `SeriesResponse`, which share a
/// shape: field 1 holds a series, whose field 1 entries are labels and field 2 entries chunks.
/// A Thanos `batch` (field 4) holds series as its field 1 entries. Only the label bytes are
/// copied out; chunks are counted.
struct WalkedMessage: Sendable {
    struct Malformed: Error {}

    var series: [(labels: [UInt8], chunks: Int)] = []

    init(_ message: UnsafeRawBufferPointer) throws {
        try walk(message, range: 0..<message.count, batchField: 4)
    }

    private mutating func walk(_ message: UnsafeRawBufferPointer, range: Range<Int>, batchField: Int?) throws {
        var position = range.lowerBound
        while position < range.upperBound {
            let (field, wireType) = try Self.tag(message, &position)
            let value = try Self.skip(message, &position, wireType: wireType)
            if let batchField, field == batchField, wireType == 2 {
                try walk(message, range: value, batchField: nil)
                continue
            }
            guard field == 1, wireType == 2 else { continue }
            var labels: [UInt8] = []
            var chunks = 0
            var inner = value.lowerBound
            while inner < value.upperBound {
                let (f, w) = try Self.tag(message, &inner)
                let entry = try Self.skip(message, &inner, wireType: w)
                if f == 1 { labels.append(contentsOf: UnsafeRawBufferPointer(rebasing: message[entry])) }
                if f == 2 { chunks += 1 }
            }
            series.append((labels, chunks))
        }
    }

    private static func varint(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws -> UInt64 {
        try UVarint.read(bytes, at: &position)
    }

    private static func tag(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) throws -> (Int, Int) {
        let key = try varint(bytes, &position)
        return (Int(key >> 3), Int(key & 7))
    }

    /// Moves past one field's value; its bytes' range (length-delimited) or an empty range.
    private static func skip(_ bytes: UnsafeRawBufferPointer, _ position: inout Int, wireType: Int) throws -> Range<Int> {
        switch wireType {
        case 0: _ = try varint(bytes, &position)
        case 1: position += 8
        case 5: position += 4
        case 2:
            let length = Int(try varint(bytes, &position))
            guard length <= bytes.count - position else { throw Malformed() }
            position += length
            return (position - length)..<position
        default: throw Malformed()
        }
        guard position <= bytes.count else { throw Malformed() }
        return position..<position
    }
}
