import ArgumentParser
import Ledger
import SkiffCore
import StatusPage

/// `skiff report timeline`: the block timeline of the status page, as a file.
struct ReportTimeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Draw the block timeline: one bar per block, by level, coloured by state.",
        // `Skiff.main` runs this command as its own root (see there), so its usage must name the path.
        usage: "skiff report timeline [--tsdb.path <tsdb.path>] [--ledger.path <ledger.path>] [--output svg|html] "
            + "[--link-base <link-base>]",
        discussion: """
            Writes an SVG document (--output svg, the default) or a self-contained HTML page (--output html) \
            to standard output, e.g. `skiff report timeline --output svg > blocks.svg`. The same picture as \
            the sidecar's status page at /.
            """)

    @OptionGroup var ledgerOptions: LedgerOptions

    @Option(name: .long, help: "svg or html.")
    var output: TimelineReport.Format = .svg

    @Option(
        name: .customLong("link-base"),
        help: "Where each bar links: this prefix then the block's ULID (e.g. http://sidecar:10902/blocks/).")
    var linkBase = "blocks/"

    func run() async throws {
        try await runReportingErrors {
            let ledger = try Ledger.open(path: ledgerOptions.resolvedLedgerPath, readOnly: true)
            let text = try await TimelineReport.render(
                ledger: ledger, format: output, linkPrefix: linkBase, clock: .system)
            print(text, terminator: "")
        }
    }
}

extension TimelineReport.Format: ExpressibleByArgument {}
