import SkiffCore

/// PromQL text from a tree: what Prometheus parses back to the same tree. Spacing follows
/// Prometheus' own `String()` (`sum by (a) (x)`, `a + on (b) group_left () c`).
extension Expr: CustomStringConvertible {
    public var description: String {
        switch self {
        case .number(let text): text
        case .string(let value): GoQuote.quote(value)
        case .vectorSelector(let s): s.description + Self.modifiers(s.at, s.offset)
        case .matrixSelector(let s, let range): s.description + "[\(range.text)]" + Self.modifiers(s.at, s.offset)
        case .subquery(let s):
            "\(s.expr)[\(s.range.text):\(s.step?.text ?? "")]" + Self.modifiers(s.at, s.offset)
        case .paren(let inner): "(\(inner))"
        case .unary(let op, let inner): op.rawValue + inner.description
        case .binary(let b): b.description
        case .aggregate(let a): a.description
        case .call(let name, let arguments): "\(name)(\(arguments.map(\.description).joined(separator: ", ")))"
        }
    }

    static func modifiers(_ at: AtModifier?, _ offset: Offset?) -> String {
        var out = ""
        switch at {
        case .timestamp(let text)?: out += " @ \(text)"
        case .start?: out += " @ start()"
        case .end?: out += " @ end()"
        case nil: break
        }
        if let offset { out += " offset \(offset.negative ? "-" : "")\(offset.duration.text)" }
        return out
    }
}

extension VectorSelector: CustomStringConvertible {
    /// The selector without its modifiers.
    public var description: String {
        let braces = matchers.isEmpty && name != nil ? "" : "{\(matchers.map(\.description).joined(separator: ", "))}"
        return (name ?? "") + braces
    }
}

extension LabelMatcher: CustomStringConvertible {
    public var description: String { name + op.rawValue + GoQuote.quote(value) }
}

extension BinaryExpr: CustomStringConvertible {
    public var description: String {
        var op = " " + self.op.rawValue
        if returnBool { op += " bool" }
        if let matching {
            op += (matching.on ? " on " : " ignoring ") + "(\(matching.labels.joined(separator: ", ")))"
            switch matching.group {
            case .groupLeft(let labels)?: op += " group_left (\(labels.joined(separator: ", ")))"
            case .groupRight(let labels)?: op += " group_right (\(labels.joined(separator: ", ")))"
            case nil: break
            }
        }
        return "\(lhs)\(op) \(rhs)"
    }
}

extension Aggregation: CustomStringConvertible {
    public var description: String {
        var grouping = ""
        switch self.grouping {
        case .by(let labels)?: grouping = "by (\(labels.joined(separator: ", ")))"
        case .without(let labels)?: grouping = "without (\(labels.joined(separator: ", ")))"
        case nil: break
        }
        let arguments = (parameter.map { "\($0), " } ?? "") + expr.description
        if grouping.isEmpty { return "\(op)(\(arguments))" }
        return groupingAfter ? "\(op) (\(arguments)) \(grouping)" : "\(op) \(grouping) (\(arguments))"
    }
}
