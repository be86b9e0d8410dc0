import SkiffCore

/// Reads the members the fleet reports need from one audit record line, in place.
///
/// `skiff fleet report` reads millions of lines and needs 9 of each record's 15 members. Building
/// a `JSONValue` tree for every line (a String per key and value) and re-encoding its labels took
/// about 60% of the report's time in a profile of `Tools/bench-fleet`; this walks the top-level
/// object once, keeps byte ranges of the members it knows, and decodes only those. The JSON is
/// still checked: the top level strictly, and nested values (the labels) for balanced brackets
/// and strings here, then fully by `JSONValue` when their bytes differ from the previous line's.
struct AuditLineScanner {
    /// The members read, in the order of `names`.
    enum Member: Int, CaseIterable {
        case schema, labels, ledger, seq, ulid, blockMaxTime, toState, timeMillis, bytes, error
    }

    static let names: [[UInt8]] = [
        "schema", "labels", "ledger", "seq", "ulid", "block_max_time", "to_state", "time_ms", "bytes", "error",
    ].map { Array($0.utf8) }

    struct Malformed: Error {
        let what: String
    }

    let line: [UInt8]
    private(set) var spans: [Range<Int>?]
    private var pos = 0

    /// Scans `line`; throws `Malformed` when it is not one JSON object.
    init(_ line: [UInt8]) throws(Malformed) {
        self.line = line
        spans = Array(repeating: nil, count: Member.allCases.count)
        try scanObject()
    }

    // MARK: Values

    /// A member's raw bytes (nil when absent).
    func raw(_ m: Member) -> ArraySlice<UInt8>? { spans[m.rawValue].map { line[$0] } }

    /// An integer member; nil when absent or null; throws when it is not an integer.
    func int(_ m: Member) throws(Malformed) -> Int64? {
        guard let span = spans[m.rawValue], !isNull(span) else { return nil }
        var value: Int64 = 0
        var i = span.lowerBound
        let negative = line[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < span.upperBound else { throw Malformed(what: "\(Self.name(m)) is not an integer") }
        while i < span.upperBound {
            let d = line[i] &- UInt8(ascii: "0")
            guard d <= 9 else { throw Malformed(what: "\(Self.name(m)) is not an integer") }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(Int64(d)) : times10.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { throw Malformed(what: "\(Self.name(m)) is out of range") }
            value = next
            i += 1
        }
        return value
    }

    /// A string member; nil when absent or null; throws when it is not a string.
    func string(_ m: Member) throws(Malformed) -> String? {
        guard let span = spans[m.rawValue], !isNull(span) else { return nil }
        guard line[span.lowerBound] == UInt8(ascii: "\"") else { throw Malformed(what: "\(Self.name(m)) is not a string") }
        let inner = line[(span.lowerBound + 1)..<(span.upperBound - 1)]
        // Escapes are rare (error texts): those strings go through the full parser.
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        do throws(SkiffError) {
            return try JSONValue.parse(line[span]).stringValue
        } catch {
            throw Malformed(what: "\(Self.name(m)): \(error.message)")
        }
    }

    /// True when the member's raw bytes are exactly `text` (a JSON string literal compares with
    /// its quotes).
    func equals(_ m: Member, _ text: String) -> Bool {
        guard let span = spans[m.rawValue] else { return false }
        return line[span].elementsEqual(text.utf8)
    }

    func isNull(_ span: Range<Int>) -> Bool { span.count == 4 && line[span.lowerBound] == UInt8(ascii: "n") }

    static func name(_ m: Member) -> String { String(decoding: names[m.rawValue], as: UTF8.self) }

    // MARK: Scanning

    private mutating func scanObject() throws(Malformed) {
        skipSpace()
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            pos += 1
        } else {
            while true {
                skipSpace()
                let key = try skipString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                let start = pos
                try skipValue(depth: 0)
                let keyBytes = line[(key.lowerBound + 1)..<(key.upperBound - 1)]
                if let i = Self.names.firstIndex(where: { keyBytes.elementsEqual($0) }) { spans[i] = start..<pos }
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                break
            }
        }
        skipSpace()
        guard pos == line.count else { throw Malformed(what: "unexpected data after the object at byte \(pos)") }
    }

    private func peek() -> UInt8? { pos < line.count ? line[pos] : nil }

    private mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard peek() == byte else {
            throw Malformed(what: "expected '\(Character(UnicodeScalar(byte)))' at byte \(pos)")
        }
        pos += 1
    }

    private mutating func skipSpace() {
        while let b = peek(), b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { pos += 1 }
    }

    /// Skips a string starting at `pos`; returns its range, quotes included.
    private mutating func skipString() throws(Malformed) -> Range<Int> {
        let start = pos
        try expect(UInt8(ascii: "\""))
        while let b = peek() {
            pos += 1
            if b == UInt8(ascii: "\\") {
                pos += 1
            } else if b == UInt8(ascii: "\"") {
                return start..<pos
            } else if b < 0x20 {
                throw Malformed(what: "a control character in a string at byte \(pos - 1)")
            }
        }
        throw Malformed(what: "an unterminated string")
    }

    private mutating func skipValue(depth: Int) throws(Malformed) {
        guard depth < 64 else { throw Malformed(what: "nesting too deep") }
        switch peek() {
        case UInt8(ascii: "\""):
            _ = try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = line[pos] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            pos += 1
            skipSpace()
            if peek() == close {
                pos += 1
                return
            }
            while true {
                skipSpace()
                if close == UInt8(ascii: "}") {
                    _ = try skipString()
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    skipSpace()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    pos += 1
                    continue
                }
                try expect(close)
                return
            }
        case nil:
            throw Malformed(what: "a missing value at byte \(pos)")
        default:
            // A number or true/false/null: its characters, checked when the member is read.
            let start = pos
            while let b = peek(),
                b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
                    || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                    || b == UInt8(ascii: "E")
            {
                pos += 1
            }
            let word = line[start..<pos]
            guard !word.isEmpty else { throw Malformed(what: "an unexpected character at byte \(pos)") }
            if let first = word.first, first >= UInt8(ascii: "a") {
                guard ["true", "false", "null"].contains(where: { word.elementsEqual($0.utf8) }) else {
                    throw Malformed(what: "an unknown literal at byte \(start)")
                }
            }
        }
    }
}
