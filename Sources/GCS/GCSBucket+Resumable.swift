import BlockingWork
import Crypto
import Foundation
import NIOHTTP1
import ObjectStorage
import PromWire
import SkiffCore
import Synchronization

/// Resumable uploads that survive a crash.
///
/// The session URI is journaled (as a multipart upload's id, with `chunk_size_bytes` as its part
/// size) before the first byte is sent, and every chunk GCS acknowledges right after, as a part
/// whose ETag field holds the server's `Range` answer (`bytes=0-N`). A restarted upload asks the
/// session how far it got (`PUT` with `Content-Range: bytes */SIZE`, answered 308 with `Range`)
/// and sends only the bytes after that. One sequential pass hashes the whole file (SHA-256,
/// compared with the recorded digest before the last chunk, which is what creates the object;
/// CRC32C, compared with the one GCS reports for the object).
///
/// fake-gcs-server (the tests' emulator) answers that status query by finishing the upload with
/// the bytes it has, so under `STORAGE_EMULATOR_HOST` the journal's offset is used without asking;
/// the emulator appends whatever it is sent, so a byte sent twice would show as a CRC32C mismatch.
extension GCSBucket {
    /// What a session holds.
    enum SessionState {
        /// Still open; the server holds the first `offset` bytes.
        case active(offset: Int64)
        /// Finished: the object's resource.
        case complete([UInt8])
        /// Unknown to the server (expired, cancelled, or never there).
        case gone
    }

    func resumableUpload(
        key: String, path: String, size: Int64, sha256: String?, journal: (any UploadJournal)?
    ) async throws(SkiffError) {
        let chunk = config.chunkSize
        var session: String?
        var offset: Int64 = 0
        var sequence = 0
        let whole = WholeFileHashes()

        if let recorded = try await journal?.recordedUpload() {
            let journaled = recorded.parts.compactMap { Self.persistedEnd(rangeHeader: $0.etag) }.max() ?? 0
            let state: SessionState =
                recorded.partSize == chunk && recorded.uploadID.hasPrefix(client.origin + "/")
                ? try await sessionState(recorded.uploadID, key: key, size: size, journaled: journaled) : .gone
            switch state {
            case .active(let at):
                (session, offset, sequence) = (recorded.uploadID, at, recorded.parts.map(\.number).max() ?? 0)
            case .complete(let answer):
                // Finished before the crash: check what it stored against the whole file.
                try await hash(path, from: 0, to: size, into: whole)
                do throws(SkiffError) {
                    try checkDigest(whole, sha256, path: path, key: key)
                    try await verifyStored(key: key, answer: answer, size: size, crc32c: whole.crc32c)
                } catch {
                    try await journal?.uploadEnded(uploadID: recorded.uploadID, completed: false)
                    throw error
                }
                try await journal?.uploadEnded(uploadID: recorded.uploadID, completed: true)
                return
            case .gone:
                try await journal?.uploadEnded(uploadID: recorded.uploadID, completed: false)
            }
        }
        if session == nil {
            let started = try await startSession(key: key)
            try await journal?.uploadStarted(uploadID: started, partSize: chunk)
            session = started
        }
        let uri = session!

        var hashedUpTo: Int64 = 0
        var failures = 0
        while true {
            let end = min(offset + chunk, size)
            if hashedUpTo < end {
                try await hash(path, from: hashedUpTo, to: end, into: whole)
                hashedUpTo = end
            }
            // The last chunk is what creates the object: never send it for bytes that changed.
            if end == size {
                do throws(SkiffError) { try checkDigest(whole, sha256, path: path, key: key) } catch {
                    try await journal?.uploadEnded(uploadID: uri, completed: false)
                    throw error
                }
            }
            let state: SessionState
            do throws(SkiffError) {
                state = try await sendChunk(uri, key: key, path: path, from: offset, to: end, size: size, journal: journal)
            } catch  where error.transient && failures + 1 < config.maxAttempts && !Task.isCancelled {
                failures += 1
                await journal?.retrying(operation: "upload", attempt: failures, error: error.message)
                let wait = RequestRetries.backoff.delayMillis(attempt: failures, jitter: Double.random(in: 0..<1))
                do { try await Task.sleep(for: .milliseconds(wait)) } catch {
                    throw SkiffError(.bucket, "upload \(client.location(key)): cancelled while waiting to retry")
                }
                // How much of the chunk got through: ask the session (the journal's offset stands on an emulator).
                if case .active(let at) = try await sessionState(uri, key: key, size: size, journaled: offset) { offset = at }
                continue
            }
            switch state {
            case .active(let next):
                guard next > offset || next == end else {
                    // Nothing persisted: the chunk is sent again (bounded by the failures above).
                    failures += 1
                    if failures >= config.maxAttempts {
                        throw SkiffError(
                            .bucket, "upload \(client.location(key)): GCS kept no bytes of the chunk at \(offset)",
                            transient: true)
                    }
                    continue
                }
                sequence += 1
                let part = UploadedPart(number: sequence, size: next - offset, etag: "bytes=0-\(next - 1)", sha256: "")
                try await journal?.partUploaded(uploadID: uri, part)
                offset = next
                failures = 0
            case .complete(let answer):
                try await hash(path, from: hashedUpTo, to: size, into: whole)
                do throws(SkiffError) {
                    try await verifyStored(key: key, answer: answer, size: size, crc32c: whole.crc32c)
                } catch {
                    // The session is spent; the next attempt starts a new one.
                    try await journal?.uploadEnded(uploadID: uri, completed: false)
                    throw error
                }
                try await journal?.uploadEnded(uploadID: uri, completed: true)
                return
            case .gone:
                try await journal?.uploadEnded(uploadID: uri, completed: false)
                throw SkiffError(
                    .bucket, "upload \(client.location(key)): GCS forgot the resumable upload session; it starts over",
                    transient: true)
            }
        }
    }

