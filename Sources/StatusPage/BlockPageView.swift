import Ledger
import SkiffCore

/// One block as the ledger knows it: its transitions, its files, and where it sits in the bucket.
public struct BlockDetail: Sendable {
    public var block: BlockRecord
    public var transitions: [TransitionRecord]
    public var files: [FileRecord]
    /// The bucket's name (nil without a bucket) and the block's key prefix inside it.
    public var bucket: String?
    public var keyPrefix: String { block.ulid.string + "/" }

    public init(block: BlockRecord, transitions: [TransitionRecord], files: [FileRecord], bucket: String?) {
        self.block = block
        self.transitions = transitions
        self.files = files
        self.bucket = bucket
    }

    public static func read(_ ulid: ULID, from ledger: Ledger, bucket: String?) async throws(SkiffError) -> BlockDetail? {
        guard let block = try await ledger.block(ulid) else { return nil }
        return BlockDetail(
            block: block, transitions: try await ledger.history(ulid), files: try await ledger.files(ulid), bucket: bucket)
    }

    /// How long each step took: the time since the previous transition.
    var took: [Int64?] {
        zip(transitions, [nil] + transitions.dropLast().map(\.at)).map { row, previous in previous.map { row.at - $0 } }
    }
}

/// The page at `/blocks/<ULID>`.
enum BlockPageView {
    static func render(_ detail: BlockDetail) -> String {
        let b = detail.block
        var values: [String: any Sendable] = [
            "ulid": b.ulid.string, "state": b.quarantined ? "\(b.state.rawValue) (quarantined)" : b.state.rawValue,
            "level": "\(b.level)", "from": Humanize.time(b.minTime), "to": Humanize.time(b.maxTime),
            "samples": "\(b.numSamples)", "series": "\(b.numSeries)", "attempts": "\(b.attempts)",
            "size": b.totalBytes.map(Humanize.bytes) ?? "unknown", "uploaded": Humanize.bytes(b.uploadedBytes),
            "bucket": detail.bucket ?? "none configured", "prefix": detail.keyPrefix,
            "transitions": zip(detail.transitions, detail.took).map { t, took in
                Fields([
                    "at": Humanize.time(t.at), "step": "\(t.from?.rawValue ?? "(new)") → \(t.to.rawValue)",
                    "took": took.map { Humanize.duration(millis: $0) } ?? "", "attempt": "\(t.attempt)",
                    "bytes": t.bytes.map(Humanize.bytes) ?? "", "detail": t.detail ?? "",
                ])
            },
            "files": detail.files.map { f in
                Fields([
                    "path": f.relPath, "size": Humanize.bytes(f.sizeBytes), "sha256": f.sha256,
                    "uploaded": f.uploaded ? "yes" : "no",
                ])
            },
        ]
        if let error = b.lastError { values["error"] = error }
        if let reason = b.reason { values["reason"] = reason }
        if let at = b.committedAt { values["committed"] = Humanize.time(at) }
        return template.render(Fields(values))
    }

    static let template = Template(
        """
        <!DOCTYPE html>
        <html lang="en"><head><title>Block {{ulid}}</title>
        \(PageStyle.head)
        </head><body>
        <header><h1>Block <span class="mono">{{ulid}}</span></h1><span class="muted"><a href="../">status</a> ·
        <a href="../api/v1/skiff/blocks/{{ulid}}">JSON</a></span></header>
        <main>
        <section id="block"><h2>Summary</h2><table>
        <tr><th>State</th><td>{{state}}</td></tr>
        <tr><th>Time range</th><td>{{from}} to {{to}}</td></tr>
        <tr><th>Level</th><td>{{level}}</td></tr>
        <tr><th>Series / samples</th><td>{{series}} / {{samples}}</td></tr>
        <tr><th>Size</th><td>{{size}} ({{uploaded}} uploaded)</td></tr>
        <tr><th>Attempts</th><td>{{attempts}}</td></tr>
        {{#committed}}<tr><th>Committed</th><td>{{committed}}</td></tr>{{/committed}}
        {{#reason}}<tr><th>Reason</th><td class="error">{{reason}}</td></tr>{{/reason}}
        {{#error}}<tr><th>Last error</th><td class="error">{{error}}</td></tr>{{/error}}
        <tr><th>In the bucket</th><td><span class="mono">{{bucket}}</span>, key prefix <span class="mono">{{prefix}}</span></td></tr>
        </table></section>
        <section id="transitions"><h2>Transitions</h2>
        <table><tr><th>Time</th><th>Step</th><th>Took</th><th>Bytes</th><th>Attempt</th><th>Detail</th></tr>
        {{#transitions}}<tr><td>{{at}}</td><td class="mono">{{step}}</td><td>{{took}}</td><td class="num">{{bytes}}</td>\
        <td class="num">{{attempt}}</td><td class="error">{{detail}}</td></tr>
        {{/transitions}}
        </table></section>
        <section id="files"><h2>Files</h2>
        <table><tr><th>File</th><th>Size</th><th>SHA-256</th><th>Uploaded</th></tr>
        {{#files}}<tr><td class="mono">{{path}}</td><td class="num">{{size}}</td><td class="mono">{{sha256}}</td>\
        <td>{{uploaded}}</td></tr>
        {{/files}}
        {{^files}}<tr><td colspan="4" class="muted">No files recorded (the block was not hashed yet).</td></tr>{{/files}}
        </table></section>
        </main></body></html>

        """)
}
