import SkiffCore
import Testing

@testable import StoreLogic

/// The external-label rules on `LabelSet` (the type itself is tested in SkiffCoreTests).
@Suite struct ExternalLabelSetTests {
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
        #expect(
            ClashCheck.clashingNames(internalNames: ["__name__", "region", "job", "region"], external: external) == ["region"])
        #expect(ClashCheck.clashingNames(internalNames: ["__name__", "job"], external: external) == [])
        #expect(ClashCheck.clashingNames(internalNames: ["region"], external: [:]) == [])
    }
}

@Suite struct SelectorTests {
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
