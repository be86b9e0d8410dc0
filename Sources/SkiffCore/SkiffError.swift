/// Skiff's error: a stable code, an operator-facing message that says what to do, and structured
/// context (which block, which object, what the store answered). Decisions read `code` and
/// `context`, never `message`, which is for people.
public struct SkiffError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        /// A flag, config file or argument is wrong; fix it and run again.
        case invalidArgument = "invalid_argument"
        /// A local block cannot be read as a Prometheus block; it is quarantined.
        case corruptBlock = "corrupt_block"
        /// The block dir disappeared (retention or compaction removed it).
        case blockVanished = "block_vanished"
        /// The ledger cannot be used (not SQLite, newer schema, locked).
        case ledger = "ledger"
        /// The bucket rejected or failed an operation.
        case bucket = "bucket"
        /// A local file system operation failed.
        case io = "io"
        /// Prometheus could not be reached, or answered something the sidecar cannot use.
        case prometheus = "prometheus"
        /// A failpoint injected this error (tests only).
        case injected = "injected"
        /// An object does not exist.
        case notFound = "not_found"
        /// A bug in skiff: an event the ship state machine does not allow in the block's state.
        case invalidTransition = "invalid_transition"
    }

    /// Where an error happened and what a server said, as fields rather than text.
    public struct Context: Sendable, Equatable {
        /// The block being worked on.
        public var block: ULID?
        /// The object key (below the bucket's prefix) of a bucket operation.
        public var key: String?
        /// The HTTP status a server answered with.
        public var httpStatus: Int?
        /// The object store's own error code (S3's `SignatureDoesNotMatch`, `NoSuchBucket`, ...).
        public var storeCode: String?
        /// The request id an operator quotes to their storage provider.
        public var requestID: String?
        /// The underlying error, as its type and description.
        public var cause: String?

        public init(
            block: ULID? = nil, key: String? = nil, httpStatus: Int? = nil, storeCode: String? = nil,
            requestID: String? = nil, cause: String? = nil
        ) {
            self.block = block
            self.key = key
            self.httpStatus = httpStatus
            self.storeCode = storeCode
            self.requestID = requestID
            self.cause = cause
        }
    }

    public let code: Code
    public let message: String
    /// Whether retrying the same operation later may succeed.
    public let transient: Bool
    public var context: Context

    public init(_ code: Code, _ message: String, transient: Bool? = nil, context: Context = Context()) {
        self.code = code
        self.message = message
        self.transient = transient ?? (code == .bucket || code == .io || code == .prometheus || code == .injected)
        self.context = context
    }

    /// The same error, told which block it happened to (kept when already set).
    public func about(block: ULID) -> SkiffError {
        var copy = self
        if copy.context.block == nil { copy.context.block = block }
        return copy
    }

    public var description: String { message }
}
