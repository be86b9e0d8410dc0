import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkiffCore

/// What `/api/v1/status/runtimeinfo` says about the last config load: the signal reloader's only
/// way to learn whether a SIGHUP took effect.
public struct PrometheusRuntimeInfo: Sendable, Equatable {
    /// Whether the last (re)load of the config succeeded.
    public let reloadConfigSuccess: Bool
    /// When the config was last loaded successfully. Prometheus derives it from a gauge holding
    /// whole seconds, so two loads within one second report the same time.
    public let lastConfigTime: Date

    public init(reloadConfigSuccess: Bool, lastConfigTime: Date) {
        self.reloadConfigSuccess = reloadConfigSuccess
        self.lastConfigTime = lastConfigTime
    }
}

extension PrometheusClient {
    /// POST `/-/reload` with an empty body, bounded by `timeout` (Prometheus answers once the
    /// reload is done, so a big config takes a while). A non-200 answer is an error worded as
    /// Thanos' reloader words it, with the start of Prometheus' reason (a config it refused says
    /// why there).
    public func reload(timeout: Duration) async throws(SkiffError) {
        let target = url + "/-/reload"
        var prepared = request(target, accept: "*/*")
        prepared.method = .POST
        prepared.body = .bytes(ByteBuffer())
        do {
            let response = try await http.execute(prepared, timeout: TimeAmount(timeout), logger: logger)
            guard response.status.code == 200 else {
                let body = await Self.snippet(response.body)
                throw SkiffError(
                    .prometheus,
                    "Prometheus at \(target): received non-200 response: \(response.status.code) \(response.status.reasonPhrase)"
                        + (body.isEmpty ? "" : " (\(body))") + "; have you set `--web.enable-lifecycle` Prometheus flag?",
                    context: .init(httpStatus: Int(response.status.code)))
            }
            _ = try? await response.body.collect(upTo: 1 << 20)
        } catch let error as SkiffError {
            throw error
        } catch {
            throw Self.classify(error, target: target, timeout: timeout)
        }
    }

    /// GET `/api/v1/status/runtimeinfo`: `reloadConfigSuccess` and `lastConfigTime` (RFC 3339).
    public func runtimeInfo(timeout: Duration) async throws(SkiffError) -> PrometheusRuntimeInfo {
        try await get("/api/v1/status/runtimeinfo", timeout: timeout) { answer in
            struct Raw: Decodable {
                let reloadConfigSuccess: Bool
                let lastConfigTime: String
            }
            let raw = try await Self.decodeSuccess(answer, as: Raw.self, what: "runtimeinfo")
            guard let time = Self.rfc3339(raw.lastConfigTime) else {
                throw SkiffError(
                    .prometheus, "the runtimeinfo answer has lastConfigTime \"\(raw.lastConfigTime)\", not an RFC 3339 time")
            }
            return PrometheusRuntimeInfo(reloadConfigSuccess: raw.reloadConfigSuccess, lastConfigTime: time)
        }
    }

    /// Go's `time.Time` JSON (RFC 3339, fractional seconds only when not whole).
    static func rfc3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
