import ArgumentParser
import BucketTools
import Foundation
import ObjectStorage
import Relabel
import SkiffCore

/// `skiff bucket ls`: every block in the bucket, streamed as it is listed.
struct BucketLs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls",
        abstract: "List every block in the bucket, as it is read (bounded memory for any number of blocks).",
        discussion: """
            Columns: ULID, time range, compaction level, resolution, source, size (the sum of meta.json's \
            thanos.files, or of the objects listed when it has none), marks (partial: no meta.json; corrupt-meta: \
            a meta.json that is not JSON; deletion-marked; no-compact) and external labels. --output json prints \
            one JSON array (minTime/maxTime in ms, labels as an object), written block by block. \
            --selector.relabel-config(-file) selects blocks as Thanos does: a Prometheus relabel config (keep, \
            drop, hashmod) applied to each block's external labels plus __block_id; a block left without labels \
            is not listed.
            """)

    @OptionGroup var objstore: ObjstoreOptions
    @OptionGroup var selector: SelectorOptions

    @Option(name: .long, help: "Output format: table, json or csv.")
    var output: TabularFormat = .table

    func run() async throws {
        try await runReportingErrors {
            let rules = try selector.load()
            try await withConfiguredBucket(objstore) { bucket in
                var printer = BlockListPrinter(format: output)
                Stdout.write(printer.begin())
                try await BucketBlockStream.forEach(bucket) { (block: BucketBlock) throws(SkiffError) in
                    guard SelectorOptions.selects(block, rules) else { return }
                    Stdout.write(printer.row(block))
                }
                Stdout.write(printer.finish())
                Stdout.finish()
            }
        }
    }
}

/// Thanos' `--selector.relabel-config-file` / `--selector.relabel-config`.
struct SelectorOptions: ParsableArguments {
    @Option(
        name: .customLong("selector.relabel-config-file"),
        help: "YAML file with a relabel config selecting blocks by their external labels (and __block_id).")
    var file: String?

    // Unconditional: YAML content is a list, so it starts with "-" and would otherwise read as a flag.
    @Option(
        name: .customLong("selector.relabel-config"), parsing: .unconditional,
        help: "The same relabel config as YAML content.")
    var content: String?

    /// Thanos' block selector supports these actions only (`block.SelectorSupportedRelabelActions`).
    static let actions: Set<RelabelConfig.Action> = [.keep, .drop, .hashmod]

    func load() throws(SkiffError) -> [RelabelConfig] {
        switch (file.flatMap({ $0.isEmpty ? nil : $0 }), content.flatMap({ $0.isEmpty ? nil : $0 })) {
        case (.some, .some):
            throw SkiffError(
                .invalidArgument,
                "both --selector.relabel-config-file and --selector.relabel-config are set: pass one, not both")
        case (let path?, nil):
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw SkiffError(
                    .invalidArgument,
                    "loading file --selector.relabel-config-file \(path): \((error as NSError).localizedDescription)")
            }
            return try RelabelConfig.parseList(
                yaml: text, source: "--selector.relabel-config-file \(path)", allowed: Self.actions)
        case (nil, let yaml?):
            return try RelabelConfig.parseList(yaml: yaml, source: "--selector.relabel-config", allowed: Self.actions)
        case (nil, nil):
            return []
        }
    }

    /// Thanos' `LabelShardedMetaFilter`: the block's external labels plus `__block_id`, relabelled;
    /// selected unless nothing is left. A block without a readable meta.json has only `__block_id`.
    static func selects(_ block: BucketBlock, _ rules: [RelabelConfig]) -> Bool {
        guard !rules.isEmpty else { return true }
        let labels = LabelSet(
            (block.summary?.labels.labels ?? []) + [Label(name: "__block_id", value: block.ulid.string)])
        guard let result = Relabel.process(labels, rules) else { return false }
        return !result.isEmpty
    }
}

