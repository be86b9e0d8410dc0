import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny loopback HTTP server that records each request's head and answers with a canned
/// reply, for what a real Prometheus cannot show: the headers the client sends, and a server
/// that stalls mid-body.
final class RecordingHTTPServer: Sendable {
    enum Reply: Sendable {
        case answer(status: Int, body: String)
        /// Sends the head and part of a longer body, then never finishes.
        case stallBody
    }

    private let channel: any Channel
    private let log: Log
    var port: Int { channel.localAddress?.port ?? 0 }
    var url: String { "http://127.0.0.1:\(port)" }
    var recorded: [HTTPRequestHead] { log.heads.withLock { $0 } }

    private init(channel: any Channel, log: Log) {
        self.channel = channel
        self.log = log
    }

    /// The request heads seen, shared by every connection's handler.
    private final class Log: Sendable {
        let heads = Mutex<[HTTPRequestHead]>([])
    }

    static func start(reply: Reply) async throws -> RecordingHTTPServer {
        let log = Log()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(reply: reply, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RecordingHTTPServer(channel: channel, log: log)
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let reply: Reply
        let log: Log

        init(reply: Reply, log: Log) {
            self.reply = reply
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): log.heads.withLock { $0.append(head) }
            case .body: break
            case .end:
                switch reply {
                case .answer(let status, let body):
                    var headers = HTTPHeaders([("Content-Length", "\(body.utf8.count)")])
                    headers.add(name: "Content-Type", value: "application/json")
                    context.write(
                        wrapOutboundOut(.head(.init(version: .http1_1, status: .init(statusCode: status), headers: headers))),
                        promise: nil)
                    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                case .stallBody:
                    let headers = HTTPHeaders([("Content-Length", "100000")])
                    context.write(wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                    context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "# HELP x\n")))), promise: nil)
                }
            }
        }
    }
}
