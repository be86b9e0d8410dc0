import ConfigYAML
import Foundation
import SkiffCore
import StoreLogic
import Yams

/// One Prometheus `relabel_config` entry, as Prometheus' `relabel.Config` reads and validates it
/// (defaults: separator ";", regex "(.*)", replacement "$1", action replace). Thanos' selector
/// flags (`--selector.relabel-config`) take a YAML list of them.
public struct RelabelConfig: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case replace, keep, drop, keepequal, dropequal, hashmod, labelmap, labeldrop, labelkeep, lowercase, uppercase
    }

    public let sourceLabels: [String]
    public let separator: String
    public let regex: RelabelRegex
    public let modulus: UInt64
    public let targetLabel: String
    public let replacement: String
    public let action: Action

    public init(
        sourceLabels: [String] = [], separator: String = ";", regex: String = "(.*)", modulus: UInt64 = 0,
        targetLabel: String = "", replacement: String = "$1", action: Action = .replace
    ) throws(SkiffError) {
        try self.init(
            sourceLabels: sourceLabels, separator: separator, regex: try RelabelRegex(regex, source: "relabel config"),
            modulus: modulus, targetLabel: targetLabel, replacement: replacement, action: action, source: "relabel config")
    }

    init(
        sourceLabels: [String], separator: String, regex: RelabelRegex, modulus: UInt64, targetLabel: String,
        replacement: String, action: Action, source: String
    ) throws(SkiffError) {
        self.sourceLabels = sourceLabels
        self.separator = separator
        self.regex = regex
        self.modulus = modulus
        self.targetLabel = targetLabel
        self.replacement = replacement
        self.action = action
        try validate(source: source)
    }

    /// Prometheus' `Config.Validate`: the fields each action needs, and no others where it says so.
    func validate(source: String) throws(SkiffError) {
        func fail(_ text: String) -> SkiffError { SkiffError(.invalidArgument, "\(source): \(text)", transient: false) }
        if action == .hashmod && modulus == 0 {
            throw fail("relabel configuration for hashmod requires non-zero modulus")
        }
        let needsTarget: Set<Action> = [.replace, .hashmod, .lowercase, .uppercase, .keepequal, .dropequal]
        if needsTarget.contains(action) && targetLabel.isEmpty {
            throw fail("relabel configuration for \(action.rawValue) action requires 'target_label' value")
        }
        if [.lowercase, .uppercase, .keepequal, .dropequal, .hashmod].contains(action) && targetLabel.contains("$") {
            throw fail("\"\(targetLabel)\" is invalid 'target_label' for \(action.rawValue) action")
        }
        if action == .labeldrop || action == .labelkeep {
            if !sourceLabels.isEmpty || !targetLabel.isEmpty || modulus != 0 || separator != ";" || replacement != "$1" {
                throw fail("\(action.rawValue) action requires only 'regex', and no other fields")
            }
        }
        if action == .keepequal || action == .dropequal {
            if regex.pattern != "(.*)" || modulus != 0 || separator != ";" || replacement != "$1" {
                throw fail("\(action.rawValue) action requires only 'source_labels' and `target_label`, and no other fields")
            }
        }
    }

    /// Parses a YAML list of relabel configs (an empty document is no rules). `allowed`, when
    /// given, is the set of actions the caller supports (Thanos' block selector: keep, drop,
    /// hashmod); another is refused naming it. `source` names the flag or file in messages.
    public static func parseList(
        yaml: String, source: String, allowed: Set<Action>? = nil
    ) throws(SkiffError) -> [RelabelConfig] {
        guard let root = try StrictMapping.document(yaml, source: source), root.null == nil else { return [] }
        guard case .sequence(let items) = root else {
            throw SkiffError(.invalidArgument, "\(source) must be a YAML list of relabel configs (- action: keep ...)")
        }
        var out: [RelabelConfig] = []
        for (index, item) in items.enumerated() {
            let place = "\(source): relabel config #\(index + 1)"
            let m = try StrictMapping(
                item, source: place,
                allowed: ["source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"])
            var sourceLabels: [String] = []
            if let node = m.node("source_labels") {
                guard case .sequence(let names) = node else { throw m.fail("source_labels must be a list of label names") }
                for name in names {
                    guard let text = name.scalar?.string else { throw m.fail("source_labels must be a list of label names") }
                    sourceLabels.append(text)
                }
            }
            let actionText = (try m.string("action") ?? "replace").lowercased()
            guard let action = Action(rawValue: actionText) else {
                throw m.fail("unknown relabel action \"\(actionText)\"")
            }
            if let allowed, !allowed.contains(action) {
                throw m.fail(
                    "unsupported relabel action: \(action.rawValue) (here: \(allowed.map(\.rawValue).sorted().joined(separator: ", ")))"
                )
            }
            let modulus = try m.integer("modulus") ?? 0
            guard modulus >= 0 else { throw m.fail("modulus must not be negative") }
            out.append(
                try RelabelConfig(
                    sourceLabels: sourceLabels, separator: try m.string("separator") ?? ";",
                    regex: try RelabelRegex(try m.string("regex") ?? "(.*)", source: place), modulus: UInt64(modulus),
                    targetLabel: try m.string("target_label") ?? "", replacement: try m.string("replacement") ?? "$1",
                    action: action, source: place))
        }
        return out
    }
}

