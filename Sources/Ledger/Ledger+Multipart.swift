import GRDB
import SkiffCore

/// Multipart progress and request retries of a block's files (schema 0002).
extension Ledger {
    /// The unfinished multipart upload of one file, with the parts acknowledged so far.
    public func openMultipartUpload(_ ulid: ULID, relPath: String) async throws(SkiffError) -> RecordedMultipartUpload? {
        try await read("read multipart upload of \(ulid)/\(relPath)") { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT upload_id, part_size FROM multipart_uploads
                        WHERE ulid = ? AND rel_path = ? AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1
                        """, arguments: [ulid.string, relPath])
            else { return nil }
            let uploadID: String = row["upload_id"]
            let parts = try Row.fetchAll(
                db, sql: "SELECT * FROM multipart_parts WHERE upload_id = ? ORDER BY part_number", arguments: [uploadID]
            ).map { part in
                UploadedPart(number: part["part_number"], size: part["size_bytes"], etag: part["etag"], sha256: part["sha256"])
            }
            return RecordedMultipartUpload(uploadID: uploadID, partSize: row["part_size"], parts: parts)
        }
    }

    /// Every multipart upload of a block that has not ended (to abort when the block is abandoned).
    public func openMultipartUploads(_ ulid: ULID) async throws(SkiffError) -> [(relPath: String, uploadID: String)] {
        try await read("read multipart uploads of \(ulid)") { db in
            try Row.fetchAll(
                db, sql: "SELECT rel_path, upload_id FROM multipart_uploads WHERE ulid = ? AND ended_at IS NULL",
                arguments: [ulid.string]
            ).map { (relPath: $0["rel_path"] as String, uploadID: $0["upload_id"] as String) }
        }
    }

    public func recordMultipartStarted(
        _ ulid: ULID, relPath: String, uploadID: String, partSize: Int64, at now: Int64
    ) async throws(SkiffError) {
        try await write("record multipart upload of \(ulid)/\(relPath)") { db in
            try db.execute(
                sql: """
                    INSERT INTO multipart_uploads (upload_id, ulid, rel_path, part_size, started_at)
                    VALUES (?, ?, ?, ?, ?) ON CONFLICT (upload_id) DO NOTHING
                    """, arguments: [uploadID, ulid.string, relPath, partSize, now])
        }
    }

    /// Without its own fsync (`writeWithoutSync`): a part lost from the journal by a power loss is
    /// kept by its ETag, or sent again.
    public func recordPartUploaded(_ uploadID: String, _ part: UploadedPart, at now: Int64) async throws(SkiffError) {
        try await writeWithoutSync("record part \(part.number) of upload \(uploadID)") { db in
            try db.execute(
                sql: """
                    INSERT INTO multipart_parts (upload_id, part_number, size_bytes, etag, sha256, uploaded_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (upload_id, part_number) DO UPDATE SET
                        size_bytes = excluded.size_bytes, etag = excluded.etag, sha256 = excluded.sha256,
                        uploaded_at = excluded.uploaded_at
                    """, arguments: [uploadID, part.number, part.size, part.etag, part.sha256, now])
        }
    }

    public func recordMultipartEnded(_ uploadID: String, completed: Bool, at now: Int64) async throws(SkiffError) {
        try await write("record end of upload \(uploadID)") { db in
            try db.execute(
                sql: "UPDATE multipart_uploads SET ended_at = ?, completed = ? WHERE upload_id = ? AND ended_at IS NULL",
                arguments: [now, completed, uploadID])
        }
    }

    public func recordRetry(
        _ ulid: ULID, relPath: String, operation: String, attempt: Int, error: String, at now: Int64
    ) async throws(SkiffError) {
        try await write("record retry of \(ulid)/\(relPath)") { db in
            try db.execute(
                sql: "INSERT INTO request_retries (ulid, rel_path, operation, attempt, at, error) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [ulid.string, relPath, operation, attempt, now, error])
        }
    }

    /// Retries recorded for one block, oldest first.
    public func retries(
        _ ulid: ULID
    ) async throws(SkiffError) -> [(relPath: String, operation: String, attempt: Int, error: String)] {
        try await read("read retries of \(ulid)") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM request_retries WHERE ulid = ? ORDER BY id", arguments: [ulid.string])
                .map { (relPath: $0["rel_path"], operation: $0["operation"], attempt: $0["attempt"], error: $0["error"]) }
        }
    }
}
