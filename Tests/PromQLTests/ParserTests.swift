import PromQL
import Testing

/// Expressions from Prometheus' documentation (querying/basics, operators, functions, examples)
/// and the shapes of its parser tests (`promql/parser/parse_test.go`): each must parse, and its
/// printed form must parse back to the same tree.
@Suite struct ParserTests {
    static let valid: [String] = [
        // literals
        "1", "1.5", ".5", "5.", "1e3", "1E-3", "0x1F", "Inf", "-Inf", "NaN", "+5", "-5", "- -5", "\"a string\"",
        "'single \\' quoted'", "`raw \\n string`", "\"\\u00e9\\x41\\101\\t\"",
        // selectors
        "http_requests_total", "http_requests_total{job=\"apiserver\", handler=\"/api/comments\"}",
        "http_requests_total{job=~\".*server\"}", "http_requests_total{status!~\"4..\"}",
        "{__name__=~\"job:.*\"}", "{job=~\".+\"}", "{job=~\".*\",method=\"get\"}", "foo{}", "foo{a=\"b\",}",
        "job:request_latency_seconds:mean5m", ":colon:start", "on{a=\"b\"}", "foo{on=\"x\", by=\"y\", sum=\"z\"}",
        "foo{inf=\"1\", NaN=\"2\"}", "sum by (on, offset, inf) (x)",
        "x @ 1 offset 1m", "a offset 1m + b", "foo[1m:1m]", "0X1f", "-{__name__=\"x\"}", "1 > bool 2",
        "http_requests_total[5m]", "http_requests_total{job=\"prometheus\"}[5m]", "x[1h30m]", "x[100ms]", "x[1y2w3d]",
        "http_requests_total offset 5m", "sum(http_requests_total{method=\"GET\"} offset 5m)",
        "rate(http_requests_total[5m] offset 1w)", "rate(http_requests_total[5m] offset -1w)",
        "http_requests_total @ 1609746000", "http_requests_total @ 1609746000.5 offset 5m",
        "http_requests_total offset 5m @ 1609746000", "rate(http_requests_total[5m] @ start())",
        "x @ end()", "x @ -10",
        // subqueries
        "rate(http_requests_total[5m])[30m:1m]", "max_over_time(deriv(rate(distance_covered_total[5s])[30s:5s])[10m:])",
        "min_over_time(rate(x[5m])[30m:1m] offset 1h)", "(a + b)[5m:]", "x[5m:1m] @ 100",
        // operators and precedence
        "a + b", "a - b - c", "a / b * c", "a ^ b ^ c", "2 * 3 ^ 2", "-2 ^ 2", "-a * b", "a or b and c",
        "a unless b or c", "a == b", "a != bool b", "a > bool 1", "1 < bool 2", "a >= b", "a <= b", "a % b",
        "a atan2 b", "a AND b", "foo * on(code) group_left(handler) bar",
        "method_code:http_errors:rate5m{code=\"500\"} / ignoring(code) method:http_requests:rate5m",
        "method_code:http_errors:rate5m / ignoring(code) group_left method:http_requests:rate5m",
        "a + on() b", "a - ignoring(x, y) group_right(z) b", "a and on(x) b",
        "(instance_memory_limit_bytes - instance_memory_usage_bytes) / 1024 / 1024",
        // aggregations
        "sum(x)", "sum by (job) (x)", "sum(x) by (job)", "sum without (instance) (x)", "sum(x) without (a, b)",
        "sum by () (x)", "sum by (a,) (x)", "topk(5, x)", "bottomk by (a) (3, x)", "quantile(0.9, x)",
        "count_values(\"version\", build_version)", "count(x) by (a)", "group(x)", "stddev(x)", "stdvar(x)",
        "avg by (cluster) (x)", "max(x)", "min without () (x)", "SUM(x)",
        "sum by (app, proc) (instance_memory_limit_bytes - instance_memory_usage_bytes) / 1024 / 1024",
        "topk(3, sum by (app, proc) (rate(instance_cpu_time_ns[5m])))",
        "count by (app) (instance_cpu_time_ns)",
        // functions
        "time()", "pi()", "vector(1)", "scalar(x)", "abs(x)", "absent(nonexistent{job=\"myjob\"})",
        "absent_over_time(nonexistent{job=\"myjob\"}[1h])",
        "label_replace(up{job=\"api-server\"}, \"foo\", \"$1\", \"service\", \"(.*):.*\")",
        "label_join(up, \"foo\", \",\", \"a\", \"b\")",
        "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[10m])))",
        "predict_linear(node_filesystem_free_bytes[1h], 4 * 3600)", "holt_winters(x[5m], 0.5, 0.5)",
        "quantile_over_time(0.5, x[5m])", "clamp(x, 0, 1)", "round(x, 5)", "sort_desc(x)", "timestamp(x)",
        "day_of_week()", "hour(x)", "increase(x[1h])", "irate(x[5m])", "delta(x[2h])", "changes(x[1h])",
        "sum(rate(x[5m])) by (job) > bool 0.5",
        // comments and whitespace
        "sum(x) # a comment", "  a\n  +\tb  ",
    ]

