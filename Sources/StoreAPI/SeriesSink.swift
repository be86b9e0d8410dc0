import GRPCCore
import GRPCRuntime
import Logging
import SkiffCore
import StoreLogic
import Synchronization

/// The answer of the label-names check that runs beside a remote read (see `streamSeries`).
final class ClashProbe: Sendable {
    enum Answer: Sendable {
        /// External label names that are also internal names in the selection (empty: none).
        case clashing([String])
        /// The check failed; the response is then sorted whole, which is always correct.
        case failed(String)
    }

    private let state = Mutex<Answer?>(nil)

    var current: Answer? { state.withLock { $0 } }

    func answer(_ answer: Answer) { state.withLock { $0 = answer } }
}

/// Where one Series call's series go, in Prometheus' order: held until the clash check answers,
/// then re-sorted (`StreamingResorter`, or whole when names clash) and handed to the
/// `SeriesFramer` (sharding, limit, batches, writes).
struct SeriesSink {
    private var resorter: StreamingResorter<EncodedChunks>
    private let external: LabelSet
    /// The names taken off what Prometheus sent before the re-sort: its external labels (applied
    /// again, so the external value wins) and the request's `without_replica_labels`, which
    /// Thanos removes from the complete label set, internal labels included.
    private let strip: LabelSet
    /// Prometheus merged its own external labels in: with nothing removed from them, what it
    /// sent is already the output label set.
    private let receivedIsFinal: Bool
    private var framer: SeriesFramer
    private var held: [RemoteReader.Series] = []

    private(set) var isDecided = false
    private(set) var heldBytes = 0

    /// `applied`: the external labels without the replica names.
    init(external: LabelSet, applied: LabelSet, replicaNames: [String], framer: SeriesFramer) {
        resorter = StreamingResorter(external: applied)
        self.external = external
        strip = LabelSet(external.labels + replicaNames.map { Label(name: $0, value: "") })
        receivedIsFinal = replicaNames.isEmpty
        self.framer = framer
    }

    /// False once the request's limit is reached: stop reading.
    var wantsMore: Bool { framer.wantsMore }

    /// Keeps series until `decide`.
    mutating func hold(_ batch: [RemoteReader.Series]) {
        held.append(contentsOf: batch)
        // Chunk bytes plus a rough cost of the labels, strings and containers (measured: with
        // one small chunk a series, these are most of the memory held).
        heldBytes += batch.reduce(0) { $0 + $1.chunks.bytes.count + 160 * $1.labels.count + 256 }
    }

    /// Applies the clash check's answer and sends what was held through the re-sorter.
    mutating func decide(_ answer: ClashProbe.Answer, logger: Logger) async throws {
        switch answer {
        case .clashing(let names) where names.isEmpty:
            break
        case .clashing(let names):
            resorter.holdEverything()
            let clashing = names.filter { external[$0] != nil }
            if !clashing.isEmpty {
                logger.warning(
                    "internal labels named like external labels: the response is sorted whole before it is sent",
                    metadata: ["labels": "\(clashing.joined(separator: ","))"])
            }
            let replicas = names.filter { external[$0] == nil }
            if !replicas.isEmpty {
                // Removing an internal label can move a series anywhere in the answer.
                logger.warning(
                    "internal labels named in without_replica_labels: the response is sorted whole before it is sent",
                    metadata: ["labels": "\(replicas.joined(separator: ","))"])
            }
        case .failed(let why):
            resorter.holdEverything()
            logger.warning(
                "label names check failed: the response is sorted whole before it is sent", metadata: ["err": "\(why)"])
        }
        isDecided = true
        let series = held
        held = []
        heldBytes = 0
        try await push(series)
    }

    /// Re-sorts a batch and passes on what is ready.
    mutating func push(_ batch: [RemoteReader.Series]) async throws {
        do throws(ResortError) {
            for (received, chunks) in batch where framer.wantsMore {
                let ready =
                    receivedIsFinal
                    ? try resorter.push(received: received, payload: chunks)
                    : try resorter.push(internalLabels: received.removingNames(of: strip), payload: chunks)
                for series in ready {
                    guard framer.add(labels: series.labels, chunks: series.payload) else { break }
                }
            }
        } catch {
            throw RPCFailure.invariant("Prometheus' series came out of order: \(error)").rpcError
        }
        try await framer.flushIfFull()
    }

    /// Writes everything left; returns the re-sorter for its counters.
    mutating func finish() async throws -> StreamingResorter<EncodedChunks> {
        precondition(isDecided, "finish before the clash check was applied")
        for series in resorter.finish() {
            guard framer.add(labels: series.labels, chunks: series.payload) else { break }
        }
        try await framer.finish()
        return resorter
    }
}
