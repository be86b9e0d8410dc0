import SkiffCore

/// How a matcher compares. Raw values are the wire values of Thanos' `storepb.LabelMatcher.Type`
/// and Prometheus' `prompb.LabelMatcher.Type` (EQ, NEQ, RE, NRE).
public enum MatchType: Int, Sendable, Hashable, CustomStringConvertible {
    case equal = 0
    case notEqual = 1
    case regexMatch = 2
    case regexNoMatch = 3

    /// `=`, `!=`, `=~`, `!~` as PromQL writes them.
    public var description: String {
        switch self {
        case .equal: "="
        case .notEqual: "!="
        case .regexMatch: "=~"
        case .regexNoMatch: "!~"
        }
    }
}

/// A label matcher (`job="api"`, `instance=~"10\\..*"`), evaluated like Prometheus evaluates it.
///
/// - Equality is byte-wise, like Go's `==` on strings.
/// - A missing label counts as the empty value: `foo=""` matches a series without `foo`, and
///   `foo!=""` requires it (`matches(_ labels:)`).
/// - Regexes use RE2 syntax and are fully anchored, as Prometheus 3 compiles them:
///   `^(?s:re)$`, so `.` also matches `\n` (Prometheus 2.x used `^(?:re)$`; only values containing
///   a newline see the difference). They are parsed once, at init, by `RegexParser`, which accepts
///   and rejects what Go's `regexp/syntax` does. Common shapes (literals, `a|b|c`, `.*`, `.+`,
///   `foo.*`, `.*foo`, `.*foo.*`) are matched without a regex engine; the rest runs on ICU
///   (NSRegularExpression) with RE2's meaning spelled out by `RegexICU`: `.`, `^`, `$`, `\b`,
///   `\d \s \w` and POSIX classes as in RE2 (ASCII, `\n` as the only line end), simple case
///   folding for `(?i)`. `RegexGoParityTests` checks 570 patterns against Go's own answers.
///
/// Known differences from Go that remain:
/// - ICU backtracks, so a pathological pattern such as `(a*)*b` can take exponential time in the
///   length of the value, where RE2 is linear. Values matched here are label values (short).
/// - `\pX`/`\p{Name}` use ICU's Unicode tables and names: ICU accepts extra names (binary
///   properties such as `Alphabetic`, blocks), and tables can differ for characters new in one of
///   the two Unicode versions.
/// - `(?<name>…)` is accepted, as in Go 1.22+ (older Go rejected it).
/// - The nesting limit is counted on groups (1000), not on Go's internal tree height, so a
///   pattern nested close to 1000 levels can be accepted here and refused by Go.
/// - Invalid UTF-8 cannot occur: Swift strings hold valid UTF-8 (bad input is repaired to U+FFFD
///   when decoded, and Go's regexp also reads a bad byte as U+FFFD).
public struct Matcher: Sendable, Hashable, CustomStringConvertible {
    public let type: MatchType
    public let name: String
    public let value: String
    private let regex: CompiledRegex?

    /// Builds a matcher; for regex types the pattern is parsed and compiled here, once.
    /// - Throws: `MatcherError` naming the matcher when the regex is not valid RE2.
    public init(_ type: MatchType, name: String, value: String) throws(MatcherError) {
        self.type = type
        self.name = name
        self.value = value
        switch type {
        case .equal, .notEqual:
            regex = nil
        case .regexMatch, .regexNoMatch:
            do {
                regex = try CompiledRegex(value)
            } catch {
                throw MatcherError(matcher: Self.describe(type, name, value), reason: error.description)
            }
        }
    }

    /// True if a label with this value satisfies the matcher.
    public func matches(_ value: String) -> Bool {
        switch type {
        case .equal: ByteOrder.equal(value, self.value)
        case .notEqual: !ByteOrder.equal(value, self.value)
        case .regexMatch: regex!.matches(value)
        case .regexNoMatch: !regex!.matches(value)
        }
    }

    /// True if the series satisfies the matcher; an absent label is the empty value.
    public func matches(_ labels: LabelSet) -> Bool { matches(labels[name] ?? "") }

    /// `name="value"` as Prometheus' `Matcher.String()` prints it (the `match[]` building block).
    public var description: String { Self.describe(type, name, value) }

    private static func describe(_ type: MatchType, _ name: String, _ value: String) -> String {
        let printedName = MatchSelector.isBareName(name) ? name : GoQuote.quote(name)
        return printedName + type.description + GoQuote.quote(value)
    }

    public static func == (a: Matcher, b: Matcher) -> Bool {
        a.type == b.type && ByteOrder.equal(a.name, b.name) && ByteOrder.equal(a.value, b.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(name)
        hasher.combine(value)
    }
}

/// A matcher that cannot be built, such as a regex that is not valid RE2.
public struct MatcherError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The matcher as PromQL prints it, e.g. `job=~"("`.
    public let matcher: String
    public let reason: String
    public var description: String { "invalid matcher \(matcher): \(reason)" }
}

/// A regex parsed once and matched by the cheapest means that keeps RE2's meaning.
private struct CompiledRegex: Sendable {
    private let fast: RegexFastPath?
    private let icu: ICURegex?

    init(_ pattern: String) throws(RegexSyntaxError) {
        let node = try RegexParser.parse(pattern)
        fast = RegexFastPath(node)
        icu = fast == nil ? try ICURegex(node) : nil
    }

    func matches(_ s: String) -> Bool { fast?.matches(s) ?? icu!.matches(s) }
}
