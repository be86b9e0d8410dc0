import AsyncHTTPClient
import FileIO
import Foundation
import NIOCore
import NIOHTTP1
import ObjectStorage
import SkiffCore

/// A bucket on Amazon S3 or an S3-compatible store (MinIO, Ceph, JuiceFS, ...), configured by
/// Thanos' `type: S3` objstore YAML.
///
/// Files below `part_size` go up in one streamed PUT; larger ones as multipart uploads whose
/// progress is journaled (see `S3Bucket+Multipart.swift`). Every body is sent with its SHA-256 as
/// `x-amz-content-sha256`, so a server that checks it (AWS, MinIO) rejects bytes changed in flight.
public final class S3Bucket: Bucket {
    let client: S3Client
    var config: S3Config { client.config }
    /// Multipart uploads by where their part hashes came from, for tests and benchmarks.
    public let partHashing = UploadPathCounts<PartHashSource>()

    public var name: String { config.bucket }
    /// Keys per listing page; nil leaves it to the server (1,000 on S3). Tests set it small to
    /// walk many pages without uploading thousands of objects.
    let listPageSize: Int?

    public init(config: S3Config) throws(SkiffError) {
        client = try S3Client(config: config)
        listPageSize = nil
    }

    init(config: S3Config, listPageSize: Int) throws(SkiffError) {
        client = try S3Client(config: config)
        self.listPageSize = listPageSize
    }

    public func shutdown() async { await client.shutdown() }

    // MARK: - Uploads

