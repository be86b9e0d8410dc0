import SkiffCore
import Yams

/// One YAML mapping read the way Go's `yaml.UnmarshalStrict` (yaml.v2, which Thanos uses) reads a
/// struct: an unknown key is an error naming it, and a value of the wrong shape is an error naming
/// its path. The one strict reader for every config Skiff reads: the objstore YAML, S3's `config`
/// and `--prometheus.http-client`.
///
/// Every message has the form `<source>: <what>`: it names the file or flag (`source`), the key by
/// its dotted path from the top (`config.http_config.idle_conn_timeout`) and what is allowed. It
/// never quotes a value, since the mapping may hold a password, a secret key or a token.
package struct StrictMapping {
    private let values: [String: Node]
    /// The file or flag, e.g. `bucket config /etc/objstore.yml` or `--prometheus.http-client`.
    package let source: String
    /// The dotted path of this mapping from the top, ending in "." (`config.`); empty at the top.
    package let path: String

    /// `node` must be a mapping (or absent/null: no keys) whose keys are all in `allowed`.
    package init(_ node: Node?, source: String, path: String = "", allowed: [String]) throws(SkiffError) {
        self.source = source
        self.path = path
        let place = path.isEmpty ? "the document" : String(path.dropLast())
        var values: [String: Node] = [:]
        switch node {
        case nil: break
        case let node? where node.null != nil: break  // "config:" with nothing after it
        case .mapping(let mapping)?:
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    throw Self.fail(source, "\(place) has a key that is not a plain string")
                }
                guard allowed.contains(name) else {
                    throw Self.fail(source, "unknown key \"\(path)\(name)\"; allowed here: \(allowed.joined(separator: ", "))")
                }
                values[name] = value
            }
        default:
            throw Self.fail(source, "\(place) must be a YAML mapping with keys: \(allowed.joined(separator: ", "))")
        }
        self.values = values
    }

    /// The mapping under `key` (empty when absent or null), read strictly with its own keys.
    package func mapping(_ key: String, allowed: [String]) throws(SkiffError) -> StrictMapping {
        try StrictMapping(values[key], source: source, path: "\(path)\(key).", allowed: allowed)
    }

    /// The raw node of `key`, nil when absent or null (Go leaves the field zero).
    package func node(_ key: String) -> Node? {
        guard let node = values[key], node.null == nil else { return nil }
        return node
    }

    /// The dotted path of `key` for messages: `config.key` inside the objstore's `config:`.
    package func name(_ key: String) -> String { path + key }

    /// An error about this mapping's file or flag: `<source>: <message>`.
    package func fail(_ message: String) -> SkiffError { Self.fail(source, message) }

    static func fail(_ source: String, _ message: String) -> SkiffError {
        SkiffError(.invalidArgument, "\(source): \(message)", transient: false)
    }

    /// A scalar as Go reads it into a string field (`1234` becomes "1234"); nil when absent or null.
    package func string(_ key: String) throws(SkiffError) -> String? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else {
            throw fail("\(name(key)) must be a single value, not a list or mapping")
        }
        return scalar.string
    }

    /// True when `key` is present with a non-empty value (a mapping, list or scalar).
    package func isSet(_ key: String) -> Bool {
        guard let node = node(key) else { return false }
        if let scalar = node.scalar { return !scalar.string.isEmpty }
        return true
    }

    /// A boolean as yaml.v2 reads one into a Go `bool`: a plain (unquoted) scalar among y, yes,
    /// true, on and n, no, false, off, each lower case, capitalised or upper case (`Yes`, `YES`;
    /// not `yEs`). A quoted `"true"` is a string, which yaml.v2 refuses for a bool, and so does this.
    package func bool(_ key: String) throws(SkiffError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar, scalar.style == .plain, let value = Self.goBooleans[scalar.string] else {
            throw fail("\(name(key)) must be true or false")
        }
        return value
    }

    /// yaml.v2's `resolve.go` table of booleans.
    static let goBooleans: [String: Bool] = {
        var table: [String: Bool] = [:]
        for (words, value) in [(["y", "yes", "true", "on"], true), (["n", "no", "false", "off"], false)] {
            for word in words {
                for variant in [word, word.prefix(1).uppercased() + word.dropFirst(), word.uppercased()] {
                    table[variant] = value
                }
            }
        }
        return table
    }()

    /// A whole number, or nil when absent.
    package func integer(_ key: String) throws(SkiffError) -> Int64? {
        guard let text = try string(key) else { return nil }
        guard let value = Int64(text) else { throw fail("\(name(key)) must be a whole number") }
        return value
    }

    /// A duration in milliseconds, or nil when absent: integer nanoseconds or a duration string
    /// such as `90s`, `1m30s` or `2d`.
    ///
    /// Both forms everywhere, because Thanos reads the same keys both ways: its clientconfig
    /// `TransportConfig` (`--prometheus.http-client`) has `time.Duration` fields, which yaml.v2
    /// fills from an integer (nanoseconds) or a Go duration string, while objstore's S3
    /// `http_config` has `model.Duration` fields, which take a duration string. A config copied
    /// from one to the other works here either way.
    package func duration(_ key: String) throws(SkiffError) -> Int64? {
        guard let text = try string(key) else { return nil }
        if let nanos = Int64(text) {
            guard nanos >= 0 else { throw fail("\(name(key)) must not be negative") }
            return nanos / 1_000_000
        }
        do throws(SkiffError) { return try GoDuration.parseMillis(text) } catch {
            // GoDuration's own message quotes the text; this one must not.
            throw fail("\(name(key)) must be a duration such as 500ms, 90s or 2m, or integer nanoseconds")
        }
    }

    /// A mapping of strings to strings, or empty when absent.
    package func stringMap(_ key: String) throws(SkiffError) -> [String: String] {
        guard let node = node(key) else { return [:] }
        guard case .mapping(let mapping) = node else {
            throw fail("\(name(key)) must be a mapping of names to values")
        }
        var out: [String: String] = [:]
        for (entry, value) in mapping {
            guard let entry = entry.scalar?.string, let value = value.scalar?.string else {
                throw fail("\(name(key)) must map names to single values")
            }
            out[entry] = value
        }
        return out
    }

    /// Parses a whole document: its root node, or nil for an empty (or comments-only) one. Syntax
    /// errors carry the position and libyaml's problem only, never Yams' snippet of the offending
    /// line, which may be the password line.
    package static func document(_ yaml: String, source: String) throws(SkiffError) -> Node? {
        do {
            return try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            let detail: String
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                detail = "\(problem) at line \(mark.line), column \(mark.column)"
            case .duplicatedKeysInMapping(let duplicates, _):
                detail = "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))"
            case .reader(let problem, _, _, _):
                detail = problem
            default:
                detail = "cannot parse it"
            }
            throw SkiffError(.invalidArgument, "\(source) is not valid YAML: \(detail)", transient: false)
        } catch {
            throw SkiffError(.invalidArgument, "\(source) is not valid YAML", transient: false)
        }
    }
}
