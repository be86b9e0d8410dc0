import AsyncHTTPClient
import FileIO
import Foundation
import NIOCore
import NIOHTTP1
import ObjectStorage
import SkiffCore

/// A bucket on Google Cloud Storage (or an emulator named by `STORAGE_EMULATOR_HOST`), configured
/// by Thanos' `type: GCS` objstore YAML, over GCS' JSON API.
///
/// Files below `chunk_size_bytes` go up in one streamed media upload; larger ones as resumable
/// uploads whose session URI is journaled (see `GCSBucket+Resumable.swift`). Every upload is
/// checked twice: the bytes against the recorded SHA-256 as they are read (a mismatch ends the
/// request short, so nothing is stored), and the CRC32C GCS reports for the stored object against
/// the CRC32C of what was sent (a mismatch deletes the object).
public final class GCSBucket: Bucket {
    let client: GCSClient
    var config: GCSConfig { client.config }
    /// Objects per listing page; nil leaves it to the server (1,000). Tests set it small.
    let listPageSize: Int?

    public var name: String { config.bucket }

    public init(config: GCSConfig) throws(SkiffError) {
        client = try GCSClient(config: config)
        listPageSize = nil
    }

    init(config: GCSConfig, listPageSize: Int) throws(SkiffError) {
        client = try GCSClient(config: config)
        self.listPageSize = listPageSize
    }

    public func shutdown() async { await client.shutdown() }

    // MARK: - Uploads

    /// `hashed` is not used: every byte goes through a hash on its way to the server anyway.
    public func upload(
        key: String, fileAt path: String, size: Int64, sha256: String?, hashedAs _: HashedFile?,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        try FileRangeBody.checkUpload(key: key, path: path, size: size, location: client.location(key))
        if size >= config.chunkSize {
            try await resumableUpload(key: key, path: path, size: size, sha256: sha256, journal: journal)
            return
        }
        try await mediaUpload(
            key: key, body: .file(path: path, offset: 0, length: size, expectedSHA256: sha256), size: size, journal: journal)
    }

    /// Chunks of a resumable upload carry no hash of their own: staging needs no parts.
    public func signedPartSize(forFileOfSize size: Int64) -> Int64? { nil }

