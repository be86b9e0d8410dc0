import Foundation
import HTTPServer
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import TestSupport

/// One HTTP/1.1 response as read off the wire.
struct RawResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A deliberately dumb HTTP/1.1 client over a plain NIO socket: it writes the bytes it is given and
/// reads until the server closes. Raw bytes let tests send partial requests and see exact headers.
enum RawHTTP {
    static func get(
        _ path: String, port: Int, method: String = "GET", host: String = "127.0.0.1"
    ) async throws -> RawResponse {
        let bytes = try await exchange(
            host: host, port: port, send: "\(method) \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return try parse(bytes)
    }

    static func connect(host: String = "127.0.0.1", port: Int) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    static func exchange(host: String, port: Int, send: String) async throws -> [UInt8] {
        try await withTimeout(.seconds(5), "HTTP exchange on port \(port)") {
            try await connect(host: host, port: port).executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: send))
                var received: [UInt8] = []
                for try await buffer in inbound { received += buffer.readableBytesView }
                return received
            }
        }
    }

    struct Malformed: Error {}

    static func parse(_ bytes: [UInt8]) throws -> RawResponse {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Malformed() }
        var lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
        let statusParts = lines.removeFirst().split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Malformed() }
        let headers = lines.compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return RawResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

/// A server on 127.0.0.1:0 inside a ServiceGroup, as the executable runs it.
struct RunningServer: Sendable {
    let port: Int
    let registry: PrometheusCollectorRegistry
    let probe: StatusProbe
    let group: ServiceGroup

    /// Starts a server, runs `body` against it, then shuts it down gracefully and waits for it.
    static func with(
        address: String = "127.0.0.1:0", gracePeriod: Duration = .seconds(1),
        _ body: @Sendable (RunningServer) async throws -> Void
    ) async throws {
        let registry = PrometheusCollectorRegistry()
        let probe = StatusProbe(registry: registry, logger: quietLogger)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let server = SidecarHTTPServer(
            address: address, probe: probe, registry: registry, gracePeriod: gracePeriod,
            logger: quietLogger, onListening: { portContinuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [server], logger: quietLogger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { portContinuation.finish() }  // a failed start ends the wait below
                try await group.run()
            }
            let port = try await withTimeout(.seconds(10), "server start") {
                await ports.first(where: { _ in true })
            }
            guard let port else { throw TestTimeout(what: "server exited before listening") }
            do {
                try await body(RunningServer(port: port, registry: registry, probe: probe, group: group))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// Runs `promtool check metrics` on `exposition`; returns its exit status (0 ok, 3 lint only, 1 parse
/// error). Waits without blocking a thread: the 2-core cooperative pool is shared by parallel tests.
func promtoolCheckMetrics(_ exposition: String) async throws -> (status: Int32, output: String) {
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
    try Data(exposition.utf8).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
    process.arguments = ["check", "metrics"]
    process.standardInput = try FileHandle(forReadingFrom: input)
    let output = Pipe()  // promtool's findings are a few lines, far below the pipe's buffer
    process.standardOutput = output
    process.standardError = output
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return (status, text)
}

/// Whether this machine has an IPv6 loopback address (containers may not).
let hasIPv6Loopback: Bool = {
    let interfaces = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
    return interfaces.contains("00000000000000000000000000000001")
}()
