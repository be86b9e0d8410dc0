import SkiffCore

/// The block timeline as an SVG document, drawn on the server (no script): time runs left to
/// right, one bar per block from its min to its max time, one lane per compaction level (level 1
/// on top), coloured by state, each bar a link to its block's page. Pure: blocks in, text out.
public struct TimelineSVG: Sendable {
    public var width = 1200.0
    /// Where a bar links: this prefix then the ULID ("blocks/" beside the status page).
    public var linkPrefix = "blocks/"
    /// The caption above the plot (the external labels, say).
    public var title = "Blocks"

    /// Room on the left for the widest lane label, "level 2 (compacted)".
    static let left = 136.0, right = 16.0, top = 40.0, laneHeight = 28.0, barHeight = 18.0

    public init(width: Double = 1200, linkPrefix: String = "blocks/", title: String = "Blocks") {
        self.width = width
        self.linkPrefix = linkPrefix
        self.title = title
    }

    public func render(_ blocks: [TimelineBlock]) -> String {
        Self.template.render(layout(blocks))
    }

    /// The positions of everything drawn, as the template's context.
    func layout(_ blocks: [TimelineBlock]) -> Fields {
        let levels = Array(Set(blocks.map(\.level))).sorted()
        let laneOf = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0) })
        // Clamped (see Humanize.clamp) so the span and the ticks cannot overflow.
        let start = Humanize.clamp(blocks.map(\.minTime).min() ?? 0)
        let end = max(Humanize.clamp(blocks.map(\.maxTime).max() ?? 1), start + 1)
        let plot = width - Self.left - Self.right
        let scale = plot / Double(end - start)
        func x(_ t: Int64) -> Double { Self.left + Double(Humanize.clamp(t) - start) * scale }

        // The bars are the one part written without the template (see HTMLEscape): every text
        // from outside (ULID, link, tooltip) is escaped; geometry and colour are made here.
        var bars: [UInt8] = []
        bars.reserveCapacity(blocks.count * 320)
        for block in blocks {
            let lane = Double(laneOf[block.level] ?? 0)
            // At least a pixel wide, so a short block is still there to see and click.
            let barWidth = max(1, Double(Humanize.clamp(block.maxTime) - Humanize.clamp(block.minTime)) * scale)
            appendBar(
                block, x: x(block.minTime), y: Self.top + lane * Self.laneHeight + 4, width: barWidth, to: &bars)
        }
        let plotBottom = Self.top + Double(max(levels.count, 1)) * Self.laneHeight
        let lanes = levels.enumerated().map { index, level in
            Fields([
                "label": level == 1 ? "level 1" : "level \(level) (compacted)",
                "y": SVGNumber.format(Self.top + Double(index) * Self.laneHeight + 4 + Self.barHeight - 4),
            ])
        }
        let tickCount = 6
        let ticks: [Fields] =
            blocks.isEmpty
            ? []
            : (0...tickCount).map { i in
                let t = start + Int64(Double(end - start) * Double(i) / Double(tickCount))
                // The end labels are anchored inward, so neither is cut off at the picture's edge.
                let anchor = i == 0 ? "start" : i == tickCount ? "end" : "middle"
                return Fields(["x": SVGNumber.format(x(t)), "label": Self.time(t), "anchor": anchor])
            }
        let legendY = plotBottom + 18
        let legend = TimelineState.allCases.enumerated().map { index, state in
            let x = Self.left + Double(index) * 170
            return Fields([
                "x": SVGNumber.format(x), "textX": SVGNumber.format(x + 18), "label": state.label, "fill": state.colour,
                "state": state.rawValue,
            ])
        }
        return Fields([
            "width": SVGNumber.format(width), "height": SVGNumber.format(legendY + 26), "title": title,
            "bars": String(decoding: bars, as: UTF8.self), "lanes": lanes, "ticks": ticks, "legend": legend,
            "empty": blocks.isEmpty,
            "axisTop": SVGNumber.format(Self.top - 4), "plotBottom": SVGNumber.format(plotBottom),
            "legendY": SVGNumber.format(legendY), "legendTextY": SVGNumber.format(legendY + 11),
            "left": SVGNumber.format(Self.left), "emptyY": SVGNumber.format(Self.top + 18),
        ])
    }

    /// One bar: a link around a rect with the block's ULID and state, and a tooltip.
    private func appendBar(_ block: TimelineBlock, x: Double, y: Double, width: Double, to bars: inout [UInt8]) {
        var tip = "\(block.ulid): \(block.state.label), level \(block.level), "
        tip += "\(Self.time(block.minTime)) to \(Self.time(block.maxTime))"
        if let note = block.note { tip += "\n\(note)" }
        bars.append(contentsOf: "<a href=\"".utf8)
        HTMLEscape.append(linkPrefix + block.ulid, to: &bars)
        bars.append(contentsOf: "\"><rect data-ulid=\"".utf8)
        HTMLEscape.append(block.ulid, to: &bars)
        bars.append(contentsOf: "\" data-state=\"\(block.state.rawValue)\" x=\"\(SVGNumber.format(x))\" ".utf8)
        bars.append(contentsOf: "y=\"\(SVGNumber.format(y))\" width=\"\(SVGNumber.format(width))\" ".utf8)
        bars.append(contentsOf: "height=\"\(SVGNumber.format(Self.barHeight))\" fill=\"\(block.state.colour)\"><title>".utf8)
        HTMLEscape.append(tip, to: &bars)
        bars.append(contentsOf: "</title></rect></a>\n".utf8)
    }

    /// "2026-12-03 10:00" (UTC): minutes are as fine as a block's edges need.
    static func time(_ millis: Int64) -> String {
        let text = RFC3339.format(millis: Humanize.clamp(millis))
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5))
    }

    static let template = Template(
        """
        <svg xmlns="http://www.w3.org/2000/svg" class="timeline" viewBox="0 0 {{width}} {{height}}" \
        width="{{width}}" height="{{height}}" font-family="sans-serif" font-size="12" role="img" aria-label="{{title}}">
        <title>{{title}}</title>
        <rect x="0" y="0" width="{{width}}" height="{{height}}" fill="#ffffff"/>
        <text x="{{left}}" y="14" fill="#222222" font-weight="bold">{{title}}</text>
        {{#ticks}}
        <line x1="{{x}}" y1="{{axisTop}}" x2="{{x}}" y2="{{plotBottom}}" stroke="#dddddd"/>\
        <text x="{{x}}" y="30" text-anchor="{{anchor}}" fill="#555555">{{label}}</text>
        {{/ticks}}
        {{#lanes}}
        <text x="4" y="{{y}}" fill="#222222">{{label}}</text>
        {{/lanes}}
        {{#empty}}
        <text x="{{left}}" y="{{emptyY}}" fill="#555555">No blocks in the ledger yet.</text>
        {{/empty}}
        {{{bars}}}
        {{#legend}}
        <rect class="legend" data-legend="{{state}}" x="{{x}}" y="{{legendY}}" width="12" height="12" fill="{{fill}}"/>\
        <text x="{{textX}}" y="{{legendTextY}}" fill="#222222">{{label}}</text>
        {{/legend}}
        </svg>

        """)
}
