import Ledger
import SkiffCore

/// `skiff report timeline`: the status page's timeline drawn from a ledger file, as an SVG
/// document or a self-contained HTML page (inline style, no script, nothing fetched).
public enum TimelineReport {
    public enum Format: String, Sendable, CaseIterable {
        case svg, html
    }

    public static func render(
        ledger: Ledger, format: Format, linkPrefix: String = "blocks/", clock: WallClock
    ) async throws(SkiffError) -> String {
        let source = StatusSource(ledger: ledger, bucket: nil, clock: clock)
        let model = try await StatusRoutes(source: source).model().model
        let svg = TimelineSVG(linkPrefix: linkPrefix, title: "Block timeline of \(ledger.path)").render(model.timeline)
        switch format {
        case .svg: return svg
        case .html:
            return page.render(
                Fields([
                    "svg": svg, "path": ledger.path, "generated": Humanize.time(model.now),
                    "counts": TimelineState.allCases.map { state in
                        Fields(["label": state.label, "colour": state.colour, "count": "\(model.counts[state] ?? 0)"])
                    },
                ]))
        }
    }

    static let page = Template(
        """
        <!DOCTYPE html>
        <html lang="en"><head><title>Skiff block timeline</title>
        \(PageStyle.head)
        </head><body>
        <header><h1>Block timeline</h1><span class="muted">ledger <span class="mono">{{path}}</span> ·
        generated {{generated}}</span></header>
        <main>
        <section><p>{{#counts}}<span class="swatch" style="background:{{colour}}"></span>{{label}}: {{count}} &nbsp; {{/counts}}</p>
        <div class="timeline-box">{{{svg}}}</div></section>
        </main></body></html>

        """)
}
