import GRPCCore
import GRPCRuntime
import NIOCore
import NIOPosix
import StoreProto
import TestSupport
import Testing

@Suite("--grpc-server-max-connection-age")
struct MaxConnectionAgeTests {
    @Test("an idle connection gets a GOAWAY once it is older than the age, then is closed")
    func idleConnectionIsClosed() async throws {
        try await RunningGRPCServer.with(maxConnectionAge: .seconds(1)) { server async throws in
            let clock = ContinuousClock()
            let start = clock.now
            let frames = try await withTimeout(.seconds(15), "connection closed by max age") {
                try await http2FramesUntilClosed(port: server.port)
            }
            let elapsed = clock.now - start
            #expect(frames.contains(goAway), "frame types seen: \(frames)")
            #expect(elapsed >= .milliseconds(900), "closed after \(elapsed)")
        }
    }

    @Test("a long-lived gRPC client keeps working across the server's connection age")
    func clientReconnects() async throws {
        try await RunningGRPCServer.with(maxConnectionAge: .milliseconds(500)) { server async throws in
            // A call that races the GOAWAY can fail with Unavailable in grpc-swift's client: after the
            // GOAWAY its channel still reports ready while the load balancer has no subchannel, and
            // it retries the stream creation a fixed few times with no pause ("no subchannel
            // available"), which a busy machine outlasts. grpc-go retries such a call
            // transparently; a querier's retry policy backs off between attempts. The client here
            // does that: a few attempts 100 ms apart, each of which must then get through.
            var options = testCallOptions
            options.waitForReady = true
            try await withHealthClient(port: server.port) { health in
                for _ in 0..<3 {
                    let request = Grpc_Health_V1_HealthCheckRequest.with { $0.service = "" }
                    var attempt = 1
                    let answer: Grpc_Health_V1_HealthCheckResponse
                    while true {
                        do {
                            answer = try await health.check(request, options: options)
                            break
                        } catch let error as RPCError where error.code == .unavailable && attempt < 5 {
                            attempt += 1
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                    #expect(answer.status == .notServing)
                    try await Task.sleep(for: .milliseconds(700))
                }
            }
        }
    }

    @Test("without an age (nil or 0) an idle connection stays open")
    func noAge() async throws {
        _ = try await RunningGRPCServer.with(maxConnectionAge: .zero) { server async throws in
            await #expect(throws: TestTimeout.self) {
                _ = try await withTimeout(.seconds(2), "connection kept open") {
                    try await http2FramesUntilClosed(port: server.port)
                }
            }
        }
    }

    private let goAway: UInt8 = 0x07

    /// Opens a plaintext HTTP/2 connection, acknowledges the server's SETTINGS and PINGs as a
    /// client must (the server's graceful close waits for a PING's answer), and returns the types
    /// of the frames received until the server closed the connection.
    private func http2FramesUntilClosed(port: Int) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var hello = ByteBuffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            hello.writeBytes(frameHeader(length: 0, type: 0x04, flags: 0))
            try await outbound.write(hello)
            var types: [UInt8] = []
            var pending = ByteBuffer()
            do {
                for try await var buffer in inbound {
                    pending.writeBuffer(&buffer)
                    while let frame = nextFrame(&pending) {
                        types.append(frame.type)
                        let isAck = frame.flags & 0x01 != 0
                        if frame.type == 0x04, !isAck {
                            try await outbound.write(ByteBuffer(bytes: frameHeader(length: 0, type: 0x04, flags: 0x01)))
                        } else if frame.type == 0x06, !isAck {
                            try await outbound.write(
                                ByteBuffer(bytes: frameHeader(length: 8, type: 0x06, flags: 0x01) + frame.payload))
                        }
                    }
                }
            } catch {
                // A reset after the GOAWAY ends the connection just as well as a clean close.
            }
            return types
        }
    }

    private func frameHeader(length: Int, type: UInt8, flags: UInt8) -> [UInt8] {
        [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags, 0, 0, 0, 0]
    }

    /// One whole frame off the front of `buffer`, or nil until one has arrived.
    private func nextFrame(_ buffer: inout ByteBuffer) -> (type: UInt8, flags: UInt8, payload: [UInt8])? {
        guard buffer.readableBytes >= 9, let header = buffer.getBytes(at: buffer.readerIndex, length: 9) else {
            return nil
        }
        let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
        guard buffer.readableBytes >= 9 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 9)
        let payload = buffer.readBytes(length: length) ?? []
        return (header[3], header[4], payload)
    }
}
