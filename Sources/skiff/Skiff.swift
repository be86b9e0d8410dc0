import ArgumentParser
import Foundation
import HTTPServer

/// `skiff`: a Thanos-compatible Prometheus sidecar that ships TSDB blocks crash-safely.
@main
struct Skiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skiff",
        abstract: "Ship Prometheus TSDB blocks to object storage, crash-safely, with an audit ledger.",
        version: BuildInfo.version,
        subcommands: [
            Ship.self, SidecarCommand.self, Blocks.self, History.self, Report.self, SQL.self, Verify.self, ReconcileCommand.self,
            LedgerCommand.self, BucketCommand.self, FleetCommand.self,
        ]
    )

    /// `sidecar` command lines are parsed as kingpin parses `thanos sidecar` (an operator's
    /// argument list must start Skiff unchanged); every other command goes to ArgumentParser.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if SidecarLaunch.isSidecar(arguments) {
            Foundation.exit(await SidecarLaunch.main(arguments))
        }
        // ArgumentParser parses `report`'s own options before looking for a subcommand, and its
        // --output (table, json, csv) would refuse the timeline's (svg, html).
        if arguments.starts(with: ["report", "timeline"]) {
            await ReportTimeline.main(Array(arguments.dropFirst(2)))
            return
        }
        await main(arguments)
    }
}
