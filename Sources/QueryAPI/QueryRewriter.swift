import PromQL
import SkiffCore
import StoreLogic

/// Rewrites a PromQL expression so that Prometheus, evaluating it over its own series, gives the
/// answer a Thanos Querier in front of this one sidecar gives:
///
/// - every instant vector selector's series carry the external labels (external value wins) as
///   the sidecar's Series adds them: the selector is wrapped in `label_replace(sel, "name",
///   "value", "", "")`, which sets the label on every series;
/// - a range selector cannot be wrapped (label_replace takes an instant vector), so the call that
///   consumes it is: every PromQL function over a range keeps its series' labels (only the metric
///   name may go), so labelling after the call is the same as labelling before. `timestamp(sel)`
///   is wrapped the same way, because Prometheus only reads sample times from a bare selector;
/// - matchers on external label names are evaluated here, against the external value, as the
///   sidecar does (`ExternalLabelFilter`): one that matches is dropped, one that fails makes the
///   selector match nothing (`__skiff_none__="", __skiff_none__!=""`, which no series satisfies);
/// - under dedup, the replica labels are not added and are removed from every series
///   (`label_replace(…, "replica", "", "", "")`), as the Querier's dedup strips them;
/// - `absent(sel)` and `absent_over_time(sel[r])` take their labels from the selector's equality
///   matchers, so those on external names are put back on the result;
/// - a top-level range selector (an instant query for `x[5m]`) is answered with the labels
///   changed in the result (`resultLabels`), which is exact as nothing else sees them.
public struct QueryRewriter: Sendable {
    /// The labels added to every series: the external ones with a value, minus replica labels
    /// under dedup.
    public let injected: LabelSet
    /// The labels removed from every series (the replica labels under dedup).
    public let stripped: [String]
    let external: LabelSet
    /// True when no store matches (`storeMatch[]`): every selector selects nothing.
    let noStore: Bool
    /// With partial response, a selector the sidecar would refuse (only external-label matchers)
    /// selects nothing and the answer warns, as the Querier turns the store's error into a warning.
    let partialResponse: Bool

    public init(
        externalLabels: LabelSet, dedup: Bool, replicaLabels: [String], noStore: Bool = false, partialResponse: Bool = false
    ) {
        self.partialResponse = partialResponse
        external = externalLabels
        let stripped = dedup ? replicaLabels.filter { !$0.isEmpty } : []
        self.stripped = stripped
        injected = LabelSet(
            externalLabels.filter { label in !label.value.isEmpty && !stripped.contains { ByteOrder.equal($0, label.name) } })
        self.noStore = noStore
    }

    /// The rewritten expression, and whether a top-level range selector's result needs its labels
    /// changed afterwards (`resultLabels`).
    public struct Output: Sendable, Equatable {
        public let expr: Expr
        public let relabelResult: Bool
        public let warnings: [String]
    }

    public func rewrite(_ expr: Expr) throws(QueryRewriteError) -> Output {
        var warnings: [String] = []
        let out = try rewritten(expr, &warnings)
        return Output(expr: out, relabelResult: Self.isRangeSelector(expr), warnings: warnings)
    }

    /// The Querier's warning for a store that refused a selector under partial response.
    static let noMatchersWarning = "no matchers specified (excluding external labels)"

    /// The labels a top-level range selector's series get: external ones added, replica ones removed.
    public func resultLabels(_ labels: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var out = labels.filter { label in
            !stripped.contains { ByteOrder.equal($0, label.name) } && injected[label.name] == nil
        }
        out += injected.map { (name: $0.name, value: $0.value) }
        return out.sorted { ByteOrder.less($0.name, $1.name) }
    }

    private func rewritten(_ expr: Expr, _ w: inout [String]) throws(QueryRewriteError) -> Expr {
        switch expr {
        case .number, .string:
            return expr
        case .vectorSelector(let selector):
            return labelled(.vectorSelector(try localized(selector, &w)))
        case .matrixSelector(let selector, let range):
            // Labelled by the consumer (a call); a top-level one through `resultLabels`.
            return .matrixSelector(try localized(selector, &w), range: range)
        case .subquery(var subquery):
            subquery.expr = try rewritten(subquery.expr, &w)
            return .subquery(subquery)
        case .paren(let inner):
            return .paren(try rewritten(inner, &w))
        case .unary(let op, let inner):
            return .unary(op, try rewritten(inner, &w))
        case .binary(var binary):
            binary.lhs = try rewritten(binary.lhs, &w)
            binary.rhs = try rewritten(binary.rhs, &w)
            return .binary(binary)
        case .aggregate(var aggregation):
            if let parameter = aggregation.parameter { aggregation.parameter = try rewritten(parameter, &w) }
            aggregation.expr = try rewritten(aggregation.expr, &w)
            return .aggregate(aggregation)
        case .call(let name, let arguments):
            return try call(name, arguments, &w)
        }
    }

