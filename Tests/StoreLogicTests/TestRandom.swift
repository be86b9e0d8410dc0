import SeededRandom
import SkiffCore

@testable import StoreLogic

/// The property tests' generator (SplitMix64: every case can be replayed from its seed).
typealias SplitMix64 = SeededGenerator

/// An order on label sets written independently of `LabelSet.compare`, straight from the
/// definition of Prometheus' `labels.Compare` on raw bytes, to check the implementation against.
enum Reference {
    typealias Key = [([UInt8], [UInt8])]

    static func bytes(_ l: LabelSet) -> Key { l.map { (Array($0.name.utf8), Array($0.value.utf8)) } }

    static func less(_ a: LabelSet, _ b: LabelSet) -> Bool { less(bytes(a), bytes(b)) }

    static func less(_ x: Key, _ y: Key) -> Bool {
        for (p, q) in zip(x, y) {
            if p.0 != q.0 { return p.0.lexicographicallyPrecedes(q.0) }
            if p.1 != q.1 { return p.1.lexicographicallyPrecedes(q.1) }
        }
        return x.count < y.count
    }

    /// Sorts label sets by the reference order, converting each to bytes once.
    static func sorted(_ sets: [LabelSet]) -> [LabelSet] {
        sets.map { (bytes($0), $0) }.sorted { less($0.0, $1.0) }.map(\.1)
    }

    /// K(A): A with E applied, external winning, built from a dictionary rather than a merge.
    static func withExternal(_ a: LabelSet, _ e: LabelSet) -> LabelSet {
        var d: [[UInt8]: Label] = [:]
        for l in a { d[Array(l.name.utf8)] = l }
        for l in e { d[Array(l.name.utf8)] = l }
        return LabelSet(trusted: d.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { d[$0]! })
    }

    /// A stable sort by K: (K, arrival) pairs.
    static func sortedByK(_ inputs: [LabelSet], external: LabelSet) -> [(LabelSet, Int)] {
        let keyed = inputs.enumerated().map { i, a in
            let k = withExternal(a, external)
            return (bytes(k), k, i)
        }
        return keyed.sorted { less($0.0, $1.0) || (!less($1.0, $0.0) && $0.2 < $1.2) }.map { ($0.1, $0.2) }
    }
}

/// Random label sets over a small alphabet, so that prefixes, shared names and ties are common.
struct LabelGenerator {
    /// Names below, between and above typical external names (byte order: `_` < lower case).
    static let names = ["__name__", "a", "b", "cluster", "instance", "job", "replica", "zone"]
    static let values = ["0", "1", "x", "\u{E9}", "e\u{301}", ""]

    var rng: SplitMix64

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }

    /// 0–3 external labels on random names.
    mutating func external() -> LabelSet {
        let names = Self.names.shuffled(using: &rng).prefix(int(0...3))
        return LabelSet(names.map { Label(name: $0, value: ["x", "eu", "0"].randomElement(using: &rng)!) })
    }

    /// A label set using only `allowed` names.
    mutating func labelSet(allowed: [String]) -> LabelSet {
        var labels: [Label] = []
        for name in allowed where chance(0.5) {
            labels.append(Label(name: name, value: Self.values[int(0...(chance(0.9) ? 3 : 5))]))
        }
        return LabelSet(labels)
    }

    /// `count` label sets, with extra proper prefixes mixed in (the case that reorders).
    mutating func series(count: Int, allowed: [String]) -> [LabelSet] {
        var out: [LabelSet] = []
        for _ in 0..<count {
            let s = labelSet(allowed: allowed)
            out.append(s)
            if chance(0.4), s.count > 0 { out.append(LabelSet(trusted: Array(s.labels.prefix(int(0...(s.count - 1)))))) }
        }
        return out
    }
}
