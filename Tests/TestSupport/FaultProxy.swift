import Dispatch
import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy for HTTP/1.1 on 127.0.0.1 that sits between a client (an S3 client under test) and a real server
/// (moto_server, say) and breaks chosen exchanges in chosen ways: error statuses, resets, stalls, short responses,
/// corrupted uploads. Traffic it is not told to break passes through byte for byte, keep-alive included, so the
/// client's SigV4 signatures (Host header and all) stay valid.
///
///     let proxy = try await FaultProxy.start(upstreamPort: motoPort)
///     proxy.inject(.status(503, code: "SlowDown"), count: 2, when: .method("PUT"))
///     // point the client at http://127.0.0.1:\(proxy.port), run it, then check proxy.stats
///     try await proxy.stop()
///
/// Each client connection gets its own upstream connection. Connections are served by event-loop handlers on the
/// proxy's own one-thread event loop group rather than by tasks, so `start` can return while serving goes on
/// without any unstructured task; `stop()` shuts the group down, which closes every connection.
/// Requests are assumed to be sent one at a time per connection (no pipelining), as HTTP client pools do.
public final class FaultProxy: Sendable {
    /// The port the proxy listens on, on 127.0.0.1.
    public let port: Int
    public let upstreamHost: String
    public let upstreamPort: Int

    private let group: MultiThreadedEventLoopGroup
    private let listener: any Channel
    private let ledger: FaultProxyLedger
    private let stopped = Mutex(false)

    private init(
        port: Int, upstreamHost: String, upstreamPort: Int, group: MultiThreadedEventLoopGroup, listener: any Channel,
        ledger: FaultProxyLedger
    ) {
        self.port = port
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.group = group
        self.listener = listener
        self.ledger = ledger
    }

    /// Starts listening on 127.0.0.1 on a free port, forwarding to upstreamHost:upstreamPort.
    /// The upstream is dialled per client connection, so it need not be up yet; its name is resolved now, though.
    public static func start(upstreamHost: String = "127.0.0.1", upstreamPort: Int) async throws -> FaultProxy {
        // Resolved once here: connecting by host name would resolve off the event loop for every connection,
        // and a late answer could arrive after stop() has shut the loop down.
        let upstreamAddress = try SocketAddress.makeAddressResolvingHost(upstreamHost, port: upstreamPort)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ledger = FaultProxyLedger()
        do {
            let listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.autoRead, value: false)  // FaultProxyConnection turns it on once upstream is up
                .childChannelInitializer { channel in
                    ledger.connectionAccepted()
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            FaultProxyConnection(upstreamAddress: upstreamAddress, ledger: ledger))
                    }
                }
                .bind(host: "127.0.0.1", port: 0)
                .get()
            guard let port = listener.localAddress?.port else {
                throw ChannelError.unknownLocalAddress
            }
            return FaultProxy(
                port: port, upstreamHost: upstreamHost, upstreamPort: upstreamPort, group: group, listener: listener,
                ledger: ledger)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Queues `fault` for the next `count` requests that `when` matches (a positive count). Queued faults are
    /// tried in the order they were injected; a request takes at most one. Once used up, traffic passes untouched.
    /// Only requests that start after this call can draw the fault.
    public func inject(_ fault: Fault, count: Int = 1, when filter: RequestFilter = .any) {
        precondition(count > 0, "a fault must be injected for at least one request")
        ledger.enqueue(fault, count: count, filter: filter)
    }

    /// Drops every queued fault; requests already being faulted finish as they began.
    public func clearFaults() {
        ledger.clearFaults()
    }

    /// Totals since `start` or the last `resetCounters()`.
    public var stats: Stats {
        ledger.stats
    }

    /// Zeroes the counters and forgets the requests seen; queued faults stay queued.
    public func resetCounters() {
        ledger.resetCounters()
    }

    /// Stops listening and closes every open connection, stalled ones included. Safe to call more than once.
    public func stop() async throws {
        guard
            stopped.withLock({ alreadyStopped in
                defer { alreadyStopped = true }
                return !alreadyStopped
            })
        else {
            return
        }
        try? await listener.close()
        try await group.shutdownGracefully()
    }

    /// A proxy dropped without `stop()` still releases its thread, just without waiting for it.
    deinit {
        if !stopped.withLock({ $0 }) {
            group.shutdownGracefully { _ in }
        }
    }
}