/// `ls` rows in table, CSV or JSON, each ready to write as soon as its block is read. The table
/// has fixed-width columns with the labels last, so it streams too.
struct BlockListPrinter {
    let format: TabularFormat
    private var rows = 0

    init(format: TabularFormat) { self.format = format }

    static let columns = ["ulid", "minTime", "maxTime", "level", "resolution", "source", "size", "marks", "labels"]
    static let widths = [26, 20, 20, 5, 10, 10, 10, 15]

    func begin() -> String {
        switch format {
        case .table: Self.tableLine(["ULID", "FROM", "UNTIL", "LEVEL", "RESOLUTION", "SOURCE", "SIZE", "MARKS", "LABELS"])
        case .csv: Self.columns.joined(separator: ",") + "\r\n"
        case .json: "["
        }
    }

    mutating func row(_ block: BucketBlock) -> String {
        defer { rows += 1 }
        let s = block.summary
        let labels = (s?.labels.labels ?? []).map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        let marks = block.marks.joined(separator: ",")
        switch format {
        case .table:
            var cells: [String] = [block.ulid.string]
            if let s {
                cells.append(BlockTime.format(millis: s.minTime))
                cells.append(BlockTime.format(millis: s.maxTime))
                cells.append("\(s.level)")
                cells.append(GoDurationText.format(millis: s.resolution))
                cells.append(s.source.isEmpty ? "-" : s.source)
            } else {
                cells += ["-", "-", "-", "-", "-"]
            }
            cells.append(ByteCount.format(block.sizeBytes))
            cells.append(marks.isEmpty ? "-" : marks)
            cells.append(TabularWriter.printable(labels))
            return Self.tableLine(cells)
        case .csv:
            var fields: [String] = [block.ulid.string]
            if let s {
                fields += ["\(s.minTime)", "\(s.maxTime)", "\(s.level)", "\(s.resolution)", s.source]
            } else {
                fields += ["", "", "", "", ""]
            }
            fields += ["\(block.sizeBytes)", marks, labels]
            return fields.map(TabularWriter.csvField).joined(separator: ",") + "\r\n"
        case .json:
            return (rows > 0 ? ",\n\t" : "\n\t") + Self.indented(Self.json(block))
        }
    }

    static func json(_ block: BucketBlock) -> JSONValue {
        let s = block.summary
        func opt(_ v: Int64?) -> JSONValue { v.map { .int($0) } ?? .null }
        let labels: [JSONValue.Member] = (s?.labels.labels ?? []).map { .init($0.name, .string($0.value)) }
        let source: JSONValue = s.map { .string($0.source) } ?? .null
        let marks: [JSONValue] = block.marks.map { .string($0) }
        return .object([
            .init("ulid", .string(block.ulid.string)), .init("minTime", opt(s?.minTime)), .init("maxTime", opt(s?.maxTime)),
            .init("labels", .object(labels)), .init("level", opt(s?.level)), .init("resolution", opt(s?.resolution)),
            .init("source", source), .init("size", .int(block.sizeBytes)), .init("partial", .bool(block.partial)),
            .init("deletionMarked", .bool(block.deletionMarked)), .init("marks", .array(marks)),
        ])
    }

    func finish() -> String {
        format == .json ? (rows > 0 ? "\n]\n" : "]\n") : ""
    }

    /// The object as `JSONValue.array(...).encodedIndented()` would print it inside the array.
    static func indented(_ object: JSONValue) -> String {
        var text = String(decoding: object.encodedIndented(), as: UTF8.self)
        text.removeLast()
        return text.replacingOccurrences(of: "\n", with: "\n\t")
    }

    static func tableLine(_ cells: [String]) -> String {
        cells.enumerated().map { i, cell in
            i < widths.count ? cell.padding(toLength: max(widths[i], cell.count), withPad: " ", startingAt: 0) : cell
        }.joined(separator: "  ") + "\n"
    }
}
