import SkiffCore
import Yams

/// One YAML mapping read the way Go's `yaml.UnmarshalStrict` reads a struct: an unknown key is an
/// error naming it, and a value of the wrong shape is an error naming its path. Messages never
/// quote a value, because the mapping may hold a password or a token.
struct StrictYAMLMapping {
    private let pairs: [String: Node]
    /// Dotted path of this mapping inside the document, e.g. `basic_auth.`; empty at the top.
    private let path: String

    /// Reads `node` as a mapping; nil or YAML null is an empty mapping (Go leaves the struct zero).
    init(_ node: Node?, path: String, allowed: Set<String>) throws(SkiffError) {
        self.path = path
        guard let node, node.null == nil else {
            pairs = [:]
            return
        }
        guard let mapping = node.mapping else { throw Self.fail("\(path.isEmpty ? "the document" : String(path.dropLast())) must be a mapping") }
        var pairs: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.scalar?.string else { throw Self.fail("\(path)<key> must be a plain string") }
            guard allowed.contains(name) else {
                throw Self.fail("unknown key \(path)\(name); known keys here: \(allowed.sorted().joined(separator: ", "))")
            }
            pairs[name] = value
        }
        self.pairs = pairs
    }

    /// The raw node of `key`, nil when absent or null.
    func node(_ key: String) -> Node? {
        guard let node = pairs[key], node.null == nil else { return nil }
        return node
    }

    /// A scalar as Go reads it into a string field (`1234` becomes "1234"); absent is nil.
    func string(_ key: String) throws(SkiffError) -> String? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else { throw Self.fail("\(path)\(key) must be a string") }
        return scalar.string
    }

    func bool(_ key: String) throws(SkiffError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard let value = node.bool else { throw Self.fail("\(path)\(key) must be true or false") }
        return value
    }

    func integer(_ key: String) throws(SkiffError) -> Int64? {
        guard let node = node(key) else { return nil }
        guard let text = node.scalar?.string, let value = Int64(text) else {
            throw Self.fail("\(path)\(key) must be an integer")
        }
        return value
    }

    /// Thanos v0.26 reads transport durations as integer nanoseconds; a Go duration string such as
    /// `90s` is accepted too, since newer configs and people write those. Returns milliseconds.
    func durationMillis(_ key: String) throws(SkiffError) -> Int64? {
        guard let node = node(key) else { return nil }
        guard let text = node.scalar?.string else { throw Self.fail("\(path)\(key) must be a duration") }
        if let nanos = Int64(text) {
            guard nanos >= 0 else { throw Self.fail("\(path)\(key) must not be negative") }
            return nanos / 1_000_000
        }
        do {
            return try GoDuration.parseMillis(text)
        } catch {
            throw Self.fail("\(path)\(key) must be integer nanoseconds or a duration such as 90s")
        }
    }

    /// Parses a whole document; syntax errors report the position and the problem only, never the
    /// offending line (Yams' own description quotes it, and it may be the password line).
    static func document(_ yaml: String) throws(SkiffError) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                throw fail("invalid YAML at line \(mark.line), column \(mark.column): \(problem)")
            case .duplicatedKeysInMapping:
                throw fail("invalid YAML: a key is repeated in a mapping")
            default:
                throw fail("invalid YAML")
            }
        } catch {
            throw fail("invalid YAML")
        }
    }

    static func fail(_ message: String) -> SkiffError {
        SkiffError(.invalidArgument, "--prometheus.http-client: \(message)", transient: false)
    }
}
