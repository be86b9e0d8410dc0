/// A Pratt parser for PromQL (Prometheus 2.42's grammar, `promql/parser/generated_parser.y`):
/// literals, selectors, range and subquery selectors, `offset` and `@`, every binary operator
/// with Prometheus' precedence (`^` right-associative), `bool`, `on`/`ignoring`,
/// `group_left`/`group_right`, aggregations (grouping before or after, parameters), function
/// calls, unary signs and parentheses. Type checks beyond the structure (argument types, scalar
/// comparisons without `bool`) are left to Prometheus, which evaluates the query.
public struct Parser {
    private let tokens: [Token]
    private var index = 0

    private init(tokens: [Token]) { self.tokens = tokens }

    /// Parses a whole expression.
    public static func parse(_ text: String) throws(PromQLError) -> Expr {
        var parser = Parser(tokens: try Lexer.tokens(text))
        if parser.current.kind == .eof { throw PromQLError(offset: 0, "no expression found in input") }
        let expr = try parser.expression(minimumPrecedence: 0)
        guard parser.current.kind == .eof else { throw parser.unexpected("") }
        return expr
    }

    /// Parses a series selector as `match[]` and `storeMatch[]` take it: `name{...}` or `{...}`.
    public static func parseSelector(_ text: String) throws(PromQLError) -> VectorSelector {
        let expr = try parse(text)
        guard case .vectorSelector(let selector) = expr, selector.offset == nil, selector.at == nil else {
            throw PromQLError(offset: 0, "expected a series selector, got \(text)")
        }
        return selector
    }

