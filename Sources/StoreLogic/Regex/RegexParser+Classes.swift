/// Escapes and bracket classes, with RE2's ASCII meaning of `\d \s \w` and `[:name:]`.
extension RegexParser {
    mutating func parseEscape(_ flags: RegexFlags, into items: inout [RegexNode]) throws(RegexSyntaxError) {
        guard i + 1 < s.count else { throw error("trailing backslash at end of expression", from: s.count) }
        let c = s[i + 1]
        switch c {
        case "A":
            i += 2
            items.append(.beginText)
        case "z":
            i += 2
            items.append(.endText)
        case "b":
            i += 2
            items.append(.wordBoundary(true))
        case "B":
            i += 2
            items.append(.wordBoundary(false))
        case "Q":
            // \Q…\E: everything up to \E (or the end) is literal, one literal per character.
            i += 2
            while i < s.count {
                if s[i] == "\\", i + 1 < s.count, s[i + 1] == "E" {
                    i += 2
                    break
                }
                items.append(.literal(s[i].value, foldCase: flags.foldCase))
                i += 1
            }
        case "d", "D", "s", "S", "w", "W", "p", "P":
            var cls = RegexClass(foldCase: flags.foldCase)
            try parseClassEscape(into: &cls)
            items.append(.charClass(cls))
        default:
            items.append(.literal(try parseCharEscape(), foldCase: flags.foldCase))
        }
    }

    /// A single-character escape (`\n`, `\x41`, `\x{1F600}`, `\101`, `\.`), inside or outside a class.
    mutating func parseCharEscape() throws(RegexSyntaxError) -> UInt32 {
        let start = i
        i += 1
        guard i < s.count else { throw error("trailing backslash at end of expression", from: s.count) }
        let c = s[i]
        i += 1
        switch c {
        case "a": return 7
        case "f": return 12
        case "n": return 10
        case "r": return 13
        case "t": return 9
        case "v": return 11
        case "0"..."7":
            // A lone non-zero digit would be a backreference, which RE2 does not support.
            if c != "0", !(i < s.count && ("0"..."7").contains(s[i])) { break }
            var v = c.value - 0x30
            for _ in 0..<2 where i < s.count && ("0"..."7").contains(s[i]) {
                v = v * 8 + s[i].value - 0x30
                i += 1
            }
            return v
        case "x":
            return try parseHexEscape(from: start)
        default:
            if c.isASCII, !Self.isAlnum(c) {
                return c.value  // an escaped punctuation character stands for itself
            }
        }
        throw error("invalid escape sequence", from: start, to: i)
    }

    mutating func parseHexEscape(from start: Int) throws(RegexSyntaxError) -> UInt32 {
        func hexDigit(_ c: Unicode.Scalar) -> UInt32? { c.isASCII ? UInt32(String(c), radix: 16) : nil }
        if i < s.count, s[i] == "{" {
            i += 1
            var v: UInt32 = 0
            var n = 0
            while i < s.count, let d = hexDigit(s[i]) {
                v = min(v * 16 + d, 0x11_0000)
                i += 1
                n += 1
            }
            guard n > 0, i < s.count, s[i] == "}", v <= 0x10_FFFF else {
                throw error("invalid escape sequence", from: start, to: i)
            }
            i += 1
            return v
        }
        guard i + 1 < s.count, let hi = hexDigit(s[i]), let lo = hexDigit(s[i + 1]) else {
            throw error("invalid escape sequence", from: start, to: min(i + 2, s.count))
        }
        i += 2
        return hi * 16 + lo
    }

    /// `\d \D \s \S \w \W` and `\pL \p{Name} \p{^Name} \PL`, added to `cls`.
    mutating func parseClassEscape(into cls: inout RegexClass) throws(RegexSyntaxError) {
        let start = i
        let c = s[i + 1]
        i += 2
        if let (ranges, negated) = RegexTables.perl(c) {
            let items = ranges.map { RegexClass.Item.range($0.lowerBound, $0.upperBound) }
            if negated {
                cls.items.append(.nested(RegexClass(negated: true, items: items)))
            } else {
                cls.items.append(contentsOf: items)
            }
            return
        }
        var name = ""
        var negated = c == "P"
        if i < s.count, s[i] == "{" {
            i += 1
            while i < s.count, s[i] != "}" {
                name.unicodeScalars.append(s[i])
                i += 1
            }
            guard i < s.count else { throw error("invalid character class range", from: start, to: s.count) }
            i += 1
        } else if i < s.count {
            name = String(s[i])
            i += 1
        }
        if name.hasPrefix("^") {
            negated.toggle()
            name.removeFirst()
        }
        // Names are checked against ICU's tables, which run the match (see `Matcher` on the
        // names ICU knows beyond Go's categories and scripts).
        let valid = !name.isEmpty && name.unicodeScalars.allSatisfy { Self.isAlnum($0) || $0 == "_" }
        guard valid, RegexICU.knowsProperty(name) else { throw error("invalid character class range", from: start, to: i) }
        cls.items.append(.property(name, negated: negated))
    }

    mutating func parseClass(_ flags: RegexFlags) throws(RegexSyntaxError) -> RegexClass {
        let start = i
        i += 1
        var cls = RegexClass(foldCase: flags.foldCase)
        if i < s.count, s[i] == "^" {
            cls.negated = true
            i += 1
        }
        var first = true
        while true {
            guard i < s.count else { throw error("missing closing ]", from: start) }
            if s[i] == "]", !first { break }
            first = false
            if s[i] == "[", i + 1 < s.count, s[i + 1] == ":", try parsePosix(into: &cls) { continue }
            if s[i] == "\\", i + 1 < s.count, "dDsSwWpP".unicodeScalars.contains(s[i + 1]) {
                try parseClassEscape(into: &cls)
                continue
            }
            let rangeStart = i
            let lo = try parseClassChar(classStart: start)
            var hi = lo
            if i + 1 < s.count, s[i] == "-", s[i + 1] != "]" {
                i += 1
                hi = try parseClassChar(classStart: start)
                guard hi >= lo else { throw error("invalid character class range", from: rangeStart, to: i) }
            }
            cls.items.append(.range(lo, hi))
        }
        i += 1
        return cls
    }

    mutating func parseClassChar(classStart: Int) throws(RegexSyntaxError) -> UInt32 {
        guard i < s.count else { throw error("missing closing ]", from: classStart) }
        if s[i] == "\\" { return try parseCharEscape() }
        i += 1
        return s[i - 1].value
    }

    /// `[:alpha:]` or `[:^alpha:]` at `i`; false (nothing consumed) if the text is not of that form.
    mutating func parsePosix(into cls: inout RegexClass) throws(RegexSyntaxError) -> Bool {
        let start = i
        var j = i + 2
        while j + 1 < s.count, !(s[j] == ":" && s[j + 1] == "]") { j += 1 }
        guard j + 1 < s.count else { return false }
        var name = String(String.UnicodeScalarView(s[(i + 2)..<j]))
        i = j + 2
        let negated = name.hasPrefix("^")
        if negated { name.removeFirst() }
        guard let ranges = RegexTables.posix[name] else {
            throw error("invalid character class range", from: start, to: i)
        }
        let items = ranges.map { RegexClass.Item.range($0.lowerBound, $0.upperBound) }
        cls.items.append(contentsOf: negated ? [.nested(RegexClass(negated: true, items: items))] : items)
        return true
    }
}
