import SkiffCore

/// The shapes of regex worth matching without a regex engine: a literal, a set of literals, `.*`,
/// `.+` and a literal prefix, suffix or infix next to `.*`. These are most real matchers
/// (`job=~"api|web"`, `instance=~"10.0.*"`), and an ICU call costs about half a microsecond.
enum RegexFastPath: Sendable {
    case equal(String)
    case oneOf(Set<BytewiseKey>)
    case anything
    case nonEmpty
    case prefix(String)
    case suffix(String)
    case contains(String)

    init?(_ node: RegexNode) {
        if let s = Self.literalString(node) {
            self = .equal(s)
            return
        }
        switch node {
        case .alternate(let branches):
            var set = Set<BytewiseKey>()
            for b in branches {
                guard let s = Self.literalString(b) else { return nil }
                set.insert(BytewiseKey(s))
            }
            self = .oneOf(set)
        case .repetition(.anyChar(matchesNewline: true), min: 0, max: nil, counted: _):
            self = .anything
        case .repetition(.anyChar(matchesNewline: true), min: 1, max: nil, counted: _):
            self = .nonEmpty
        case .concat(let parts):
            let leading = parts.first.map(Self.isDotStar) ?? false
            let trailing = parts.count > 1 && Self.isDotStar(parts[parts.count - 1])
            let middle = parts.dropFirst(leading ? 1 : 0).dropLast(trailing ? 1 : 0)
            guard leading || trailing, let lit = Self.literalString(.concat(Array(middle))) else { return nil }
            switch (leading, trailing) {
            case (true, true): self = .contains(lit)
            case (true, false): self = .suffix(lit)
            default: self = .prefix(lit)
            }
        default:
            return nil
        }
    }

    func matches(_ s: String) -> Bool {
        switch self {
        case .equal(let v): ByteOrder.equal(s, v)
        case .oneOf(let set): set.contains(BytewiseKey(s))
        case .anything: true
        case .nonEmpty: !s.isEmpty
        case .prefix(let p): ByteOrder.hasPrefix(s, p)
        case .suffix(let p): ByteOrder.hasSuffix(s, p)
        case .contains(let p): ByteOrder.contains(s, p)
        }
    }

    private static func isDotStar(_ node: RegexNode) -> Bool {
        if case .repetition(.anyChar(matchesNewline: true), min: 0, max: nil, counted: _) = node { return true }
        return false
    }

    /// The text of a node made only of case-sensitive literals, or nil.
    private static func literalString(_ node: RegexNode) -> String? {
        var scalars = String.UnicodeScalarView()
        func add(_ n: RegexNode) -> Bool {
            switch n {
            case .empty: return true
            case .literal(let c, foldCase: false):
                guard let u = Unicode.Scalar(c) else { return false }
                scalars.append(u)
                return true
            case .concat(let parts): return parts.allSatisfy(add)
            default: return false
            }
        }
        return add(node) ? String(scalars) : nil
    }
}
