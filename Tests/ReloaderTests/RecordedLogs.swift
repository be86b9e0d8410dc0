import Logging
import Synchronization

/// Keeps every message logged through `logger`, with its level and metadata, so a test can check
/// what an operator would read.
final class RecordedLogs: Sendable {
    struct Entry: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var logger: Logger {
        Logger(label: "reloader-test") { _ in Handler(logs: self) }
    }

    var all: [Entry] { entries.withLock { $0 } }

    func messages(at level: Logger.Level? = nil) -> [String] {
        all.filter { level == nil || $0.level == level }.map(\.message)
    }

    private struct Handler: LogHandler {
        let logs: RecordedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let entry = Entry(
                level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })
            logs.entries.withLock { $0.append(entry) }
        }
    }
}
