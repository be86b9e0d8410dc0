import Ledger
import SkiffCore

/// The external labels the ledger's blocks were shipped with (read from the meta.json each
/// recorded at `hashed`), so `skiff reconcile` can work without `--label` when they are one set.
public enum RecordedLabels {
    /// Every distinct label set in the ledger, in Prometheus' order; empty when no block was hashed.
    public static func distinct(in ledger: Ledger) async throws(SkiffError) -> [LabelSet] {
        var seen: Set<LabelSet> = []
        for block in try await ledger.blocks() {
            guard let bytes = block.metaJSON else { continue }
            let labels = BucketInventory.parse(block.ulid, bytes).labels
            if !labels.isEmpty { seen.insert(labels) }
        }
        return seen.sorted()
    }

    /// `flags` when given, else the one label set the ledger records (with a note on stderr via
    /// `note`); an error saying what to pass when the ledger has none or several.
    public static func resolve(
        flags: LabelSet, ledger: Ledger, note: (String) -> Void
    ) async throws(SkiffError) -> LabelSet {
        if !flags.isEmpty { return flags }
        let recorded = try await distinct(in: ledger)
        switch recorded.count {
        case 1:
            note(
                "using the external labels the ledger's blocks were shipped with: \(recorded[0]) (pass --label to choose others)")
            return recorded[0]
        case 0:
            throw SkiffError(
                .invalidArgument,
                "the ledger records no shipped block to take external labels from; pass ours with --label (as shipped), "
                    + "e.g. --label cluster=eu1")
        default:
            throw SkiffError(
                .invalidArgument,
                "the ledger's blocks were shipped with \(recorded.count) different label sets ("
                    + recorded.map { "\($0)" }.joined(separator: "; ") + "); pass the ones to reconcile with --label")
        }
    }
}
