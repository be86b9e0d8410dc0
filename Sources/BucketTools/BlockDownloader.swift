import BlockingWork
import FileIO
import ObjectStorage
import Shipper
import SkiffCore
import Synchronization
import TSDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads blocks from a bucket into `<directory>/<ULID>` as Thanos' `block.Download` does,
/// with the seed's hash-skipping contract:
///
/// - meta.json is read from the bucket first: it lists the files, their sizes and SHA-256.
/// - A file already in the block dir with its recorded SHA-256 is skipped, untouched (same inode
///   and mtime), so a re-run after a crash or over a finished download fetches nothing.
/// - Every other file is streamed to `.skiff-part-<name>` beside its final name, checked against
///   its recorded size and SHA-256, fsynced and renamed into place: a half file never sits under
///   its final name. A bucket object that does not match its recorded hash fails the download,
///   naming the file, and nothing is put in its place.
/// - A dropped connection resumes the file with a ranged read from the last byte written; a
///   partial file left by a killed run is resumed too (hashed up to where it stops, then ranged
///   reads), and fetched whole again if the result does not match its hash.
/// - Up to `concurrency` files at a time.
///
/// meta.json is written LAST, and removed FIRST when any file needs fetching. Prometheus (and
/// promtool, Thanos) treat a dir with a readable meta.json as a complete block and fail on, or
/// serve wrong data from, one missing a chunk segment; a dir without meta.json is skipped by
/// Prometheus' block loader. So whenever the process dies (kill -9, power loss: every file is
/// fsynced before its rename and meta.json goes last, after the other renames are durable), the
/// dir is either complete with its meta.json or has none and is ignored until a re-run completes
/// it. A re-run needs nothing but the dir itself: the hashes in the bucket's meta.json say what
/// is already there.
public struct BlockDownloader: Sendable {
    /// Temp files are named `.skiff-part-<name>`: not a ULID, not a chunk segment number, so no
    /// TSDB reader takes one for block data, and a re-run finds and resumes it.
    public static let tempPrefix = ".skiff-part-"

    public struct Options: Sendable {
        /// Files fetched at the same time.
        public var concurrency: Int
        /// Transient failures of one file's reads (each resumes where the last stopped) before it fails.
        public var attemptsPerFile: Int
        /// The first retry's delay; doubles per attempt.
        public var retryDelay: Duration
        /// `during:download:<rel_path>` (after the first MiB of a file is written),
        /// `after:download:<rel_path>` (the file renamed into place), `before:download:meta.json`.
        public var failpoints: Failpoints

        public init(
            concurrency: Int = 4, attemptsPerFile: Int = 5, retryDelay: Duration = .milliseconds(200),
            failpoints: Failpoints = .none
        ) {
            self.concurrency = max(1, concurrency)
            self.attemptsPerFile = max(1, attemptsPerFile)
            self.retryDelay = retryDelay
            self.failpoints = failpoints
        }
    }

    /// What downloading one block did.
    public struct Report: Sendable, Equatable {
        public let ulid: ULID
        /// Files fetched (meta.json included when written).
        public var fetched: [String] = []
        /// Files already there with their recorded hash.
        public var skipped: [String] = []
        /// Files with no recorded SHA-256: fetched, and checked for size only.
        public var sizeOnly: [String] = []
        public var bytesFetched: Int64 = 0
        /// Bytes of partial files from an earlier run that were resumed rather than fetched again.
        public var bytesResumed: Int64 = 0
        public var totalBytes: Int64 = 0
    }

    /// Running totals for a progress line (all blocks of one run).
    public final class Progress: Sendable {
        struct Counts {
            var bytes: Int64 = 0
            var files = 0
        }
        private let counts = Mutex(Counts())
        private let onChange: @Sendable (Int64, Int) -> Void

        /// `onChange(bytesFetched, filesDone)` is called as bytes land (from any task).
        public init(onChange: @escaping @Sendable (Int64, Int) -> Void = { _, _ in }) { self.onChange = onChange }

        func add(bytes: Int64, files: Int = 0) {
            let now = counts.withLock { counts in
                counts.bytes += bytes
                counts.files += files
                return counts
            }
            onChange(now.bytes, now.files)
        }
    }

    let bucket: any Bucket
    let directory: String
    let options: Options
    let progress: Progress

