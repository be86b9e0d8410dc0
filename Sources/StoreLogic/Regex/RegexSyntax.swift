/// A parsed RE2 expression, reduced to what deciding a full match needs: capture groups and
/// greediness (`?` suffix, `(?U)`) are dropped because they never change *whether* an anchored
/// pattern matches, only which submatch is reported.
indirect enum RegexNode: Equatable, Sendable {
    case empty
    /// One code point. Stored as UInt32 because RE2 accepts surrogate code points (`\x{D800}`),
    /// which can never match valid UTF-8 but are not a syntax error.
    case literal(UInt32, foldCase: Bool)
    case anyChar(matchesNewline: Bool)
    case charClass(RegexClass)
    case beginText, endText
    /// `^` and `$` under `(?m)`: RE2 only knows `\n` as a line end.
    case beginLine, endLine
    /// `\b` and `\B`, on ASCII word characters `[0-9A-Za-z_]` as in RE2.
    case wordBoundary(Bool)
    case concat([RegexNode])
    case alternate([RegexNode])
    /// `counted` for the `{n,m}` forms, which RE2 limits to 1000 copies through all nesting.
    case repetition(RegexNode, min: Int, max: Int?, counted: Bool)
}

/// A bracket or Perl class (`[a-z\d]`, `\W`, `\pL`).
struct RegexClass: Equatable, Sendable {
    enum Item: Equatable, Sendable {
        case range(UInt32, UInt32)
        /// `\pL`, `\p{Greek}`; negated for `\PL` and `\p{^Greek}`.
        case property(String, negated: Bool)
        case nested(RegexClass)
    }
    var negated = false
    var foldCase = false
    var items: [Item] = []
}

/// RE2 syntax error, worded like Go's `regexp/syntax` errors.
struct RegexSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    let code: String
    let expression: String
    var description: String { "error parsing regexp: \(code): `\(expression)`" }
}

/// Flags RE2 lets a pattern change with `(?flags)`; the Prometheus defaults are set by the parser.
struct RegexFlags: Equatable, Sendable {
    var foldCase = false  // i
    var multiLine = false  // m
    var dotMatchesNewline = true  // s (Prometheus 3 compiles with syntax.DotNL; 2.x did not)
}

/// ASCII tables RE2 uses for Perl and POSIX classes (RE2 keeps them ASCII-only, unlike ICU).
enum RegexTables {
    static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
    static let space: [ClosedRange<UInt32>] = [0x09...0x0A, 0x0C...0x0D, 0x20...0x20]
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]

    static let posix: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A],
        "alpha": [0x41...0x5A, 0x61...0x7A],
        "ascii": [0x00...0x7F],
        "blank": [0x09...0x09, 0x20...0x20],
        "cntrl": [0x00...0x1F, 0x7F...0x7F],
        "digit": [0x30...0x39],
        "graph": [0x21...0x7E],
        "lower": [0x61...0x7A],
        "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E],
        "space": [0x09...0x0D, 0x20...0x20],
        "upper": [0x41...0x5A],
        "word": [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A],
        "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]

    static func perl(_ letter: Unicode.Scalar) -> (ranges: [ClosedRange<UInt32>], negated: Bool)? {
        switch letter {
        case "d": (digit, false)
        case "D": (digit, true)
        case "s": (space, false)
        case "S": (space, true)
        case "w": (word, false)
        case "W": (word, true)
        default: nil
        }
    }
}
