/// PromQL's lexer (Prometheus `promql/parser/lex.go`), over the query's UTF-8 bytes.
struct Lexer {
    private let bytes: [UInt8]
    private var pos = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    /// All tokens, ending with `.eof`.
    static func tokens(_ text: String) throws(PromQLError) -> [Token] {
        var lexer = Lexer(text)
        var out: [Token] = []
        while true {
            let token = try lexer.next()
            out.append(token)
            if token.kind == .eof { return out }
        }
    }

    private func peek(_ ahead: Int = 0) -> UInt8? { pos + ahead < bytes.count ? bytes[pos + ahead] : nil }

    mutating func next() throws(PromQLError) -> Token {
        skipSpaceAndComments()
        let start = pos
        guard let c = peek() else { return Token(kind: .eof, offset: start) }
        func one(_ kind: Token.Kind, _ width: Int = 1) -> Token {
            pos += width
            return Token(kind: kind, offset: start)
        }
        switch c {
        case UInt8(ascii: "("): return one(.leftParen)
        case UInt8(ascii: ")"): return one(.rightParen)
        case UInt8(ascii: "{"): return one(.leftBrace)
        case UInt8(ascii: "}"): return one(.rightBrace)
        case UInt8(ascii: "["): return one(.leftBracket)
        case UInt8(ascii: "]"): return one(.rightBracket)
        case UInt8(ascii: ","): return one(.comma)
        case UInt8(ascii: ":"):
            // A colon starts a metric name ("::x") unless it is a subquery's separator.
            if let n = peek(1), Self.isIdentifierStart(n) || n == UInt8(ascii: ":") { return identifier(start) }
            return one(.colon)
        case UInt8(ascii: "@"): return one(.at)
        case UInt8(ascii: "+"): return one(.add)
        case UInt8(ascii: "-"): return one(.sub)
        case UInt8(ascii: "*"): return one(.mul)
        case UInt8(ascii: "/"): return one(.div)
        case UInt8(ascii: "%"): return one(.mod)
        case UInt8(ascii: "^"): return one(.pow)
        case UInt8(ascii: "="):
            if peek(1) == UInt8(ascii: "=") { return one(.equal, 2) }
            if peek(1) == UInt8(ascii: "~") { return one(.regexMatch, 2) }
            return one(.assign)
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") { return one(.notEqual, 2) }
            if peek(1) == UInt8(ascii: "~") { return one(.regexNoMatch, 2) }
            throw PromQLError(offset: start, "unexpected character after '!': expected '=' or '~'")
        case UInt8(ascii: "<"): return peek(1) == UInt8(ascii: "=") ? one(.lessEqual, 2) : one(.less)
        case UInt8(ascii: ">"): return peek(1) == UInt8(ascii: "=") ? one(.greaterEqual, 2) : one(.greater)
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"): return try string(start, quote: c)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return try numberOrDuration(start)
        case UInt8(ascii: "."):
            if let n = peek(1), Self.isDigit(n) { return try numberOrDuration(start) }
            throw PromQLError(offset: start, "unexpected character: '.'")
        default:
            if Self.isIdentifierStart(c) { return identifier(start) }
            let scalar = String(decoding: bytes[start...].prefix(4), as: UTF8.self).first.map(String.init) ?? "?"
            throw PromQLError(offset: start, "unexpected character: '\(scalar)'")
        }
    }

    private mutating func skipSpaceAndComments() {
        while let c = peek() {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") {
                pos += 1
            } else if c == UInt8(ascii: "#") {
                while let d = peek(), d != UInt8(ascii: "\n") { pos += 1 }
            } else {
                return
            }
        }
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    static func isAlpha(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }
    static func isIdentifierStart(_ c: UInt8) -> Bool { isAlpha(c) }
    static func isIdentifierPart(_ c: UInt8) -> Bool { isAlpha(c) || isDigit(c) || c == UInt8(ascii: ":") }

    private mutating func identifier(_ start: Int) -> Token {
        while let c = peek(), Self.isIdentifierPart(c) { pos += 1 }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        // Prometheus lexes Inf and NaN (any case) as numbers.
        switch text.lowercased() {
        case "inf", "nan": return Token(kind: .number(text), offset: start)
        default: return Token(kind: .identifier(text), offset: start)
        }
    }

    private mutating func numberOrDuration(_ start: Int) throws(PromQLError) -> Token {
        if let (duration, end) = Self.duration(bytes, from: start) {
            pos = end
            return Token(kind: .duration(duration), offset: start)
        }
        var p = start
        func digits(hex: Bool = false) {
            while p < bytes.count, Self.isDigit(bytes[p]) || (hex && Self.isHexDigit(bytes[p])) { p += 1 }
        }
        var sawDigit = false
        if bytes[p] == UInt8(ascii: "0"), p + 1 < bytes.count, bytes[p + 1] | 0x20 == UInt8(ascii: "x") {
            p += 2
            let first = p
            digits(hex: true)
            sawDigit = p > first
        } else {
            let first = p
            digits()
            sawDigit = p > first
            if p < bytes.count, bytes[p] == UInt8(ascii: ".") {
                p += 1
                let fraction = p
                digits()
                sawDigit = sawDigit || p > fraction
            }
            if sawDigit, p < bytes.count, bytes[p] | 0x20 == UInt8(ascii: "e") {
                var q = p + 1
                if q < bytes.count, bytes[q] == UInt8(ascii: "+") || bytes[q] == UInt8(ascii: "-") { q += 1 }
                if q < bytes.count, Self.isDigit(bytes[q]) {
                    p = q
                    digits()
                }
            }
        }
        if !sawDigit || (p < bytes.count && (Self.isIdentifierPart(bytes[p]) || bytes[p] == UInt8(ascii: "."))) {
            throw PromQLError(
                offset: start,
                "bad number or duration syntax: \"\(String(decoding: bytes[start..<min(p + 1, bytes.count)], as: UTF8.self))\"")
        }
        pos = p
        return Token(kind: .number(String(decoding: bytes[start..<p], as: UTF8.self)), offset: start)
    }

