import SkiffCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Env-driven fault injection for crash tests: `SKIFF_FAILPOINTS="after:chunks_uploaded=exit,before:upload:index=error"`.
///
/// Points the shipper hits (in order, per block): `after:stage`, `before:hashed`, `after:hashed`,
/// `before:upload:<rel_path>`, `after:upload:<rel_path>` (object written, ledger not yet told),
/// `after:record:<rel_path>`, `before:<state>` / `after:<state>` around every other transition
/// (`after` = the ledger commit is durable), `before:shipper_json`, `after:shipper_json`.
///
/// A pattern ending in `*` matches any point with that prefix. Actions:
/// - `exit`: SIGKILL this process at once (exactly what `kill -9` does: no cleanup, no flush);
/// - `error`: throw a transient injected error, as a failing bucket would;
/// - `sleep(MS)`: pause, so a test can kill the process at a chosen moment.
/// `@N` after the action fires only on the Nth matching hit (1-based), e.g. `after:upload:*=exit@3`.
public final class Failpoints: Sendable {
    enum Action: Equatable {
        case exit
        case error
        case sleep(milliseconds: Int)
    }

    struct Rule {
        let pattern: String
        let action: Action
        let onHit: Int?
    }

    private let rules: [Rule]
    private let hits: Mutex<[Int]>

    /// No failpoints: every `hit` is a no-op.
    public static let none = Failpoints(rules: [])

    private init(rules: [Rule]) {
        self.rules = rules
        self.hits = Mutex(Array(repeating: 0, count: rules.count))
    }

    /// Parses the `SKIFF_FAILPOINTS` syntax; an unparsable spec is a usage error, never ignored.
    public static func parse(_ spec: String) throws(SkiffError) -> Failpoints {
        var rules: [Rule] = []
        for item in spec.split(separator: ",").map({ $0.trimmingWhitespace() }) where !item.isEmpty {
            guard let eq = item.lastIndex(of: "=") else {
                throw SkiffError(.invalidArgument, "SKIFF_FAILPOINTS entry \"\(item)\" is not point=action")
            }
            let pattern = String(item[..<eq])
            var actionText = Substring(item[item.index(after: eq)...])
            var onHit: Int?
            if let at = actionText.lastIndex(of: "@") {
                guard let n = Int(actionText[actionText.index(after: at)...]), n >= 1 else {
                    throw SkiffError(.invalidArgument, "SKIFF_FAILPOINTS entry \"\(item)\": @N needs N >= 1")
                }
                onHit = n
                actionText = actionText[..<at]
            }
            let action: Action
            switch actionText {
            case "exit": action = .exit
            case "error": action = .error
            default:
                guard actionText.hasPrefix("sleep("), actionText.hasSuffix(")"),
                    let ms = Int(actionText.dropFirst(6).dropLast()), ms >= 0
                else {
                    throw SkiffError(
                        .invalidArgument, "SKIFF_FAILPOINTS entry \"\(item)\": action must be exit, error or sleep(MS)")
                }
                action = .sleep(milliseconds: ms)
            }
            rules.append(Rule(pattern: pattern, action: action, onHit: onHit))
        }
        return Failpoints(rules: rules)
    }

    /// Passes the named point, performing whatever a matching rule says.
    public func hit(_ point: String) async throws(SkiffError) {
        guard !rules.isEmpty else { return }
        for (i, rule) in rules.enumerated() where Self.matches(rule.pattern, point) {
            let count = hits.withLock { counts in
                counts[i] += 1
                return counts[i]
            }
            if let n = rule.onHit, n != count { continue }
            switch rule.action {
            case .exit:
                kill(getpid(), SIGKILL)
            case .error:
                throw SkiffError(.injected, "failpoint \(point) injected an error", transient: true)
            case .sleep(let ms):
                try? await Task.sleep(for: .milliseconds(ms))
            }
        }
    }

    static func matches(_ pattern: String, _ point: String) -> Bool {
        pattern.hasSuffix("*") ? point.hasPrefix(pattern.dropLast()) : pattern == point
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
