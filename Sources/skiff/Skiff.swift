import ArgumentParser

/// `skiff`: a Thanos-compatible Prometheus sidecar that ships TSDB blocks crash-safely.
@main
struct Skiff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skiff",
        abstract: "Ship Prometheus TSDB blocks to object storage, crash-safely, with an audit ledger.",
        version: "0.1.0",
        subcommands: [
            Ship.self, SidecarCommand.self, Blocks.self, History.self, Report.self, SQL.self, Verify.self, ReconcileCommand.self,
            LedgerCommand.self,
        ]
    )
}