    private var current: Token { tokens[index] }
    private func lookahead(_ n: Int) -> Token { tokens[min(index + n, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func unexpected(_ context: String) -> PromQLError {
        PromQLError(offset: current.offset, "unexpected \(current.describe)\(context.isEmpty ? "" : " in \(context)")")
    }

    private mutating func expect(_ kind: Token.Kind, _ context: String) throws(PromQLError) {
        guard current.kind == kind else { throw unexpected(context) }
        _ = advance()
    }

    // MARK: expressions

    private mutating func expression(minimumPrecedence: Int) throws(PromQLError) -> Expr {
        var left = try unary()
        while let op = binaryOperator(current), op.precedence >= minimumPrecedence {
            _ = advance()
            var returnBool = false
            if case .identifier("bool") = current.kind {
                guard op.isComparison else {
                    throw PromQLError(offset: current.offset, "bool modifier can only be used on comparison operators")
                }
                _ = advance()
                returnBool = true
            }
            let matching = try vectorMatching(op)
            // `^` is right-associative: its right side may hold another `^`.
            let right = try expression(minimumPrecedence: op == .pow ? op.precedence : op.precedence + 1)
            left = .binary(BinaryExpr(op: op, lhs: left, rhs: right, returnBool: returnBool, matching: matching))
        }
        return left
    }

    private func binaryOperator(_ token: Token) -> BinaryOperator? {
        switch token.kind {
        case .add: .add
        case .sub: .sub
        case .mul: .mul
        case .div: .div
        case .mod: .mod
        case .pow: .pow
        case .equal: .equal
        case .notEqual: .notEqual
        case .less: .less
        case .lessEqual: .lessEqual
        case .greater: .greater
        case .greaterEqual: .greaterEqual
        case .identifier(let name):
            switch name.lowercased() {
            case "and": .and
            case "or": .or
            case "unless": .unless
            case "atan2": .atan2
            default: nil
            }
        default: nil
        }
    }

    private mutating func vectorMatching(_ op: BinaryOperator) throws(PromQLError) -> VectorMatching? {
        guard case .identifier(let word) = current.kind, ["on", "ignoring"].contains(word.lowercased()) else {
            if case .identifier(let word) = current.kind, ["group_left", "group_right"].contains(word.lowercased()) {
                throw PromQLError(offset: current.offset, "\(word) must follow on or ignoring")
            }
            return nil
        }
        _ = advance()
        var matching = VectorMatching(on: word.lowercased() == "on", labels: try labelList("grouping"))
        if case .identifier(let group) = current.kind, ["group_left", "group_right"].contains(group.lowercased()) {
            let at = advance().offset
            if op.isSetOperator {
                throw PromQLError(offset: at, "no grouping allowed for \"\(op.rawValue)\" operation")
            }
            let labels = current.kind == .leftParen ? try labelList("grouping") : []
            matching.group = group.lowercased() == "group_left" ? .groupLeft(labels) : .groupRight(labels)
        }
        return matching
    }

    private mutating func unary() throws(PromQLError) -> Expr {
        switch current.kind {
        case .sub, .add:
            let op: UnaryOperator = current.kind == .sub ? .minus : .plus
            _ = advance()
            // Prometheus binds a sign like `*`: tighter than `+`, looser than `^` (-2^2 is -4).
            return .unary(op, try expression(minimumPrecedence: BinaryOperator.pow.precedence))
        default:
            return try postfix(try primary())
        }
    }

    private mutating func primary() throws(PromQLError) -> Expr {
        let token = current
        switch token.kind {
        case .number(let text):
            _ = advance()
            return .number(text)
        case .string(let value):
            _ = advance()
            return .string(value)
        case .leftParen:
            _ = advance()
            let inner = try expression(minimumPrecedence: 0)
            try expect(.rightParen, "parenthesized expression")
            return .paren(inner)
        case .leftBrace:
            let matchers = try matcherList()
            return .vectorSelector(VectorSelector(name: nil, matchers: matchers))
        case .identifier(let name):
            let next = lookahead(1).kind
            if Aggregation.operators.contains(name.lowercased()), next == .leftParen || isGroupingKeyword(lookahead(1)) {
                return try aggregation()
            }
            if next == .leftParen { return try call() }
            _ = advance()
            let matchers = current.kind == .leftBrace ? try matcherList() : []
            return .vectorSelector(VectorSelector(name: name, matchers: matchers))
        case .duration(let d):
            throw PromQLError(offset: token.offset, "unexpected duration \"\(d.text)\"")
        default:
            throw unexpected("expression")
        }
    }

    private func isGroupingKeyword(_ token: Token) -> Bool {
        if case .identifier(let word) = token.kind { return ["by", "without"].contains(word.lowercased()) }
        return false
    }

    /// Ranges, subqueries, `offset` and `@` after an expression.
    private mutating func postfix(_ base: Expr) throws(PromQLError) -> Expr {
        var expr = base
        while true {
            switch current.kind {
            case .leftBracket:
                let at = advance().offset
                let range = try duration("range")
                if current.kind == .colon {
                    _ = advance()
                    let step = current.kind == .rightBracket ? nil : try duration("subquery step")
                    try expect(.rightBracket, "subquery selector")
                    expr = .subquery(Subquery(expr: expr, range: range, step: step))
                } else {
                    try expect(.rightBracket, "range selector")
                    guard case .vectorSelector(let selector) = expr else {
                        throw PromQLError(offset: at, "ranges only allowed for vector selectors")
                    }
                    guard selector.offset == nil, selector.at == nil else {
                        throw PromQLError(offset: at, "no offset or @ modifiers allowed before range")
                    }
                    expr = .matrixSelector(selector, range: range)
                }
            case .identifier(let word) where word.lowercased() == "offset":
                let at = advance().offset
                var negative = false
                if current.kind == .sub || current.kind == .add {
                    negative = current.kind == .sub
                    _ = advance()
                }
                let offset = Offset(negative: negative, duration: try duration("offset"))
                expr = try modify(expr, at: at, "offset") { offsetSlot in
                    guard offsetSlot.offset == nil else { return false }
                    offsetSlot.offset = offset
                    return true
                }
            case .at:
                let at = advance().offset
                let value = try atValue()
                expr = try modify(expr, at: at, "@") { slot in
                    guard slot.at == nil else { return false }
                    slot.at = value
                    return true
                }
            default:
                return expr
            }
        }
    }

    /// What `offset` and `@` may change: a selector's or a subquery's.
    private struct ModifierSlot {
        var offset: Offset?
        var at: AtModifier?
    }

    private func modify(
        _ expr: Expr, at: Int, _ what: String, _ change: (inout ModifierSlot) -> Bool
    ) throws(PromQLError)
        -> Expr
    {
        func changed(_ offset: Offset?, _ atModifier: AtModifier?) throws(PromQLError) -> ModifierSlot {
            var slot = ModifierSlot(offset: offset, at: atModifier)
            guard change(&slot) else { throw PromQLError(offset: at, "\(what) may not be set multiple times") }
            return slot
        }
        switch expr {
        case .vectorSelector(var s):
            let slot = try changed(s.offset, s.at)
            (s.offset, s.at) = (slot.offset, slot.at)
            return .vectorSelector(s)
        case .matrixSelector(var s, let range):
            let slot = try changed(s.offset, s.at)
            (s.offset, s.at) = (slot.offset, slot.at)
            return .matrixSelector(s, range: range)
        case .subquery(var s):
            let slot = try changed(s.offset, s.at)
            (s.offset, s.at) = (slot.offset, slot.at)
            return .subquery(s)
        default:
            throw PromQLError(
                offset: at,
                "\(what) modifier must be preceded by an instant vector selector or range vector selector or a subquery")
        }
    }

    private mutating func atValue() throws(PromQLError) -> AtModifier {
        var sign = ""
        if current.kind == .sub || current.kind == .add {
            sign = current.kind == .sub ? "-" : ""
            _ = advance()
        }
        switch current.kind {
        case .number(let text):
            _ = advance()
            return .timestamp(sign + text)
        case .identifier(let word) where sign.isEmpty && ["start", "end"].contains(word.lowercased()):
            _ = advance()
            try expect(.leftParen, "@ modifier")
            try expect(.rightParen, "@ modifier")
            return word.lowercased() == "start" ? .start : .end
        default:
            throw unexpected("@ modifier")
        }
    }

    private mutating func duration(_ context: String) throws(PromQLError) -> PromDuration {
        guard case .duration(let d) = current.kind else { throw unexpected(context) }
        _ = advance()
        return d
    }

    // MARK: selectors, calls, aggregations

    private mutating func matcherList() throws(PromQLError) -> [LabelMatcher] {
        try expect(.leftBrace, "label matching")
        var matchers: [LabelMatcher] = []
        while current.kind != .rightBrace {
            let name = try labelName("label matching")
            let op: MatchOperator
            switch current.kind {
            case .assign: op = .equal
            case .notEqual: op = .notEqual
            case .regexMatch: op = .regexMatch
            case .regexNoMatch: op = .regexNoMatch
            default: throw unexpected("label matching, expected one of \"=\", \"!=\", \"=~\", \"!~\"")
            }
            _ = advance()
            guard case .string(let value) = current.kind else { throw unexpected("label matching, expected string") }
            _ = advance()
            matchers.append(LabelMatcher(name, op, value))
            if current.kind == .comma {
                _ = advance()
            } else if current.kind != .rightBrace {
                throw unexpected("label matching, expected \",\" or \"}\"")
            }
        }
        _ = advance()
        return matchers
    }

    /// A label name: an identifier without colons (keywords are fine: `on`, `by`, `sum`).
    private mutating func labelName(_ context: String) throws(PromQLError) -> String {
        switch current.kind {
        case .identifier(let name) where !name.contains(":"):
            _ = advance()
            return name
        // The lexer reads Inf and NaN as numbers; as label names they are names.
        case .number(let text) where ["inf", "nan"].contains(text.lowercased()):
            _ = advance()
            return text
        default:
            throw unexpected(context)
        }
    }

    /// `(a, b)`, possibly empty, a trailing comma allowed.
    private mutating func labelList(_ context: String) throws(PromQLError) -> [String] {
        try expect(.leftParen, context)
        var names: [String] = []
        while current.kind != .rightParen {
            names.append(try labelName(context))
            if current.kind == .comma {
                _ = advance()
            } else if current.kind != .rightParen {
                throw unexpected(context + ", expected \",\" or \")\"")
            }
        }
        _ = advance()
        return names
    }

    private mutating func call() throws(PromQLError) -> Expr {
        guard case .identifier(let name) = advance().kind else { throw unexpected("function call") }
        return .call(name: name, arguments: try parenthesizedArguments("function call", allowEmpty: true))
    }

    /// `(e1, e2, ...)`; a trailing comma is refused, as Prometheus does for calls.
    private mutating func parenthesizedArguments(_ context: String, allowEmpty: Bool) throws(PromQLError) -> [Expr] {
        try expect(.leftParen, context)
        var arguments: [Expr] = []
        if !(allowEmpty && current.kind == .rightParen) {
            arguments.append(try expression(minimumPrecedence: 0))
            while current.kind == .comma {
                _ = advance()
                arguments.append(try expression(minimumPrecedence: 0))
            }
        }
        try expect(.rightParen, context)
        return arguments
    }

    private mutating func grouping() throws(PromQLError) -> Aggregation.Grouping? {
        guard case .identifier(let word) = current.kind, isGroupingKeyword(current) else { return nil }
        _ = advance()
        let labels = try labelList("grouping")
        return word.lowercased() == "by" ? .by(labels) : .without(labels)
    }

    private mutating func aggregation() throws(PromQLError) -> Expr {
        let opToken = advance()
        guard case .identifier(let name) = opToken.kind else { throw unexpected("aggregation") }
        let op = name.lowercased()
        var group = try grouping()
        let before = group != nil
        let arguments = try parenthesizedArguments("aggregation", allowEmpty: false)
        if !before, let after = try grouping() { group = after }
        let wanted = Aggregation.withParameter.contains(op) ? 2 : 1
        guard arguments.count == wanted else {
            throw PromQLError(
                offset: opToken.offset,
                "wrong number of arguments for aggregate expression provided, expected \(wanted), got \(arguments.count)")
        }
        return .aggregate(
            Aggregation(
                op: name, grouping: group, groupingAfter: group != nil && !before,
                parameter: wanted == 2 ? arguments[0] : nil, expr: arguments[wanted - 1]))
    }
}
