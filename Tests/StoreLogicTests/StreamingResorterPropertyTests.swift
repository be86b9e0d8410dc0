import SkiffCore
import Testing

@testable import StoreLogic

/// Randomised checks of the streaming re-sorter against a buffer-everything reference.
///
/// Each check runs seconds of CPU. Swift's cooperative pool has one thread per core (2 on CI) and
/// no preemption, so the loops yield every 50 seeds: otherwise two of them hold both threads and
/// every other test in the process (a server waiting to report its port, a readiness poll) waits
/// until they finish.
@Suite struct StreamingResorterPropertyTests {
    /// Pushes everything; returns the output (as (labels, arrival)) and the buffered count after each push.
    static func run(
        _ inputs: [LabelSet], external: LabelSet
    ) throws(ResortError) -> (out: [(LabelSet, Int)], held: [Int], sorter: StreamingResorter<Int>) {
        var sorter = StreamingResorter<Int>(external: external)
        var out: [(LabelSet, Int)] = []
        var held: [Int] = []
        for (i, a) in inputs.enumerated() {
            out += try sorter.push(internalLabels: a, payload: i).map { ($0.labels, $0.payload) }
            held.append(sorter.buffered)
        }
        out += sorter.finish().map { ($0.labels, $0.payload) }
        return (out, held, sorter)
    }

    static func same(_ a: [(LabelSet, Int)], _ b: [(LabelSet, Int)]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The exact buffer content the proof predicts after pushing `inputs[k]` (distinct, sorted input).
    static func predictedHeld(_ inputs: [LabelSet], upTo k: Int, external: LabelSet) -> Int {
        let a = inputs[k].labels
        guard let maxE = external.last?.name else { return 0 }
        let lastName = a.last?.name
        var held = lastName.map { ByteOrder.less($0, maxE) } ?? true ? 1 : 0
        for x in inputs[..<k] where x.count < a.count && a.prefix(x.count).elementsEqual(x.labels) {
            if ByteOrder.less(a[x.count].name, maxE) { held += 1 }
        }
        return held
    }

    @Test func sortedDistinctInputComesOutInKOrderWithTheProvenBuffer() async throws {
        for seed in UInt64(0)..<3000 {
            if seed % 50 == 0 { await Task.yield() }  // share the pool (see the suite)
            var gen = LabelGenerator(rng: SplitMix64(seed: seed))
            let external = gen.external()
            let allowed = LabelGenerator.names.filter { external[$0] == nil }
            let inputs = Array(Set(gen.series(count: gen.int(0...30), allowed: allowed))).sorted()
            #expect(inputs == Reference.sorted(inputs), "LabelSet's own order agrees with the reference")

            let (out, held, sorter) = try Self.run(inputs, external: external)
            #expect(Self.same(out, Reference.sortedByK(inputs, external: external)), "seed \(seed)")
            #expect(!sorter.isBufferingAll && sorter.unsortedInputs == 0 && sorter.clashingInputs == 0)
            for k in inputs.indices {
                let bound = 1 + inputs[k].count { l in external.last.map { ByteOrder.less(l.name, $0.name) } ?? false }
                #expect(held[k] == Self.predictedHeld(inputs, upTo: k, external: external), "seed \(seed) push \(k)")
                #expect(held[k] <= (external.isEmpty ? 0 : min(bound, inputs[k].count + 1)), "seed \(seed) push \(k)")
            }
        }
    }

    @Test func consecutiveDuplicatesStayAdjacentAndInArrivalOrder() async throws {
        for seed in UInt64(10_000)..<12_000 {
            if seed % 50 == 0 { await Task.yield() }  // share the pool (see the suite)
            var gen = LabelGenerator(rng: SplitMix64(seed: seed))
            let external = gen.external()
            let allowed = LabelGenerator.names.filter { external[$0] == nil }
            var inputs = gen.series(count: gen.int(0...20), allowed: allowed).sorted()
            // Split some series over several frames, as Prometheus does for big ones.
            inputs = inputs.flatMap { Array(repeating: $0, count: gen.chance(0.3) ? gen.int(2...3) : 1) }

            let (out, held, _) = try Self.run(inputs, external: external)
            #expect(Self.same(out, Reference.sortedByK(inputs, external: external)), "seed \(seed)")
            // Each copy is held like the original: the bound scales with the longest run of copies.
            let maxLabels = inputs.map(\.count).max() ?? 0
            var maxRun = 1
            var run = 1
            for i in inputs.indices.dropFirst() {
                run = inputs[i] == inputs[i - 1] ? run + 1 : 1
                maxRun = max(maxRun, run)
            }
            #expect(held.allSatisfy { $0 <= maxRun * (maxLabels + 1) }, "seed \(seed)")
        }
    }

    /// Unsorted input (another or a buggy Prometheus): never a silently wrong order. Either the
    /// output is exactly the stable K-sort, or the sorter throws for a series that sorts below
    /// one already sent, which was then genuinely impossible to fix.
    @Test func unsortedInputIsSortedOrReportedNeverSilentlyWrong() async {
        var threw = 0
        var fixed = 0
        for seed in UInt64(20_000)..<23_000 {
            if seed % 50 == 0 { await Task.yield() }  // share the pool (see the suite)
            var gen = LabelGenerator(rng: SplitMix64(seed: seed))
            let external = gen.external()
            let allowed = LabelGenerator.names.filter { external[$0] == nil }
            var inputs = gen.series(count: gen.int(2...20), allowed: allowed).sorted()
            // Swap a couple of neighbours, or shuffle everything.
            if gen.chance(0.5) {
                inputs.shuffle(using: &gen.rng)
            } else {
                for _ in 0..<2 {
                    let i = gen.int(0...(inputs.count - 2))
                    inputs.swapAt(i, i + 1)
                }
            }
            var sorter = StreamingResorter<Int>(external: external)
            var out: [(LabelSet, Int)] = []
            do {
                for (i, a) in inputs.enumerated() {
                    out += try sorter.push(internalLabels: a, payload: i).map { ($0.labels, $0.payload) }
                }
                out += sorter.finish().map { ($0.labels, $0.payload) }
                #expect(Self.same(out, Reference.sortedByK(inputs, external: external)), "seed \(seed)")
                fixed += 1
            } catch {
                guard case .outOfOrder(let late, let sent) = error else {
                    Issue.record("seed \(seed): \(error)")
                    continue
                }
                #expect(Reference.less(late, sent), "seed \(seed)")
                #expect(out.contains { $0.0 == sent }, "seed \(seed)")
                threw += 1
            }
        }
        // Both outcomes must actually be exercised.
        #expect(threw > 100 && fixed > 100)
    }

    /// Internal labels named like external ones (the caller skipped or raced the clash check):
    /// detected, then the same guarantee as for unsorted input.
    @Test func clashingInputIsDetectedAndNeverMisordered() async {
        var detected = 0
        for seed in UInt64(30_000)..<32_000 {
            if seed % 50 == 0 { await Task.yield() }  // share the pool (see the suite)
            var gen = LabelGenerator(rng: SplitMix64(seed: seed))
            var external = gen.external()
            if external.isEmpty { external = ["job": "x"] }
            let inputs = gen.series(count: gen.int(1...20), allowed: LabelGenerator.names).sorted()
            var sorter = StreamingResorter<Int>(external: external)
            var out: [(LabelSet, Int)] = []
            var pushedClashes = 0
            do {
                for (i, a) in inputs.enumerated() {
                    out += try sorter.push(internalLabels: a, payload: i).map { ($0.labels, $0.payload) }
                    if a.contains(where: { external[$0.name] != nil }) { pushedClashes += 1 }
                }
                out += sorter.finish().map { ($0.labels, $0.payload) }
                #expect(Self.same(out, Reference.sortedByK(inputs, external: external)), "seed \(seed)")
            } catch {
                guard case .outOfOrder(let late, let sent) = error else { continue }
                #expect(Reference.less(late, sent), "seed \(seed)")
            }
            #expect(sorter.clashingInputs == pushedClashes, "seed \(seed)")
            if pushedClashes > 0 { detected += 1 }
        }
        #expect(detected > 100)
    }
}

/// `push(received:)` reads A and p(A) off the labels as Prometheus sent them; it must behave
/// exactly like stripping them and calling `push(internalLabels:)`.
@Suite struct ReceivedLabelsPropertyTests {
    static func outputs(
        _ inputs: [LabelSet], external: LabelSet, received: Bool
    ) -> (out: [(LabelSet, Int)], held: [Int], error: ResortError?, unsorted: Int, clashes: Int) {
        var sorter = StreamingResorter<Int>(external: external)
        var out: [(LabelSet, Int)] = []
        var held: [Int] = []
        do {
            for (i, a) in inputs.enumerated() {
                let ready =
                    try received
                    ? sorter.push(received: a.withExternal(external), payload: i)
                    : sorter.push(internalLabels: a, payload: i)
                out += ready.map { ($0.labels, $0.payload) }
                held.append(sorter.buffered)
            }
            out += sorter.finish().map { ($0.labels, $0.payload) }
            return (out, held, nil, sorter.unsortedInputs, sorter.clashingInputs)
        } catch {
            return (out, held, error, sorter.unsortedInputs, sorter.clashingInputs)
        }
    }

