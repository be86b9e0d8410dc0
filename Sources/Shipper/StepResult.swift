import SkiffCore

/// An action's outcome: the event, plus what `hashed` records with it in one transaction.
struct StepResult {
    let event: ShipEvent
    var hashed: (files: [BlockMeta.File], meta: [UInt8])?
    /// The bytes the transition records.
    var bytes: Int64?
    /// The bytes uploaded by this step.
    var sent: Int64

    init(
        _ event: ShipEvent, hashed: (files: [BlockMeta.File], meta: [UInt8])? = nil, bytes: Int64? = nil,
        sent: Int64 = 0
    ) {
        self.event = event
        self.hashed = hashed
        self.bytes = bytes
        self.sent = sent
    }
}
