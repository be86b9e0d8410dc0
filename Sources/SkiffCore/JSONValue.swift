/// A JSON document that keeps object member order and number literals exactly as read, so a
/// Prometheus meta.json round-trips with every field (known or not) intact.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, never reformatted.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([Member])

    public struct Member: Equatable, Sendable {
        public var key: String
        public var value: JSONValue
        public init(_ key: String, _ value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public static func int(_ v: Int64) -> JSONValue { .number(String(v)) }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var int64Value: Int64? { if case .number(let n) = self { Int64(n) } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var members: [Member]? { if case .object(let m) = self { m } else { nil } }

    /// Sets (or appends) a member of an object; no effect on other values.
    public mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var members) = self else { return }
        if let i = members.firstIndex(where: { $0.key == key }) {
            members[i].value = value
        } else {
            members.append(Member(key, value))
        }
        self = .object(members)
    }
}

// MARK: - Parsing

extension JSONValue {
    /// Parses a complete JSON text (RFC 8259). Errors carry the byte offset.
    public static func parse(_ bytes: some Collection<UInt8>) throws(SkiffError) -> JSONValue {
        var parser = JSONParser(bytes: Array(bytes))
        return try parser.document()
    }
}

private struct JSONParser {
    let bytes: [UInt8]
    var pos = 0
    var depth = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func fail(_ what: String) -> SkiffError {
        SkiffError(.invalidArgument, "invalid JSON at byte \(pos): \(what)", transient: false)
    }

    mutating func document() throws(SkiffError) -> JSONValue {
        let v = try value()
        skipSpace()
        guard pos == bytes.count else { throw fail("unexpected trailing data") }
        return v
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func value() throws(SkiffError) -> JSONValue {
        skipSpace()
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default: return try number()
        }
    }

    mutating func literal(_ word: String) throws(SkiffError) {
        let w = Array(word.utf8)
        guard bytes.count - pos >= w.count, Array(bytes[pos..<pos + w.count]) == w else {
            throw fail("unexpected character")
        }
        pos += w.count
    }

    mutating func nested<T>(_ body: (inout JSONParser) throws(SkiffError) -> T) throws(SkiffError) -> T {
        depth += 1
        guard depth <= 512 else { throw fail("nesting too deep") }
        defer { depth -= 1 }
        return try body(&self)
    }

    mutating func object() throws(SkiffError) -> JSONValue {
        try nested { (p: inout JSONParser) throws(SkiffError) -> JSONValue in
            p.pos += 1
            var members: [JSONValue.Member] = []
            p.skipSpace()
            if p.pos < p.bytes.count, p.bytes[p.pos] == UInt8(ascii: "}") {
                p.pos += 1
                return .object(members)
            }
            while true {
                p.skipSpace()
                guard p.pos < p.bytes.count, p.bytes[p.pos] == UInt8(ascii: "\"") else { throw p.fail("expected key") }
                let key = try p.string()
                p.skipSpace()
                guard p.pos < p.bytes.count, p.bytes[p.pos] == UInt8(ascii: ":") else { throw p.fail("expected ':'") }
                p.pos += 1
                members.append(.init(key, try p.value()))
                p.skipSpace()
                guard p.pos < p.bytes.count else { throw p.fail("unexpected end of input") }
                if p.bytes[p.pos] == UInt8(ascii: ",") {
                    p.pos += 1
                    continue
                }
                if p.bytes[p.pos] == UInt8(ascii: "}") {
                    p.pos += 1
                    return .object(members)
                }
                throw p.fail("expected ',' or '}'")
            }
        }
    }

