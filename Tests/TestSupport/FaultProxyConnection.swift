import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Relays one client connection over its own upstream connection, request by request, applying the fault each
/// request draws from the ledger. Everything runs on the client channel's event loop, and the upstream channel is
/// opened on that same loop, so upstream events reach this handler (through `UpstreamRelay`) without locks.
final class FaultProxyConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private enum Mode {
        /// Requests and responses flow; faults that only alter or count bytes are applied on the way.
        case relaying
        /// A `.status` fault answered the request; the rest of it is read and dropped, then the connection closes.
        case answeredLocally
        /// A `.stall` fault holds the connection silent; whatever the client sends is dropped until the timer fires
        /// (`.stallResponse`, once its bytes are relayed: until the client closes).
        case stalling
        case closed
    }

    /// The request now arriving from the client.
    private struct Exchange {
        let requestID: Int
        let fault: Fault?
        /// For `.resetAfterRequestBytes`: request bytes that may still pass before the reset.
        var bytesBeforeReset: Int?
    }

    /// How long a `.status` answer waits for the rest of the request body before closing anyway.
    private static let drainTimeoutSeconds = 1.0

    private let upstreamAddress: SocketAddress
    private let ledger: FaultProxyLedger
    private var framer = HTTPRequestFramer()
    private var mode = Mode.relaying
    private var exchange: Exchange?
    private var client: (any Channel)?
    private var upstream: (any Channel)?
    /// For `.truncateResponse`: response bytes that may still reach the client before both sides close.
    private var responseBytesBeforeCut: Int?
    /// For `.stallResponse`: response bytes that may still reach the client before the relay stops.
    private var responseBytesBeforeStall: Int?
    private var closeTimer: Scheduled<Void>?
    /// Every request this connection carried.
    private var requestIDs: [Int] = []

    init(upstreamAddress: SocketAddress, ledger: FaultProxyLedger) {
        self.upstreamAddress = upstreamAddress
        self.ledger = ledger
    }

    /// Opens the upstream connection; the client channel starts with autoRead off, so nothing is read from the
    /// client (and nothing needs buffering) until there is somewhere to send it.
    func channelActive(context: ChannelHandlerContext) {
        client = context.channel
        let connection = NIOLoopBound(self, eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpstreamRelay(connection: connection))
                }
            }
            .connect(to: upstreamAddress)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let upstream) where self.mode != .closed:
                    self.upstream = upstream
                    try? self.client?.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
                case .success(let upstream):
                    upstream.close(promise: nil)
                case .failure:
                    self.closeBoth()
                }
            }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let pieces: [RequestPiece]
        do {
            pieces = try framer.feed(unwrapInboundIn(data))
        } catch {
            closeBoth()  // not HTTP the proxy can delimit: nothing sensible to relay
            return
        }
        for piece in pieces where mode != .closed {
            handle(piece)
        }
    }

    /// While the client reads slowly, stop reading responses from upstream so they do not pile up in memory.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if mode == .relaying {
            try? upstream?.syncOptions?.setOption(ChannelOptions.autoRead, value: context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if mode != .closed { ledger.connectionClosedByClient(requestIDs: requestIDs) }
        mode = .closed
        closeTimer?.cancel()
        upstream?.close(promise: nil)
        upstream = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func handle(_ piece: RequestPiece) {
        switch piece {
        case .head(let head, let bytes):
            guard mode == .relaying else { return }  // only pipelined leftovers of a faulted exchange get here
            responseBytesBeforeCut = nil  // a truncation that never triggered ends where the next request starts
            responseBytesBeforeStall = nil
            let (requestID, fault) = ledger.beginRequest(method: head.method, pathAndQuery: head.pathAndQuery)
            requestIDs.append(requestID)
            exchange = Exchange(requestID: requestID, fault: fault)
            switch fault {
            case .status(let status, let code)?:
                answerLocally(status: status, code: code, requestID: requestID, bodyAllowed: head.method != "HEAD")
            case .stall(let seconds)?:
                mode = .stalling
                scheduleCloseBoth(afterSeconds: seconds)
            case .resetAfterRequestBytes(let count)?:
                exchange?.bytesBeforeReset = max(0, count)
                forwardToUpstream(bytes, isPayload: false)
            case .truncateResponse(let count)?:
                responseBytesBeforeCut = max(0, count)
                forwardToUpstream(bytes, isPayload: false)
            case .stallResponse(let count)?:
                responseBytesBeforeStall = max(0, count)
                forwardToUpstream(bytes, isPayload: false)
            case .corruptRequestBody?, nil:
                forwardToUpstream(bytes, isPayload: false)
            }
        case .body(var bytes, let payloadOffset):
            guard mode == .relaying else { return }
            if case .corruptRequestBody(let target)? = exchange?.fault, let payloadOffset {
                let index = Int64(target) - payloadOffset
                if index >= 0, index < Int64(bytes.readableBytes) {
                    let at = bytes.readerIndex + Int(index)
                    bytes.setInteger(bytes.getInteger(at: at, as: UInt8.self)! ^ 0xFF, at: at)
                }
            }
            forwardToUpstream(bytes, isPayload: payloadOffset != nil)
        case .end:
            switch mode {
            case .answeredLocally:
                closeBoth()
            case .relaying where exchange?.bytesBeforeReset != nil:
                resetClient()  // the whole request fitted in the allowance: reset before any response is relayed
            case .relaying, .stalling, .closed:
                break
            }
            exchange = nil
        }
    }

    private func forwardToUpstream(_ bytes: ByteBuffer, isPayload: Bool) {
        guard let upstream, var exchange else { return }
        var passing = bytes
        var resetNow = false
        if let allowance = exchange.bytesBeforeReset {
            resetNow = passing.readableBytes >= allowance
            passing = passing.getSlice(at: passing.readerIndex, length: min(allowance, passing.readableBytes))!
            exchange.bytesBeforeReset = allowance - passing.readableBytes
            self.exchange = exchange
        }
        if passing.readableBytes > 0 {
            upstream.writeAndFlush(passing, promise: nil)
        }
        if isPayload {
            ledger.bodyBytesForwarded(passing.readableBytes, requestID: exchange.requestID)
        }
        if resetNow {
            resetClient()
        }
    }

    /// Called by `UpstreamRelay` with whatever the server sent.
    fileprivate func upstreamSent(_ bytes: ByteBuffer) {
        guard mode == .relaying, let client else { return }
        if let allowance = responseBytesBeforeStall {
            let passing = bytes.getSlice(at: bytes.readerIndex, length: min(allowance, bytes.readableBytes))!
            responseBytesBeforeStall = allowance - passing.readableBytes
            if passing.readableBytes > 0 { client.writeAndFlush(passing, promise: nil) }
            if responseBytesBeforeStall == 0 {
                mode = .stalling  // the client's requests are dropped from now on; only its close ends this
                try? upstream?.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
            }
            return
        }
        guard let allowance = responseBytesBeforeCut else {
            client.writeAndFlush(bytes, promise: nil)
            return
        }
        let passing = bytes.getSlice(at: bytes.readerIndex, length: min(allowance, bytes.readableBytes))!
        responseBytesBeforeCut = allowance - passing.readableBytes
        if passing.readableBytes > 0 {
            client.writeAndFlush(passing, promise: nil)
        }
        if responseBytesBeforeCut == 0 {
            closeBoth()
        }
    }

    /// The server closed its side (say after `Connection: close`): pass that on once its last bytes are relayed.
    /// A stall or a local answer keeps its own schedule.
    fileprivate func upstreamClosed() {
        upstream = nil
        if mode == .relaying {
            closeBoth()
        }
    }

    /// While the server reads slowly, stop reading from the client so request bodies do not pile up in memory.
    fileprivate func upstreamWritabilityChanged(isWritable: Bool) {
        guard mode == .relaying else { return }
        try? client?.syncOptions?.setOption(ChannelOptions.autoRead, value: isWritable)
    }

    private func answerLocally(status: Int, code: String, requestID: Int, bodyAllowed: Bool) {
        mode = .answeredLocally
        let response = S3ErrorResponse.bytes(
            status: status, code: code, requestID: "proxy-\(requestID)", bodyAllowed: bodyAllowed)
        client?.writeAndFlush(response, promise: nil)
        scheduleCloseBoth(afterSeconds: Self.drainTimeoutSeconds)  // unless the request's end comes first
    }

    private func scheduleCloseBoth(afterSeconds seconds: Double) {
        guard let client else { return }
        closeTimer = client.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            self.closeBoth()
        }
    }

    /// Closes both connections with a normal FIN, after what was already written to them has gone out.
    private func closeBoth() {
        guard mode != .closed else { return }
        mode = .closed
        closeTimer?.cancel()
        client.map(Self.closeAfterPendingWrites)
        upstream.map(Self.closeAfterPendingWrites)
    }

    /// Closes the client connection with RST: SO_LINGER with a zero timeout makes close() abort the connection,
    /// so the client sees "connection reset by peer" rather than an orderly end. The upstream side closes normally.
    private func resetClient() {
        guard mode != .closed, let client else { return }
        mode = .closed
        closeTimer?.cancel()
        upstream.map(Self.closeAfterPendingWrites)
        guard let sockets = client as? any SocketOptionProvider else {
            client.close(promise: nil)
            return
        }
        sockets.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in client.close(promise: nil) }
    }

    private static func closeAfterPendingWrites(_ channel: any Channel) {
        // Writes complete in order: once this empty one is done, everything queued before it is in the kernel.
        channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Hands the upstream connection's events to the `FaultProxyConnection` that opened it.
private final class UpstreamRelay: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let connection: NIOLoopBound<FaultProxyConnection>

    init(connection: NIOLoopBound<FaultProxyConnection>) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.value.upstreamSent(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.value.upstreamClosed()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        connection.value.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
