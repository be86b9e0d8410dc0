import SkiffCore
import Yams

/// A YAML mapping read strictly: unknown keys are errors naming the key, values are scalars.
package struct StrictMapping {
    private let values: [String: Node]
    private let source: String
    private let section: String?

    /// `node` must be a mapping (or absent/null: no keys) whose keys are all in `allowed`.
    /// `section` is nil for the top level, else the type whose `config:` this is.
    package init(_ node: Node?, in source: String, section: String?, allowed: [String]) throws(SkiffError) {
        self.source = source
        self.section = section
        let place = section == nil ? source : "the config section of \(source)"
        var values: [String: Node] = [:]
        switch node {
        case nil: break
        case let node? where node.null != nil: break  // "config:" with nothing after it
        case .mapping(let mapping)?:
            for (key, value) in mapping {
                guard let name = key.scalar?.string else {
                    throw SkiffError(.invalidArgument, "\(place) has a key that is not a string")
                }
                guard allowed.contains(name) else {
                    let supported = section.map { "\($0) supports" } ?? "supported"
                    throw SkiffError(
                        .invalidArgument,
                        "unknown key \"\(name)\" in \(source); \(supported): \(allowed.joined(separator: ", "))")
                }
                values[name] = value
            }
        default:
            throw SkiffError(
                .invalidArgument, "\(place) is not a YAML mapping; expected keys: \(allowed.joined(separator: ", "))")
        }
        self.values = values
    }

    package func node(_ key: String) -> Node? { values[key] }

    /// The scalar value of `key`, or nil when absent or null. Never echoes the value in errors.
    package func string(_ key: String) throws(SkiffError) -> String? {
        guard let node = values[key] else { return nil }
        guard let scalar = node.scalar else {
            let name = section == nil ? key : "config.\(key)"
            throw SkiffError(.invalidArgument, "\(name) in \(source) must be a single value, not a list or mapping")
        }
        return node.null != nil ? nil : scalar.string
    }
}

extension StrictMapping {
    /// The display name of `key` in messages: `config.key` inside a provider's section.
    private func displayName(_ key: String) -> String { "config.\(key)" }

    /// True when `key` is present with a non-null value (a mapping, list or scalar).
    package func isSet(_ key: String) throws(SkiffError) -> Bool {
        guard let node = node(key) else { return false }
        if node.null != nil { return false }
        if let scalar = node.scalar { return !scalar.string.isEmpty }
        return true
    }

    /// A YAML boolean (`true`/`false`, as Go's YAML reads them), or nil when absent.
    package func bool(_ key: String) throws(SkiffError) -> Bool? {
        guard let text = try string(key) else { return nil }
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw SkiffError(.invalidArgument, "\(displayName(key)) must be true or false")
        }
    }

    /// A whole number, or nil when absent.
    package func integer(_ key: String) throws(SkiffError) -> Int64? {
        guard let text = try string(key) else { return nil }
        guard let value = Int64(text) else {
            throw SkiffError(.invalidArgument, "\(displayName(key)) must be a whole number")
        }
        return value
    }

    /// A duration such as `90s` or `2m` (Prometheus model durations, as Thanos' configs use), in
    /// milliseconds, or nil when absent.
    package func duration(_ key: String) throws(SkiffError) -> Int64? {
        guard let text = try string(key) else { return nil }
        do throws(SkiffError) { return try GoDuration.parseMillis(text) } catch {
            throw SkiffError(.invalidArgument, "\(displayName(key)): \(error.message)")
        }
    }

    /// A mapping of strings to strings, or empty when absent.
    package func stringMap(_ key: String) throws(SkiffError) -> [String: String] {
        guard let node = node(key), node.null == nil else { return [:] }
        guard case .mapping(let mapping) = node else {
            throw SkiffError(.invalidArgument, "\(displayName(key)) must be a mapping of names to values")
        }
        var out: [String: String] = [:]
        for (name, value) in mapping {
            guard let name = name.scalar?.string, let value = value.scalar?.string else {
                throw SkiffError(.invalidArgument, "\(displayName(key)) must map names to single values")
            }
            out[name] = value
        }
        return out
    }
}