    private func call(_ name: String, _ arguments: [Expr], _ w: inout [String]) throws(QueryRewriteError) -> Expr {
        let lower = name.lowercased()
        if lower == "absent" || lower == "absent_over_time", arguments.count == 1 {
            return try absent(name, arguments[0], &w)
        }
        if lower == "timestamp", arguments.count == 1, case .vectorSelector(let selector) = Self.unparenthesized(arguments[0]) {
            return labelled(.call(name: name, arguments: [.vectorSelector(try localized(selector, &w))]))
        }
        var rewrittenArguments: [Expr] = []
        for argument in arguments { rewrittenArguments.append(try rewritten(argument, &w)) }
        let consumesRange = arguments.contains { Self.isRangeSelector($0) }
        let call = Expr.call(name: name, arguments: rewrittenArguments)
        return consumesRange ? labelled(call) : call
    }

    /// `absent(sel)`: Prometheus labels the result from `sel`'s equality matchers (a name's second
    /// matcher removes it; `__name__` never counts). The selector keeps its internal matchers, so
    /// those come out as Prometheus makes them; the external-name ones are added back here.
    private func absent(_ name: String, _ argument: Expr, _ w: inout [String]) throws(QueryRewriteError) -> Expr {
        let selector: VectorSelector
        let rebuilt: Expr
        switch argument {
        case .vectorSelector(let s):
            selector = s
            rebuilt = .vectorSelector(try localized(s, &w))
        case .matrixSelector(let s, let range):
            selector = s
            rebuilt = .matrixSelector(try localized(s, &w), range: range)
        default:
            return .call(name: name, arguments: [try rewritten(argument, &w)])
        }
        var labels: [(String, String)] = []
        var seen: Set<String> = []
        for m in selector.matchers where external[m.name].map({ !$0.isEmpty }) == true {
            if m.op == .equal && !seen.contains(m.name) {
                labels.append((m.name, m.value))
            } else {
                labels.removeAll { $0.0 == m.name }
            }
            seen.insert(m.name)
        }
        return labels.reduce(Expr.call(name: name, arguments: [rebuilt])) { Self.labelReplace($0, $1.0, $1.1) }
    }

    /// The selector with matchers on external names evaluated here.
    private func localized(_ selector: VectorSelector, _ w: inout [String]) throws(QueryRewriteError) -> VectorSelector {
        var matchers: [Matcher] = []
        for m in selector.matchers {
            do {
                matchers.append(try Matcher(Self.matchType(m.op), name: m.name, value: m.value))
            } catch {
                throw .invalid(error.description)
            }
        }
        var out = selector
        let outcome =
            noStore ? ExternalLabelFilter.Outcome.noMatch : ExternalLabelFilter.apply(matchers: matchers, external: external)
        switch outcome {
        case .noMatch:
            out.matchers = selector.matchers.filter { external[$0.name].map { $0.isEmpty } ?? true } + Self.matchNothing
        case .matchers(let kept):
            out.matchers = kept.map { LabelMatcher($0.name, Self.matchOperator($0.type), $0.value) }
            if out.name == nil && out.matchers.isEmpty {
                // The sidecar refuses a Series call whose matchers were all on external labels.
                guard partialResponse else { throw .noInternalMatchers }
                if !w.contains(Self.noMatchersWarning) { w.append(Self.noMatchersWarning) }
                out.matchers = Self.matchNothing
                return out
            }
            // Every matcher left matching the empty value: the sidecar's remote read selects every
            // series they accept, but Prometheus' parser refuses such a selector on its own. Every
            // series has a metric name, so `__name__=~".+"` keeps the selection the same.
            if out.name == nil && kept.allSatisfy({ $0.matches("") }) {
                out.matchers.append(LabelMatcher("__name__", .regexMatch, ".+"))
            }
        }
        return out
    }

    /// No series has a label that is both empty and not empty.
    static let matchNothing = [LabelMatcher("__skiff_none__", .equal, ""), LabelMatcher("__skiff_none__", .notEqual, "")]

    private func labelled(_ expr: Expr) -> Expr {
        var out = expr
        for label in injected { out = Self.labelReplace(out, label.name, label.value) }
        for name in stripped { out = Self.labelReplace(out, name, "") }
        return out
    }

    /// `label_replace(e, name, value, "", "")`: the empty regex matches the empty source, so every
    /// series gets `name=value` (an empty value removes the label).
    static func labelReplace(_ expr: Expr, _ name: String, _ value: String) -> Expr {
        .call(name: "label_replace", arguments: [expr, .string(name), .string(value), .string(""), .string("")])
    }

    static func unparenthesized(_ expr: Expr) -> Expr {
        if case .paren(let inner) = expr { return unparenthesized(inner) }
        return expr
    }

    static func isRangeSelector(_ expr: Expr) -> Bool {
        if case .matrixSelector = unparenthesized(expr) { return true }
        return false
    }

    static func matchType(_ op: MatchOperator) -> MatchType {
        switch op {
        case .equal: .equal
        case .notEqual: .notEqual
        case .regexMatch: .regexMatch
        case .regexNoMatch: .regexNoMatch
        }
    }

    static func matchOperator(_ type: MatchType) -> MatchOperator {
        switch type {
        case .equal: .equal
        case .notEqual: .notEqual
        case .regexMatch: .regexMatch
        case .regexNoMatch: .regexNoMatch
        }
    }
}

/// Why a query cannot be rewritten.
public enum QueryRewriteError: Error, Sendable, Equatable {
    /// A matcher Prometheus' parser would refuse (a bad regex); Prometheus gives the message.
    case invalid(String)
    /// Every matcher of a selector was on an external label.
    case noInternalMatchers
}
