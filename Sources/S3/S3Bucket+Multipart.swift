import Crypto
import FileIO
import Foundation
import NIOCore
import ObjectStorage
import SkiffCore

/// Where the SHA-256 of each part (its signed `x-amz-content-sha256`) comes from.
public enum PartHashSource: Sendable, CaseIterable {
    /// The staging read's (`HashedFile.parts`, hashed from the same bytes as the recorded
    /// whole-file hash): the file is neither read nor hashed before its parts are sent, and it
    /// must still have the identity it was hashed with once they are all sent.
    case staged
    /// A read of each part just before it is sent, which hashes the whole file again on the way
    /// and compares it with the recorded hash: no staged hashes (another process or a restart
    /// hashed the file), or the file's identity changed since.
    case prePass
}

/// Multipart uploads that survive a crash.
///
/// The plan (`PartPlan`: at most one configured part of bytes unacknowledged at once): each part
/// is signed with its SHA-256 (`PartHashSource`), up to `inFlight` parts stream to the server at
/// once, and the server checks every part's bytes against its signed hash. With the staging
/// read's part hashes, each byte is read twice (staging, sending) and hashed once per hasher in
/// one pass; without them, a pre-pass reads and hashes it once more. The upload id is journaled
/// before the first part is sent and every acknowledged part right after, so a restarted upload
/// asks the server which parts it holds (ListParts) and sends only the others. A part the server holds but the journal
/// missed (acknowledged just before a crash) is kept when its size and its ETag (the MD5 of the
/// part on S3 and MinIO) match the local bytes.
extension S3Bucket {
    func multipartUpload(
        key: String, path: String, size: Int64, sha256: String?, hashed: HashedFile?, journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        let plan = PartPlan(fileSize: size, configuredPartSize: config.partSize)
        let (partSize, partCount) = (plan.partSize, plan.partCount)
        // Staged part hashes count only for this plan, and only while the file is the one hashed.
        let staged = hashed.flatMap { hashed -> HashedFile? in
            guard let parts = hashed.parts, parts.partSize == partSize, parts.sha256.count == partCount,
                hashed.identity.size == size, hashed.holds(at: path)
            else { return nil }
            return hashed
        }
        var kept: [Int: UploadedPart] = [:]
        var uploadID: String?

        if let recorded = try await journal?.recordedUpload() {
            if recorded.partSize == partSize, let held = try await listParts(key: key, uploadID: recorded.uploadID) {
                uploadID = recorded.uploadID
                let journaled = Dictionary(recorded.parts.map { ($0.number, $0) }, uniquingKeysWith: { $1 })
                for (number, part) in held where number <= partCount {
                    let expected = plan.length(of: number, fileSize: size)
                    guard part.size == expected else { continue }
                    if let known = journaled[number], known.etag == part.etag {
                        kept[number] = known
                    } else {
                        // Acknowledged by the server but not journaled: keep it if it is our bytes.
                        let local = try await hashRangeOffPool(
                            path, offset: Int64(number - 1) * partSize, length: expected, md5: true)
                        if unquoted(part.etag) == local.md5 {
                            let adopted = UploadedPart(number: number, size: expected, etag: part.etag, sha256: local.sha256)
                            try await journal?.partUploaded(uploadID: recorded.uploadID, adopted)
                            kept[number] = adopted
                        }
                    }
                }
            } else {
                // Another part size, or the server forgot the upload: start over.
                if recorded.partSize != partSize { try await abort(key: key, uploadID: recorded.uploadID) }
                try await journal?.uploadEnded(uploadID: recorded.uploadID, completed: false)
            }
        }
        if uploadID == nil {
            let id = try await createUpload(key: key)
            try await journal?.uploadStarted(uploadID: id, partSize: partSize)
            uploadID = id
        }
        let id = uploadID!

        let parts: [UploadedPart]
        do throws(SkiffError) {
            parts = try await sendParts(
                key: key, path: path, size: size, plan: plan, uploadID: id, kept: kept, expectedSHA256: sha256,
                staged: staged, journal: journal)
        } catch  where staged != nil && error.context.storeCode == "XAmzContentSHA256Mismatch" {
            // The server refused a part's bytes for its staged hash on every retry: whatever the
            // identity says, read the file and compare it with the recorded hash (the pre-pass).
            parts = try await sendParts(
                key: key, path: path, size: size, plan: plan, uploadID: id, kept: kept, expectedSHA256: sha256,
                staged: nil, journal: journal)
        }
        try await complete(key: key, uploadID: id, parts: parts, size: size, journal: journal)
        try await journal?.uploadEnded(uploadID: id, completed: true)
    }

