import Foundation
import TestSupport
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The proxy against a real upstream over real sockets on 127.0.0.1. The upstream is NIOHTTP1-based, so it parses
/// independently of the proxy's own framing; raw-socket clients control exactly which requests share a connection.
@Suite struct FaultProxyTests {
    @Test func passThroughRelaysSeveralRequestsOnOneKeepAliveConnection() async throws {
        try await withProxy { proxy in
            let connection = try RawHTTPConnection(port: proxy.port)
            let upload = randomBytes(100_000)
            let put = try await connection.request("PUT", "/bucket/a", body: upload)
            #expect(put.status == 200 && put.body == upload && put.headers["x-request-index"] == "0")
            let get = try await connection.request("GET", "/bytes/70000")
            #expect(get.body == patternBytes(70_000) && get.headers["x-request-index"] == "1")
            let chunkedUpload = randomBytes(5000)
            let post = try await connection.request("POST", "/bucket/b?uploads", body: chunkedUpload, chunkSize: 1024)
            #expect(post.body == chunkedUpload && post.headers["x-request-index"] == "2")
            #expect(proxy.stats.connectionsAccepted == 1)
            #expect(proxy.stats.requests == 3)
        }
    }

    @Test func pooledHTTPClientReusesItsConnection() async throws {
        try await withProxy { proxy in
            let session = URLSession(configuration: .ephemeral)
            defer { session.invalidateAndCancel() }
            for size in [10, 1000, 100_000] {
                let (data, response) = try await session.data(from: proxy.url("/bytes/\(size)"))
                #expect((response as? HTTPURLResponse)?.statusCode == 200)
                #expect(Array(data) == patternBytes(size))
            }
            #expect(proxy.stats.connectionsAccepted == 1)
        }
    }

    @Test func statusFaultAnswersWithS3ErrorThenPassThroughResumes() async throws {
        try await withProxy { proxy in
            proxy.inject(.status(503, code: "SlowDown"))
            let upload = randomBytes(10_000)
            let connection = try RawHTTPConnection(port: proxy.port)
            let refused = try await connection.request("PUT", "/bucket/key", body: upload)
            let xml = String(decoding: refused.body, as: UTF8.self)
            #expect(refused.status == 503 && refused.headers["connection"] == "close")
            #expect(xml.contains("<Code>SlowDown</Code>") && xml.contains("<RequestId>proxy-0</RequestId>"))
            let rest = try await connection.readUntilClosedTimed()
            #expect(rest.bytes.isEmpty)
            #expect(rest.waited < .milliseconds(900))  // closed once the body was read

            let retry = try await RawHTTPConnection(port: proxy.port).request("PUT", "/bucket/key", body: upload)
            #expect(retry.status == 200 && retry.body == upload)
            let stats = proxy.stats
            #expect(stats.faultsApplied == 1 && stats.faultsPending == 0 && stats.requests == 2)
            #expect(stats.seen.first?.fault == .status(503, code: "SlowDown"))
            #expect(stats.requestBodyBytesForwarded == Int64(upload.count))  // the refused body never went upstream
        }
    }

