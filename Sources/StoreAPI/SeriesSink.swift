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
/// then re-sorted (`StreamingResorter`, or whole when names clash) and written to the gRPC stream
/// in groups of about `PrometheusStore.writeBatchBytes`.
struct SeriesSink {
    private var resorter: StreamingResorter<EncodedChunks>
    private let external: LabelSet
    /// Prometheus merged its own external labels in: with nothing removed from them, what it
    /// sent is already the output label set.
    private let receivedIsFinal: Bool
    private let write: ([RawSeriesResponse]) async throws -> Void
    private var outgoing: [RawSeriesResponse] = []
    private var outgoingBytes = 0
    private var held: [RemoteReader.Series] = []

    private(set) var isDecided = false
    private(set) var heldBytes = 0

    init(external: LabelSet, applied: LabelSet, write: @escaping ([RawSeriesResponse]) async throws -> Void) {
        resorter = StreamingResorter(external: applied)
        self.external = external
        receivedIsFinal = applied == external
        self.write = write
    }

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
            logger.warning(
                "internal labels named like external labels: the response is sorted whole before it is sent",
                metadata: ["labels": "\(names.joined(separator: ","))"])
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

    /// Re-sorts a batch and writes what is ready once a group is full.
    mutating func push(_ batch: [RemoteReader.Series]) async throws {
        do throws(ResortError) {
            for (received, chunks) in batch {
                let ready =
                    receivedIsFinal
                    ? try resorter.push(received: received, payload: chunks)
                    : try resorter.push(internalLabels: received.removingNames(of: external), payload: chunks)
                for series in ready {
                    let raw = RawSeriesResponse(series)
                    outgoingBytes += raw.size
                    outgoing.append(raw)
                }
            }
        } catch {
            throw RPCFailure.invariant("Prometheus' series came out of order: \(error)").rpcError
        }
        if outgoingBytes >= PrometheusStore.writeBatchBytes {
            try await write(outgoing)
            outgoing.removeAll(keepingCapacity: true)
            outgoingBytes = 0
        }
    }

    /// Writes everything left; returns the re-sorter for its counters.
    mutating func finish() async throws -> StreamingResorter<EncodedChunks> {
        precondition(isDecided, "finish before the clash check was applied")
        try await write(outgoing + resorter.finish().map(RawSeriesResponse.init))
        outgoing = []
        return resorter
    }
}
