import ConfigYAML
import FileIO
import FlagParsing
import Foundation
import SkiffCore

/// Thanos' `--X-file` / `--X` pairs (efficientgo's `PathOrContent`): a config given as a file
/// path or inline, never both; an empty value counts as unset, as there.
enum PathOrContent {
    /// The content, nil when neither flag is set. With `substituteEnvironment` every `$(NAME)` is
    /// replaced from the environment (objstore, tracing and request logging; not the Prometheus
    /// HTTP client), and an unset variable is an error naming it.
    static func read(
        _ flags: ParsedFlags, _ name: String, substituteEnvironment substitute: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SkiffError) -> String? {
        let path = flags.string("\(name)-file")
        let content = flags.string(name)
        let text: String
        switch (path.isEmpty, content.isEmpty) {
        case (false, false): throw bothSet(name)
        case (true, true): return nil
        case (true, false): text = content
        case (false, true):
            do throws(Errno) {
                text = String(decoding: try Posix.readAll(path), as: UTF8.self)
            } catch {
                let reason =
                    error.code == EFBIG
                    ? "it is larger than \(Posix.smallFileLimit >> 20) MiB, which no config file is" : error.reason
                throw SkiffError(.invalidArgument, "loading file --\(name)-file \(path): \(reason)")
            }
        }
        guard substitute else { return text }
        return try substituteEnvironment(text, environment, source: path.isEmpty ? "--\(name)" : "--\(name)-file \(path)")
    }

    /// Thanos' message, with which flag to drop.
    static func bothSet(_ name: String) -> SkiffError {
        SkiffError(.invalidArgument, "both \(name)-file and \(name) flags set: pass --\(name)-file or --\(name), not both")
    }
}
