import Ledger
import ObjectStorage
import SkiffCore

/// Keeps one file's multipart progress and request retries in the ledger, so `skiff ship`
/// restarted after a crash continues the same multipart upload with the missing parts only.
///
/// Failpoints: `after:part:<rel_path>` is hit once the ledger holds a part (e.g.
/// `after:part:chunks/000001=exit@3` kills the process after the third acknowledged part).
struct LedgerUploadJournal: UploadJournal {
    let ledger: Ledger
    let ulid: ULID
    let relPath: String
    let failpoints: Failpoints
    let now: @Sendable () -> Int64

    func recordedUpload() async throws(SkiffError) -> RecordedMultipartUpload? {
        try await ledger.openMultipartUpload(ulid, relPath: relPath)
    }

    func uploadStarted(uploadID: String, partSize: Int64) async throws(SkiffError) {
        try await ledger.recordMultipartStarted(ulid, relPath: relPath, uploadID: uploadID, partSize: partSize, at: now())
        try await failpoints.hit("after:multipart_started:\(relPath)")
    }

    func partUploaded(uploadID: String, _ part: UploadedPart) async throws(SkiffError) {
        try await ledger.recordPartUploaded(uploadID, part, at: now())
        try await failpoints.hit("after:part:\(relPath)")
    }

    func uploadEnded(uploadID: String, completed: Bool) async throws(SkiffError) {
        try await ledger.recordMultipartEnded(uploadID, completed: completed, at: now())
    }

    func retrying(operation: String, attempt: Int, error: String) async {
        // Best effort: a retry row that cannot be written must not fail the upload it describes.
        try? await ledger.recordRetry(ulid, relPath: relPath, operation: operation, attempt: attempt, error: error, at: now())
    }
}
