import Foundation

/// Prints a parsed RE2 tree as an ICU pattern (NSRegularExpression) with RE2's meaning spelled out.
///
/// Nothing is left to ICU's own flags: `.` becomes `[^\n]` or the full code-point range, `^`/`$`
/// become `\A`/`\z` or `\n`-based lookarounds, `\d \w \s \b` and POSIX classes become ASCII sets,
/// and every literal is written as `\x{…}` so no character can be special to ICU. Only `(?i)` is
/// passed through (as `(?i:…)`), and Unicode properties as `\p{…}`.
enum RegexICU {
    static func pattern(for node: RegexNode) -> String {
        var out = "\\A(?:"
        emit(node, into: &out)
        out += ")\\z"
        return out
    }

    /// True if ICU accepts `\p{name}` (checked once per matcher, at compile time).
    static func knowsProperty(_ name: String) -> Bool {
        (try? NSRegularExpression(pattern: "\\p{\(name)}")) != nil
    }

    private static let wordSet = "[0-9A-Za-z_]"

    private static func emit(_ node: RegexNode, into out: inout String) {
        switch node {
        case .empty:
            break
        case .literal(let c, let fold):
            // A one-element set: ICU folds a bare (?i) literal fully ("ß" matches "ss"), a set
            // only simply, which is RE2's rule.
            out += fold ? "(?i:[\(escape(c))])" : escape(c)
        case .anyChar(let nl):
            out += nl ? "[\\x{0}-\\x{10FFFF}]" : "[^\\x{A}]"
        case .charClass(let cls):
            emit(cls, into: &out)
        case .beginText:
            out += "\\A"
        case .endText:
            out += "\\z"
        case .beginLine:
            out += "(?:\\A|(?<=\\x{A}))"
        case .endLine:
            out += "(?=\\x{A}|\\z)"
        case .wordBoundary(let yes):
            let w = wordSet
            out +=
                yes
                ? "(?:(?<=\(w))(?!\(w))|(?<!\(w))(?=\(w)))"
                : "(?:(?<=\(w))(?=\(w))|(?<!\(w))(?!\(w)))"
        case .concat(let nodes):
            for n in nodes { emit(n, into: &out) }
        case .alternate(let nodes):
            out += "(?:"
            for (k, n) in nodes.enumerated() {
                if k > 0 { out += "|" }
                emit(n, into: &out)
            }
            out += ")"
        case .repetition(let sub, let lo, let hi, _):
            out += "(?:"
            emit(sub, into: &out)
            out += ")"
            switch (lo, hi) {
            case (0, nil): out += "*"
            case (1, nil): out += "+"
            case (0, 1): out += "?"
            case (_, nil): out += "{\(lo),}"
            case (_, let hi?): out += lo == hi ? "{\(lo)}" : "{\(lo),\(hi)}"
            }
        }
    }

    private static func emit(_ cls: RegexClass, into out: inout String) {
        if cls.foldCase { out += "(?i:" }
        emitSet(cls, into: &out)
        if cls.foldCase { out += ")" }
    }

    private static func emitSet(_ cls: RegexClass, into out: inout String) {
        out += cls.negated ? "[^" : "["
        for item in cls.items {
            switch item {
            case .range(let lo, let hi):
                out += lo == hi ? escape(lo) : "\(escape(lo))-\(escape(hi))"
            case .property(let name, let negated):
                out += negated ? "\\P{\(name)}" : "\\p{\(name)}"
            case .nested(let inner):
                emitSet(inner, into: &out)
            }
        }
        out += "]"
    }

    private static func escape(_ c: UInt32) -> String { "\\x{" + String(c, radix: 16) + "}" }
}

/// A compiled ICU regex. NSRegularExpression is immutable and documented thread-safe.
struct ICURegex: Sendable {
    let regex: NSRegularExpression

    init(_ node: RegexNode) throws(RegexSyntaxError) {
        let pattern = RegexICU.pattern(for: node)
        do {
            regex = try NSRegularExpression(pattern: pattern)
        } catch {
            // Reached for names RE2 knows but ICU does not (rare Unicode property aliases).
            throw RegexSyntaxError(code: "unsupported by the ICU engine", expression: pattern)
        }
    }

    func matches(_ s: String) -> Bool {
        let range = NSRange(location: 0, length: s.utf16.count)
        return regex.firstMatch(in: s, options: [], range: range) != nil
    }
}
