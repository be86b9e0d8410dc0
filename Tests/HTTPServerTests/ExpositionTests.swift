import Testing

@testable import HTTPServer

@Suite("Exposition ordering")
struct ExpositionTests {
    @Test("families are sorted by name; lines inside a family keep their order")
    func sortsWholeFamilies() {
        let raw = """
            # TYPE z_seconds histogram
            z_seconds_bucket{le="1.0"} 1
            z_seconds_bucket{le="+Inf"} 2
            z_seconds_sum 3.0
            z_seconds_count 2
            # HELP a_total Help for a.
            # TYPE a_total counter
            a_total{k="2"} 1
            a_total{k="1"} 1
            # TYPE m gauge
            m 1.0

            """
        let sorted = String(decoding: MetricsExposition.sortedByFamily(Array(raw.utf8)), as: UTF8.self)
        #expect(
            sorted == """
                # HELP a_total Help for a.
                # TYPE a_total counter
                a_total{k="2"} 1
                a_total{k="1"} 1
                # TYPE m gauge
                m 1.0
                # TYPE z_seconds histogram
                z_seconds_bucket{le="1.0"} 1
                z_seconds_bucket{le="+Inf"} 2
                z_seconds_sum 3.0
                z_seconds_count 2

                """)
    }

    @Test("an empty registry renders nothing")
    func empty() {
        #expect(MetricsExposition.sortedByFamily([]).isEmpty)
    }
}
