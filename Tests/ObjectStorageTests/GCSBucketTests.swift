import Foundation
import ObjstoreConfig
import SkiffCore
import Synchronization
import TestSupport
import Testing

@testable import GCS
@testable import ObjectStorage

/// The GCS bucket against fsouza's fake-gcs-server, reached through `STORAGE_EMULATOR_HOST`.
@Suite(.serialized, .needs(.fakeGCSServer)) struct GCSBucketTests {
    /// Every conformance check, each on a fresh bucket of one server.
    @Test func conformance() async throws {
        try await GCSTestServer.withServer { server in
            for (i, check) in BucketConformance.checks.enumerated() {
                let name = "conformance-\(i)"
                try await server.makeBucket(name)
                try await server.withSkiffBucket(bucket: name) { bucket in try await check.run(on: bucket) }
            }
        }
    }

    /// Listings of several pages (7 objects a page) keep byte order and lose nothing.
    @Test func pagedListing() async throws {
        try await GCSTestServer.withServer { server in
            let config = GCSConfig(bucket: server.bucket, emulatorOrigin: "http://" + server.emulatorHost)
            let bucket = try GCSBucket(config: config, listPageSize: 7)
            let check = try #require(BucketConformance.checks.first { $0.name == "list many keys" })
            do {
                try await check.run(on: bucket)
                await bucket.shutdown()
            } catch {
                await bucket.shutdown()
                throw error
            }
        }
    }

    /// `STORAGE_EMULATOR_HOST` is read as Google's clients read it: with or without `http://`.
    @Test(arguments: ["127.0.0.1:4443", "http://127.0.0.1:4443", "http://127.0.0.1:4443/", "https://gcs.local:8443"])
    func emulatorHostForms(_ value: String) throws {
        let config = try BucketConfig.parse(
            yaml: "type: GCS\nconfig:\n  bucket: b\n", environment: ["STORAGE_EMULATOR_HOST": value])
        guard case .gcs(let gcs) = config.provider else {
            Issue.record("not GCS: \(config)")
            return
        }
        #expect(gcs.emulatorOrigin == (value.hasPrefix("https") ? "https://gcs.local:8443" : "http://127.0.0.1:4443"))
    }

    /// A file of several chunks goes up as one resumable session, recorded before the first byte
    /// and after every acknowledged chunk; what lands is byte-identical.
    @Test func resumableUploadIsJournaled() async throws {
        try await GCSTestServer.withServer { server in
            let dir = try TempDir()
            defer { dir.remove() }
            let content = BucketConformance.randomBytes(4 * 262_144 + 12_345)
            let path = dir.sub("chunk")
            try Data(content).write(to: URL(fileURLWithPath: path))
            let journal = MemoryJournal()
            try await server.withSkiffBucket(extraConfig: ["chunk_size_bytes: 262144"]) { bucket in
                try await bucket.upload(
                    key: "blk/chunks/000001", fileAt: path, size: Int64(content.count),
                    sha256: BucketConformance.sha256Hex(content), journal: journal)
            }
            #expect(try await server.objectBytes("blk/chunks/000001") == content)
            let log = journal.log
            #expect(log.sessions.count == 1)
            #expect(log.sessions.first?.hasPrefix("http://\(server.emulatorHost)/upload/") == true)
            // Four full chunks acknowledged with 308; the fifth (the rest) creates the object.
            #expect(log.parts.map(\.size) == Array(repeating: 262_144, count: 4))
            #expect(log.parts.last?.etag == "bytes=0-\(4 * 262_144 - 1)")
            #expect(log.ended == [true])
        }
    }

    /// A crash after two chunks are journaled (as `after:part` failpoints do): the next
    /// upload continues the same session from the journaled offset. fake-gcs-server appends
    /// whatever it is sent, so an identical object proves no byte was sent twice.
    @Test func resumableUploadResumesTheSameSession() async throws {
        try await GCSTestServer.withServer { server in
            let dir = try TempDir()
            defer { dir.remove() }
            let content = BucketConformance.randomBytes(5 * 262_144 + 7)
            let path = dir.sub("chunk")
            try Data(content).write(to: URL(fileURLWithPath: path))
            let journal = MemoryJournal(failAfterParts: 2)
            let digest = BucketConformance.sha256Hex(content)
            try await server.withSkiffBucket(extraConfig: ["chunk_size_bytes: 262144"]) { bucket in
                await #expect(throws: SkiffError.self) {
                    try await bucket.upload(
                        key: "blk/chunks/000001", fileAt: path, size: Int64(content.count), sha256: digest, journal: journal)
                }
                #expect(try await bucket.attributes(key: "blk/chunks/000001") == nil)
                journal.stopFailing()
                try await bucket.upload(
                    key: "blk/chunks/000001", fileAt: path, size: Int64(content.count), sha256: digest, journal: journal)
            }
            #expect(try await server.objectBytes("blk/chunks/000001") == content)
            let log = journal.log
            #expect(log.sessions.count == 1, "a new session was started: \(log.sessions)")
            #expect(log.parts.map(\.number) == [1, 2, 3, 4, 5])
            #expect(log.parts.reduce(0) { $0 + $1.size } == 5 * 262_144)
            #expect(log.ended == [true])
        }
    }

    /// A file that changed since it was hashed never completes the resumable upload.
    @Test func resumableUploadRefusesChangedBytes() async throws {
        try await GCSTestServer.withServer { server in
            let dir = try TempDir()
            defer { dir.remove() }
            let content = BucketConformance.randomBytes(3 * 262_144)
            let path = dir.sub("chunk")
            try Data(content).write(to: URL(fileURLWithPath: path))
            let error = try await server.withSkiffBucket(extraConfig: ["chunk_size_bytes: 262144"]) { bucket in
                await #expect(throws: SkiffError.self) {
                    try await bucket.upload(
                        key: "b/c", fileAt: path, size: Int64(content.count), sha256: String(repeating: "0", count: 64),
                        journal: nil)
                }
            }
            #expect(error?.transient == false)
            #expect(error?.message.contains("sha256") == true, "\(String(describing: error))")
            #expect(try await server.objects()["b/c"] == nil)
        }
    }

    /// Without an emulator and without credentials the bucket is refused at once, saying where
    /// credentials are looked for.
    @Test func noCredentialsIsAClearError() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let config = try BucketConfig.parse(yaml: "type: GCS\nconfig:\n  bucket: b\n", environment: ["HOME": dir.path])
        let error = #expect(throws: SkiffError.self) { _ = try config.makeBucket() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("GOOGLE_APPLICATION_CREDENTIALS") == true, "\(String(describing: error))")
        #expect(error?.message.contains("config.service_account") == true)
    }
}