    @Test func receivedLabelsBehaveLikeStrippedLabels() async {
        for seed in UInt64(40_000)..<42_000 {
            if seed % 50 == 0 { await Task.yield() }  // share the pool (see StreamingResorterPropertyTests)
            var gen = LabelGenerator(rng: SplitMix64(seed: seed))
            let external = gen.external()
            let allowed = LabelGenerator.names.filter { external[$0] == nil }
            var inputs = gen.series(count: gen.int(0...20), allowed: allowed).sorted()
            if gen.chance(0.2), inputs.count > 1 { inputs.swapAt(0, inputs.count - 1) }
            let a = Self.outputs(inputs, external: external, received: false)
            let b = Self.outputs(inputs, external: external, received: true)
            #expect(StreamingResorterPropertyTests.same(a.out, b.out), "seed \(seed)")
            #expect(a.held == b.held && a.error == b.error && a.unsorted == b.unsorted && b.clashes == 0, "seed \(seed)")
        }
    }

    @Test func anExternalLabelWithAnotherValueIsAClash() throws {
        var sorter = StreamingResorter<Int>(external: ["cluster": "c1", "replica": "0"])
        _ = try sorter.push(received: ["__name__": "up", "cluster": "c1", "replica": "0"], payload: 0)
        #expect(sorter.clashingInputs == 0)
        // An internal cluster label won locally in Prometheus' merge: visible as another value.
        _ = try sorter.push(received: ["__name__": "up", "cluster": "local", "replica": "0"], payload: 1)
        // Prometheus without our replica label: K is not what it sent either.
        _ = try sorter.push(received: ["__name__": "up", "cluster": "c1"], payload: 2)
        #expect(sorter.clashingInputs == 2 && sorter.isBufferingAll)
        let out = sorter.finish()
        #expect(out.allSatisfy { $0.labels == ["__name__": "up", "cluster": "c1", "replica": "0"] })
        #expect(out.map(\.payload) == [0, 1, 2])
    }
}
