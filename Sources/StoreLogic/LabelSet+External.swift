import SkiffCore

extension LabelSet {
    /// The union of this set and `external`; on a name clash **the external value wins**.
    ///
    /// This is what the sidecar returns for every series (Thanos `ExtendSortedLabels`, pinned by
    /// the e2e test TestSidecarPrefersExtLabels). Prometheus' own remote-read merge prefers the
    /// local value, which is why the sidecar re-applies the external labels.
    public func withExternal(_ external: LabelSet) -> LabelSet { overlaying(external).labels }

    /// `withExternal` that also reports whether any name clashed, in one merge pass.
    @usableFromInline
    func overlaying(_ external: LabelSet) -> (labels: LabelSet, clashed: Bool) {
        if external.isEmpty { return (self, false) }  // shares storage: no copy on the pass-through path
        if isEmpty { return (external, false) }
        var out: [Label] = []
        out.reserveCapacity(count + external.count)
        var clashed = false
        var i = 0
        var j = 0
        while i < count, j < external.count {
            let c = ByteOrder.compare(labels[i].name, external.labels[j].name)
            if c < 0 {
                out.append(labels[i])
                i += 1
            } else if c > 0 {
                out.append(external.labels[j])
                j += 1
            } else {
                out.append(external.labels[j])
                clashed = true
                i += 1
                j += 1
            }
        }
        out.append(contentsOf: labels[i...])
        out.append(contentsOf: external.labels[j...])
        return (LabelSet(trusted: out), clashed)
    }

    /// This set without the labels whose names appear in `other` (whatever their values).
    ///
    /// The caller uses it to turn a series as Prometheus sends it (external labels already merged
    /// in) back into its internal labels, which is only sound when nothing clashed (`ClashCheck`).
    public func removingNames(of other: LabelSet) -> LabelSet {
        if other.isEmpty { return self }
        var out: [Label] = []
        out.reserveCapacity(count)
        var j = 0
        for label in labels {
            while j < other.count, ByteOrder.less(other.labels[j].name, label.name) { j += 1 }
            if j < other.count, ByteOrder.equal(other.labels[j].name, label.name) { continue }
            out.append(label)
        }
        return LabelSet(trusted: out)
    }

    /// Number of labels whose name sorts byte-wise below `name` (none for nil).
    @usableFromInline
    func countNames(below name: String?) -> Int {
        guard let name else { return 0 }
        var n = 0
        while n < count, ByteOrder.less(labels[n].name, name) { n += 1 }
        return n
    }
}

/// Detects internal label names that collide with external ones, before a Series call.
///
/// Prometheus merges its external labels into every remote-read series (local value wins), so a
/// series that carries an internal label with an external label's name is only visible as such
/// when the values differ. `/api/v1/labels?match[]=…` lists internal names only, which makes it the
/// reliable up-front check: ask it with the same matchers and time range as the read.
public enum ClashCheck {
    /// The external label names that also occur among `internalNames`, sorted byte-wise.
    public static func clashingNames(internalNames: some Sequence<String>, external: LabelSet) -> [String] {
        guard !external.isEmpty else { return [] }
        let wanted = Set(external.names.map(BytewiseKey.init))
        var found = Set<BytewiseKey>()
        for name in internalNames where wanted.contains(BytewiseKey(name)) { found.insert(BytewiseKey(name)) }
        return found.map(\.string).sorted(by: ByteOrder.less)
    }
}
