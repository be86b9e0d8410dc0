import SkiffCore

extension LabelSet {
    /// For a series as Prometheus sent it: the index just past its last internal label (a label
    /// not named like an external one), which is |A| + |E<ℓ|, the length of p(A) in K(A) = self.
    /// Nil when an external label is missing or has another value, i.e. when self is not K(A).
    @usableFromInline
    func prefixLengthThroughLastInternal(external: LabelSet) -> Int? {
        var e = 0
        var end = 0
        for (i, label) in labels.enumerated() {
            if e < external.count, ByteOrder.less(external.labels[e].name, label.name) { return nil }  // never sent
            if e < external.count, ByteOrder.equal(external.labels[e].name, label.name) {
                guard ByteOrder.equal(external.labels[e].value, label.value) else { return nil }
                e += 1
            } else {
                end = i + 1
            }
        }
        return e == external.count ? end : nil
    }

    /// `labels.Compare` of the internal labels of two series as Prometheus sent them (external
    /// names skipped). Both carry the same external labels, so up to the first difference the two
    /// agree label for label; only from there on are external names skipped.
    @usableFromInline
    static func compareInternal(_ a: LabelSet, _ b: LabelSet, external: LabelSet) -> Int {
        let shared = Swift.min(a.count, b.count)
        var d = 0
        while d < shared, Label.compare(a.labels[d], b.labels[d]) == 0 { d += 1 }
        if d == shared, a.count == b.count { return 0 }
        var i = d
        var j = d
        while true {
            while i < a.count, external.containsName(a.labels[i].name) { i += 1 }
            while j < b.count, external.containsName(b.labels[j].name) { j += 1 }
            guard i < a.count, j < b.count else { return (i < a.count ? 1 : 0) - (j < b.count ? 1 : 0) }
            let c = Label.compare(a.labels[i], b.labels[j])
            if c != 0 { return c }
            i += 1
            j += 1
        }
    }

    @usableFromInline
    func containsName(_ name: String) -> Bool {
        labels.contains { ByteOrder.equal($0.name, name) }
    }
}