    public func upload(key: String, bytes: [UInt8]) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "upload")
        try await mediaUpload(key: key, body: .bytes(bytes), size: Int64(bytes.count), journal: nil)
    }

    /// One request (`uploadType=media`): GCS creates the object only once the whole body arrived.
    private func mediaUpload(
        key: String, body: GCSClient.Body, size: Int64, journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        var request = GCSClient.Request(method: .POST, url: client.uploadURL(type: "media", key: key), key: key)
        request.headers = [("Content-Type", "application/octet-stream")]
        request.body = body
        let (response, tally) = try await client.send(request, operation: "upload", journal: journal)
        try await verifyStored(key: key, answer: response.body, size: size, crc32c: tally.crc32c)
    }

    /// Checks the object GCS says it stored against what was sent; a mismatch deletes it, so no
    /// damaged object stays under the key, and fails the upload as worth retrying.
    func verifyStored(key: String, answer: [UInt8], size: Int64, crc32c: UInt32) async throws(SkiffError) {
        guard let object = GCSObject(body: answer) else {
            throw SkiffError(.bucket, "upload \(client.location(key)): the server's answer is not an object resource")
        }
        guard object.size != size || (object.crc32c.map { $0 != crc32c } ?? false) else { return }
        try await delete(key: key)
        let stored = object.crc32c.map { GCSObject.encodeCRC($0) } ?? "none"
        throw SkiffError(
            .bucket,
            "upload \(client.location(key)): GCS stored \(object.size) bytes with crc32c \(stored), but Skiff sent \(size) "
                + "bytes with crc32c \(GCSObject.encodeCRC(crc32c)); the object was deleted and will be uploaded again",
            transient: true)
    }

    // MARK: - Reads

    public func attributes(key: String) async throws(SkiffError) -> ObjectAttributes? {
        try ObjectKey.validate(key, op: "stat")
        let request = GCSClient.Request(method: .GET, url: client.objectURL(key), key: key)
        let (response, _) = try await client.send(request, operation: "attributes", accept: [200, 404])
        if response.status == 404 {
            // GCS answers 404 for a missing bucket too; only its message tells the two apart.
            let error = GCSServiceError(status: 404, body: response.body, headers: response.headers)
            guard !error.message.lowercased().contains("bucket does not exist") else {
                throw SkiffError(
                    .invalidArgument, "stat \(client.location(key)): no such bucket; create it or fix config.bucket",
                    transient: false, context: SkiffError.Context(httpStatus: 404, storeCode: error.reason))
            }
            return nil
        }
        guard let object = GCSObject(body: response.body) else {
            throw SkiffError(.bucket, "stat \(client.location(key)): the server's answer is not an object resource")
        }
        return ObjectAttributes(size: object.size, lastModifiedMillis: object.updatedMillis)
    }

    /// Thanos' `GetRange`: `length` bytes from `offset` (-1: to the end), streamed to `consumer`.
    public func getRange(
        key: String, offset: Int64, length: Int64, into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        guard offset >= 0, length >= -1 else {
            throw SkiffError(.invalidArgument, "read \(client.location(key)): offset and length must not be negative")
        }
        try await read(key: key, range: length == -1 ? offset..<Int64.max : offset..<offset + length, into: consumer)
    }

    public func read(
        key: String, range: Range<Int64>?,
        into consumer: (ArraySlice<UInt8>) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "read")
        if let range, range.isEmpty {
            guard try await attributes(key: key) != nil else { throw notFound(key) }
            return
        }
        // Bytes handed to `consumer` so far: a retry continues after them instead of repeating them.
        var delivered: Int64 = 0
        var consumerError: SkiffError?
        var request = GCSClient.Request(method: .GET, url: client.objectURL(key, query: "alt=media"), key: key)
        while true {
            let start = (range?.lowerBound ?? 0) + delivered
            if let range, range.upperBound != Int64.max {
                request.headers = [("Range", "bytes=\(start)-\(range.upperBound - 1)")]
            } else if start > 0 {
                request.headers = [("Range", "bytes=\(start)-")]
            }
            do throws(SkiffError) {
                try await client.withRetries(request, operation: range == nil ? "get" : "get_range", journal: nil) {
                    response, _ in
                    let status = Int(response.status.code)
                    if status == 416 { return }  // the range starts at or past the end: no bytes
                    guard status == 200 || status == 206 else {
                        let body = try await response.body.collect(upTo: GCSClient.maxCollectedBytes)
                        throw GCSServiceError(status: status, body: Array(buffer: body), headers: response.headers)
                    }
                    // A server that ignores Range answers 200 with the whole object: skip to `start`.
                    var skip = status == 200 ? start : 0
                    for try await buffer in response.body {
                        var bytes = Array(buffer: buffer)[...]
                        if skip > 0 {
                            let dropped = Int(min(skip, Int64(bytes.count)))
                            bytes = bytes.dropFirst(dropped)
                            skip -= Int64(dropped)
                        }
                        if let range, range.upperBound != Int64.max {
                            let room = range.upperBound - (range.lowerBound + delivered)
                            if room <= 0 { break }
                            bytes = bytes.prefix(Int(min(room, Int64(bytes.count))))
                        }
                        if bytes.isEmpty { continue }
                        do throws(SkiffError) { try await consumer(bytes) } catch {
                            consumerError = error
                            throw CancellationError()
                        }
                        delivered += Int64(bytes.count)
                    }
                }
                return
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
        try await listPages(prefix: prefix, recursive: recursive) {
            (objects: [GCSObject], prefixes: [String]) throws(SkiffError) in
            keys += objects.map(\.name) + prefixes
        }
        return Array(Set(keys)).filter { $0 != prefix || !$0.hasSuffix("/") }.sorted(by: ObjectKey.precedes)
    }

    public func walk(prefix: String, page: ([ObjectEntry]) async throws(SkiffError) -> Void) async throws(SkiffError) {
        try await listPages(prefix: prefix, recursive: true) { (objects: [GCSObject], _: [String]) throws(SkiffError) in
            // "Directory" placeholders (keys ending in "/") are not objects Skiff knows.
            let entries = objects.filter { !$0.name.hasSuffix("/") }.map { ObjectEntry(key: $0.name, size: $0.size) }
            if !entries.isEmpty { try await page(entries) }
        }
    }

    /// `objects.list` page by page; GCS returns names in byte order.
    private func listPages(
        prefix: String, recursive: Bool, page: ([GCSObject], [String]) async throws(SkiffError) -> Void
    ) async throws(SkiffError) {
        try ObjectKey.validatePrefix(prefix, op: "list")
        var token: String?
        repeat {
            var query: [(String, String)] = [("prefix", prefix)]
            if !recursive { query.append(("delimiter", "/")) }
            if let listPageSize { query.append(("maxResults", "\(listPageSize)")) }
            if let token { query.append(("pageToken", token)) }
            let request = GCSClient.Request(method: .GET, url: client.listURL(query), key: prefix)
            let (response, _) = try await client.send(request, operation: "iter", accept: [200, 404])
            if response.status == 404 {
                throw SkiffError(
                    .invalidArgument, "list \(client.location(prefix)): no such bucket; create it or fix config.bucket",
                    transient: false)
            }
            guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
                throw SkiffError(.bucket, "list \(client.location(prefix)): the server's answer is not an object listing")
            }
            let items = (object["items"] as? [Any] ?? []).compactMap { GCSObject(json: $0) }
            try await page(items, object["prefixes"] as? [String] ?? [])
            token = (object["nextPageToken"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
    }

    // MARK: - Deletes and uploads in progress

    public func delete(key: String) async throws(SkiffError) {
        try ObjectKey.validate(key, op: "delete")
        let request = GCSClient.Request(method: .DELETE, url: client.objectURL(key), key: key)
        _ = try await client.send(request, operation: "delete", accept: [200, 204, 404])
    }

    /// GCS cannot list resumable upload sessions; an unfinished one stores nothing visible and
    /// expires after a week. The ledger keeps each session URI until its upload ends.
    public func incompleteUploads(prefix: String) async throws(SkiffError) -> [String] {
        try ObjectKey.validatePrefix(prefix, op: "list uploads under")
        return []
    }

    /// Nothing to abort by prefix (see `incompleteUploads`); sessions expire on their own.
    public func abortIncompleteUploads(prefix: String) async throws(SkiffError) -> Int {
        try ObjectKey.validatePrefix(prefix, op: "abort uploads under")
        return 0
    }
}