    /// Takes each part's hash in order (from `staged`, or a pre-pass read) and sends the parts not
    /// `kept`, at most `plan.inFlight` at a time. Returns all parts, in order.
    private func sendParts(
        key: String, path: String, size: Int64, plan: PartPlan, uploadID: String, kept: [Int: UploadedPart],
        expectedSHA256: String?, staged: HashedFile?, journal: (any UploadJournal)?
    ) async throws(SkiffError) -> [UploadedPart] {
        let (partSize, partCount) = (plan.partSize, plan.partCount)
        let whole = RunningSHA256()
        partHashing.add(staged == nil ? .prePass : .staged)
        var done = kept
        do {
            try await withThrowingTaskGroup(of: UploadedPart.self) { group in
                var running = 0
                for number in 1...partCount {
                    let offset = Int64(number - 1) * partSize
                    let length = min(partSize, size - offset)
                    let local: String
                    if let parts = staged?.parts {
                        local = parts.sha256[number - 1]
                    } else {
                        local = try await hashRangeOffPool(path, offset: offset, length: length, whole: whole).sha256
                    }
                    if let known = done[number] {
                        guard known.sha256 == local else {
                            throw SkiffError(
                                .bucket, "part \(number) of \(path) changed since it was uploaded", transient: false)
                        }
                        continue
                    }
                    if running == plan.inFlight, let finished = try await group.next() {
                        done[finished.number] = finished
                        running -= 1
                    }
                    group.addTask {
                        try await self.sendPart(
                            key: key, path: path, number: number, offset: offset, length: length, sha256: local,
                            uploadID: uploadID, journal: journal)
                    }
                    running += 1
                }
                for try await finished in group { done[finished.number] = finished }
            }
        } catch let error as SkiffError {
            throw error
        } catch {
            throw SkiffError(.bucket, "upload \(client.location(key)): \(error)")
        }
        if staged != nil {
            // The staged hashes were this file's bytes only if it is still the file that was hashed.
            // If not (even a touch moves ctime), the next attempt sends with a pre-pass, which then
            // compares the bytes themselves with the recorded hash.
            guard staged?.holds(at: path) == true else {
                throw SkiffError(
                    .bucket,
                    "upload \(client.location(key)): \(path) changed while it was being uploaded (its ctime or inode moved); "
                        + "the upload will be retried, reading and hashing the file again",
                    transient: true)
            }
            return (1...partCount).map { done[$0]! }
        }
        let actual = whole.finalHex()
        if let expectedSHA256, actual != expectedSHA256 {
            throw SkiffError(
                .bucket,
                "upload \(client.location(key)): sha256 of \(path) is \(actual), not the recorded \(expectedSHA256); the local file changed since it was hashed",
                transient: false)
        }
        return (1...partCount).map { done[$0]! }
    }

    private func sendPart(
        key: String, path: String, number: Int, offset: Int64, length: Int64, sha256: String, uploadID: String,
        journal: (any UploadJournal)?
    ) async throws(SkiffError) -> UploadedPart {
        var request = S3Client.Request(method: .PUT, key: key)
        request.query = [("partNumber", "\(number)"), ("uploadId", uploadID)]
        request.body = .file(path: path, offset: offset, length: length, sha256: sha256, verify: false)
        let response = try await client.send(request, operation: "upload", journal: journal)
        guard let etag = response.headers.first(name: "etag") else {
            throw SkiffError(.bucket, "upload part \(number) of \(client.location(key)): the server sent no ETag")
        }
        let part = UploadedPart(number: number, size: length, etag: etag, sha256: sha256)
        try await journal?.partUploaded(uploadID: uploadID, part)
        return part
    }

    // MARK: - Multipart requests

    private func createUpload(key: String) async throws(SkiffError) -> String {
        var request = S3Client.Request(method: .POST, key: key, query: [("uploads", "")])
        request.headers = metadataHeaders
        let response = try await client.send(request, operation: "upload")
        guard let id = S3XMLNode.parse(response.body)?.value("UploadId"), !id.isEmpty else {
            throw SkiffError(.bucket, "start multipart upload of \(client.location(key)): no UploadId in the answer")
        }
        return id
    }

