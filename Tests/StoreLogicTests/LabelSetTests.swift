import Testing

@testable import StoreLogic

@Suite struct LabelSetTests {
    @Test func sortsByNameAndTheLastDuplicateWins() {
        let set = LabelSet([Label(name: "b", value: "1"), Label(name: "a", value: "1"), Label(name: "b", value: "2")])
        #expect(set.names == ["a", "b"])
        #expect(set["b"] == "2")
        #expect(set.description == #"{a="1", b="2"}"#)
    }

    @Test func comparesLikePrometheusLabelsCompare() {
        // Name first, then value; a prefix sorts first; `_` (0x5F) sorts before lower case.
        let ordered: [LabelSet] = [
            [:],
            ["__name__": "m"],
            ["__name__": "m", "a": "1"],
            ["__name__": "m", "b": "0"],
            ["__name__": "n"],
            ["a": "1"],
            ["a": "1", "b": "1"],
            ["a": "2"],
        ]
        for (i, x) in ordered.enumerated() {
            for (j, y) in ordered.enumerated() {
                #expect((x < y) == (i < j), "\(x) vs \(y)")
                #expect((LabelSet.compare(x, y) == 0) == (i == j))
            }
        }
    }

    @Test func ordersAndEqualsByBytesNotByUnicodeCanonicalEquivalence() {
        let composed: LabelSet = ["a": "\u{E9}"]  // é: C3 A9
        let decomposed: LabelSet = ["a": "e\u{301}"]  // e + combining acute: 65 CC 81
        #expect("\u{E9}" == "e\u{301}", "Swift's String equality says they are the same")
        #expect(composed != decomposed)
        #expect(decomposed < composed)
        #expect(Set([composed, decomposed]).count == 2)
        // Upper case sorts before lower case, and ASCII before anything else.
        #expect(LabelSet(["a": "Z"]) < LabelSet(["a": "a"]))
        #expect(LabelSet(["a": "z"]) < LabelSet(["a": "\u{E9}"]))
    }

    @Test func withExternalAppliesExternalLabelsAndTheyWin() {
        let series: LabelSet = ["__name__": "up", "region": "local", "zone": "z1"]
        let external: LabelSet = ["cluster": "c1", "region": "eu"]
        #expect(series.withExternal(external) == ["__name__": "up", "cluster": "c1", "region": "eu", "zone": "z1"])
        #expect(series.withExternal([:]) == series)
        #expect(LabelSet().withExternal(external) == external)
    }

    @Test func removingNamesStripsExternalNamesWhateverTheirValue() {
        let received: LabelSet = ["__name__": "up", "cluster": "c1", "replica": "0", "zone": "z"]
        #expect(received.removingNames(of: ["cluster": "x", "replica": "y"]) == ["__name__": "up", "zone": "z"])
        #expect(received.removingNames(of: [:]) == received)
    }

    @Test func clashCheckNamesInternalLabelsThatShadowExternalOnes() {
        let external: LabelSet = ["cluster": "c1", "region": "eu"]
        #expect(ClashCheck.clashingNames(internalNames: ["__name__", "region", "job", "region"], external: external) == ["region"])
        #expect(ClashCheck.clashingNames(internalNames: ["__name__", "job"], external: external) == [])
        #expect(ClashCheck.clashingNames(internalNames: ["region"], external: [:]) == [])
    }
}

@Suite struct GoQuoteAndSelectorTests {
    @Test func quotesLikeGo() {
        #expect(GoQuote.quote("a\"b\\c\nd") == #""a\"b\\c\nd""#)
        #expect(GoQuote.quote("\u{7F}\u{00}") == #""\x7f\x00""#)
        #expect(GoQuote.quote("日本\u{A0}") == #""日本\u00a0""#)
        #expect(GoQuote.quote("\u{E0001}") == #""\U000e0001""#)
    }

    @Test func formatsTheMatchParameterLikeThanos() throws {
        let matchers = [
            try Matcher(.equal, name: "__name__", value: "up"),
            try Matcher(.regexNoMatch, name: "job", value: #"a\.b|"c""#),
            try Matcher(.notEqual, name: "path", value: "x\ny"),
        ]
        #expect(MatchSelector.format(matchers) == #"{__name__="up", job!~"a\\.b|\"c\"", path!="x\ny"}"#)
        #expect(MatchSelector.format([]) == "{}")
    }

    @Test func quotesNamesPrometheusWouldQuote() throws {
        #expect(try Matcher(.equal, name: "service.name", value: "v").description == #""service.name"="v""#)
        #expect(try Matcher(.equal, name: "_a1", value: "v").description == #"_a1="v""#)
        #expect(try Matcher(.equal, name: "1a", value: "v").description == #""1a"="v""#)
    }
}
