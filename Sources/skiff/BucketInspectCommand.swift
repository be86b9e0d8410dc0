import ArgumentParser
import BucketTools
import Foundation
import ObjectStorage
import SkiffCore

/// `skiff bucket inspect`: Thanos' `tools bucket inspect` table of the blocks with a meta.json.
struct BucketInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Inspect every block with a meta.json in detail, as Thanos' `tools bucket inspect` does.",
        discussion: """
            Thanos' columns (ULID, FROM, UNTIL, RANGE, UNTIL-DOWN, #SERIES, #SAMPLES, #CHUNKS, COMP-LEVEL, \
            COMP-FAILED, LABELS, RESOLUTION, SOURCE) and formats (times in UTC), sorted by --sort-by (default FROM, \
            then UNTIL; ties by ULID). Blocks without a readable meta.json are left out, as Thanos leaves them \
            out: `skiff bucket ls` shows them. Rows are sorted, so every block's row is held (a few hundred \
            bytes each).
            """)

    static let columns = [
        "ULID", "FROM", "UNTIL", "RANGE", "UNTIL-DOWN", "#SERIES", "#SAMPLES", "#CHUNKS", "COMP-LEVEL", "COMP-FAILED",
        "LABELS", "RESOLUTION", "SOURCE",
    ]

    @OptionGroup var objstore: ObjstoreOptions

    @Option(
        name: [.customShort("l"), .customLong("selector")],
        help: "Only blocks with this external label, name=\"value\" (repeatable; all must match).")
    var selector: [String] = []

    @Option(name: .customLong("sort-by"), help: "Sort by these columns in order (repeatable; default FROM, UNTIL).")
    var sortBy: [String] = []

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            let wanted = try LabelSet.parse(flags: selector.map { $0.replacingOccurrences(of: "\"", with: "") })
            let order = try (sortBy.isEmpty ? ["FROM", "UNTIL"] : sortBy).map { name throws(SkiffError) in
                guard let index = Self.columns.firstIndex(of: name.uppercased()) else {
                    throw SkiffError(
                        .invalidArgument,
                        "--sort-by \(name): no such column; use one of \(Self.columns.joined(separator: ", "))")
                }
                return index
            }
            var rows: [InspectRow] = []
            try await withConfiguredBucket(objstore) { bucket in
                try await BucketBlockStream.forEach(bucket) { (block: BucketBlock) throws(SkiffError) in
                    guard let summary = block.summary,
                        wanted.allSatisfy({ label in summary.labels[label.name] == label.value })
                    else { return }
                    rows.append(InspectRow(block.ulid, summary))
                }
            }
            rows.sort { InspectRow.precedes($0, $1, by: order) }
            Stdout.write(render(rows))
            Stdout.finish()
        }
    }

    private func render(_ rows: [InspectRow]) -> String {
        switch output {
        case .table:
            var table = TextTable(Self.columns)
            for row in rows { table.add(row.cells.map(TabularWriter.printable)) }
            return table.render()
        case .csv:
            return ([Self.columns] + rows.map(\.cells)).map { $0.map(TabularWriter.csvField).joined(separator: ",") }
                .joined(separator: "\r\n") + "\r\n"
        case .json:
            let items: [JSONValue] = rows.map { row in
                let s = row.summary
                return .object([
                    .init("ulid", .string(row.ulid.string)), .init("minTime", .int(s.minTime)),
                    .init("maxTime", .int(s.maxTime)), .init("range", .string(row.cells[3])),
                    .init("untilDown", .string(row.cells[4])), .init("numSeries", .int(s.numSeries)),
                    .init("numSamples", .int(s.numSamples)), .init("numChunks", .int(s.numChunks)),
                    .init("level", .int(s.level)), .init("compactionFailed", .bool(s.compactionFailed)),
                    .init("labels", .object(s.labels.labels.map { .init($0.name, .string($0.value)) })),
                    .init("resolution", .int(s.resolution)), .init("source", .string(s.source)),
                ])
            }
            return String(decoding: JSONValue.array(items).encodedIndented(), as: UTF8.self)
        }
    }
}

/// One inspect row: Thanos' cells, and typed keys to sort by as Thanos' `compare` does (times,
/// durations and grouped integers by value, anything else as text).
struct InspectRow {
    let ulid: ULID
    let summary: MetaSummary
    let cells: [String]
    let keys: [Int64?]

    /// Thanos' `compact.UntilNextDownsampling`: raw blocks are downsampled at 40h, 5m ones at 10d.
    static func untilDown(_ s: MetaSummary) -> Int64? {
        let range = s.maxTime - s.minTime
        switch s.resolution {
        case 0: return 40 * 3_600_000 - range
        case 300_000: return 240 * 3_600_000 - range
        default: return nil  // 1h: no further downsampling ("-")
        }
    }

    init(_ ulid: ULID, _ s: MetaSummary) {
        self.ulid = ulid
        summary = s
        let range = s.maxTime - s.minTime
        let down = Self.untilDown(s)
        let labels = s.labels.labels.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        cells = [
            ulid.string, BlockTime.format(millis: s.minTime), BlockTime.format(millis: s.maxTime),
            GoDurationText.format(millis: range), down.map { GoDurationText.format(millis: $0) } ?? "-",
            Grouped.format(s.numSeries), Grouped.format(s.numSamples), Grouped.format(s.numChunks), Grouped.format(s.level),
            s.compactionFailed ? "true" : "false", labels, GoDurationText.format(millis: s.resolution), s.source,
        ]
        keys = [
            nil, s.minTime / 1000, s.maxTime / 1000, range, down, s.numSeries, s.numSamples, s.numChunks, s.level, nil, nil,
            s.resolution, nil,
        ]
    }

    static func precedes(_ a: InspectRow, _ b: InspectRow, by order: [Int]) -> Bool {
        for column in order where a.cells[column] != b.cells[column] {
            if let x = a.keys[column], let y = b.keys[column] { return x < y }
            return a.cells[column] < b.cells[column]
        }
        return a.cells[0] < b.cells[0]
    }
}
