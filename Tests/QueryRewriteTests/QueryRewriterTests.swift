import PromQL
import QueryAPI
import SkiffCore
import Testing

/// The rewrite that makes Prometheus answer as a Querier in front of the sidecar would, checked
/// on its text (the live suite checks the answers).
@Suite struct QueryRewriterTests {
    static let external = LabelSet(["cluster": "eu", "replica": "a"])

    static func rewrite(
        _ query: String, dedup: Bool = true, replicas: [String] = ["replica"], noStore: Bool = false, partial: Bool = false
    ) throws -> QueryRewriter.Output {
        try QueryRewriter(
            externalLabels: external, dedup: dedup, replicaLabels: replicas, noStore: noStore, partialResponse: partial
        ).rewrite(try Parser.parse(query))
    }

    static func labelled(_ inner: String) -> String {
        "label_replace(label_replace(\(inner), \"cluster\", \"eu\", \"\", \"\"), \"replica\", \"\", \"\", \"\")"
    }

    @Test func selectorsGetExternalLabelsAndLoseReplicaLabels() throws {
        #expect(try Self.rewrite("up").expr.description == Self.labelled("up"))
        #expect(try Self.rewrite("sum by (cluster) (up)").expr.description == "sum by (cluster) (\(Self.labelled("up")))")
        #expect(try Self.rewrite("up offset 5m").expr.description == Self.labelled("up offset 5m"))
        #expect(try Self.rewrite("1 + 1").expr.description == "1 + 1")
    }

    @Test func withoutDedupEveryExternalLabelIsAdded() throws {
        let out = try Self.rewrite("up", dedup: false)
        #expect(
            out.expr.description
                == "label_replace(label_replace(up, \"cluster\", \"eu\", \"\", \"\"), \"replica\", \"a\", \"\", \"\")")
    }

    @Test func rangeSelectorsAreLabelledThroughTheirCall() throws {
        #expect(try Self.rewrite("rate(x[5m])").expr.description == Self.labelled("rate(x[5m])"))
        #expect(
            try Self.rewrite("quantile_over_time(0.5, x[5m] offset 1m)").expr.description
                == Self.labelled("quantile_over_time(0.5, x[5m] offset 1m)"))
        // A subquery's inner expression is an instant vector: labelled there.
        #expect(try Self.rewrite("max_over_time(x[1h:5m])").expr.description == "max_over_time(\(Self.labelled("x"))[1h:5m])")
        // timestamp() reads sample times only from a bare selector.
        #expect(try Self.rewrite("timestamp(x)").expr.description == Self.labelled("timestamp(x)"))
        let top = try Self.rewrite("x[5m]")
        #expect(top.relabelResult && top.expr.description == "x[5m]")
        #expect(try !Self.rewrite("rate(x[5m])").relabelResult)
    }

    @Test func matchersOnExternalLabelsAreEvaluatedHere() throws {
        #expect(try Self.rewrite("up{cluster=\"eu\", job=\"a\"}").expr.description == Self.labelled("up{job=\"a\"}"))
        #expect(try Self.rewrite("up{cluster=~\"e.*\"}").expr.description == Self.labelled("up"))
        #expect(
            try Self.rewrite("up{cluster=\"us\", job=\"a\"}").expr.description
                == Self.labelled("up{job=\"a\", __skiff_none__=\"\", __skiff_none__!=\"\"}"))
        #expect(try Self.rewrite("up{cluster!=\"eu\"}").expr.description.contains("__skiff_none__"))
        // Matchers on a replica label see its value before dedup removes it.
        #expect(try Self.rewrite("up{replica=\"a\"}").expr.description == Self.labelled("up"))
        #expect(try Self.rewrite("up{replica=\"b\"}").expr.description.contains("__skiff_none__"))
        // Left with only empty-matching matchers, the selection is every series they accept.
        #expect(
            try Self.rewrite("{cluster=\"eu\", job=~\".*\"}").expr.description
                == Self.labelled("{job=~\".*\", __name__=~\".+\"}"))
    }

    @Test func selectorsWithOnlyExternalMatchersAreRefusedUnlessPartial() throws {
        #expect(throws: QueryRewriteError.noInternalMatchers) { try Self.rewrite("{cluster=\"eu\"}") }
        let partial = try Self.rewrite("{cluster=\"eu\"}", partial: true)
        #expect(partial.warnings == ["no matchers specified (excluding external labels)"])
        #expect(partial.expr.description == Self.labelled("{__skiff_none__=\"\", __skiff_none__!=\"\"}"))
    }

    @Test func absentGetsTheExternalEqualityMatchersBack() throws {
        #expect(
            try Self.rewrite("absent(up{cluster=\"us\", job=\"x\"})").expr.description
                == "label_replace(absent(up{job=\"x\", __skiff_none__=\"\", __skiff_none__!=\"\"}), \"cluster\", \"us\", \"\", \"\")"
        )
        #expect(try Self.rewrite("absent(up)").expr.description == "absent(up)")
        #expect(
            try Self.rewrite("absent_over_time(up{cluster=\"eu\"}[5m])").expr.description
                == "label_replace(absent_over_time(up[5m]), \"cluster\", \"eu\", \"\", \"\")")
        // A name's second matcher removes it, as Prometheus does.
        #expect(try Self.rewrite("absent(up{cluster=\"us\", cluster=\"eu\"})").expr.description.hasPrefix("absent("))
    }

    @Test func noStoreSelectsNothing() throws {
        #expect(
            try Self.rewrite("sum(up)", noStore: true).expr.description
                == "sum(\(Self.labelled("up{__skiff_none__=\"\", __skiff_none__!=\"\"}")))")
    }

    @Test func badRegexesAreLeftToPrometheus() throws {
        #expect(throws: QueryRewriteError.self) { try Self.rewrite("up{cluster=~\"(\"}") }
    }

    @Test func topLevelRangeSelectorLabels() {
        let rewriter = QueryRewriter(externalLabels: Self.external, dedup: true, replicaLabels: ["replica"])
        let labels = rewriter.resultLabels([("__name__", "x"), ("replica", "r"), ("cluster", "local"), ("a", "1")])
        #expect(labels.map { "\($0.name)=\($0.value)" } == ["__name__=x", "a=1", "cluster=eu"])
    }
}
