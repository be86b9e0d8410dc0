import SkiffCore
import Testing

@testable import StoreLogic

@Suite struct StreamingResorterTests {
    /// Pushes (labels, payload) pairs and collects everything emitted, finish included.
    static func drain(_ sorter: inout StreamingResorter<String>, _ inputs: [(LabelSet, String)]) throws -> [(LabelSet, String)] {
        var out: [(LabelSet, String)] = []
        for (labels, payload) in inputs {
            out += try sorter.push(internalLabels: labels, payload: payload).map { ($0.labels, $0.payload) }
        }
        return out + sorter.finish().map { ($0.labels, $0.payload) }
    }

    /// prometheus#12605: adding b="x" puts {__name__="m", a="1"} before {__name__="m"}.
    @Test func reordersTheIssue12605Example() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"])
        let first = try sorter.push(internalLabels: ["__name__": "m"], payload: "A1")
        #expect(first.isEmpty, "{__name__=m, b=x} must wait: an extension below b may follow")
        let second = try sorter.push(internalLabels: ["__name__": "m", "a": "1"], payload: "A2")
        #expect(second.map(\.payload) == [])
        let rest = sorter.finish()
        #expect(rest.map(\.payload) == ["A2", "A1"])
        #expect(rest.map(\.labels) == [["__name__": "m", "a": "1", "b": "x"], ["__name__": "m", "b": "x"]])
    }

    @Test func emitsAsSoonAsLaterInputCannotSortBelow() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"])
        _ = try sorter.push(internalLabels: ["__name__": "m"], payload: "A1")
        _ = try sorter.push(internalLabels: ["__name__": "m", "a": "1"], payload: "A2")
        // A different metric name: nothing later can sort below the held pair.
        let out = try sorter.push(internalLabels: ["__name__": "n"], payload: "B")
        #expect(out.map(\.payload) == ["A2", "A1"])
        #expect(sorter.buffered == 1)
        #expect(sorter.maxBuffered == 2)
    }

    @Test func withoutExternalLabelsItPassesThroughWithoutBuffering() throws {
        var sorter = StreamingResorter<String>(external: [:])
        for (i, labels) in [["a": "1"], ["a": "1", "b": "2"], ["c": "3"]].enumerated() {
            let out = try sorter.push(internalLabels: LabelSet(labels), payload: "\(i)")
            #expect(out.map(\.payload) == ["\(i)"])
            #expect(out.first?.labels == LabelSet(labels))
        }
        #expect(sorter.maxBuffered == 0)
    }

    @Test func anExternalNameAboveTheExtraLabelReorders() throws {
        var sorter = StreamingResorter<String>(external: ["zzz": "1"])
        // K: {a=1, b=1, zzz=1} < {a=1, zzz=1} < {a=2, zzz=1}
        let inputs: [(LabelSet, String)] = [(["a": "1"], "1"), (["a": "1", "b": "1"], "2"), (["a": "2"], "3")]
        let out = try Self.drain(&sorter, inputs)
        #expect(out.map(\.1) == ["2", "1", "3"])
        #expect(sorter.maxBuffered == 2)
    }

    @Test func externalNamesBelowEveryInternalNameEmitImmediately() throws {
        var sorter = StreamingResorter<String>(external: ["__a": "1"])
        let out = try sorter.push(internalLabels: ["__name__": "m", "job": "x"], payload: "1")
        #expect(out.map(\.labels) == [["__a": "1", "__name__": "m", "job": "x"]])
        #expect(sorter.buffered == 0)
    }

    @Test func anEmptyInternalLabelSetIsHeldThenOrdered() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"])
        let inputs: [(LabelSet, String)] = [([:], "empty"), (["a": "1"], "a"), (["c": "1"], "c")]
        let out = try Self.drain(&sorter, inputs)
        // K: {a=1,b=x} < {b=x} < {b=x,c=1}
        #expect(out.map(\.1) == ["a", "empty", "c"])
    }

    @Test func identicalConsecutiveSeriesStayTogetherInArrivalOrder() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"])
        let m: LabelSet = ["__name__": "m"]
        let inputs: [(LabelSet, String)] = [
            (m, "frame1"), (m, "frame2"), (["__name__": "m", "a": "1"], "ext"), (["__name__": "n"], "n"),
        ]
        let out = try Self.drain(&sorter, inputs)
        #expect(out.map(\.1) == ["ext", "frame1", "frame2", "n"])
    }

    @Test func bytewiseOrderNotUnicodeCanonicalOrder() throws {
        // "e\u{301}" (0x65 …) sorts before "é" (0xC3 0xA9) byte-wise; Swift's String `<` disagrees.
        var sorter = StreamingResorter<String>(external: ["z": "1"])
        let inputs: [(LabelSet, String)] = [(["a": "e\u{301}"], "decomposed"), (["a": "\u{E9}"], "composed")]
        let out = try Self.drain(&sorter, inputs)
        #expect(out.map(\.1) == ["decomposed", "composed"])
        #expect(sorter.unsortedInputs == 0)
    }

    @Test func unsortedInputSwitchesToFullBufferingAndStillSorts() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"])
        let inputs: [(LabelSet, String)] = [(["__name__": "m"], "m"), (["__name__": "o"], "o"), (["__name__": "n"], "n")]
        let out = try Self.drain(&sorter, inputs)
        #expect(out.map(\.1) == ["m", "n", "o"])
        #expect(sorter.unsortedInputs == 1)
        #expect(sorter.isBufferingAll)
    }

    @Test func aSeriesBelowOneAlreadySentIsReportedNotEmitted() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"])
        _ = try sorter.push(internalLabels: ["__name__": "m"], payload: "m")
        let sent = try sorter.push(internalLabels: ["__name__": "n"], payload: "n")
        #expect(sent.map(\.payload) == ["m"])
        #expect(throws: ResortError.outOfOrder(late: ["__name__": "a", "b": "x"], alreadySent: ["__name__": "m", "b": "x"])) {
            try sorter.push(internalLabels: ["__name__": "a"], payload: "a")
        }
    }

    @Test func aClashIsDetectedAndTheExternalValueWins() throws {
        var sorter = StreamingResorter<String>(external: ["region": "eu"])
        let out = try Self.drain(&sorter, [(["__name__": "m", "region": "local"], "1")])
        #expect(out.map(\.0) == [["__name__": "m", "region": "eu"]])
        #expect(sorter.clashingInputs == 1)
    }

    @Test func theBufferLimitCapsFullBuffering() throws {
        var sorter = StreamingResorter<String>(external: ["b": "x"], bufferLimit: 3)
        _ = try sorter.push(internalLabels: ["__name__": "p"], payload: "p")
        _ = try sorter.push(internalLabels: ["__name__": "p", "a": "1"], payload: "pa")
        _ = try sorter.push(internalLabels: ["__name__": "p", "a": "0"], payload: "unsorted")
        #expect(sorter.isBufferingAll && sorter.buffered == 3)
        #expect(throws: ResortError.bufferLimitExceeded(limit: 3)) {
            try sorter.push(internalLabels: ["__name__": "q"], payload: "q")
        }
    }
}

@Suite struct BufferingResorterTests {
    /// With a clash the external value wins and two internal series collapse (thanos#3459); they
    /// keep arrival order.
    @Test func sortsByLabelsWithExternalAppliedStably() {
        var sorter = BufferingResorter<String>(external: ["region": "eu"])
        sorter.push(labels: ["__name__": "m", "region": "us"], payload: "us")
        sorter.push(labels: ["__name__": "a"], payload: "a")
        sorter.push(labels: ["__name__": "m", "region": "ap"], payload: "ap")
        #expect(sorter.buffered == 3)
        let out = sorter.finish()
        #expect(out.map(\.payload) == ["a", "us", "ap"])
        #expect(out[1].labels == ["__name__": "m", "region": "eu"])
        #expect(sorter.buffered == 0)
    }
}
