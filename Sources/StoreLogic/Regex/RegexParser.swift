/// A parser for the RE2 syntax Prometheus accepts (Go `regexp/syntax` with `Perl|DotNL`).
///
/// It exists so that patterns mean in Swift what they mean in Prometheus: it rejects what RE2
/// rejects (backreferences, lookarounds, `(?x)`, possessive `a*+`, repeat counts above 1000) and it
/// records RE2's meaning of `.`, `^`, `$`, `\d`, `\w`, `\s`, `\b` and POSIX classes, which are
/// ASCII or `\n`-only in RE2 but Unicode-aware in ICU. `RegexICU` then prints the tree as an ICU
/// pattern with those meanings spelled out.
struct RegexParser {
    let source: String
    let s: [Unicode.Scalar]
    var i = 0
    private var depth = 0

    static let maxRepeat = 1000
    /// Go refuses deeper nesting ("expression nests too deeply"); it also keeps recursion bounded.
    static let maxDepth = 1000

    static func parse(_ pattern: String, flags: RegexFlags = RegexFlags()) throws(RegexSyntaxError) -> RegexNode {
        var parser = RegexParser(source: pattern, s: Array(pattern.unicodeScalars))
        let node = try parser.parseAlternation(flags)
        if parser.i < parser.s.count { throw parser.error("unexpected )", from: 0) }
        return node
    }

    private init(source: String, s: [Unicode.Scalar]) {
        self.source = source
        self.s = s
    }

    // MARK: Structure

