import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import StoreProto
import TestSupport
import Testing

/// `thanos.Query` on a running `skiff sidecar`'s --grpc-address, beside the StoreAPI.
@Suite(.serialized, .needs(.prometheus, .curl, .openssl)) struct QueryAPIGRPCTests {
    @Test func queryIsServedOnTheGRPCAddress() async throws {
        try await StoreAPITests.withWorld { world in
            _ = try await StoreAPITests.waitForInfo(port: world.grpcPort)
            let transport = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: world.grpcPort), transportSecurity: .plaintext)
            let frames = try await withGRPCClient(transport: transport) { client in
                try await Thanos_Query.Client(wrapping: client).query(
                    .with {
                        $0.query = "count by (cluster) (up)"
                        $0.timeSeconds = StoreAPITests.end / 1000
                    }
                ) { response in
                    var out: [Thanos_QueryResponse.OneOf_Result] = []
                    for try await message in response.messages { if let r = message.result { out.append(r) } }
                    return out
                }
            }
            #expect(frames.count == 2, "\(frames)")
            guard case .timeseries(let series)? = frames.first else {
                Issue.record("no series frame: \(frames)")
                return
            }
            #expect(series.labels.map { "\($0.name)=\($0.value)" } == ["cluster=test"])
            if case .stats? = frames.last {} else { Issue.record("no final stats frame: \(frames)") }
        }
    }
}
