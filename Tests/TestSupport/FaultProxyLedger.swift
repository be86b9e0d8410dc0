import Synchronization

/// The state that tests and connections share: the queue of faults still to apply and the counters.
/// Connections run on the proxy's event loop while tests call from any task, hence the mutex.
final class FaultProxyLedger: Sendable {
    private struct QueuedFault {
        let fault: Fault
        let filter: RequestFilter
        var usesLeft: Int
    }

    private struct Contents {
        var queue: [QueuedFault] = []
        var stats = FaultProxy.Stats()
        /// Request ids grow forever; `stats.seen[id - firstIDInSeen]` is that request while it is still listed,
        /// so byte counts for a request that began before `reset()` are simply dropped.
        var firstIDInSeen = 0
        var nextID = 0
    }

    private let contents = Mutex(Contents())

    func enqueue(_ fault: Fault, count: Int, filter: RequestFilter) {
        contents.withLock {
            $0.queue.append(QueuedFault(fault: fault, filter: filter, usesLeft: count))
            $0.stats.faultsPending += count
        }
    }

    func clearFaults() {
        contents.withLock {
            $0.queue.removeAll()
            $0.stats.faultsPending = 0
        }
    }

    func connectionAccepted() {
        contents.withLock { $0.stats.connectionsAccepted += 1 }
    }

    /// The client closed a connection that carried these requests.
    func connectionClosedByClient(requestIDs: [Int]) {
        contents.withLock { contents in
            contents.stats.connectionsClosedByClient += 1
            for id in requestIDs where contents.stats.seen.indices.contains(id - contents.firstIDInSeen) {
                contents.stats.seen[id - contents.firstIDInSeen].connectionClosedByClient = true
            }
        }
    }

    /// Records a new request and takes the first queued fault whose filter matches it.
    /// Returns the request's id (for `bodyBytesForwarded`) and the fault to apply, if any.
    func beginRequest(method: String, pathAndQuery: String) -> (id: Int, fault: Fault?) {
        contents.withLock { contents in
            var fault: Fault?
            let matches = { (queued: QueuedFault) in queued.filter.matches(method: method, pathAndQuery: pathAndQuery) }
            if let index = contents.queue.firstIndex(where: matches) {
                fault = contents.queue[index].fault
                contents.queue[index].usesLeft -= 1
                if contents.queue[index].usesLeft == 0 { contents.queue.remove(at: index) }
                contents.stats.faultsApplied += 1
                contents.stats.faultsPending -= 1
            }
            let id = contents.nextID
            contents.nextID += 1
            contents.stats.seen.append(
                FaultProxy.SeenRequest(method: method, pathAndQuery: pathAndQuery, fault: fault, bodyBytesForwarded: 0))
            return (id, fault)
        }
    }

    func bodyBytesForwarded(_ count: Int, requestID: Int) {
        guard count > 0 else { return }
        contents.withLock { contents in
            contents.stats.requestBodyBytesForwarded += Int64(count)
            let index = requestID - contents.firstIDInSeen
            if contents.stats.seen.indices.contains(index) {
                contents.stats.seen[index].bodyBytesForwarded += Int64(count)
            }
        }
    }

    var stats: FaultProxy.Stats {
        contents.withLock { $0.stats }
    }

    /// Zeroes the counters; queued faults stay queued.
    func resetCounters() {
        contents.withLock { contents in
            contents.stats = FaultProxy.Stats(faultsPending: contents.stats.faultsPending)
            contents.firstIDInSeen = contents.nextID
        }
    }
}
