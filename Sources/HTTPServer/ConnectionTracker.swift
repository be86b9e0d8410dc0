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

    /// Closes every open connection now, queued writes or not, and returns how many there were.
    @discardableResult
    func closeAll() -> Int {
        let channels = open.withLock { Array($0.values) }
        for channel in channels { channel.triggerUserOutboundEvent(CloseNow(), promise: nil) }
        return channels.count
    }

    /// Tells a connection's handler to close at once, without waiting for its queued writes.
    private struct CloseNow: Sendable {}

    private func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        open.withLock { $0[id] = channel }
        // Registered after the insert: on an already closed channel this runs at once and removes it.
        channel.closeFuture.whenComplete { [self] _ in open.withLock { $0[id] = nil } }
    }

    /// Registers its connection on being added, and holds back a close until the writes queued
    /// before it have reached the socket. During graceful shutdown Hummingbird closes a
    /// connection right after writing a response's end; a close drops whatever NIO still queues,
    /// so a scraper slower than the server lost the tail of its /metrics answer. NIO's own HTTP
    /// pipeline handler closes only once the end is written, which is what this restores. Closes
    /// that arrive meanwhile (the half-close after the response) join the held one; `CloseNow`
    /// (the grace period ran out) closes at once.
    private final class Handler: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = Any
        typealias OutboundIn = Any
        let tracker: ConnectionTracker
        private var queuedWrites = 0
        private var held: (mode: CloseMode, promises: [EventLoopPromise<Void>])?

        init(tracker: ConnectionTracker) { self.tracker = tracker }

        func handlerAdded(context: ChannelHandlerContext) { tracker.add(context.channel) }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            queuedWrites += 1
            let written = promise ?? context.eventLoop.makePromise()
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in
                let (handler, context) = loopBound.value
                handler.queuedWrites -= 1
                if handler.queuedWrites == 0 { handler.releaseHeldClose(context, mode: nil) }
            }
            context.write(data, promise: written)
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            guard mode != .input, queuedWrites > 0 || held != nil else {
                return context.close(mode: mode, promise: promise)
            }
            var next = held ?? (mode, [])
            if mode == .all { next.mode = .all }
            if let promise { next.promises.append(promise) }
            held = next
            context.flush()
        }

        func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
            guard event is CloseNow else { return context.triggerUserOutboundEvent(event, promise: promise) }
            if held == nil { held = (.all, []) }
            releaseHeldClose(context, mode: .all)
            promise?.succeed()
        }

        private func releaseHeldClose(_ context: ChannelHandlerContext, mode: CloseMode?) {
            guard let (heldMode, promises) = held else { return }
            held = nil
            let closed = context.eventLoop.makePromise(of: Void.self)
            for promise in promises { closed.futureResult.cascade(to: promise) }
            context.close(mode: mode ?? heldMode, promise: closed)
        }
    }
}
