import ArgumentParser
import AuditExport
import Foundation
import ObjectStorage
import SkiffCore

/// `skiff fleet`: questions across every sidecar and `skiff ship` that exports its audit
/// (`--audit.export`) to the bucket.
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Reports across every source's audit records in the bucket (skiff-audit/v1/).",
        subcommands: [FleetReportCommand.self])
}

/// `skiff fleet report shipped|lag|failures`: `skiff report` across the fleet, streamed.
struct FleetReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print shipped, lag or failures across every source that exports to the bucket.",
        discussion: """
            Reads every object under skiff-audit/v1/ one at a time, gunzipping as it streams (memory grows with \
            the groups, not the bucket). shipped: commits and bytes per UTC day (--by source: per source). lag: \
            time from a block's end to its commit (median, p90, max; --by source or day). failures: failed \
            attempts by error, with the blocks and the last one (--by source or day adds that column). Sources \
            export with --audit.export on `skiff sidecar` and `skiff ship`.
            """)

    enum Name: String, ExpressibleByArgument, CaseIterable {
        case shipped, lag, failures
    }

    enum Grouping: String, ExpressibleByArgument, CaseIterable {
        case source, day
    }

    @OptionGroup var objstore: ObjstoreOptions

    @Argument(help: "shipped, lag or failures.")
    var name: Name

    @Option(name: .long, help: "Group by source or day (UTC).")
    var by: Grouping?

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func validate() throws {
        if name == .shipped && by == .day {
            throw ValidationError("`skiff fleet report shipped` is per day already; use --by source or leave --by out")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let report = FleetReport(
                FleetReport.Name(rawValue: name.rawValue)!, by: by.map { FleetReport.Grouping(rawValue: $0.rawValue)! })
            let result = try await withConfiguredBucket(objstore) { bucket in try await report.run(on: bucket) }
            print(Tabular.render(result, as: output), terminator: "")
        }
    }
}

/// `--audit.export*` on `skiff ship`: the same flags the sidecar takes (SidecarFlags).
struct AuditExportOptions: ParsableArguments {
    @Flag(
        name: .customLong("audit.export"),
        help: "Export the ledger's transitions to the bucket under skiff-audit/v1/ for `skiff fleet report`.")
    var enabled = false

    @Option(
        name: .customLong("audit.export-interval"), parsing: .unconditional,
        help: "With --watch: how often transitions are exported.")
    var interval = "5m"

    @Option(
        name: .customLong("audit.export-max-rows"), parsing: .unconditional,
        help: "Most transitions in one exported object; with --watch, this many waiting export at once.")
    var maxRows = 10_000

    /// The checked settings, or nil when the export is off.
    func settings() throws(SkiffError) -> AuditExportSchedule? {
        try Self.check(enabled: enabled, interval: interval, maxRows: maxRows)
    }

    /// The checked flag values, shared by `skiff ship` and `skiff sidecar`; nil when off.
    static func check(enabled: Bool, interval: String, maxRows: Int) throws(SkiffError) -> AuditExportSchedule? {
        let checkedInterval = try FlagValues.duration(interval, flag: "--audit.export-interval", minimumMillis: 1_000)
        let rows = try FlagValues.positive(maxRows, flag: "--audit.export-max-rows")
        guard rows <= 1_000_000 else {
            throw SkiffError(
                .invalidArgument,
                "--audit.export-max-rows \(maxRows) is too large: a batch is held in memory; use 1000000 or less")
        }
        return enabled ? AuditExportSchedule(interval: checkedInterval, maxRows: rows) : nil
    }
}
