import Foundation
import SkiffCore
import Synchronization
import TSDB
import TestSupport
import Testing

/// A FIFO, device, socket, dir or symlink among a block's files: the block is quarantined
/// (`.corruptBlock`, naming the file and what it is), and nothing blocks on it (cases 11, 14, 15).
@Suite(.needs(.promtool)) struct NonRegularFileTests {
    enum Kind: String, CaseIterable, Sendable { case fifo, directory, socket, device, symlinkToDevice, symlinkLoop }

    /// Replaces `path` with a non-regular file of `kind`.
    static func replace(_ path: String, with kind: Kind) throws {
        try? FileManager.default.removeItem(atPath: path)
        switch kind {
        case .fifo: #expect(mkfifo(path, 0o644) == 0)
        case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        case .socket:
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0, "bind \(path): errno \(errno)")
        case .device:
            // /dev/zero's numbers: never ends. Needs root (CAP_MKNOD); else a FIFO stands in.
            if mknod(path, mode_t(S_IFCHR) | 0o644, dev_t(0x105)) != 0 { #expect(mkfifo(path, 0o644) == 0) }
        case .symlinkToDevice: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
        case .symlinkLoop: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: path)
        }
    }

    /// Runs `work` on its own thread and fails the test if it has not returned within 10 s; a
    /// reader stuck on a FIFO is then released by opening the FIFO's write end.
    static func bounded<T: Sendable>(
        releasing fifo: String, _ work: @escaping @Sendable () throws -> T,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let thread = Thread { result.withLock { $0 = Result { try work() } } }
        thread.start()
        let deadline = ContinuousClock.now + .seconds(10)
        while result.withLock({ $0 == nil }) {
            if ContinuousClock.now > deadline {
                Issue.record("blocked on \(fifo) for 10 s", sourceLocation: sourceLocation)
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
                try await Task.sleep(for: .milliseconds(500))
                if result.withLock({ $0 == nil }) { throw CancellationError() }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return try result.withLock { $0! }.get()
    }

    static func expectQuarantined(
        _ outcome: Result<some Any, any Error>, naming file: String, as words: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .failure(let error as SkiffError) = outcome else {
            Issue.record("expected a corrupt-block error, got \(outcome)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.code == .corruptBlock && !error.transient, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(file) && error.message.contains(words), "\(error.message)", sourceLocation: sourceLocation)
    }

    static func words(_ kind: Kind) -> String {
        switch kind {
        case .fifo: "a FIFO"
        case .directory: "a directory"
        case .socket: "a socket"
        case .device: getuid() == 0 ? "a character device" : "a FIFO"
        case .symlinkToDevice, .symlinkLoop: "a symlink"
        }
    }

    @Test(arguments: Kind.allCases, ["chunks/000001", "index", "tombstones"])
    func checkingTheBlockNeverOpensIt(_ kind: Kind, _ file: String) async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (_, block) = try f.damageableCopy()
        let path = block.dir + "/" + file
        try Self.replace(path, with: kind)
        let outcome = try await Self.bounded(releasing: path) { Result { try BlockChecker.check(block) } }
        Self.expectQuarantined(outcome, naming: file, as: Self.words(kind))
    }

    /// Case 15: the second segment of a block with two.
    @Test func aLaterSegmentIsCheckedToo() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (_, block) = try f.damageableCopy()
        try FileManager.default.copyItem(atPath: block.dir + "/chunks/000001", toPath: block.dir + "/chunks/000002")
        #expect(throws: Never.self) { try BlockChecker.check(block) }
        try Self.replace(block.dir + "/chunks/000002", with: .fifo)
        let outcome = try await Self.bounded(releasing: block.dir + "/chunks/000002") { Result { try BlockChecker.check(block) } }
        Self.expectQuarantined(outcome, naming: "chunks/000002", as: "a FIFO")
    }

    @Test(arguments: Kind.allCases)
    func metaJSONThatIsNotARegularFileIsUnreadable(_ kind: Kind) async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (tsdb, block) = try f.damageableCopy()
        let path = block.dir + "/meta.json"
        try Self.replace(path, with: kind)
        let scanned = try await Self.bounded(releasing: path) { try BlockScanner(tsdbPath: tsdb).scan() }
        guard case .unreadable(_, _, let error) = try #require(scanned.first) else {
            Issue.record("\(scanned)")
            return
        }
        Self.expectQuarantined(Result<Void, any Error>.failure(error), naming: "meta.json", as: Self.words(kind))
    }

    /// The hashing step reads staged links; one swapped for a FIFO after staging must not block it.
    @Test func hashingRefusesAFIFO() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (tsdb, block) = try f.damageableCopy()
        let stager = Stager(tsdbPath: tsdb)
        var staged = try stager.stage(block)
        try Self.replace(staged[0].path, with: .fifo)
        staged[0] = StagedFile(ulid: staged[0].ulid, relPath: staged[0].relPath, path: staged[0].path, size: 0)
        let files = staged
        let outcome = try await Self.bounded(releasing: staged[0].path) { Result { try stager.hash(files) } }
        Self.expectQuarantined(outcome, naming: staged[0].relPath, as: "a FIFO")
    }

    /// Staging never follows a symlink out of the block (here: to a file the block does not own).
    @Test func stagingRefusesASymlinkOutOfTheBlock() async throws {
        let f = try await TSDBFixture()
        defer { f.tmp.remove() }
        let (tsdb, block) = try f.damageableCopy()
        let outside = f.tmp.sub("outside-index")
        try FileManager.default.moveItem(atPath: block.dir + "/index", toPath: outside)
        try FileManager.default.createSymbolicLink(atPath: block.dir + "/index", withDestinationPath: outside)
        let outcome = Result { try Stager(tsdbPath: tsdb).stage(block) }
        Self.expectQuarantined(outcome, naming: "index", as: "a symlink")
    }
}
