import NIOCore
import Synchronization

/// The open HTTP connections, so that when the grace period runs out the server can close them,
/// as Go's `http.Server.Close` does after `Shutdown` times out.
///
/// Why not cancel the server task instead: cancelling Hummingbird's accept loop while an accepted
/// connection is still queued drops that connection's `NIOAsyncChannel` unfinished, and NIO traps
/// ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#2637 and #3481). A probe
/// arriving during shutdown was enough to crash the tests. Closing the connections instead lets
/// Hummingbird's own graceful shutdown run to its end.
final class ConnectionTracker: Sendable {
    private let open = Mutex<[ObjectIdentifier: any Channel]>([:])

    /// A handler for each new connection's pipeline; it registers the connection on being added.
    func makeHandler() -> any RemovableChannelHandler { Handler(tracker: self) }

    /// Closes every open connection and returns how many there were.
    @discardableResult
    func closeAll() -> Int {
        let channels = open.withLock { Array($0.values) }
        for channel in channels { channel.close(promise: nil) }
        return channels.count
    }

    private func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        open.withLock { $0[id] = channel }
        // Registered after the insert: on an already closed channel this runs at once and removes it.
        channel.closeFuture.whenComplete { [self] _ in open.withLock { $0[id] = nil } }
    }

    /// Passes every event through; it exists only for `handlerAdded`. NIO requires a pipeline
    /// handler to be inbound or outbound, so it is an inbound one that never unwraps a message.
    private final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = Any
        let tracker: ConnectionTracker
        init(tracker: ConnectionTracker) { self.tracker = tracker }
        func handlerAdded(context: ChannelHandlerContext) { tracker.add(context.channel) }
    }
}
