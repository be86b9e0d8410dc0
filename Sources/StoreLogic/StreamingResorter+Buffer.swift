import SkiffCore

extension StreamingResorter {
    @inlinable
    mutating func noteUnsorted() {
        counters.unsortedInputs += 1
        counters.bufferingAll = true
    }

    /// Buffers one series with key K(A) and returns what can go: every held series ⪯ p(A), which
    /// is `key`'s first `pLength` labels (see the proof on `StreamingResorter`).
    @inlinable
    mutating func accept(
        key: LabelSet, pLength: Int, repeated: Bool, payload: Payload
    ) throws(ResortError) -> [ResortedSeries<Payload>] {
        let entry = BufferedSeries(key: key, payload: payload, arrival: arrivals)
        arrivals += 1
        if counters.bufferingAll {
            try bufferAll(entry)
            return []
        }
        let p = key.labels[..<pLength]
        var ready = 0
        while ready < buffer.count, LabelSet.compare(buffer[ready].key.labels[...], p) <= 0 { ready += 1 }
        var out = take(ready)
        if pLength == key.count {
            // K(A) = p(A): nothing to come sorts below it, and what is still held sorts above it.
            out.append(entry.emitted)
            lastEmitted = key
        } else if repeated {
            insertSorted(entry)  // after the earlier copies of this series
        } else {
            // Everything still held is a prefix X of A with K(X) above K(A) (see the proof).
            buffer.insert(entry, at: 0)
        }
        counters.maxBuffered = max(counters.maxBuffered, buffer.count)
        return out
    }

    /// Bad input seen: hold everything, checking only what can no longer be put right.
    @inlinable
    mutating func bufferAll(_ entry: BufferedSeries<Payload>) throws(ResortError) {
        if let sent = lastEmitted, LabelSet.compare(entry.key, sent) < 0 {
            throw .outOfOrder(late: entry.key, alreadySent: sent)
        }
        if let limit = bufferLimit, buffer.count >= limit { throw .bufferLimitExceeded(limit: limit) }
        buffer.append(entry)  // sorted once, at finish
        counters.maxBuffered = max(counters.maxBuffered, buffer.count)
    }

    /// Inserts after every entry with a key ⪯ the new one (binary search; equal keys keep arrival
    /// order).
    @inlinable
    mutating func insertSorted(_ entry: BufferedSeries<Payload>) {
        var lo = 0
        var hi = buffer.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if LabelSet.compare(buffer[mid].key, entry.key) <= 0 { lo = mid + 1 } else { hi = mid }
        }
        buffer.insert(entry, at: lo)
    }

    @inlinable
    mutating func take(_ n: Int) -> [ResortedSeries<Payload>] {
        guard n > 0 else { return [] }
        var out: [ResortedSeries<Payload>] = []
        out.reserveCapacity(n + 1)
        for i in 0..<n { out.append(buffer[i].emitted) }
        buffer.removeFirst(n)
        lastEmitted = out[n - 1].labels
        return out
    }
}
