/// Skiff's error: a stable code, an operator-facing message that says what to do, and context.
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
        /// A failpoint injected this error (tests only).
        case injected = "injected"
        /// An object does not exist.
        case notFound = "not_found"
        /// A bug in skiff: an event the ship state machine does not allow in the block's state.
        case invalidTransition = "invalid_transition"
    }

    public let code: Code
    public let message: String
    /// Whether retrying the same operation later may succeed.
    public let transient: Bool

    public init(_ code: Code, _ message: String, transient: Bool? = nil) {
        self.code = code
        self.message = message
        self.transient = transient ?? (code == .bucket || code == .io || code == .injected)
    }

    public var description: String { message }
}
