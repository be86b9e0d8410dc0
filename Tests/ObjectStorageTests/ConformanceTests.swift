import Foundation
import ObjectStorage
import TestSupport
import Testing

/// The shared bucket contract, against the filesystem bucket alone and behind a prefix.
@Suite struct ConformanceTests {
    @Test(arguments: BucketConformance.checks)
    func filesystemBucket(_ check: BucketConformance.Check) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try await check.run(on: FilesystemBucket(directory: dir.sub("bucket")))
        #expect(tempFiles(under: dir.sub("bucket")) == [], "a check left temp files behind")
    }

    @Test(arguments: BucketConformance.checks)
    func prefixedBucket(_ check: BucketConformance.Check) async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let base = try FilesystemBucket(directory: dir.sub("bucket"))
        try await check.run(on: PrefixedBucket(base: base, prefix: "/tenant/a/"))
        // Nothing escaped the prefix.
        let outside = try await base.list(prefix: "", recursive: true).filter { !$0.hasPrefix("tenant/a/") }
        #expect(outside == [])
        #expect(tempFiles(under: dir.sub("bucket")) == [])
    }

    /// `run` (one call for all checks) works as a harness on its own.
    @Test func runAllAtOnce() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        var made = 0
        try await BucketConformance.run {
            made += 1
            return try FilesystemBucket(directory: dir.sub("bucket-\(made)"))
        }
        #expect(made == BucketConformance.checks.count)
    }
}

/// Paths of `.skiff-tmp-*` files anywhere under `root`.
func tempFiles(under root: String) -> [String] {
    let all = FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []
    return all.filter { ($0 as NSString).lastPathComponent.hasPrefix(".skiff-tmp-") }
}
