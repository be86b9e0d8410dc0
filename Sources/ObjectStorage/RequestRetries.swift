import CoreMetrics
import Logging
import SkiffCore

/// One failed attempt of a bucket request, judged by its backend: whether another attempt may
/// succeed, the error code, and what to tell the operator.
public struct RequestFailure: Sendable {
    public var retryable: Bool
    public var code: SkiffError.Code
    public var text: String
    public var operation: String
    public var location: String
    public var context: SkiffError.Context

    public init(
        retryable: Bool, code: SkiffError.Code, text: String, operation: String, location: String,
        context: SkiffError.Context = SkiffError.Context()
    ) {
        (self.retryable, self.code, self.text, self.operation, self.location, self.context) = (
            retryable, code, text, operation, location, context
        )
    }

    public func error(attempts: Int) -> SkiffError {
        let tries = attempts > 1 ? " after \(attempts) attempts" : ""
        return SkiffError(code, "\(operation) \(location)\(tries): \(text)", transient: retryable, context: context)
    }
}

/// The retry loop every HTTP backend runs its requests in (minio-go's 200 ms unit and 1 s cap, as
/// Thanos' S3 and GCS clients back off), so a retried attempt is logged, journaled and counted the
/// same way whichever store it went to.
public struct RequestRetries: Sendable {
    /// Names the store in the log line ("s3", "gcs").
    public let store: String
    /// The bucket, for Thanos' operation metrics.
    public let bucket: String
    public let logger: Logger
    public static let backoff = Backoff(baseMillis: 200, capMillis: 1_000)

    public init(store: String, bucket: String, logger: Logger) {
        (self.store, self.bucket, self.logger) = (store, bucket, logger)
    }

    /// Runs `attempt` up to `maxAttempts` times, each with a fresh observer of its body. An
    /// attempt throws (a service error, a transport error while reading the body) to have `judge`
    /// decide whether to try again; a cancelled task never does.
    public func run<Observer: BodyObserver>(
        operation: String, key: String?, maxAttempts: Int, journal: (any UploadJournal)?,
        observer makeObserver: () -> Observer,
        attempt: (Observer) async throws -> Void,
        judge: (any Error, Observer) -> RequestFailure
    ) async throws(SkiffError) {
        var tries = 0
        while true {
            tries += 1
            let observer = makeObserver()
            do {
                try await attempt(observer)
                return
            } catch {
                let failure = judge(error, observer)
                guard failure.retryable, tries < maxAttempts, !Task.isCancelled else { throw failure.error(attempts: tries) }
                let wait = Self.backoff.delayMillis(attempt: tries, jitter: Double.random(in: 0..<1))
                logger.warning(
                    "\(store) request failed; retrying",
                    metadata: [
                        "operation": "\(operation)", "attempt": "\(tries)", "err": "\(failure.text)", "wait_ms": "\(wait)",
                        "key": "\(key ?? "")",
                    ])
                await journal?.retrying(operation: operation, attempt: tries, error: failure.text)
                countFailedAttempt(operation)
                do { try await Task.sleep(for: .milliseconds(wait)) } catch {
                    throw SkiffError(.bucket, "\(operation) \(failure.location): cancelled while waiting to retry")
                }
            }
        }
    }

    /// A failed attempt that is retried is one more (failed) operation in Thanos' metrics, so
    /// flaky networks and throttling show on the dashboards even when the retry succeeds.
    public func countFailedAttempt(_ operation: String) {
        let dimensions = [("bucket", bucket), ("operation", operation)]
        Counter(label: "thanos_objstore_bucket_operations_total", dimensions: dimensions).increment()
        Counter(label: "thanos_objstore_bucket_operation_failures_total", dimensions: dimensions).increment()
    }
}