    mutating func array() throws(SkiffError) -> JSONValue {
        try nested { (p: inout JSONParser) throws(SkiffError) -> JSONValue in
            p.pos += 1
            var items: [JSONValue] = []
            p.skipSpace()
            if p.pos < p.bytes.count, p.bytes[p.pos] == UInt8(ascii: "]") {
                p.pos += 1
                return .array(items)
            }
            while true {
                items.append(try p.value())
                p.skipSpace()
                guard p.pos < p.bytes.count else { throw p.fail("unexpected end of input") }
                if p.bytes[p.pos] == UInt8(ascii: ",") {
                    p.pos += 1
                    continue
                }
                if p.bytes[p.pos] == UInt8(ascii: "]") {
                    p.pos += 1
                    return .array(items)
                }
                throw p.fail("expected ',' or ']'")
            }
        }
    }

    mutating func number() throws(SkiffError) -> JSONValue {
        let start = pos
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let intStart = pos
        while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
        guard pos > intStart else { throw fail("unexpected character") }
        guard !(bytes[intStart] == 0x30 && pos - intStart > 1) else { throw fail("leading zero in number") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            let s = pos
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            guard pos > s else { throw fail("expected digit after '.'") }
        }
        if pos < bytes.count, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            let s = pos
            while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            guard pos > s else { throw fail("expected exponent digits") }
        }
        return .number(String(decoding: bytes[start..<pos], as: UTF8.self))
    }

    mutating func hex4() throws(SkiffError) -> UInt32 {
        guard bytes.count - pos >= 4 else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            pos += 1
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("bad hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    mutating func string() throws(SkiffError) -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let c = bytes[pos]
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard pos < bytes.count else { throw fail("unterminated escape") }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), bytes.count - pos >= 6,
                        bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                    {
                        pos += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
                default: throw fail("bad escape")
                }
            case 0x00..<0x20:
                throw fail("control character in string")
            default:
                out.append(c)
            }
        }
    }
}

// MARK: - Encoding

extension JSONValue {
    /// Encodes like Go's `json.MarshalIndent(v, "", "\t")` plus a trailing newline: the way
    /// Prometheus and Thanos write meta.json and thanos.shipper.json.
    public func encodedIndented() -> [UInt8] {
        var out: [UInt8] = []
        write(into: &out, depth: 0)
        out.append(0x0A)
        return out
    }

    /// Encodes on one line with no spaces, like Go's `json.Marshal` (for log lines).
    public func encodedCompact() -> String {
        var out: [UInt8] = []
        write(into: &out, depth: -1)
        return String(decoding: out, as: UTF8.self)
    }

    /// `depth` -1 means compact output.
    private func write(into out: inout [UInt8], depth: Int) {
        func newline(_ d: Int) {
            guard depth >= 0 else { return }
            out.append(0x0A)
            out.append(contentsOf: repeatElement(0x09, count: d))
        }
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .number(let n): out.append(contentsOf: Array(n.utf8))
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { return out.append(contentsOf: [0x5B, 0x5D]) }
            out.append(0x5B)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(depth + 1)
                item.write(into: &out, depth: depth < 0 ? -1 : depth + 1)
            }
            newline(depth)
            out.append(0x5D)
        case .object(let members):
            guard !members.isEmpty else { return out.append(contentsOf: [0x7B, 0x7D]) }
            out.append(0x7B)
            for (i, m) in members.enumerated() {
                if i > 0 { out.append(0x2C) }
                newline(depth + 1)
                Self.writeString(m.key, into: &out)
                out.append(contentsOf: depth < 0 ? [0x3A] : [0x3A, 0x20])
                m.value.write(into: &out, depth: depth < 0 ? -1 : depth + 1)
            }
            newline(depth)
            out.append(0x7D)
        }
    }

    /// Go's string escaping, including its HTML-safe escapes of <, > and &.
    private static func writeString(_ s: String, into out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(0x22)
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20, 0x3C, 0x3E, 0x26, 0x2028, 0x2029:
                let v = scalar.value
                out.append(contentsOf: Array("\\u".utf8))
                for shift in stride(from: 12, through: 0, by: -4) { out.append(hex[Int((v >> UInt32(shift)) & 0xF)]) }
            default:
                out.append(contentsOf: Array(String(scalar).utf8))
            }
        }
        out.append(0x22)
    }
}
