import FileIO
import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import ObjectStorage

/// What the filesystem bucket promises beyond the shared contract: the on-disk layout, crash
/// leftovers, directory cleanup and its errors.
@Suite struct FilesystemBucketTests {
    /// Objects are plain files at `<root>/<key>`: Thanos' layout, which promtool and Thanos read.
    @Test func objectsArePlainFilesAtTheirKey() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try FilesystemBucket(directory: dir.sub("bucket") + "/")
        #expect(bucket.name == dir.sub("bucket"))
        let content = Array("chunk bytes".utf8)
        try Data(content).write(to: URL(fileURLWithPath: dir.sub("src")))
        try await bucket.upload(
            key: "01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001", fileAt: dir.sub("src"), size: Int64(content.count),
            sha256: BucketConformance.sha256Hex(content))
        let path = dir.sub("bucket/01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001")
        #expect(FileManager.default.contents(atPath: path) == Data(content))
        let modified = try #require(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        let attributes = try #require(try await bucket.attributes(key: "01ARZ3NDEKTSV4RRFFQ69G5FAV/chunks/000001"))
        #expect(abs(attributes.lastModifiedMillis - Int64(modified.timeIntervalSince1970 * 1000)) <= 1)
    }

    /// A temp file left by a crash mid-upload is never listed and never read in place of the object.
    @Test func crashLeftoversAreInvisible() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        try await bucket.upload(key: "blk/index", bytes: Array("real".utf8))
        for leftover in ["blk/.skiff-tmp-xyz", ".skiff-tmp-abc", "orphan/.skiff-tmp-123"] {
            try FileManager.default.createDirectory(
                atPath: (dir.sub("bucket/" + leftover) as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try Data("partial".utf8).write(to: URL(fileURLWithPath: dir.sub("bucket/" + leftover)))
        }
        #expect(try await bucket.list(prefix: "", recursive: true) == ["blk/index"])
        #expect(try await bucket.list(prefix: "blk/", recursive: false) == ["blk/index"])
        #expect(try await bucket.list(prefix: "orphan/", recursive: true) == [])
        #expect(try await bucket.readAll(key: "blk/index") == Array("real".utf8))
        // Overwriting next to a leftover still replaces the object, and the leftover stays inert.
        try await bucket.upload(key: "blk/index", bytes: Array("newer".utf8))
        #expect(try await bucket.readAll(key: "blk/index") == Array("newer".utf8))
        #expect(try await bucket.attributes(key: "blk/index")?.size == 5)
    }

    /// The next upload or delete of a key sweeps the temp file a killed upload of that key left;
    /// temps of other keys (possibly live) are not touched.
    @Test func aKilledUploadsTempIsSweptByTheNextWriteOfTheSameKey() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        try await bucket.upload(key: "blk/chunks/000001", bytes: [1])
        let stale = dir.sub("bucket/blk/chunks/.skiff-tmp-000001.dead")
        let other = dir.sub("bucket/blk/chunks/.skiff-tmp-000002.live")
        for path in [stale, other] { _ = FileManager.default.createFile(atPath: path, contents: Data([9])) }
        try await bucket.upload(key: "blk/chunks/000001", bytes: [2])
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: other))
        _ = FileManager.default.createFile(atPath: stale, contents: Data([9]))
        try await bucket.delete(key: "blk/chunks/000001")
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    /// Opening the bucket writes (and removes) a probe file; a process killed in between left
    /// it behind for good (Tools/torture: "bucket has .skiff-tmp-probe-… which is not a local
    /// block"). The next open sweeps any probe.
    @Test func aKilledProbeIsSweptByTheNextOpen() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try FilesystemBucket(directory: dir.sub("bucket"))
        let stale = dir.sub("bucket/.skiff-tmp-probe-25c1c0b901af254e")
        let upload = dir.sub("bucket/.skiff-tmp-index.live")
        for path in [stale, upload] { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
        _ = try FilesystemBucket(directory: dir.sub("bucket"))
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: upload), "an upload's temp is not a probe")
    }

    /// Temp names are reserved: no caller can read, write or list one as an object.
    @Test func tempNamesAreNotKeys() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        await #expect(throws: SkiffError.self) { try await bucket.upload(key: "blk/.skiff-tmp-1", bytes: [1]) }
        await #expect(throws: SkiffError.self) { try await bucket.attributes(key: ".skiff-tmp-1") }
    }

    /// Deleting a block's last objects removes its now-empty dirs, but never the root.
    @Test func deleteRemovesEmptyParentDirectories() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let root = dir.sub("bucket")
        let bucket = try FilesystemBucket(directory: root)
        let keys = ["U/chunks/000001", "U/chunks/000002", "U/index", "U/meta.json", "V/index"]
        for key in keys { try await bucket.upload(key: key, bytes: [1]) }

        try await bucket.delete(key: "U/chunks/000001")
        #expect(isDirectory(root + "/U/chunks"), "chunks/ still holds 000002")
        try await bucket.delete(key: "U/chunks/000002")
        #expect(!FileManager.default.fileExists(atPath: root + "/U/chunks"))
        #expect(isDirectory(root + "/U"))
        try await bucket.delete(key: "U/index")
        try await bucket.delete(key: "U/meta.json")
        #expect(!FileManager.default.fileExists(atPath: root + "/U"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == ["V"])
        try await bucket.delete(key: "V/index")
        #expect(isDirectory(root))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root) == [])
    }

    @Test func initCreatesMissingDirectoriesAndLeavesNoProbe() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        _ = try FilesystemBucket(directory: dir.sub("a/b/c"))
        #expect(isDirectory(dir.sub("a/b/c")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.sub("a/b/c")) == [])
    }

    /// A path that cannot be a directory fails at startup with the path, the reason and the fix.
    @Test(arguments: ["file/bucket", "file"])
    func unusableDirectory(_ name: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.sub("file")))
        let error = #expect(throws: SkiffError.self) { try FilesystemBucket(directory: dir.sub(name)) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("bucket directory \(dir.sub(name)) is not usable: Not a directory") == true)
        #expect(error?.message.contains("config.directory") == true)
    }

    /// OS failures are `.bucket` errors "<op> <key>: <reason>"; a wrong layout will not fix itself.
    @Test func osErrorsNameOperationKeyAndReason() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        try await bucket.upload(key: "file", bytes: [1])
        try await bucket.upload(key: "dir/object", bytes: [1])
        let underFile = await #expect(throws: SkiffError.self) { try await bucket.upload(key: "file/x", bytes: [2]) }
        #expect(underFile?.code == .bucket)
        #expect(underFile?.transient == false)
        #expect(underFile?.message == "upload file/x: Not a directory")
        let overDir = await #expect(throws: SkiffError.self) { try await bucket.upload(key: "dir", bytes: [2]) }
        #expect(overDir?.message == "upload dir: Is a directory")
        #expect(overDir?.transient == false)
        #expect(try await bucket.readAll(key: "dir/object") == [1])
        #expect(try await bucket.list(prefix: "", recursive: false) == ["dir/", "file"], "no temp file left")
    }

    @Test func transientErrnos() {
        for code in [ENOSPC, EIO, EAGAIN, EINTR] {
            #expect(Errno(code: code).isTransient, "errno \(code)")
        }
        for code in [EACCES, EROFS, ENOTDIR, EISDIR, ENAMETOOLONG] {
            #expect(!Errno(code: code).isTransient, "errno \(code)")
        }
        let error = osError("upload", "U/index", Errno(code: ENOSPC))
        #expect(error == SkiffError(.bucket, "upload U/index: No space left on device", transient: true))
    }

    /// A consumer may keep the pieces it is given: the reused read buffer must not change them.
    @Test func keptPiecesStayIntact() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try FilesystemBucket(directory: dir.sub("bucket"))
        let content = (0..<(2 * FilesystemBucket.bufferSize + 10)).map { UInt8(truncatingIfNeeded: $0 / 1000) }
        try await bucket.upload(key: "obj", bytes: content)
        var pieces: [ArraySlice<UInt8>] = []
        try await bucket.read(key: "obj", range: nil) { (piece: ArraySlice<UInt8>) throws(SkiffError) in
            pieces.append(piece)
        }
        #expect(pieces.count == 3)
        #expect(Array(pieces.joined()) == content)
    }

    private func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// /proc answers ENOENT to mkdir of a name whose parent exists: a clear error, not a crash
    /// (the parent-creating loop once recursed on it until the stack overflowed).
    @Test func aDirectoryUnderProcIsRefusedWithAMessage() throws {
        let error = #expect(throws: SkiffError.self) { try FilesystemBucket(directory: "/proc/skiff-bucket/a/b") }
        #expect(error?.message.contains("bucket directory /proc/skiff-bucket/a/b is not usable") == true)
    }

    /// Missing parents many levels deep are all created.
    @Test func missingParentsAreCreated() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let deep = (1...40).map { "d\($0)" }.joined(separator: "/")
        let bucket = try FilesystemBucket(directory: dir.sub(deep))
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: bucket.directory, isDirectory: &isDirectory) && isDirectory.boolValue)
    }
}