    static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (c | 0x20 >= UInt8(ascii: "a") && c | 0x20 <= UInt8(ascii: "f"))
    }

    /// A duration at `start` ("5m", "1h30m", "100ms"): units in decreasing order, each at most
    /// once (Prometheus `model.ParseDuration`); nil unless the run ends cleanly after a unit.
    static func duration(_ bytes: [UInt8], from start: Int) -> (PromDuration, Int)? {
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000),
            ("s", 1000), ("ms", 1),
        ]
        var p = start
        var total: Int64 = 0
        var lastUnit = -1
        var any = false
        while p < bytes.count, isDigit(bytes[p]) {
            var q = p
            var value: Int64 = 0
            while q < bytes.count, isDigit(bytes[q]) {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(bytes[q] - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                value = s
                q += 1
            }
            guard q < bytes.count else { return nil }
            let unit: String
            if bytes[q] == UInt8(ascii: "m"), q + 1 < bytes.count, bytes[q + 1] == UInt8(ascii: "s") {
                unit = "ms"
            } else if "smhdwy".utf8.contains(bytes[q]) {
                unit = String(UnicodeScalar(bytes[q]))
            } else {
                return nil
            }
            guard let index = units.firstIndex(where: { $0.0 == unit }), index > lastUnit else { return nil }
            lastUnit = index
            let (part, o3) = value.multipliedReportingOverflow(by: units[index].1)
            let (sum, o4) = total.addingReportingOverflow(part)
            if o3 || o4 { return nil }
            total = sum
            any = true
            p = q + unit.utf8.count
        }
        // A subquery's ":" may follow at once ("[5m:1m]").
        guard any, p >= bytes.count || !(isAlpha(bytes[p]) || isDigit(bytes[p]) || bytes[p] == UInt8(ascii: ".")) else {
            return nil
        }
        return (PromDuration(text: String(decoding: bytes[start..<p], as: UTF8.self), milliseconds: total), p)
    }

    /// A quoted string: Go escapes in "..." and '...', none in `...`.
    private mutating func string(_ start: Int, quote: UInt8) throws(PromQLError) -> Token {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw PromQLError(offset: start, "unterminated quoted string") }
            pos += 1
            if c == quote { break }
            if quote != UInt8(ascii: "`") && c == UInt8(ascii: "\n") {
                throw PromQLError(offset: start, "unterminated quoted string")
            }
            if c == UInt8(ascii: "\\") && quote != UInt8(ascii: "`") {
                try escape(into: &out, quote: quote)
            } else {
                out.append(c)
            }
        }
        return Token(kind: .string(String(decoding: out, as: UTF8.self)), offset: start)
    }

    private mutating func escape(into out: inout [UInt8], quote: UInt8) throws(PromQLError) {
        let at = pos - 1
        guard let c = peek() else { throw PromQLError(offset: at, "escape sequence not terminated") }
        pos += 1
        func hex(_ count: Int) throws(PromQLError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek(), Self.isHexDigit(d) else {
                    throw PromQLError(offset: at, "illegal character in escape sequence")
                }
                pos += 1
                value = value * 16 + UInt32(Self.isDigit(d) ? d - UInt8(ascii: "0") : (d | 0x20) - UInt8(ascii: "a") + 10)
            }
            return value
        }
        switch c {
        case UInt8(ascii: "a"): out.append(7)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "v"): out.append(11)
        case UInt8(ascii: "\\"): out.append(c)
        case quote: out.append(c)
        case UInt8(ascii: "x"): out.append(UInt8(try hex(2)))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let value = try hex(c == UInt8(ascii: "u") ? 4 : 8)
            guard let scalar = Unicode.Scalar(value) else {
                throw PromQLError(offset: at, "escape sequence is an invalid Unicode code point")
            }
            out.append(contentsOf: Array(String(Character(scalar)).utf8))
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            var value = UInt32(c - UInt8(ascii: "0"))
            for _ in 0..<2 {
                guard let d = peek(), d >= UInt8(ascii: "0"), d <= UInt8(ascii: "7") else {
                    throw PromQLError(offset: at, "illegal character in escape sequence")
                }
                pos += 1
                value = value * 8 + UInt32(d - UInt8(ascii: "0"))
            }
            guard value <= 255 else { throw PromQLError(offset: at, "escape sequence is an invalid Unicode code point") }
            out.append(UInt8(value))
        default:
            throw PromQLError(offset: at, "unknown escape sequence \"\\\(String(UnicodeScalar(c)))\"")
        }
    }
}
