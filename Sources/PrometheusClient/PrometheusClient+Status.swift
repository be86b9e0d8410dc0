import AsyncHTTPClient
import Foundation
import SkiffCore
import Yams

extension PrometheusClient {
    /// Status answers are small (the config is the largest: big scrape configs reach a few MB).
    static let statusBodyLimit = 16 << 20

    /// GET `/-/ready`: returns on 200; otherwise throws a transient error saying what happened
    /// (refused, timed out, or the status and body, e.g. 503 while the TSDB loads).
    public func checkReady(timeout: Duration) async throws(SkiffError) {
        try await get("/-/ready", accept: "*/*", timeout: timeout) { answer in
            guard answer.status == 200 else { throw await Self.refusal(answer, what: "readiness") }
        }
    }

    /// GET `/api/v1/status/config` and read only `global.external_labels` from `data.yaml`. The
    /// rest of the config is not decoded: Thanos' full decode broke on Prometheus 3's new fields.
    /// No `external_labels` gives an empty set.
    public func externalLabels(timeout: Duration) async throws(SkiffError) -> LabelSet {
        let yaml: String = try await get("/api/v1/status/config", timeout: timeout) { answer in
            struct Config: Decodable { let yaml: String }
            return try await Self.decodeSuccess(answer, as: Config.self, what: "config").yaml
        }
        return try Self.externalLabels(fromConfigYAML: yaml)
    }

    /// GET `/api/v1/status/flags`: every flag as a string ("2h", "true"). Nil on 404, which means
    /// a Prometheus too old to have the endpoint (Thanos then skips flag validation).
    public func flags(timeout: Duration) async throws(SkiffError) -> [String: String]? {
        try await get("/api/v1/status/flags", timeout: timeout) { answer in
            if answer.status == 404 { return nil }
            return try await Self.decodeSuccess(answer, as: [String: String].self, what: "flags")
        }
    }

    /// GET `/api/v1/status/buildinfo` → `data.version`; "0" on 404 or 405 (Prometheus before 2.14).
    public func version(timeout: Duration) async throws(SkiffError) -> String {
        try await get("/api/v1/status/buildinfo", timeout: timeout) { answer in
            if answer.status == 404 || answer.status == 405 { return "0" }
            struct BuildInfo: Decodable { let version: String }
            return try await Self.decodeSuccess(answer, as: BuildInfo.self, what: "buildinfo").version
        }
    }

    // MARK: - Decoding

    /// The `global.external_labels` mapping of a Prometheus config, nothing else.
    static func externalLabels(fromConfigYAML yaml: String) throws(SkiffError) -> LabelSet {
        func bad(_ why: String) -> SkiffError {
            SkiffError(.io, "the config Prometheus returned \(why)", transient: true)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw bad("is not valid YAML (\(error))")
        }
        guard let global = root?.mapping?["global"], global.null == nil else { return LabelSet() }
        guard let labels = global.mapping?["external_labels"], labels.null == nil else { return LabelSet() }
        guard let mapping = labels.mapping else { throw bad("has global.external_labels that is not a mapping") }
        var result: [Label] = []
        for (name, value) in mapping {
            guard let name = name.scalar?.string, let value = value.scalar?.string else {
                throw bad("has a global.external_labels entry that is not a string pair")
            }
            if let problem = LabelSet.externalNameProblem(name) {
                throw bad("has external labels Skiff cannot ship: \(problem); fix global.external_labels")
            }
            // An empty value is no label, as Prometheus itself reads it.
            if value.isEmpty { continue }
            result.append(Label(name: name, value: value))  // names byte-wise: "é" and "e\u{301}" differ
        }
        return LabelSet(result)
    }

    /// Prometheus' API envelope: `{"status":"success","data":...}`.
    struct Envelope<Data: Decodable>: Decodable {
        let status: String
        let data: Data?
        let error: String?
    }

    /// Decodes `data` of a 200 success answer; anything else is an error with the status and body.
    static func decodeSuccess<T: Decodable>(_ answer: Answer, as type: T.Type, what: String) async throws -> T {
        guard answer.status == 200 else { throw await refusal(answer, what: what) }
        let bytes = try await collect(answer.body, limit: statusBodyLimit, what: what)
        let envelope: Envelope<T>
        do {
            envelope = try JSONDecoder().decode(Envelope<T>.self, from: Data(bytes))
        } catch {
            throw SkiffError(.io, "the \(what) answer is not the expected JSON (\(error))", transient: true)
        }
        guard envelope.status == "success", let data = envelope.data else {
            throw SkiffError(.io, "the \(what) call failed: \(envelope.error ?? "status \(envelope.status)")", transient: true)
        }
        return data
    }

    /// A non-200 answer as an error, as Thanos words it ("got non-200 response code: N, response:
    /// body"). 401 and 403 are configuration problems (wrong credentials), not transient.
    static func refusal(_ answer: Answer, what: String) async -> SkiffError {
        let body = await snippet(answer.body)
        let message = "\(what): got non-200 response code: \(answer.status), response: \(body)"
        if answer.status == 401 || answer.status == 403 {
            return SkiffError(
                .invalidArgument, message + "; check basic_auth or bearer_token in --prometheus.http-client", transient: false)
        }
        return SkiffError(.io, message, transient: true)
    }
}
