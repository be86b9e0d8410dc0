import Foundation
import HTTPServer
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import TestSupport

typealias RawResponse = HTTPProbe.Response

/// HTTP/1.1 requests as a scraper sends them (`Connection: close`), over `HTTPProbe`'s NIO socket:
/// it writes the bytes it is given and reads until the server closes, so tests see exact headers.
enum RawHTTP {
    static func get(
        _ path: String, port: Int, method: String = "GET", host: String = "127.0.0.1"
    ) async throws -> RawResponse {
        let bytes = try await HTTPProbe.exchange(
            host: host, port: port, send: "\(method) \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return try HTTPProbe.parse(bytes)
    }

    static func parse(_ bytes: [UInt8]) throws -> RawResponse { try HTTPProbe.parse(bytes) }
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
/// error) and what it printed.
func promtoolCheckMetrics(_ exposition: String) async throws -> (status: Int32, output: String) {
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).txt")
    try Data(exposition.utf8).write(to: input)
    defer { try? FileManager.default.removeItem(at: input) }
    let result = try await ExternalProgram.promtool.run(["check", "metrics"], stdin: input.path)
    return (result.status, result.stdout + result.stderr)
}

/// Whether this machine has an IPv6 loopback address (containers may not).
let hasIPv6Loopback: Bool = {
    let interfaces = (try? String(contentsOfFile: "/proc/net/if_inet6", encoding: .utf8)) ?? ""
    return interfaces.contains("00000000000000000000000000000001")
}()