    @Test(arguments: valid) func parsesAndRoundTrips(_ text: String) throws {
        let tree = try Parser.parse(text)
        let printed = tree.description
        let again = try Parser.parse(printed)
        #expect(again == tree, "\(text) printed as \(printed)")
        #expect(again.description == printed)
    }

    static let invalid: [String] = [
        "", "# only a comment", "(", ")", "a +", "+", "a b", "sum(", "sum()", "topk(x)", "sum(1, x)", "foo{",
        "foo{a}", "foo{a=}", "foo{a=\"b\" c=\"d\"}", "foo{a=b}", "x[5]", "x[5m", "x[]", "(a + b)[5m]",
        "rate(x)[5m]", "1[5m]", "x offset", "x offset 5", "x offset 5m offset 1m", "x @ 1 @ 2", "x offset 5m [5m]",
        "sum(x) offset 5m", "a + bool b", "a and group_left b", "a * group_left(x) b", "a and on(x) group_left b",
        "\"unterminated", "'\\q'", "1.2.3", "1x", "5m", "x[5m:1m", "x[1m5h]", "x[5mm]", "foo !x", "a ==", "$",
        "sum by (a:b) (x)", "foo{a:b=\"c\"}", "sum without(x)", "x @ foo", "rate(x[5m],)",
    ]

    @Test(arguments: invalid) func refuses(_ text: String) {
        #expect(throws: PromQLError.self, "\(text)") { try Parser.parse(text) }
    }

    /// Trees for the cases where precedence and associativity decide the meaning.
    @Test func precedenceAndAssociativity() throws {
        func bin(_ e: Expr) -> BinaryExpr? { if case .binary(let b) = e { b } else { nil } }
        // a - b - c is (a - b) - c.
        let sub = try #require(bin(try Parser.parse("a - b - c")))
        #expect(bin(sub.lhs)?.op == .sub && sub.rhs == .vectorSelector(VectorSelector(name: "c", matchers: [])))
        // a ^ b ^ c is a ^ (b ^ c).
        let pow = try #require(bin(try Parser.parse("a ^ b ^ c")))
        #expect(bin(pow.rhs)?.op == .pow && pow.lhs == .vectorSelector(VectorSelector(name: "a", matchers: [])))
        // 2 * 3 ^ 2 is 2 * (3 ^ 2).
        let mul = try #require(bin(try Parser.parse("2 * 3 ^ 2")))
        #expect(mul.op == .mul && bin(mul.rhs)?.op == .pow)
        // -2 ^ 2 is -(2 ^ 2); -a * b is (-a) * b.
        guard case .unary(.minus, let inner) = try Parser.parse("-2 ^ 2") else {
            Issue.record("not unary")
            return
        }
        #expect(bin(inner)?.op == .pow)
        let neg = try #require(bin(try Parser.parse("-a * b")))
        #expect(neg.op == .mul)
        // or binds loosest, then and/unless, then comparisons, then + -, then * / % atan2.
        #expect(bin(try Parser.parse("a or b and c"))?.op == .or)
        #expect(bin(try Parser.parse("a and b == c"))?.op == .and)
        #expect(bin(try Parser.parse("a == b + c"))?.op == .equal)
        #expect(bin(try Parser.parse("a + b atan2 c"))?.op == .add)
        #expect(bin(try Parser.parse("a atan2 b ^ c")).map { bin($0.rhs)?.op == .pow } == true)
    }

