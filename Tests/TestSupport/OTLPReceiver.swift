import Foundation

/// A small OTLP/HTTP receiver on 127.0.0.1 (Tests/Companions/otlp_receiver.py, standard library
/// only) for the tracing tests: every export's body, decompressed, lands in one file. Protobuf
/// keeps strings as plain UTF-8, so span and service names can be looked for in the bytes.
public final class OTLPReceiver: Sendable {
    public let port: Int
    private let file: String
    private let process: Process

    /// Needs `ExternalProgram.python3`.
    public init(directory: TempDir) throws {
        port = try HTTPProbe.freePort()
        file = directory.sub("otlp-received.bin")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Companions/otlp_receiver.py").path
        process = Process()
        process.executableURL = URL(fileURLWithPath: try ExternalProgram.python3.path())
        process.arguments = [script, "\(port)", file]
        try process.run()
    }

    /// What has been received so far, as text (binary fields show as noise).
    public var received: String { String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self) }

    /// SIGKILL: a test process that handles SIGTERM passes it on ignored.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The `--tracing.config` content that exports to this receiver over HTTP.
    public func tracingConfig(serviceName: String) -> String {
        """
        type: OTLP
        config:
          client_type: http
          insecure: true
          endpoint: 127.0.0.1:\(port)
          service_name: \(serviceName)
          sampler_type: alwayssample
        """
    }
}
