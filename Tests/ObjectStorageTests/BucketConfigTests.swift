import Foundation
import ObjectStorage
import ObjstoreConfig
import S3
import SkiffCore
import TestSupport
import Testing

/// Thanos objstore YAML: what is accepted, and that every mistake is named.
@Suite struct BucketConfigTests {
    @Test func filesystemConfig() throws {
        let config = try BucketConfig.parse(yaml: "type: FILESYSTEM\nconfig:\n  directory: /var/skiff/bucket\n")
        #expect(config == BucketConfig(provider: .filesystem(directory: "/var/skiff/bucket"), prefix: ""))
    }

    @Test(arguments: ["filesystem", "FileSystem", "FILESYSTEM"])
    func typeIsCaseInsensitive(_ type: String) throws {
        let config = try BucketConfig.parse(yaml: "type: \(type)\nconfig: {directory: /b}")
        #expect(config.provider == .filesystem(directory: "/b"))
    }

    @Test func prefixIsTrimmedAndApplied() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let config = try BucketConfig.parse(
            yaml: "type: FILESYSTEM\nconfig:\n  directory: \(dir.sub("b"))\nprefix: /tenant/a/\n")
        #expect(config.prefix == "tenant/a")
        let bucket = try config.makeBucket()
        try await bucket.upload(key: "blk/meta.json", bytes: [1])
        #expect(FileManager.default.fileExists(atPath: dir.sub("b/tenant/a/blk/meta.json")))
        #expect(try await bucket.list(prefix: "", recursive: true) == ["blk/meta.json"])
        // Metrics sit below the prefix: their `bucket` label is the directory, not "dir (prefix ...)".
        let instrumented = try #require((bucket as? PrefixedBucket)?.base as? InstrumentedBucket)
        #expect(instrumented.name == dir.sub("b"))
    }

    @Test func makeBucketWithoutPrefixIsTheFilesystemBucket() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let bucket = try BucketConfig(provider: .filesystem(directory: dir.sub("b"))).makeBucket()
        #expect(((bucket as? InstrumentedBucket)?.base as? FilesystemBucket)?.directory == dir.sub("b"))
    }

    @Test func relativeDirectoryIsResolvedAgainstTheWorkingDirectory() throws {
        let config = try BucketConfig.parse(yaml: "type: FILESYSTEM\nconfig:\n  directory: ./data/bucket/\n")
        let cwd = FileManager.default.currentDirectoryPath
        #expect(config.provider == .filesystem(directory: (cwd == "/" ? "" : cwd) + "/data/bucket"))
    }

    @Test(arguments: [
        (
            "type: FILESYSTEM\nconfig: {directory: /b}\nfoo: 1",
            #"bucket config: unknown key "foo"; allowed here: type, config, prefix"#
        ),
        (
            "type: FILESYSTEM\nconfig:\n  directory: /b\n  foo: 1",
            #"bucket config: unknown key "config.foo"; allowed here: directory"#
        ),
        ("type: FILESYSTEM\nconfig:\n  dir: /b", #"bucket config: unknown key "config.dir"; allowed here: directory"#),
        ("type: FILESYSTEM\nconfig: {}", "bucket config has no config.directory"),
        ("type: FILESYSTEM", "bucket config has no config.directory"),
        ("type: FILESYSTEM\nconfig:\n  directory:", "bucket config has no config.directory"),
        ("config: {directory: /b}", "bucket config has no type; set type: FILESYSTEM"),
        ("type: s3\nconfig: {bucket: b}", "S3 needs config.endpoint"),
        (
            "type: AZURE",
            "bucket config: bucket type AZURE is not supported by Skiff; supported: FILESYSTEM, S3, GCS, ALIYUNOSS, COS"
        ),
        ("type: DROPBOX", #"unknown bucket type "DROPBOX" in bucket config; supported: FILESYSTEM, S3, GCS, ALIYUNOSS, COS"#),
        ("", "bucket config is empty; set type: FILESYSTEM and config.directory"),
        ("  \n\t\n", "bucket config is empty; set type: FILESYSTEM and config.directory"),
        ("# only a comment\n", "bucket config is empty; set type: FILESYSTEM and config.directory"),
        ("- a list", "bucket config: the document must be a YAML mapping with keys: type, config, prefix"),
        ("type: FILESYSTEM\nconfig: [/b]", "bucket config: config must be a YAML mapping with keys: directory"),
        (
            "type: FILESYSTEM\nconfig:\n  directory: [/b]",
            "bucket config: config.directory must be a single value, not a list or mapping"
        ),
        ("type: FILESYSTEM\ntype: S3", #"bucket config is not valid YAML: duplicate key "type""#),
        ("type: FILESYSTEM\nconfig: {directory: /b}\nprefix: a/../b", "invalid object key"),
    ])
    func rejected(_ yaml: String, _ message: String) {
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "got: \(String(describing: error?.message))")
    }

    /// A YAML syntax error gives the position, never the offending text: it may be a credential.
    @Test func syntaxErrorsDoNotEchoValues() {
        let yaml = "type: FILESYSTEM\nconfig:\n  directory: /b\n  secret_key: \"s3cr3t\n"
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml) }
        #expect(error?.message.hasPrefix("bucket config is not valid YAML:") == true)
        #expect(error?.message.contains("line") == true)
        #expect(error?.message.contains("s3cr3t") == false)
    }

    @Test func environmentSubstitution() throws {
        let yaml = "type: $(KIND)\nconfig:\n  directory: /data/$(TENANT_1)/bucket\nprefix: $(P)\n"
        let config = try BucketConfig.parse(yaml: yaml, environment: ["KIND": "FILESYSTEM", "TENANT_1": "eu", "P": ""])
        #expect(config == BucketConfig(provider: .filesystem(directory: "/data/eu/bucket")))
        // Only $(NAME) is substituted, as in Thanos.
        let literal = try BucketConfig.parse(
            yaml: "type: FILESYSTEM\nconfig: {directory: '/d/$HOME/${HOME}/$()'}", environment: [:])
        #expect(literal.provider == .filesystem(directory: "/d/$HOME/${HOME}/$()"))
    }

    @Test func unsetEnvironmentVariableIsNamed() {
        let error = #expect(throws: SkiffError.self) {
            try BucketConfig.parse(yaml: "type: FILESYSTEM\nconfig: {directory: $(BUCKET_DIR)}", environment: ["OTHER": "x"])
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("environment variable BUCKET_DIR is not set") == true)
    }

    @Test func loadReadsTheFileAndNamesItInErrors() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = dir.sub("bucket.yml")
        try "type: FILESYSTEM\nconfig:\n  directory: /b\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try BucketConfig.load(path: path).provider == .filesystem(directory: "/b"))

        try "type: FILESYSTEM\nconfig:\n  directory: /b\n  bogus: 1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let bad = #expect(throws: SkiffError.self) { try BucketConfig.load(path: path) }
        #expect(bad?.message == "bucket config \(path): unknown key \"config.bogus\"; allowed here: directory")
    }

    @Test(arguments: [("missing.yml", "No such file or directory"), ("", "Is a directory")])
    func unreadableFile(_ name: String, _ reason: String) throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let path = name.isEmpty ? dir.path : dir.sub(name)
        let error = #expect(throws: SkiffError.self) { try BucketConfig.load(path: path) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.hasPrefix("read bucket config \(path): \(reason);") == true, "got: \(String(describing: error))")
    }

    @Test func unusableDirectoryFailsInMakeBucket() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        try Data().write(to: URL(fileURLWithPath: dir.sub("file")))
        let config = BucketConfig(provider: .filesystem(directory: dir.sub("file/b")))
        let error = #expect(throws: SkiffError.self) { try config.makeBucket() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(dir.sub("file/b")) == true)
    }
}
