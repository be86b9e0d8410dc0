import Testing

@testable import SkiffCore

/// The one label set type: Prometheus' byte order and Go's byte-wise equality, which Swift's
/// `String` (canonical equivalence) does not give.
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

    @Test func precomposedAndDecomposedNamesAreDifferentLabels() {
        let set = LabelSet([Label(name: "\u{E9}", value: "1"), Label(name: "e\u{301}", value: "2")])
        #expect(set.count == 2, "Go keeps both; a [String: String] would have merged them")
        #expect(set.names.map { Array($0.utf8) } == [[0x65, 0xCC, 0x81], [0xC3, 0xA9]])
        #expect(set["\u{E9}"] == "1")
        #expect(set["e\u{301}"] == "2")
        #expect(Label(name: "a", value: "\u{E9}") != Label(name: "a", value: "e\u{301}"))
        #expect(Set([Label(name: "a", value: "\u{E9}"), Label(name: "a", value: "e\u{301}")]).count == 2)
    }

    @Test func namesSortByUTF8BytesLikeGo() {
        // "Z" (5A) < "_" (5F) < "a" (61) < "z" (7A) < "é" (C3 A9) < "日" (E6 97 A5) < U+10000 (F0 ...).
        let names = ["\u{10000}", "日", "\u{E9}", "z", "a", "_", "Z"]
        #expect(LabelSet(names.map { Label(name: $0, value: "") }).names == ["Z", "_", "a", "z", "\u{E9}", "日", "\u{10000}"])
        // Where Swift's String order (by normalised form) and Go's (by bytes) disagree:
        // "e\u{301}" is 65 CC 81, so it sorts before "f" (66), though its normal form é (E9) does not.
        #expect(!("e\u{301}" < "f"), "Swift's String order")
        #expect(LabelSet(["a": "e\u{301}"]) < LabelSet(["a": "f"]))
        #expect(LabelSet(["e\u{301}": "1"]) < LabelSet(["f": "1"]))
        #expect(LabelSet(["f": "1"]) < LabelSet(["\u{E9}": "1"]))
    }

    /// Strings to compare: every pair of short ones, also behind a prefix of 7 to 17 bytes so the
    /// eight-bytes-a-step path and its tail both meet the first difference.
    static let samples: [String] = {
        let pieces = ["", "a", "Z", "_", "\u{E9}", "e\u{301}", "\u{7F}", "\u{80}", "\u{FFFF}", "\u{10FFFF}", "aa", "a\u{0}"]
        var out: [String] = []
        for prefix in ["", "abcdefg", "abcdefgh", "abcdefghijklmnopq"] {
            for p in pieces { for q in pieces { out.append(prefix + p + q) } }
        }
        return out
    }()

    @Test func byteOrderAgreesWithComparingUTF8Bytes() {
        for a in Self.samples {
            for b in Self.samples {
                let want = Array(a.utf8).lexicographicallyPrecedes(b.utf8) ? -1 : (Array(a.utf8) == Array(b.utf8) ? 0 : 1)
                let got = ByteOrder.compare(a, b).signum()
                #expect(got == want, "\(Array(a.utf8)) vs \(Array(b.utf8))")
                #expect(ByteOrder.equal(a, b) == (want == 0))
            }
        }
        #expect(ByteOrder.contains("abcdefghijklmnopq\u{E9}", "q\u{E9}"))
        #expect(!ByteOrder.contains("abcdefghijklmnopqe\u{301}", "q\u{E9}"))
        #expect(ByteOrder.contains("x", ""))
    }

    @Test func flagsKeepTheirBytes() throws {
        let composed = try LabelSet.parse(flags: ["site=\u{E9}"])
        let decomposed = try LabelSet.parse(flags: ["site=\"e\u{301}\""])
        #expect(composed != decomposed)
        #expect(decomposed["site"].map { Array($0.utf8) } == [0x65, 0xCC, 0x81])
        #expect(try LabelSet.parse(flags: ["a=\""]) == ["a": "\""], "a lone quote is kept")
        #expect(try LabelSet.parse(flags: ["a=x=y"]) == ["a": "x=y"])
    }

    /// Part of a new hostile case (20,000 `--label` flags): parsing compared each name with every
    /// earlier one; the duplicate check is a set now. (swift-argument-parser's own parsing of that
    /// many arguments is quadratic too: left to the kingpin-style parser of the drop-in issue.)
    @Test func manyLabelFlagsParseQuickly() throws {
        let flags = (0..<20_000).map { "l\($0)=v" }
        let began = ContinuousClock.now
        let labels = try LabelSet.parse(flags: flags)
        #expect(labels.count == 20_000)
        #expect(ContinuousClock.now - began < .seconds(5), "took \(ContinuousClock.now - began)")
        #expect(throws: SkiffError.self) { try LabelSet.parse(flags: flags + ["l19999=w"]) }
    }

    @Test func quotesLikeGo() {
        #expect(GoQuote.quote("a\"b\\c\nd") == #""a\"b\\c\nd""#)
        #expect(GoQuote.quote("\u{7F}\u{00}") == #""\x7f\x00""#)
        #expect(GoQuote.quote("日本\u{A0}") == #""日本\u00a0""#)
        #expect(GoQuote.quote("\u{E0001}") == #""\U000e0001""#)
    }

}