    /// Parses up to an unmatched `)` or the end. Flags set by `(?i)` last to the end of the
    /// enclosing group, across `|`, as in RE2.
    private mutating func parseAlternation(_ initial: RegexFlags) throws(RegexSyntaxError) -> RegexNode {
        var flags = initial
        var branches: [RegexNode] = []
        var items: [RegexNode] = []
        var lastRepeatStart: Int?  // where the previous token began, if it was a repetition operator
        while i < s.count, s[i] != ")" {
            let start = i
            let c = s[i]
            var isRepeat = false
            switch c {
            case "|":
                i += 1
                branches.append(Self.concat(items))
                items = []
            case "*", "+", "?":
                i += 1
                let (lo, hi): (Int, Int?) = c == "*" ? (0, nil) : c == "+" ? (1, nil) : (0, 1)
                try applyRepeat(&items, lo, hi, counted: false, from: start, previousRepeat: lastRepeatStart)
                isRepeat = true
            case "{":
                if let (lo, hi) = try parseRepeatCount() {
                    try applyRepeat(&items, lo, hi, counted: true, from: start, previousRepeat: lastRepeatStart)
                    isRepeat = true
                } else {
                    i += 1
                    items.append(.literal(c.value, foldCase: flags.foldCase))
                }
            case "(":
                if let node = try parseGroup(&flags) { items.append(node) }
            case "[":
                items.append(.charClass(try parseClass(flags)))
            case ".":
                i += 1
                items.append(.anyChar(matchesNewline: flags.dotMatchesNewline))
            case "^":
                i += 1
                items.append(flags.multiLine ? .beginLine : .beginText)
            case "$":
                i += 1
                items.append(flags.multiLine ? .endLine : .endText)
            case "\\":
                try parseEscape(flags, into: &items)
            default:
                i += 1
                items.append(.literal(c.value, foldCase: flags.foldCase))
            }
            lastRepeatStart = isRepeat ? start : nil
        }
        branches.append(Self.concat(items))
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    private static func concat(_ items: [RegexNode]) -> RegexNode {
        items.isEmpty ? .empty : items.count == 1 ? items[0] : .concat(items)
    }

    /// After `*`, `+`, `?` or `{n,m}`: an optional lazy `?` is consumed (it cannot change whether
    /// an anchored pattern matches); a second operator is RE2's "invalid nested repetition".
    private mutating func applyRepeat(
        _ items: inout [RegexNode], _ lo: Int, _ hi: Int?, counted: Bool, from start: Int, previousRepeat: Int?
    ) throws(RegexSyntaxError) {
        if i < s.count, s[i] == "?" { i += 1 }
        if let previousRepeat { throw error("invalid nested repetition operator", from: previousRepeat, to: i) }
        guard let last = items.popLast() else { throw error("missing argument to repetition operator", from: start, to: i) }
        let node = RegexNode.repetition(last, min: lo, max: hi, counted: counted)
        if counted, lo >= 2 || (hi ?? 0) >= 2, !Self.withinCopyLimit(node, Self.maxRepeat) {
            throw error("invalid repeat count", from: start, to: i)
        }
        items.append(node)
    }

    /// RE2's `repeatIsValid`: counted repetitions may not multiply to more than `n` copies.
    private static func withinCopyLimit(_ node: RegexNode, _ n: Int) -> Bool {
        var n = n
        switch node {
        case .repetition(let sub, let lo, let hi, let counted):
            if counted {
                let m = hi ?? lo
                if m > n { return false }
                if m > 0 { n /= m }
            }
            return withinCopyLimit(sub, n)
        case .concat(let parts), .alternate(let parts):
            return parts.allSatisfy { withinCopyLimit($0, n) }
        default:
            return true
        }
    }

    /// `{n}`, `{n,}` or `{n,m}`; nil (and nothing consumed) when the text is not a repeat, in
    /// which case RE2 treats `{` as a literal.
    private mutating func parseRepeatCount() throws(RegexSyntaxError) -> (Int, Int?)? {
        let start = i
        var j = i + 1
        // RE2 reads a number only without leading zeros ("{01}" is literal text).
        func number(_ j: inout Int) -> Int? {
            let from = j
            var v = 0
            while j < s.count, let d = Self.digitValue(s[j]) {
                if j > from, v == 0 { return nil }
                v = min(v * 10 + d, 100_000)
                j += 1
            }
            return j > from ? v : nil
        }
        guard let lo = number(&j) else { return nil }
        var hi: Int? = lo
        if j < s.count, s[j] == "," {
            j += 1
            hi = j < s.count && s[j] != "}" ? number(&j) : nil
            if hi == nil, j < s.count, s[j] != "}" { return nil }
        }
        guard j < s.count, s[j] == "}" else { return nil }
        i = j + 1
        if lo > Self.maxRepeat || (hi ?? 0) > Self.maxRepeat || (hi.map { $0 < lo } ?? false) {
            throw error("invalid repeat count", from: start)
        }
        return (lo, hi)
    }

    /// A group, or nil for a flags-only group such as `(?i)` (which updates `flags`).
    private mutating func parseGroup(_ flags: inout RegexFlags) throws(RegexSyntaxError) -> RegexNode? {
        let start = i
        guard depth < Self.maxDepth else { throw error("expression nests too deeply", from: 0) }
        i += 1
        var inner = flags
        if i < s.count, s[i] == "?" {
            i += 1
            if i < s.count, s[i] == "P" || s[i] == "<" {
                try parseCaptureName(from: start)
            } else {
                var negate = false
                var sawFlagAfterMinus = false
                loop: while i < s.count {
                    switch s[i] {
                    case "i": inner.foldCase = !negate
                    case "m": inner.multiLine = !negate
                    case "s": inner.dotMatchesNewline = !negate
                    case "U": break  // ungreedy: irrelevant for an anchored yes/no match
                    case "-":
                        if negate { break loop }
                        negate = true
                        i += 1
                        continue
                    case ")", ":": break loop
                    default: break loop
                    }
                    if negate { sawFlagAfterMinus = true }
                    i += 1
                }
                // RE2 accepts "(?)" and "(?:", but not a "-" with no flag after it.
                guard i < s.count, s[i] == ")" || s[i] == ":", !negate || sawFlagAfterMinus else {
                    throw error("invalid or unsupported Perl syntax", from: start, to: min(i + 1, s.count))
                }
                if s[i] == ")" {
                    i += 1
                    flags = inner
                    return nil
                }
                i += 1
            }
        }
        depth += 1
        let node = try parseAlternation(inner)
        depth -= 1
        guard i < s.count, s[i] == ")" else { throw error("missing closing )", from: 0) }
        i += 1
        return node
    }

    /// `(?P<name>` or `(?<name>`: a capture name of word characters, unique in the pattern.
    private mutating func parseCaptureName(from start: Int) throws(RegexSyntaxError) {
        if s[i] == "P" { i += 1 }
        guard i < s.count, s[i] == "<" else {
            throw error("invalid or unsupported Perl syntax", from: start, to: min(i + 1, s.count))
        }
        i += 1
        var name = ""
        while i < s.count, s[i] != ">" {
            name.unicodeScalars.append(s[i])
            i += 1
        }
        guard i < s.count else { throw error("invalid named capture", from: start) }
        i += 1
        let valid = !name.isEmpty && name.unicodeScalars.allSatisfy { Self.isAlnum($0) || $0 == "_" }
        // Go (unlike C++ RE2) does not reject a repeated name, so neither do we.
        guard valid else { throw error("invalid named capture", from: start, to: i) }
    }

    static func digitValue(_ c: Unicode.Scalar) -> Int? {
        c.value >= 0x30 && c.value <= 0x39 ? Int(c.value - 0x30) : nil
    }

    static func isAlnum(_ c: Unicode.Scalar) -> Bool {
        (c.value >= 0x30 && c.value <= 0x39) || (c.value | 0x20 >= 0x61 && c.value | 0x20 <= 0x7A)
    }

    func error(_ code: String, from start: Int, to end: Int? = nil) -> RegexSyntaxError {
        let end = end ?? s.count
        let text = start == 0 && end == s.count ? source : String(String.UnicodeScalarView(s[start..<max(start, end)]))
        return RegexSyntaxError(code: code, expression: text)
    }
}