    /// `directory` is created if missing; it must be writable.
    public init(bucket: any Bucket, directory: String, options: Options = Options(), progress: Progress = Progress()) {
        self.bucket = bucket
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.options = options
        self.progress = progress
    }

    /// Checks (and creates) the destination dir: an unusable `--dir` fails before any request.
    /// An empty `wal/` is created when there is none: the dir is then a Prometheus data dir as
    /// Prometheus leaves it, which `promtool tsdb dump` (its read-only open replays the WAL and
    /// fails without one) and a Prometheus started on it read as they are.
    public func prepareDirectory() async throws(SkiffError) {
        let dir = directory
        try await Blocking.run { () throws(SkiffError) in
            do throws(Errno) {
                try Posix.makeDirectories(dir + "/wal")
                let probe = dir + "/" + BlockDownloader.tempPrefix + "probe-" + Posix.randomHex()
                let fd = try AtomicFile.create(probe)
                close(fd)
                unlink(probe)
                _ = try Posix.entries(dir)
            } catch {
                throw SkiffError(
                    .invalidArgument, "--dir \(dir) cannot be used: \(error.reason); pass a writable directory",
                    transient: false)
            }
        }
    }

    /// Downloads one block into `<directory>/<ulid>`.
    public func download(_ ulid: ULID) async throws(SkiffError) -> Report {
        let block = try await BlockFiles.read(bucket, ulid)
        let blockDir = directory + "/" + ulid.string
        var report = Report(ulid: ulid)
        report.totalBytes = block.files.reduce(0) { $0 + $1.sizeBytes } + Int64(block.metaJSON.count)

        let local = LocalBlockDir(path: blockDir)
        try await Blocking.run { () throws(SkiffError) in try local.create() }
        var needed: [BlockMeta.File] = []
        for file in block.files {
            if !file.sha256.isEmpty, try await local.hasFile(file) {
                report.skipped.append(file.relPath)
            } else {
                needed.append(file)
            }
            if file.sha256.isEmpty { report.sizeOnly.append(file.relPath) }
        }
        let metaCurrent = try await local.hasMeta(block.metaJSON)
        if !needed.isEmpty {
            // The dir must not look like a complete block while its files are replaced.
            try await Blocking.run { () throws(SkiffError) in try local.removeMeta() }
        }
        for outcome in try await fetchAll(needed, ulid: ulid, into: local) {
            report.fetched.append(outcome.relPath)
            report.bytesFetched += outcome.fetched
            report.bytesResumed += outcome.resumed
        }
        if !needed.isEmpty || !metaCurrent {
            try await options.failpoints.hit("before:download:meta.json")
            let bytes = block.metaJSON
            try await Blocking.run { () throws(SkiffError) in try local.writeMeta(bytes) }
            report.fetched.append("meta.json")
            report.bytesFetched += Int64(bytes.count)
            progress.add(bytes: Int64(bytes.count), files: 1)
        } else {
            report.skipped.append("meta.json")
        }
        return report
    }

    /// Fetches `files`, `concurrency` at a time. After the first failure no new file starts; those
    /// in flight finish (each is whole or absent), then the failure is thrown.
    private func fetchAll(
        _ files: [BlockMeta.File], ulid: ULID, into local: LocalBlockDir
    ) async throws(SkiffError) -> [FileFetch.Outcome] {
        let results = await withTaskGroup(of: Result<FileFetch.Outcome, SkiffError>.self) { group in
            var outcomes: [Result<FileFetch.Outcome, SkiffError>] = []
            var next = 0
            var running = 0
            var failed = false
            while true {
                while !failed && running < options.concurrency && next < files.count {
                    let fetch = FileFetch(
                        bucket: bucket, ulid: ulid, file: files[next], local: local, options: options, progress: progress)
                    group.addTask {
                        do throws(SkiffError) { return .success(try await fetch.run()) } catch { return .failure(error) }
                    }
                    next += 1
                    running += 1
                }
                guard let result = await group.next() else { break }
                running -= 1
                if case .failure = result { failed = true }
                outcomes.append(result)
            }
            return outcomes
        }
        var outcomes: [FileFetch.Outcome] = []
        for result in results {
            switch result {
            case .success(let outcome): outcomes.append(outcome)
            case .failure(let error): throw error.about(block: ulid)
            }
        }
        return outcomes
    }
}