    /// A multipart upload signs each part with the part hashes in `hashed` while the file keeps
    /// its identity (see `PartHashSource`). A single PUT hashes the body as it streams anyway, to
    /// stop before a changed byte reaches a server that does not check payload hashes.
    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs hashed: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try FileRangeBody.checkUpload(key: key, path: path, size: size, location: client.location(key))
        if signedPartSize(forFileOfSize: size) != nil {
            try await multipartUpload(key: key, path: path, size: size, sha256: sha256, hashed: hashed, journal: journal)
            return
        }
        guard size <= 5 << 30 else {
            throw SkiffError(
                .invalidArgument,
                "upload \(client.location(key)): \(size) bytes is over S3's 5 GiB single-PUT limit; remove disable_multipart")
        }
        var digest: String
        if let sha256 { digest = sha256 } else { digest = try await hashRangeOffPool(path, offset: 0, length: size).sha256 }
        var request = S3Client.Request(method: .PUT, key: key)
        request.body = .file(path: path, offset: 0, length: size, sha256: digest, verify: true)
        request.headers = metadataHeaders
        _ = try await client.send(request, operation: "upload", journal: journal)
    }

    /// Files of `part_size` or more go as multipart uploads, in `PartPlan`'s parts.
    public func signedPartSize(forFileOfSize size: Int64) -> Int64? {
        guard size >= config.partSize && !config.disableMultipart else { return nil }
        return PartPlan(fileSize: size, configuredPartSize: config.partSize).partSize
    }

    public func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "upload")
        var request = S3Client.Request(method: .PUT, key: key)
        request.body = .bytes(bytes)
        request.headers = metadataHeaders
        _ = try await client.send(request, operation: "upload")
    }

    /// `x-amz-meta-*` from `put_user_metadata`, plus the content type Thanos sets on objects.
    var metadataHeaders: [(name: String, value: String)] {
        config.userMetadata.sorted { $0.key < $1.key }.map { (name: "x-amz-meta-\($0.key)", value: $0.value) }
    }

    // MARK: - Reads

    public func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try ObjectKey.validate(key, op: "stat")
        let response = try await client.send(.init(method: .HEAD, key: key), operation: "attributes", accept: [200, 404])
        guard response.status == 200 else { return nil }
        guard let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }) else {
            throw SkiffError(.bucket, "stat \(client.location(key)): the server sent no Content-Length")
        }
        let modified = response.headers.first(name: "last-modified").flatMap(Self.parseHTTPDate) ?? 0
        return ObjectAttributes(size: length, lastModifiedMillis: modified)
    }

    public func read(
        key: String, range: Range<Int64>?,
        into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "read")
        if let range, range.isEmpty {
            // No bytes to read, but a missing object is still an error.
            guard try await attributes(key: key) != nil else { throw notFound(key) }
            return
        }
        // Bytes handed to `consumer` so far: a retry continues after them instead of repeating them.
        var delivered: Int64 = 0
        var consumerError: SkiffError?
        var finished = false
        // Bodies cut after some bytes arrived: each resumes with a new ranged GET from `delivered`
        // (the client's own retry would repeat the request as it was, from the first byte).
        var interruptions = 0
        while !finished {
            var request = S3Client.Request(method: .GET, key: key)
            let start = (range?.lowerBound ?? 0) + delivered
            if let range {
                request.headers = [("range", "bytes=\(start)-\(range.upperBound - 1)")]
            } else if delivered > 0 {
                request.headers = [("range", "bytes=\(start)-")]
            }
            var interrupted: (any Error)?
            do throws(SkiffError) {
                try await client.withRetries(request, operation: range == nil ? "get" : "get_range", journal: nil) {
                    response in
                    interrupted = nil
                    let status = Int(response.status.code)
                    if status == 416 { return }  // the range starts at or past the end: no bytes
                    guard status == 200 || status == 206 else {
                        let body = try await response.body.collect(upTo: S3Client.maxCollectedBytes)
                        throw S3ServiceError(
                            status: status, body: Array(buffer: body), headers: response.headers.first(name: "x-amz-request-id"))
                    }
                    let before = delivered
                    do {
                        for try await buffer in response.body {
                            let bytes = Array(buffer: buffer)
                            do throws(SkiffError) { try await consumer(bytes[...]) } catch {
                                consumerError = error
                                throw CancellationError()
                            }
                            delivered += Int64(bytes.count)
                        }
                    } catch  where consumerError == nil && delivered > before {
                        interrupted = error
                    }
                }
                if let interrupted {
                    interruptions += 1
                    guard interruptions <= config.maxRetries else {
                        throw SkiffError(
                            .bucket,
                            "read \(client.location(key)): the connection dropped \(interruptions) times mid-object: \(interrupted)"
                        )
                    }
                    continue
                }
                finished = true
            } catch {
                if let consumerError { throw consumerError }
                throw error.code == .notFound ? notFound(key) : error
            }
        }
    }

    private func notFound(_ key: String) -> SkiffError {
        SkiffError(.notFound, "read \(client.location(key)): no such object", transient: false)
    }

    // MARK: - Listing

    public func list(prefix: String, recursive: Bool) async throws(SkiffError) -> [String] {
        var keys: [String] = []
        try await listPages(prefix: prefix, recursive: recursive) { (root: S3XMLNode) throws(SkiffError) in
            keys +=
                root.all("Contents").compactMap { $0.value("Key") } + root.all("CommonPrefixes").compactMap { $0.value("Prefix") }
        }
        // Our own temp names never exist on S3, but a "directory" placeholder object might.
        return Array(Set(keys)).filter { $0 != prefix || !$0.hasSuffix("/") }.sorted(by: ObjectKey.precedes)
    }

    public func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        try await listPages(prefix: prefix, recursive: true) { (root: S3XMLNode) throws(SkiffError) in
            let entries = root.all("Contents").compactMap { node -> ObjectEntry? in
                guard let key = node.value("Key"), !key.hasSuffix("/") else { return nil }  // skip "directory" placeholders
                return ObjectEntry(key: key, size: node.value("Size").flatMap { Int64($0) } ?? 0)
            }
            if !entries.isEmpty { try await page(entries) }
        }
    }

    /// Sends ListObjects (v2 or v1, as configured) page by page; S3 returns keys in byte order.
    private func listPages(
        prefix: String, recursive: Bool, page: (S3XMLNode) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try ObjectKey.validatePrefix(prefix, op: "list")
        var token: String?
        repeat {
            var query: [(name: String, value: String)] = [("prefix", prefix)]
            if !recursive { query.append(("delimiter", "/")) }
            if let listPageSize { query.append(("max-keys", "\(listPageSize)")) }
            switch config.listObjectsVersion {
            case .v2:
                query.append(("list-type", "2"))
                if let token { query.append(("continuation-token", token)) }
            case .v1:
                if let token { query.append(("marker", token)) }
            }
            let response = try await client.send(.init(method: .GET, key: nil, query: query), operation: "iter")
            guard let root = S3XMLNode.parse(response.body), root.name == "ListBucketResult" else {
                throw SkiffError(.bucket, "list \(client.location(prefix)): the server's answer is not a ListBucketResult")
            }
            try await page(root)
            token = nil
            if root.value("IsTruncated") == "true" {
                switch config.listObjectsVersion {
                case .v2: token = root.value("NextContinuationToken")
                case .v1:
                    let keys =
                        root.all("Contents").compactMap { $0.value("Key") }
                        + root.all("CommonPrefixes").compactMap { $0.value("Prefix") }
                    token = root.value("NextMarker") ?? keys.max(by: ObjectKey.precedes)
                }
                guard token?.isEmpty == false else {
                    throw SkiffError(.bucket, "list \(client.location(prefix)): truncated listing without a continuation")
                }
            }
        } while token != nil
    }

    // MARK: - Deletes

    public func delete(key: String) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "delete")
        _ = try await client.send(.init(method: .DELETE, key: key), operation: "delete", accept: [200, 204, 404])
    }

    // MARK: - Helpers

    /// RFC 7231 dates (`Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT`) in Unix milliseconds.
    static func parseHTTPDate(_ text: String) -> Int64? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[5] == "GMT", let day = Int(fields[1]),
            let month = months.firstIndex(of: String(fields[2])), let year = Int(fields[3])
        else { return nil }
        let clock = fields[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        var components = DateComponents()
        components.calendar = Calendar(identifier: .gregorian)
        components.timeZone = TimeZone(identifier: "UTC")
        (components.year, components.month, components.day) = (year, month + 1, day)
        (components.hour, components.minute, components.second) = (clock[0], clock[1], clock[2])
        guard let date = components.date else { return nil }
        return Int64(date.timeIntervalSince1970 * 1000)
    }
}
