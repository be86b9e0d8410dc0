import Foundation
import SkiffCore
import Testing

@testable import StoreLogic

@Suite struct MatcherTests {
    @Test func anAbsentLabelIsTheEmptyValue() throws {
        let series: LabelSet = ["job": "api"]
        #expect(try Matcher(.equal, name: "foo", value: "").matches(series))
        #expect(try !Matcher(.notEqual, name: "foo", value: "").matches(series))
        #expect(try Matcher(.notEqual, name: "job", value: "").matches(series))
        #expect(try Matcher(.regexMatch, name: "foo", value: ".*").matches(series))
        #expect(try !Matcher(.regexMatch, name: "foo", value: ".+").matches(series))
    }

    @Test func regexesAreFullyAnchored() throws {
        let m = try Matcher(.regexMatch, name: "job", value: "api|web")
        #expect(m.matches("api") && m.matches("web"))
        #expect(!m.matches("apix") && !m.matches("xweb") && !m.matches("api|web"))
        let n = try Matcher(.regexNoMatch, name: "job", value: "a.*")
        #expect(!n.matches("abc") && n.matches("ba"))
    }

    @Test func equalityIsBytewise() throws {
        let m = try Matcher(.equal, name: "a", value: "\u{E9}")
        #expect(m.matches("\u{E9}") && !m.matches("e\u{301}"))
        let r = try Matcher(.regexMatch, name: "a", value: "\u{E9}|x")
        #expect(r.matches("\u{E9}") && !r.matches("e\u{301}"))
    }

    @Test func fastPathsMatchWhatTheEngineWould() throws {
        let values = ["", "a", "api", "api-1", "xapi", "x-api-y", "a\nb", "\u{E9}", "e\u{301}"]
        for pattern in ["api.*", ".*api", ".*api.*", ".*", ".+", "api|a|", "(api)", "api-1"] {
            let fast = try Matcher(.regexMatch, name: "l", value: pattern)
            // Wrapping in a class-bearing group defeats the fast paths, so ICU decides.
            let slow = try Matcher(.regexMatch, name: "l", value: "(?:" + pattern + ")[\\x{0}]?")
            for v in values { #expect(fast.matches(v) == slow.matches(v), "\(pattern) on \(GoQuote.quote(v))") }
        }
    }

    @Test func anInvalidRegexNamesTheMatcher() {
        #expect {
            try Matcher(.regexMatch, name: "job", value: "(api")
        } throws: { error in
            (error as? MatcherError)?.description
                == #"invalid matcher job=~"(api": error parsing regexp: missing closing ): `(api`"#
        }
        #expect(throws: MatcherError.self) { try Matcher(.regexNoMatch, name: "job", value: "(?=a)") }
        #expect(throws: Never.self) { try Matcher(.equal, name: "job", value: "(api") }
    }

    @Test func wireValuesMatchTheProtobufEnums() {
        #expect([MatchType.equal, .notEqual, .regexMatch, .regexNoMatch].map(\.rawValue) == [0, 1, 2, 3])
        #expect([MatchType.equal, .notEqual, .regexMatch, .regexNoMatch].map(\.description) == ["=", "!=", "=~", "!~"])
    }

    /// 100k values through the common shapes and through ICU; generous bounds for a debug build
    /// on a busy 2-core machine (release is several times faster).
    @Test func isFastEnoughForAHundredThousandSeries() throws {
        let values = (0..<100_000).map { "instance-\($0 % 977):9090" }
        for (pattern, limit) in [(".*", 1.0), ("instance-1.*", 1.0), ("a|b|instance-5:9090", 1.0), ("inst[a-z]+-\\d+:9090", 5.0)]
        {
            let m = try Matcher(.regexMatch, name: "instance", value: pattern)
            let start = Date()
            let hits = values.count(where: m.matches)
            let elapsed = Date().timeIntervalSince(start)
            #expect(hits > 0)
            #expect(elapsed < limit, "\(pattern): \(elapsed) s")
        }
    }
}

@Suite struct ExternalLabelFilterTests {
    let external: LabelSet = ["cluster": "eu-1", "replica": "0"]

    @Test func matchingExternalMatchersAreDroppedOthersKept() throws {
        let job = try Matcher(.equal, name: "job", value: "api")
        let matchers = [
            try Matcher(.equal, name: "cluster", value: "eu-1"), try Matcher(.regexMatch, name: "replica", value: ".*"), job,
        ]
        #expect(ExternalLabelFilter.apply(matchers: matchers, external: external) == .matchers([job]))
    }

    @Test func aNonMatchingExternalMatcherMatchesNothing() throws {
        for m in [
            try Matcher(.equal, name: "cluster", value: "us"), try Matcher(.regexMatch, name: "cluster", value: "us.*"),
            try Matcher(.notEqual, name: "replica", value: "0"), try Matcher(.equal, name: "cluster", value: ""),
        ] {
            #expect(ExternalLabelFilter.apply(matchers: [m], external: external) == .noMatch, "\(m)")
        }
    }

    @Test func regexOnAnExternalLabelIsEvaluatedLocally() throws {
        // Prometheus itself would return nothing for this (it only special-cases equality).
        let m = try Matcher(.regexMatch, name: "cluster", value: "eu-.*")
        #expect(ExternalLabelFilter.apply(matchers: [m], external: external) == .matchers([]))
    }

    @Test func emptinessMatchersOnOtherNamesGoToPrometheus() throws {
        let m = try Matcher(.equal, name: "region", value: "")
        #expect(ExternalLabelFilter.apply(matchers: [m], external: external) == .matchers([m]))
        #expect(ExternalLabelFilter.apply(matchers: [m], external: [:]) == .matchers([m]))
    }

    @Test func labelNamesAddExternalNamesToANonEmptyAnswerOnly() {
        #expect(
            ExternalLabelFilter.labelNames(fromPrometheus: ["job", "__name__", "cluster"], external: external)
                == ["__name__", "cluster", "job", "replica"])
        #expect(ExternalLabelFilter.labelNames(fromPrometheus: [], external: external) == [])
    }

    @Test func labelValuesPlans() throws {
        let job = try Matcher(.equal, name: "job", value: "api")
        let wrongCluster = try Matcher(.equal, name: "cluster", value: "us")
        #expect(ExternalLabelFilter.valuesPlan(label: "cluster", matchers: [], external: external) == .externalValue("eu-1"))
        #expect(
            ExternalLabelFilter.valuesPlan(label: "cluster", matchers: [job], external: external)
                == .externalValueIfAnySeries("eu-1", matchers: [job]))
        #expect(ExternalLabelFilter.valuesPlan(label: "cluster", matchers: [wrongCluster], external: external) == .empty)
        #expect(
            ExternalLabelFilter.valuesPlan(label: "job", matchers: [job], external: external) == .askPrometheus(matchers: [job]))
        #expect(
            ExternalLabelFilter.valuesPlan(label: "replica", matchers: [], external: external, withoutReplicaLabels: ["replica"])
                == .empty)
    }
}
