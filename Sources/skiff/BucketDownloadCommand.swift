import ArgumentParser
import BucketTools
import Foundation
import ObjectStorage
import Shipper
import SkiffCore
import Synchronization

/// `skiff bucket download ULID... --dir D`: blocks back from the bucket, skipping what is there.
struct BucketDownload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download blocks into --dir/<ULID>, skipping files already there with their recorded SHA-256.",
        discussion: """
            meta.json is read first; each file it lists that is already in --dir/<ULID> with its recorded SHA-256 \
            is left untouched; every other file is streamed to a temp file, checked against its recorded size and \
            SHA-256, fsynced and renamed into place. A dropped connection resumes with ranged reads, and a partial \
            file left by a killed run is resumed. meta.json is written last (and removed first while files are \
            replaced), so Prometheus never takes an incomplete dir for a block; run the same command again after \
            any failure. A bucket file that does not match its recorded hash fails the download (exit 1), naming it. \
            Files without a recorded hash (Thanos' sidecar does not hash by default) are checked for size only.
            """)

    @OptionGroup var objstore: ObjstoreOptions

    @Option(name: .long, help: "Directory to download into (created if missing); each block goes to <dir>/<ULID>.")
    var dir: String

    @Option(name: .long, help: "Files downloaded at the same time.")
    var concurrency: Int = 4

    @Argument(help: "The blocks to download.")
    var ulids: [String] = []

    func run() async throws {
        try await runReportingErrors {
            guard !ulids.isEmpty else {
                throw SkiffError(.invalidArgument, "name the blocks to download: skiff bucket download ULID... --dir DIR")
            }
            let blocks = try parseULIDs(ulids)
            guard concurrency >= 1 else { throw SkiffError(.invalidArgument, "--concurrency must be at least 1") }
            let failpoints = try Failpoints.parse(ProcessInfo.processInfo.environment["SKIFF_FAILPOINTS"] ?? "")
            let line = ProgressLine()
            try await withConfiguredBucket(objstore) { bucket in
                let downloader = BlockDownloader(
                    bucket: bucket, directory: dir,
                    options: .init(concurrency: concurrency, failpoints: failpoints),
                    progress: .init { bytes, files in line.update(bytes: bytes, files: files) })
                try await downloader.prepareDirectory()
                for ulid in blocks {
                    line.start(ulid)
                    let report: BlockDownloader.Report
                    do throws(SkiffError) { report = try await downloader.download(ulid) } catch {
                        line.end()
                        throw error
                    }
                    line.end()
                    Stdout.write(Self.summary(report))
                }
            }
            Stdout.finish()
        }
    }

    static func summary(_ r: BlockDownloader.Report) -> String {
        var text =
            "\(r.ulid): fetched \(r.fetched.count) file(s), \(ByteCount.format(r.bytesFetched)); "
            + "skipped \(r.skipped.count) already present"
        if r.bytesResumed > 0 { text += "; resumed \(ByteCount.format(r.bytesResumed)) left by an earlier run" }
        if !r.sizeOnly.isEmpty {
            text += "; no SHA-256 recorded, size checked only: \(r.sizeOnly.joined(separator: ", "))"
        }
        return text + "\n"
    }
}

/// "downloading <ULID>: 12.0 MiB, 3 file(s)" rewritten in place on stderr, only when stderr is a
/// terminal (never in logs or pipes), at most every 100 ms.
final class ProgressLine: Sendable {
    struct State {
        var ulid = ""
        var lastDraw = ContinuousClock.now
        var baseBytes: Int64 = 0
        var baseFiles = 0
        var bytes: Int64 = 0
        var files = 0
    }

    let enabled = isatty(STDERR_FILENO) == 1
    private let state = Mutex(State())

    func start(_ ulid: ULID) {
        state.withLock {
            $0.ulid = ulid.string
            $0.baseBytes = $0.bytes
            $0.baseFiles = $0.files
        }
    }

    func update(bytes: Int64, files: Int) {
        let line: String? = state.withLock { s in
            s.bytes = bytes
            s.files = files
            guard enabled, ContinuousClock.now - s.lastDraw > .milliseconds(100) else { return nil }
            s.lastDraw = .now
            return
                "\rdownloading \(s.ulid): \(ByteCount.format(bytes - s.baseBytes)), \(files - s.baseFiles) file(s) done\u{1B}[K"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func end() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
