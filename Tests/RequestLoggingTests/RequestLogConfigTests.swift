import Logging
import RequestLogging
import SkiffCore
import Testing

/// Thanos' request logging rules (pkg/logging yaml_parser.go, grpc.go, http.go).
@Suite struct RequestLogConfigTests {
    func parse(_ yaml: String) throws -> RequestLogConfig? {
        try RequestLogConfig.parse(yaml, source: "--request.logging-config")
    }

    func refusal(_ yaml: String) -> String? {
        do {
            _ = try parse(yaml)
            return nil
        } catch { return (error as? SkiffError)?.message ?? "\(error)" }
    }

    @Test func globalOptionsApplyToBothAndAProtocolsOwnWin() throws {
        let config = try #require(
            try parse(
                """
                options:
                  level: DEBUG
                  decision: {log_start: false, log_end: true}
                grpc:
                  options:
                    level: ERROR
                    decision: {log_start: true, log_end: true}
                """))
        #expect(config.grpc == RequestLogPolicy(minimum: .error, logStart: true, allowlist: nil))
        #expect(config.http == RequestLogPolicy(minimum: .debug, logStart: false, allowlist: nil))
    }

    @Test func configListsAreExactAllowlists() throws {
        let config = try #require(
            try parse(
                """
                grpc:
                  config:
                    - service: thanos.Store
                      method: Info
                  options: {level: INFO, decision: {log_end: true}}
                http:
                  config:
                    - path: /-/ready
                      port: 10902
                  options: {level: DEBUG, decision: {log_end: true}}
                """))
        #expect(config.grpc?.logs("/thanos.Store/Info") == true)
        #expect(config.grpc?.logs("/thanos.Store/Series") == false)
        #expect(config.http?.logs("/-/ready:10902") == true)
        #expect(config.http?.logs("/metrics:10902") == false)
    }

    @Test func nothingIsLoggedWithoutLogEnd() throws {
        #expect(try parse("") == nil)
        let quiet = try #require(try parse("grpc:\n  options:\n    level: DEBUG\n"))
        #expect(quiet.grpc == nil && quiet.http == nil)
    }

    @Test func refusals() {
        #expect(refusal("grpc:\n  options:\n    decision: {log_end: true}\n")?.contains("level field is empty") == true)
        #expect(
            refusal("options:\n  level: LOUD\n  decision: {log_end: true}\n")?.contains(
                "Expected INFO/DEBUG/ERROR/WARNING, got this LOUD") == true)
        #expect(
            refusal("options:\n  level: INFO\n  decision: {log_start: true}\n")?.contains(
                "log decision combination is not supported") == true)
        #expect(refusal("grpc:\n  config:\n    - service: a\n      methd: b\n")?.contains("unknown key") == true)
        #expect(refusal("tracing: {}\n")?.contains("unknown key \"tracing\"") == true)
    }

    @Test func levelsFollowThanosMappings() {
        #expect(RequestLogPolicy.grpcLevel(code: 0) == .debug)
        #expect(RequestLogPolicy.grpcLevel(code: 5) == .debug)
        for code in [2, 12, 13, 15] { #expect(RequestLogPolicy.grpcLevel(code: code) == .error) }
        #expect(RequestLogPolicy.httpLevel(status: 200) == .debug)
        #expect(RequestLogPolicy.httpLevel(status: 404) == .debug)
        #expect(RequestLogPolicy.httpLevel(status: 503) == .error)
    }
}