/// An `UploadJournal` kept in memory, whose part records can be made to fail (as a crash stops them).
final class MemoryJournal: UploadJournal {
    struct Log {
        var sessions: [String] = []
        var partSize: Int64 = 0
        var parts: [UploadedPart] = []
        var ended: [Bool] = []
        var open: String?
    }

    private let state: Mutex<(log: Log, failAfter: Int?)>

    init(failAfterParts: Int? = nil) { state = Mutex((Log(), failAfterParts)) }

    var log: Log { state.withLock { $0.log } }

    func stopFailing() { state.withLock { $0.failAfter = nil } }

    func recordedUpload() async throws(SkiffError) -> RecordedMultipartUpload? {
        state.withLock { state in
            state.log.open.map { RecordedMultipartUpload(uploadID: $0, partSize: state.log.partSize, parts: state.log.parts) }
        }
    }

    func uploadStarted(uploadID: String, partSize: Int64) async throws(SkiffError) {
        state.withLock {
            $0.log.sessions.append(uploadID)
            $0.log.partSize = partSize
            $0.log.open = uploadID
        }
    }

    func partUploaded(uploadID: String, _ part: UploadedPart) async throws(SkiffError) {
        // Recorded first, then the "crash": as the shipper's `after:part` failpoint does.
        let failed = state.withLock { state -> Bool in
            state.log.parts.append(part)
            return state.failAfter.map { state.log.parts.count >= $0 } ?? false
        }
        if failed { throw SkiffError(.injected, "injected crash after part \(part.number)") }
    }

    func uploadEnded(uploadID: String, completed: Bool) async throws(SkiffError) {
        state.withLock {
            $0.log.ended.append(completed)
            $0.log.open = nil
        }
    }

    func retrying(operation: String, attempt: Int, error: String) async {}
}