/// A relabel regex: fully anchored as Prometheus anchors it (`^(?s:regex)$`). Its syntax is checked
/// as RE2 (Go's) by StoreLogic's parser, so a pattern Go refuses is refused here too; matching and
/// capture groups (for replace and labelmap) use ICU, which agrees with RE2 on the syntax RE2 accepts
/// apart from rare corners (Unicode class names).
public struct RelabelRegex: Sendable {
    public let pattern: String
    let compiled: NSRegularExpression

    public init(_ pattern: String, source: String) throws(SkiffError) {
        self.pattern = pattern
        do throws(MatcherError) {
            _ = try Matcher(.regexMatch, name: "regex", value: pattern)
        } catch {
            throw SkiffError(.invalidArgument, "\(source): regex \(GoQuote.quote(pattern)) is invalid: \(error.reason)")
        }
        // RE2's named groups (?P<name>...) are ICU's (?<name>...).
        let icu = pattern.replacingOccurrences(of: "(?P<", with: "(?<")
        do {
            compiled = try NSRegularExpression(pattern: "^(?:" + icu + ")$", options: [.dotMatchesLineSeparators])
        } catch {
            throw SkiffError(.invalidArgument, "\(source): regex \(GoQuote.quote(pattern)) is not supported here")
        }
    }

    public func matches(_ text: String) -> Bool {
        compiled.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count)) != nil
    }

    /// The match of the whole text, or nil.
    func match(_ text: String) -> NSTextCheckingResult? {
        compiled.firstMatch(in: text, range: NSRange(location: 0, length: text.utf16.count))
    }

    /// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}` (the longest run of letters, digits
    /// and underscores), `$$` for a dollar; an unknown group expands to nothing.
    func expand(_ template: String, _ text: String, _ match: NSTextCheckingResult) -> String {
        let source = text as NSString
        func group(_ name: String) -> String {
            let range: NSRange
            if let number = Int(name), name.allSatisfy(\.isASCII) {
                guard number < match.numberOfRanges else { return "" }
                range = match.range(at: number)
            } else {
                range = match.range(withName: name)
            }
            return range.location == NSNotFound ? "" : source.substring(with: range)
        }
        var out = ""
        var rest = Substring(template)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            if rest.first == "$" {
                out += "$"
                rest = rest.dropFirst()
            } else if rest.first == "{", let close = rest.firstIndex(of: "}") {
                let name = rest[rest.index(after: rest.startIndex)..<close]
                if !name.isEmpty && name.allSatisfy(Self.isNameCharacter) {
                    out += group(String(name))
                    rest = rest[rest.index(after: close)...]
                } else {
                    out += "$"  // not a valid reference: Go keeps the dollar as written
                }
            } else {
                let name = rest.prefix(while: Self.isNameCharacter)
                if name.isEmpty {
                    out += "$"
                } else {
                    out += group(String(name))
                    rest = rest.dropFirst(name.count)
                }
            }
        }
        return out + rest
    }

    private static func isNameCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
}