    @Test func resetFaultShowsTheClientAConnectionReset() async throws {
        try await withProxy { proxy in
            let upload = randomBytes(50_000)
            let request = RawHTTPConnection.requestBytes("PUT", "/bucket/key", body: upload)
            proxy.inject(.resetAfterRequestBytes(request.count - upload.count + 1000))
            let cutShort = try RawHTTPConnection(port: proxy.port)
            await #expect(throws: RawHTTPConnection.Failure.reset) {
                try await cutShort.send(request)
                _ = try await cutShort.readResponse()
            }
            #expect(proxy.stats.requestBodyBytesForwarded == 1000)

            // An allowance longer than the request: all of it reaches the server, the response never comes back.
            proxy.resetCounters()
            proxy.inject(.resetAfterRequestBytes(1_000_000))
            let forwardedWhole = try RawHTTPConnection(port: proxy.port)
            await #expect(throws: RawHTTPConnection.Failure.reset) { try await forwardedWhole.request("PUT", "/k", body: upload) }
            #expect(proxy.stats.requestBodyBytesForwarded == Int64(upload.count))
        }
    }

    @Test func stallOutlastsTheClientTimeout() async throws {
        try await withProxy { proxy in
            proxy.inject(.stall(seconds: 10))
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = 1
            let session = URLSession(configuration: configuration)
            defer { session.invalidateAndCancel() }
            let started = ContinuousClock.now
            do {
                _ = try await session.data(from: proxy.url("/bucket/key"))
                Issue.record("a stalled request must not get a response")
            } catch let error as URLError {
                #expect(error.code == .timedOut)
            }
            let waited = ContinuousClock.now - started
            #expect(waited >= .milliseconds(900) && waited < .seconds(10))
            let (data, _) = try await session.data(from: proxy.url("/bytes/10"))
            #expect(Array(data) == patternBytes(10))
        }
    }

    @Test func truncationCutsTheResponseShort() async throws {
        try await withProxy { proxy in
            proxy.inject(.truncateResponse(afterBytes: 100))
            let connection = try RawHTTPConnection(port: proxy.port)
            try await connection.send(RawHTTPConnection.requestBytes("GET", "/bytes/10000"))
            let received = try await connection.readUntilClosed()
            #expect(received.count == 100 && received.starts(with: Array("HTTP/1.1 200 OK".utf8)))

            proxy.inject(.truncateResponse(afterBytes: 500))
            await #expect(throws: RawHTTPConnection.Failure.closedEarly) {
                try await RawHTTPConnection(port: proxy.port).request("GET", "/bytes/10000")
            }
        }
    }

    @Test func stalledResponseHoldsTheConnectionUntilTheClientCloses() async throws {
        try await withProxy { proxy in
            proxy.inject(.stallResponse(afterBytes: 300))
            do {
                let connection = try RawHTTPConnection(port: proxy.port, receiveTimeoutSeconds: 1)
                try await connection.send(RawHTTPConnection.requestBytes("GET", "/bytes/100000"))
                await #expect(throws: RawHTTPConnection.Failure.timedOut) { try await connection.readUntilClosed() }
                #expect(proxy.stats.connectionsClosedByClient == 0)
                connection.close()
            }
            let deadline = ContinuousClock.now + .seconds(5)
            while proxy.stats.connectionsClosedByClient == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(proxy.stats.connectionsClosedByClient == 1)
            #expect(try await RawHTTPConnection(port: proxy.port).request("GET", "/bytes/1000").body.count == 1000)
        }
    }

    @Test func corruptionFlipsExactlyOneByteAndKeepsTheConnection() async throws {
        try await withProxy { proxy in
            let upload = randomBytes(4096)
            let connection = try RawHTTPConnection(port: proxy.port)
            proxy.inject(.corruptRequestBody(atOffset: 1234))
            let echoed = try await connection.request("PUT", "/bucket/a", body: upload).body
            #expect(differingOffsets(upload, echoed) == [1234])
            proxy.inject(.corruptRequestBody(atOffset: 2500))  // a payload offset: the chunk framing does not count
            let echoedChunked = try await connection.request("PUT", "/bucket/b", body: upload, chunkSize: 1000).body
            #expect(differingOffsets(upload, echoedChunked) == [2500])
            #expect(try await connection.request("PUT", "/bucket/c", body: upload).body == upload)
            #expect(proxy.stats.connectionsAccepted == 1)
        }
    }

    @Test func countersCountPayloadBytesPerRequest() async throws {
        try await withProxy { proxy in
            let connection = try RawHTTPConnection(port: proxy.port)
            _ = try await connection.request("PUT", "/bucket/a", body: randomBytes(777))
            _ = try await connection.request("GET", "/bytes/5000")
            // Byte by byte, so heads, size lines and chunk data all arrive split across reads.
            let chunked = try await connection.request(
                "POST", "/bucket/b?uploads", body: randomBytes(300), chunkSize: 100, oneByteAtATime: true)
            #expect(chunked.body.count == 300)
            _ = try await connection.request("PUT", "/bucket/empty", body: [])

            let stats = proxy.stats
            #expect(stats.requests == 4 && stats.requestBodyBytesForwarded == 1077 && stats.faultsApplied == 0)
            #expect(stats.seen.map(\.method) == ["PUT", "GET", "POST", "PUT"])
            let targets = ["/bucket/a", "/bytes/5000", "/bucket/b?uploads", "/bucket/empty"]
            #expect(stats.seen.map(\.pathAndQuery) == targets)
            #expect(stats.seen.map(\.bodyBytesForwarded) == [777, 0, 300, 0])
            #expect(stats.bodyBytesForwarded(method: "PUT") == 777)
            #expect(stats.requestsSeen(pathPrefix: "/bucket/").count == 3)

            proxy.resetCounters()
            let cleared = proxy.stats
            #expect(cleared.requests == 0 && cleared.requestBodyBytesForwarded == 0 && cleared.connectionsAccepted == 0)
        }
    }

    @Test func filtersAndQueueOrderPickTheFaultedRequests() async throws {
        try await withProxy { proxy in
            /// The statuses of these requests, each on a new connection (a `.status` fault closes its connection).
            func statuses(_ requests: [(method: String, path: String)]) async throws -> [Int] {
                var statuses: [Int] = []
                for (method, path) in requests {
                    let body: [UInt8]? = method == "PUT" ? [1, 2, 3] : nil
                    statuses.append(try await RawHTTPConnection(port: proxy.port).request(method, path, body: body).status)
                }
                return statuses
            }
            proxy.inject(.status(404, code: "NoSuchKey"), when: .methodAndPathContains("put", "/target"))
            let filtered = try await statuses([
                ("GET", "/bucket/target"), ("PUT", "/bucket/other"), ("PUT", "/bucket/target?partNumber=1"),
                ("PUT", "/bucket/target"),
            ])
            #expect(filtered == [200, 200, 404, 200])  // the last one found the fault used up

            proxy.inject(.status(500), count: 2)
            proxy.inject(.status(503))
            #expect(try await statuses([("GET", "/a"), ("GET", "/b"), ("GET", "/c"), ("GET", "/d")]) == [500, 500, 503, 200])

            proxy.inject(.status(500), count: 5)
            proxy.clearFaults()
            #expect(try await statuses([("GET", "/e")]) == [200])
            #expect(proxy.stats.faultsPending == 0 && proxy.stats.faultsApplied == 4)
        }
    }

    @Test func filterMatching() {
        #expect(RequestFilter.any.matches(method: "GET", pathAndQuery: "/"))
        #expect(RequestFilter.method("delete").matches(method: "DELETE", pathAndQuery: "/b/k"))
        #expect(!RequestFilter.method("PUT").matches(method: "POST", pathAndQuery: "/b/k"))
        #expect(RequestFilter.pathContains("uploadId=").matches(method: "PUT", pathAndQuery: "/b/k?uploadId=1"))
        #expect(!RequestFilter.methodAndPathContains("PUT", "/k").matches(method: "GET", pathAndQuery: "/b/k"))
    }

    @Test func stopClosesListenerAndConnectionsPromptly() async throws {
        let upstream = try await EchoUpstream.start()
        defer { upstream.stop() }
        let proxy = try await FaultProxy.start(upstreamPort: upstream.port)
        let idle = try RawHTTPConnection(port: proxy.port)
        _ = try await idle.request("GET", "/bytes/10")
        proxy.inject(.stall(seconds: 30))
        let stalled = try RawHTTPConnection(port: proxy.port)
        try await stalled.send(RawHTTPConnection.requestBytes("GET", "/bytes/10"))

        let started = ContinuousClock.now
        try await proxy.stop()
        #expect(ContinuousClock.now - started < .seconds(10), "stop waited for the 30 s stall")
        #expect(try await idle.readUntilClosed().isEmpty)
        // No response reached the stalled client (closed, reset, or nothing before its read timeout).
        #expect((try? await stalled.readUntilClosed())?.isEmpty ?? true)
        // Not checked: that the port now refuses connections; in a parallel suite another test's
        // server may already have bound it.
        try await proxy.stop()  // a second stop is harmless
    }
}

/// Runs `body` against a proxy in front of a fresh echo upstream, stopping both afterwards even when it throws.
private func withProxy(_ body: (FaultProxy) async throws -> Void) async throws {
    let upstream = try await EchoUpstream.start()
    defer { upstream.stop() }
    let proxy = try await FaultProxy.start(upstreamPort: upstream.port)
    do {
        try await body(proxy)
    } catch {
        try await proxy.stop()
        throw error
    }
    try await proxy.stop()
}

/// Whether the connection ended, orderly or by reset, without sending anything. A connection closed while its
/// request still sat unread in the kernel (say, not yet accepted from the backlog) ends with a reset.
extension FaultProxy {
    fileprivate func url(_ pathAndQuery: String) -> URL {
        URL(string: "http://127.0.0.1:\(port)\(pathAndQuery)")!
    }
}

private func randomBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { _ in UInt8.random(in: 0...255) }
}

/// What the echo upstream sends for `GET /bytes/N`: recognisable, so a shifted or cut body shows.
private func patternBytes(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 % 251) }
}

private func differingOffsets(_ expected: [UInt8], _ actual: [UInt8]) -> [Int] {
    guard expected.count == actual.count else { return [-1] }
    return expected.indices.filter { expected[$0] != actual[$0] }
}
