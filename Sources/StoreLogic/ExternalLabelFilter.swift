import SkiffCore

/// The sidecar's external-label rules for Series, LabelNames and LabelValues (Thanos
/// `matchesExternalLabels` and its callers).
public enum ExternalLabelFilter {
    public enum Outcome: Equatable, Sendable {
        /// A matcher on an external label rejects its value: the answer is empty, not an error.
        case noMatch
        /// The matchers to send to Prometheus (those not on external labels).
        case matchers([Matcher])
    }

    /// Evaluates matchers on external label names locally, against the external value, and drops
    /// them when they match; one that does not match makes the whole request match nothing.
    ///
    /// This must happen here rather than in Prometheus: Prometheus only special-cases *equality*
    /// matchers on its external labels, so `cluster=~"te.*"` would find nothing there.
    /// Matchers on other names are kept, including `region=""` for a name that is not external.
    /// As in Thanos, an external label with an empty value counts as absent. With no matchers
    /// left, Series must answer InvalidArgument "no matchers specified (excluding external
    /// labels)"; that is the caller's job.
    public static func apply(matchers: [Matcher], external: LabelSet) -> Outcome {
        guard !external.isEmpty else { return .matchers(matchers) }
        var kept: [Matcher] = []
        for m in matchers {
            guard let value = external[m.name], !value.isEmpty else {
                kept.append(m)
                continue
            }
            if !m.matches(value) { return .noMatch }
        }
        return .matchers(kept)
    }

    /// LabelNames: Prometheus' names plus the external names, deduplicated and sorted byte-wise.
    /// An empty Prometheus answer stays empty (nothing matched, so no external name applies).
    public static func labelNames(fromPrometheus names: [String], external: LabelSet) -> [String] {
        guard !names.isEmpty else { return [] }
        var seen = Set<BytewiseKey>()
        var out: [String] = []
        for name in names + external.names where seen.insert(BytewiseKey(name)).inserted { out.append(name) }
        return out.sorted(by: ByteOrder.less)
    }

    /// What LabelValues should do, per Thanos HEAD.
    public enum ValuesPlan: Equatable, Sendable {
        /// Answer `[]` without asking Prometheus.
        case empty
        /// Answer `[value]` (an external label, no matchers left).
        case externalValue(String)
        /// Answer `[value]` only if `/api/v1/series` finds a series for these matchers, else `[]`.
        case externalValueIfAnySeries(String, matchers: [Matcher])
        /// Ask Prometheus for the values of the label with these matchers.
        case askPrometheus(matchers: [Matcher])
    }

    /// Plans LabelValues for `label` (non-empty; an empty name is InvalidArgument "label name
    /// parameter cannot be empty", for the caller). `withoutReplicaLabels` are the request's
    /// `without_replica_labels`; `external` the external labels with those already removed.
    public static func valuesPlan(
        label: String, matchers: [Matcher], external: LabelSet, withoutReplicaLabels: [String] = []
    ) -> ValuesPlan {
        if withoutReplicaLabels.contains(where: { ByteOrder.equal($0, label) }) { return .empty }
        guard case .matchers(let kept) = apply(matchers: matchers, external: external) else { return .empty }
        guard let value = external[label], !value.isEmpty else { return .askPrometheus(matchers: kept) }
        return kept.isEmpty ? .externalValue(value) : .externalValueIfAnySeries(value, matchers: kept)
    }
}