    /// The parts the server holds for the upload, or nil when it does not know the upload.
    private func listParts(key: String, uploadID: String) async throws(SkiffError) -> [Int: (size: Int64, etag: String)]? {
        var parts: [Int: (size: Int64, etag: String)] = [:]
        var marker: String?
        repeat {
            var query: [(name: String, value: String)] = [("uploadId", uploadID)]
            if let marker { query.append(("part-number-marker", marker)) }
            let response = try await client.send(
                .init(method: .GET, key: key, query: query), operation: "upload", accept: [200, 404])
            if response.status == 404 { return nil }  // NoSuchUpload: completed or aborted already
            guard let root = S3XMLNode.parse(response.body) else {
                throw SkiffError(.bucket, "list parts of \(client.location(key)): unreadable answer")
            }
            for part in root.all("Part") {
                guard let number = part.value("PartNumber").flatMap(Int.init),
                    let size = part.value("Size").flatMap(Int64.init), let etag = part.value("ETag")
                else { continue }
                parts[number] = (size, etag)
            }
            marker = root.value("IsTruncated") == "true" ? root.value("NextPartNumberMarker") : nil
        } while marker != nil
        return parts
    }

    private func complete(
        key: String, uploadID: String, parts: [UploadedPart], size: Int64, journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        var xml = "<CompleteMultipartUpload>"
        for part in parts {
            xml += "<Part><PartNumber>\(part.number)</PartNumber><ETag>\(xmlEscaped(part.etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        var request = S3Client.Request(method: .POST, key: key, query: [("uploadId", uploadID)])
        request.body = .bytes(Array(xml.utf8))
        let response = try await client.send(request, operation: "upload", accept: [200, 404], journal: journal)
        if response.status == 404 {
            // A crash after an earlier Complete succeeded leaves the upload unknown: the object is there.
            guard try await attributes(key: key)?.size == size else {
                throw SkiffError(.bucket, "complete multipart upload of \(client.location(key)): the server forgot the upload")
            }
            return
        }
        // S3 may answer 200 and still fail the Complete, with an <Error> body.
        if let root = S3XMLNode.parse(response.body), root.name == "Error" {
            let error = S3ServiceError(status: 200, body: response.body, headers: nil)
            throw SkiffError(
                .bucket, "complete multipart upload of \(client.location(key)): \(error.summary)", transient: error.isRetryable)
        }
    }

    private func abort(key: String, uploadID: String) async throws(SkiffError) {
        let request = S3Client.Request(method: .DELETE, key: key, query: [("uploadId", uploadID)])
        _ = try await client.send(request, operation: "delete", accept: [200, 204, 404])
    }

    public func abortIncompleteUploads(prefix: String) async throws(SkiffError) -> Int {
        try ObjectKey.validatePrefix(prefix, op: "abort uploads under")
        let uploads = try await listUploads(prefix: prefix)
        for upload in uploads { try await abort(key: upload.key, uploadID: upload.id) }
        return uploads.count
    }

    public func incompleteUploads(prefix: String) async throws(SkiffError) -> [String] {
        try ObjectKey.validatePrefix(prefix, op: "list uploads under")
        return Array(Set(try await listUploads(prefix: prefix).map(\.key))).sorted(by: ObjectKey.precedes)
    }

    /// ListMultipartUploads, every page.
    private func listUploads(prefix: String) async throws(SkiffError) -> [(key: String, id: String)] {
        var uploads: [(key: String, id: String)] = []
        var markers: (key: String, id: String)?
        repeat {
            var query: [(name: String, value: String)] = [("uploads", ""), ("prefix", prefix)]
            if let markers { query += [("key-marker", markers.key), ("upload-id-marker", markers.id)] }
            let response = try await client.send(.init(method: .GET, key: nil, query: query), operation: "iter")
            guard let root = S3XMLNode.parse(response.body) else {
                throw SkiffError(.bucket, "list multipart uploads under \(client.location(prefix)): unreadable answer")
            }
            for upload in root.all("Upload") {
                guard let key = upload.value("Key"), let id = upload.value("UploadId") else { continue }
                uploads.append((key, id))
            }
            markers = nil
            if root.value("IsTruncated") == "true", let key = root.value("NextKeyMarker"),
                let id = root.value("NextUploadIdMarker")
            {
                markers = (key, id)
            }
        } while markers != nil
        return uploads
    }

    private func unquoted(_ etag: String) -> String {
        etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
    }
}
