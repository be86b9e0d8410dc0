/// PromQL's syntax tree, as Prometheus' parser (`promql/parser`) builds it, kept close enough to
/// the text that `description` prints an expression Prometheus parses to the same tree.
public indirect enum Expr: Equatable, Sendable {
    /// A number literal, kept as written ("1e3", "0x1f", "Inf") so printing never reformats it.
    case number(String)
    /// A string literal's value (escapes already resolved).
    case string(String)
    case vectorSelector(VectorSelector)
    /// `selector[range]`; the selector's offset and `@` print after the range.
    case matrixSelector(VectorSelector, range: PromDuration)
    case subquery(Subquery)
    case paren(Expr)
    case unary(UnaryOperator, Expr)
    case binary(BinaryExpr)
    case aggregate(Aggregation)
    case call(name: String, arguments: [Expr])
}

/// A duration as PromQL writes it ("5m", "1h30m"), with its value.
public struct PromDuration: Equatable, Sendable {
    public let text: String
    public let milliseconds: Int64

    public init(text: String, milliseconds: Int64) {
        self.text = text
        self.milliseconds = milliseconds
    }
}

/// `offset 5m` or `offset -5m`.
public struct Offset: Equatable, Sendable {
    public var negative: Bool
    public var duration: PromDuration

    public init(negative: Bool, duration: PromDuration) {
        self.negative = negative
        self.duration = duration
    }
}

/// `@ <unix seconds>`, `@ start()`, `@ end()`.
public enum AtModifier: Equatable, Sendable {
    case timestamp(String)
    case start
    case end
}

public enum MatchOperator: String, Equatable, Sendable {
    case equal = "="
    case notEqual = "!="
    case regexMatch = "=~"
    case regexNoMatch = "!~"
}

public struct LabelMatcher: Equatable, Sendable {
    public var name: String
    public var op: MatchOperator
    public var value: String

    public init(_ name: String, _ op: MatchOperator, _ value: String) {
        self.name = name
        self.op = op
        self.value = value
    }
}

/// `name{matchers} @ t offset d`. The metric name is kept apart from the brace matchers, as
/// written, so printing gives the same text shape back.
public struct VectorSelector: Equatable, Sendable {
    public var name: String?
    public var matchers: [LabelMatcher]
    public var offset: Offset?
    public var at: AtModifier?

    public init(name: String?, matchers: [LabelMatcher], offset: Offset? = nil, at: AtModifier? = nil) {
        self.name = name
        self.matchers = matchers
        self.offset = offset
        self.at = at
    }

    /// Every matcher, the metric name as `__name__="name"` first.
    public var allMatchers: [LabelMatcher] {
        (name.map { [LabelMatcher("__name__", .equal, $0)] } ?? []) + matchers
    }
}

/// `expr[range:step] @ t offset d` (step optional).
public struct Subquery: Equatable, Sendable {
    public var expr: Expr
    public var range: PromDuration
    public var step: PromDuration?
    public var offset: Offset?
    public var at: AtModifier?

    public init(expr: Expr, range: PromDuration, step: PromDuration?, offset: Offset? = nil, at: AtModifier? = nil) {
        self.expr = expr
        self.range = range
        self.step = step
        self.offset = offset
        self.at = at
    }
}

public enum UnaryOperator: String, Equatable, Sendable {
    case minus = "-"
    case plus = "+"
}

public enum BinaryOperator: String, Equatable, Sendable, CaseIterable {
    case or, and, unless
    case equal = "==", notEqual = "!=", greater = ">", less = "<", greaterEqual = ">=", lessEqual = "<="
    case add = "+", sub = "-"
    case mul = "*", div = "/", mod = "%", atan2
    case pow = "^"

    /// Prometheus' precedence, lowest first: or; and unless; comparisons; + -; * / % atan2; ^.
    public var precedence: Int {
        switch self {
        case .or: 1
        case .and, .unless: 2
        case .equal, .notEqual, .greater, .less, .greaterEqual, .lessEqual: 3
        case .add, .sub: 4
        case .mul, .div, .mod, .atan2: 5
        case .pow: 6
        }
    }

    public var isComparison: Bool { precedence == 3 }
    public var isSetOperator: Bool { precedence <= 2 }
}

/// `on (l)`/`ignoring (l)` and `group_left (l)`/`group_right (l)` after a binary operator.
public struct VectorMatching: Equatable, Sendable {
    public enum Card: Equatable, Sendable {
        case groupLeft([String])
        case groupRight([String])
    }

    public var on: Bool
    public var labels: [String]
    public var group: Card?

    public init(on: Bool, labels: [String], group: Card? = nil) {
        self.on = on
        self.labels = labels
        self.group = group
    }
}

public struct BinaryExpr: Equatable, Sendable {
    public var op: BinaryOperator
    public var lhs: Expr
    public var rhs: Expr
    public var returnBool: Bool
    public var matching: VectorMatching?

    public init(op: BinaryOperator, lhs: Expr, rhs: Expr, returnBool: Bool = false, matching: VectorMatching? = nil) {
        self.op = op
        self.lhs = lhs
        self.rhs = rhs
        self.returnBool = returnBool
        self.matching = matching
    }
}

public struct Aggregation: Equatable, Sendable {
    public enum Grouping: Equatable, Sendable {
        case by([String])
        case without([String])
    }

    public var op: String
    public var grouping: Grouping?
    /// Where the grouping was written: `sum by (a) (x)` (false) or `sum (x) by (a)` (true).
    public var groupingAfter: Bool
    /// topk's k, quantile's φ, count_values' label.
    public var parameter: Expr?
    public var expr: Expr

    public init(op: String, grouping: Grouping?, groupingAfter: Bool = false, parameter: Expr?, expr: Expr) {
        self.op = op
        self.grouping = grouping
        self.groupingAfter = groupingAfter
        self.parameter = parameter
        self.expr = expr
    }

    /// PromQL's aggregation operators (Prometheus 2.42; a newer name still parses as a function).
    public static let operators: Set<String> = [
        "sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "count_values", "quantile",
    ]
    static let withParameter: Set<String> = ["topk", "bottomk", "count_values", "quantile"]
}
