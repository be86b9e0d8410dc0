// The two clients of Tools/bench-storeapi, in Swift so both sides of the comparison cost the
// same kind of client work: (a) Prometheus' streamed remote read read directly (frames, CRC32C
// checked, every ChunkedReadResponse decoded), (b) thanos.Store/Series through skiff's gRPC
// server (every SeriesResponse decoded). Each prints one line per run: seconds series chunks.
//
//   bench-storeapi-client remote-read 127.0.0.1:9090 METRIC MINT MAXT RUNS
//   bench-storeapi-client grpc 127.0.0.1:10901 METRIC MINT MAXT RUNS
import AsyncHTTPClient
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOCore
import PromWire
import StoreProto
import SwiftProtobuf

@main
struct StoreAPIClient {
    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count == 7, let mint = Int64(args[4]), let maxt = Int64(args[5]), let runs = Int(args[6]),
            let colon = args[2].lastIndex(of: ":"), let port = Int(args[2][args[2].index(after: colon)...])
        else {
            FileHandle.standardError.write(Data("usage: bench-storeapi-client remote-read|grpc HOST:PORT METRIC MINT MAXT RUNS\n".utf8))
            exit(2)
        }
        let host = String(args[2][..<colon]), metric = args[3]
        for _ in 0..<runs {
            let started = ContinuousClock.now
            let (series, chunks) = args[1] == "grpc"
                ? try await grpc(host: host, port: port, metric: metric, mint: mint, maxt: maxt)
                : try await remoteRead(host: host, port: port, metric: metric, mint: mint, maxt: maxt)
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(String(format: "%.4f %d %d", seconds, series, chunks))
        }
    }

    static func remoteRead(host: String, port: Int, metric: String, mint: Int64, maxt: Int64) async throws -> (Int, Int) {
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
        var series = 0, chunks = 0
        var previous: [Prometheus_Label] = []
        for try await piece in response.body {
            piece.withUnsafeReadableBytes { reader.append(contentsOf: $0) }
            while let frame = try reader.nextFrame() {
                for s in try Prometheus_ChunkedReadResponse(serializedBytes: frame).chunkedSeries {
                    if s.labels != previous { series += 1 }  // a big series continues in the next frame
                    previous = s.labels
                    chunks += s.chunks.count
                }
            }
        }
        try reader.finish()
        return (series, chunks)
    }

    static func grpc(host: String, port: Int, metric: String, mint: Int64, maxt: Int64) async throws -> (Int, Int) {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(address: host, port: port), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            let store = Thanos_Store.Client(wrapping: client)
            var request = Thanos_SeriesRequest()
            request.minTime = mint
            request.maxTime = maxt
            var matcher = Thanos_LabelMatcher()
            matcher.name = "__name__"
            matcher.value = metric
            request.matchers = [matcher]
            var options = CallOptions.defaults
            options.maxResponseMessageBytes = Int(Int32.max)
            return try await store.series(request, options: options) { response in
                var series = 0, chunks = 0
                for try await message in response.messages {
                    if case .series(let s) = message.result {
                        series += 1
                        chunks += s.chunks.count
                    }
                }
                return (series, chunks)
            }
        }
    }
}
