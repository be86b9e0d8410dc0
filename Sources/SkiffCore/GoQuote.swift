/// Go's `strconv.Quote` (the `%q` verb), used wherever Prometheus prints label values.
///
/// - `"` and `\` are backslash-escaped; `\a \b \f \n \r \t \v` use their short escapes; other
///   ASCII controls and DEL become `\xNN` (lower-case hex).
/// - Non-ASCII: Go keeps a rune as is when `unicode.IsPrint` holds (general categories L, M, N, P,
///   S, plus the ASCII space) and escapes it otherwise as `\uNNNN` or `\UNNNNNNNN`. We read the
///   category from Swift's Unicode tables, so output matches Go except for code points whose
///   category changed between the two Unicode versions (newly assigned characters).
/// - Go escapes invalid UTF-8 bytes as `\xNN`; a Swift `String` always holds valid UTF-8 (bad
///   input was already repaired to U+FFFD when it was decoded), so that case cannot arise here.
///
/// PromQL's lexer accepts all of these escapes, so the result round-trips through Prometheus.
public enum GoQuote {
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars { append(scalar, to: &out) }
        out.append("\"")
        return out
    }

    private static func append(_ c: Unicode.Scalar, to out: inout String) {
        switch c {
        case "\"": out.append("\\\"")
        case "\\": out.append("\\\\")
        case "\u{07}": out.append("\\a")
        case "\u{08}": out.append("\\b")
        case "\u{0C}": out.append("\\f")
        case "\n": out.append("\\n")
        case "\r": out.append("\\r")
        case "\t": out.append("\\t")
        case "\u{0B}": out.append("\\v")
        default:
            if isPrint(c) {
                out.unicodeScalars.append(c)
            } else if c.value < 0x20 || c.value == 0x7F {
                out.append("\\x" + hex(c.value, digits: 2))
            } else if c.value < 0x10000 {
                out.append("\\u" + hex(c.value, digits: 4))
            } else {
                out.append("\\U" + hex(c.value, digits: 8))
            }
        }
    }

    /// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and U+0020 only (so
    /// U+00A0 and other spaces are escaped).
    static func isPrint(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 0x20 && c.value < 0x7F }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .nonspacingMark, .spacingMark, .enclosingMark,
            .decimalNumber, .letterNumber, .otherNumber,
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation,
            .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    private static func hex(_ v: UInt32, digits: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }
}