    /// Opens a resumable session (`uploadType=resumable`); its URI is in `Location`.
    private func startSession(key: String) async throws(SkiffError) -> String {
        var request = GCSClient.Request(method: .POST, url: client.uploadURL(type: "resumable", key: key), key: key)
        request.headers = [
            ("Content-Type", "application/json; charset=UTF-8"), ("X-Upload-Content-Type", "application/octet-stream"),
        ]
        request.body = .bytes(Array("{}".utf8))
        let (response, _) = try await client.send(request, operation: "upload")
        guard let uri = response.headers.first(name: "location"), uri.hasPrefix("http") else {
            throw SkiffError(.bucket, "start resumable upload of \(client.location(key)): no session URI in the answer")
        }
        return uri
    }

    /// Sends bytes `from..<to` of the file to the session; the answer says how far it is.
    private func sendChunk(
        _ uri: String, key: String, path: String, from: Int64, to: Int64, size: Int64, journal: (any UploadJournal)?
    ) async throws(SkiffError) -> SessionState {
        var request = GCSClient.Request(method: .PUT, url: uri, key: key)
        request.headers = [("Content-Range", "bytes \(from)-\(to - 1)/\(size)")]
        request.body = .file(path: path, offset: from, length: to - from, expectedSHA256: nil)
        // One attempt: after a failure the session is asked how much arrived before anything is re-sent.
        let (response, _) = try await client.send(
            request, operation: "upload", accept: [200, 201, 308, 404, 410], journal: journal, attempts: 1)
        return state(of: response)
    }

    /// Asks the session how far it got (real GCS); on an emulator, trusts `journaled`.
    func sessionState(_ uri: String, key: String, size: Int64, journaled: Int64) async throws(SkiffError) -> SessionState {
        guard config.emulatorOrigin == nil else { return .active(offset: journaled) }
        var request = GCSClient.Request(method: .PUT, url: uri, key: key)
        request.headers = [("Content-Range", "bytes */\(size)")]
        let (response, _) = try await client.send(request, operation: "upload", accept: [200, 201, 308, 404, 410])
        return state(of: response)
    }

    private func state(of response: GCSClient.Response) -> SessionState {
        switch response.status {
        case 308: return .active(offset: response.headers.first(name: "range").flatMap(Self.persistedEnd(rangeHeader:)) ?? 0)
        case 200, 201: return .complete(response.body)
        default: return .gone
        }
    }

    /// `bytes=0-N` (GCS' `Range` answer) as the offset after it, N + 1.
    static func persistedEnd(rangeHeader: String) -> Int64? {
        guard let dash = rangeHeader.lastIndex(of: "-"), let last = Int64(rangeHeader[rangeHeader.index(after: dash)...])
        else { return nil }
        return last + 1
    }

    private func checkDigest(_ whole: WholeFileHashes, _ expected: String?, path: String, key: String) throws(SkiffError) {
        guard let expected else { return }
        let actual = whole.sha256Hex
        guard actual == expected else {
            throw SkiffError(
                .bucket,
                "upload \(client.location(key)): sha256 of \(path) is \(actual), not the recorded \(expected); the local file changed since it was hashed",
                transient: false)
        }
    }

    /// Feeds bytes `from..<to` of the file to `whole`, on the blocking pool.
    private func hash(_ path: String, from: Int64, to: Int64, into whole: WholeFileHashes) async throws(SkiffError) {
        guard from < to else { return }
        try await Blocking.run { () throws(SkiffError) in
            var position = from
            while position < to {
                let piece = try readPiece(path, at: position, count: Int(min(Int64(FileRangeBody.pieceBytes), to - position)))
                guard !piece.isEmpty else {
                    throw SkiffError(.blockVanished, "read \(path) at \(position): the file ended early")
                }
                whole.update(piece)
                position += Int64(piece.count)
            }
        }
    }
}

/// SHA-256 and CRC32C of a whole file, fed in order (from the blocking pool; the lock only makes
/// that hand-over safe).
final class WholeFileHashes: Sendable {
    private let state = Mutex<(sha: SHA256, crc: CRC32C)>((SHA256(), CRC32C()))
    /// The SHA-256, once every byte was fed (finalizing a copy keeps the state usable).
    var sha256Hex: String { Hex.lower(state.withLock { $0.sha }.finalize()) }
    var crc32c: UInt32 { state.withLock { $0.crc.value } }

    func update(_ bytes: [UInt8]) {
        state.withLock {
            $0.sha.update(data: bytes)
            $0.crc.update(bytes)
        }
    }
}