    @Test func modifiersAndSelectors() throws {
        let tree = try Parser.parse("rate(foo{__name__=~\"x\", job!=\"a\"}[5m] @ start() offset -1h)")
        guard case .call("rate", let args) = tree, case .matrixSelector(let s, let range) = args.first else {
            Issue.record("\(tree)")
            return
        }
        #expect(range.milliseconds == 300_000)
        #expect(
            s.name == "foo" && s.matchers == [LabelMatcher("__name__", .regexMatch, "x"), LabelMatcher("job", .notEqual, "a")])
        #expect(s.at == .start && s.offset == Offset(negative: true, duration: PromDuration(text: "1h", milliseconds: 3_600_000)))
        #expect(tree.description == "rate(foo{__name__=~\"x\", job!=\"a\"}[5m] @ start() offset -1h)")
        let sub = try Parser.parse("max_over_time(x[1h:5m] offset 10m)")
        guard case .call(_, let subArgs) = sub, case .subquery(let q) = subArgs.first else {
            Issue.record("\(sub)")
            return
        }
        #expect(q.range.milliseconds == 3_600_000 && q.step?.milliseconds == 300_000 && q.offset?.duration.text == "10m")
        #expect(try Parser.parse("x[1y2w3d4h5m6s7ms]") != Parser.parse("x[1y]"))
        guard case .matrixSelector(_, let long) = try Parser.parse("x[1y2w3d4h5m6s7ms]") else { return }
        #expect(long.milliseconds == ((((365 + 14 + 3) * 24 + 4) * 60 + 5) * 60 + 6) * 1000 + 7)
    }

    @Test func aggregationForms() throws {
        let before = try Parser.parse("sum by (a, b) (x)")
        let after = try Parser.parse("sum(x) by (a, b)")
        guard case .aggregate(let b) = before, case .aggregate(let a) = after else {
            Issue.record("not aggregations")
            return
        }
        #expect(b.grouping == .by(["a", "b"]) && a.grouping == .by(["a", "b"]) && !b.groupingAfter && a.groupingAfter)
        #expect(before.description == "sum by (a, b) (x)" && after.description == "sum (x) by (a, b)")
        guard case .aggregate(let topk) = try Parser.parse("topk without (a) (5, x)") else { return }
        #expect(topk.parameter == .number("5") && topk.grouping == .without(["a"]))
        #expect(
            try Parser.parse("foo * on (code) group_left (handler) bar").description == "foo * on (code) group_left (handler) bar"
        )
    }

    @Test func stringsUnescape() throws {
        #expect(try Parser.parse("\"a\\\"b\\\\c\\n\"") == .string("a\"b\\c\n"))
        #expect(try Parser.parse("'it\\'s'") == .string("it's"))
        #expect(try Parser.parse("`\\d+`") == .string("\\d+"))
        #expect(try Parser.parse("\"\\u00e9\\101\\x42\"") == .string("éAB"))
        #expect(try Parser.parse("x{a=\"é\\\"\"}").description == "x{a=\"é\\\"\"}")
    }

    @Test func selectorsForMatchParameters() throws {
        #expect(
            try Parser.parseSelector("up{job=\"a\"}").allMatchers == [
                LabelMatcher("__name__", .equal, "up"), LabelMatcher("job", .equal, "a"),
            ])
        #expect(
            try Parser.parseSelector("{__address__=~\"x.*\"}").allMatchers == [LabelMatcher("__address__", .regexMatch, "x.*")])
        #expect(throws: PromQLError.self) { try Parser.parseSelector("sum(up)") }
        #expect(throws: PromQLError.self) { try Parser.parseSelector("up[5m]") }
    }
}
