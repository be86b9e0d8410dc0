import Foundation
import Testing

@testable import StatusPage

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The timeline is pure: blocks in, SVG text out. These read the SVG back as a browser would see
/// its attributes (and as an XML parser: it must be well-formed whatever the labels hold).
@Suite struct TimelineSVGTests {
    static let hour: Int64 = 3_600_000

    static func block(
        _ n: Int, from: Int64, to: Int64, level: Int = 1, _ state: TimelineState = .committed
    )
        -> TimelineBlock
    {
        TimelineBlock(ulid: TestULID.make(n), minTime: from * hour, maxTime: to * hour, level: level, state: state)
    }

    @Test func oneBarPerBlockWithItsULIDStateAndLink() {
        let blocks = [
            Self.block(1, from: 0, to: 2), Self.block(2, from: 2, to: 4, .failed),
            Self.block(3, from: 4, to: 6, .inProgress), Self.block(4, from: 0, to: 6, level: 2, .missing),
        ]
        let svg = TimelineSVG(linkPrefix: "blocks/").render(blocks)
        let bars = SVGBar.all(in: svg)
        #expect(bars.map(\.ulid) == blocks.map(\.ulid))
        #expect(bars.map(\.state) == ["committed", "failed", "in-progress", "missing"])
        for block in blocks { #expect(svg.contains("<a href=\"blocks/\(block.ulid)\"><rect data-ulid=\"\(block.ulid)\"")) }
        // The legend names every state, drawn in the bars' colours.
        for state in TimelineState.allCases {
            #expect(svg.contains("data-legend=\"\(state.rawValue)\""))
            #expect(svg.contains(">\(state.label)</text>"))
        }
        #expect(XMLCheck.wellFormed(svg))
    }

    @Test func compactedBlocksHaveTheirOwnLane() {
        let svg = TimelineSVG().render([
            Self.block(1, from: 0, to: 2), Self.block(2, from: 2, to: 4), Self.block(3, from: 0, to: 8, level: 2),
            Self.block(4, from: 8, to: 16, level: 3),
        ])
        let y = SVGBar.all(in: svg).map(\.y)
        #expect(y[0] == y[1])
        #expect(y[0] < y[2] && y[2] < y[3])
        #expect(svg.contains(">level 1</text>") && svg.contains(">level 2 (compacted)</text>"))
    }

    @Test func xIsScaledToTheTimeRangeAndAGapShowsAsAGap() throws {
        // 0-2h, 2-4h, then nothing until 8-10h: 4 hours missing.
        let svg = TimelineSVG(width: 1200).render([
            Self.block(1, from: 0, to: 2), Self.block(2, from: 2, to: 4), Self.block(3, from: 8, to: 10),
        ])
        let bars = SVGBar.all(in: svg)
        let plot = 1200 - TimelineSVG.left - TimelineSVG.right
        #expect(abs(bars[0].x - TimelineSVG.left) < 0.1)
        #expect(abs(bars[2].x + bars[2].width - (TimelineSVG.left + plot)) < 0.2)
        // Adjacent blocks touch; the missing 4 hours are 40% of the plot, left empty.
        #expect(abs(bars[0].x + bars[0].width - bars[1].x) < 0.2)
        let gap = bars[2].x - (bars[1].x + bars[1].width)
        #expect(abs(gap - plot * 0.4) < 0.3)
    }

    @Test func hostileTextIsEscapedInTextAndAttributes() {
        let hostile = "\"><script>alert(1)</script><x a='"
        var bar = Self.block(1, from: 0, to: 2, .failed)
        bar.note = hostile
        let svg = TimelineSVG(linkPrefix: "blocks/\"onclick=\"x", title: "labels \(hostile)").render([bar])
        #expect(!svg.contains("<script>"))
        #expect(!svg.contains("<x a="))
        #expect(!svg.contains("\"onclick=\""))
        #expect(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(svg.contains("&quot;onclick=&quot;x"))
        #expect(SVGBar.all(in: svg).count == 1)
        #expect(XMLCheck.wellFormed(svg))
    }

    @Test func escapingMatchesMustachesFiveCharactersAndKeepsUTF8() {
        #expect(HTMLEscape.escape("a<b>c&d\"e'f") == "a&lt;b&gt;c&amp;d&quot;e&#39;f")
        #expect(HTMLEscape.escape("café ü 日本 🚢") == "café ü 日本 🚢")
        #expect(HTMLEscape.escape("&amp;") == "&amp;amp;")
        #expect(HTMLEscape.escape("") == "")
    }

    /// A hostile meta.json can hold any times: the picture is still drawn, never a trap.
    @Test func extremeTimesAreDrawnNotTrapped() {
        let blocks = [
            TimelineBlock(ulid: TestULID.make(1), minTime: .min, maxTime: .max, level: 1, state: .committed),
            TimelineBlock(ulid: TestULID.make(2), minTime: .max, maxTime: .min, level: 2, state: .failed),
            Self.block(3, from: 0, to: 2),
        ]
        let svg = TimelineSVG().render(blocks)
        #expect(SVGBar.all(in: svg).count == 3)
        #expect(SVGBar.all(in: svg).allSatisfy { $0.x.isFinite && $0.width >= 1 })
        #expect(XMLCheck.wellFormed(svg))
        #expect(Humanize.duration(millis: .min).hasPrefix("-"))
        #expect(Humanize.time(.min) == "0000-01-01 00:00:00 UTC")
    }

    @Test func noBlocksSaysSo() {
        let svg = TimelineSVG().render([])
        #expect(SVGBar.all(in: svg).isEmpty)
        #expect(svg.contains("No blocks in the ledger yet."))
        #expect(XMLCheck.wellFormed(svg))
    }
}

/// A bar as drawn: its attributes read back from the SVG text.
struct SVGBar {
    var ulid: String
    var state: String
    var x: Double
    var y: Double
    var width: Double

    static func all(in svg: String) -> [SVGBar] {
        let pattern = /<rect data-ulid="([^"]*)" data-state="([^"]*)" x="([^"]*)" y="([^"]*)" width="([^"]*)"/
        return svg.matches(of: pattern).map { m in
            SVGBar(
                ulid: String(m.1), state: String(m.2), x: Double(m.3) ?? .nan, y: Double(m.4) ?? .nan,
                width: Double(m.5) ?? .nan)
        }
    }
}

enum XMLCheck {
    static func wellFormed(_ text: String) -> Bool {
        XMLParser(data: Data(text.utf8)).parse()
    }
}

/// Valid, distinct, ordered ULIDs for test blocks.
enum TestULID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    static func make(_ n: Int) -> String {
        var digits: [Character] = []
        var value = n
        for _ in 0..<8 {
            digits.append(alphabet[value % 32])
            value /= 32
        }
        return "01HZZZZZZZ00000000" + String(digits.reversed())
    }
}
