import Testing

@testable import SkiffCore

@Suite struct BackoffTests {
    @Test func backoffGrowsIsBoundedAndJittered() {
        let b = Backoff(baseMillis: 1_000, capMillis: 10_000)
        #expect(b.delayMillis(attempt: 1, jitter: 0) == 500)
        #expect(b.delayMillis(attempt: 1, jitter: 0.999) >= 999)
        #expect(b.delayMillis(attempt: 3, jitter: 0) == 2_000)
        #expect(b.delayMillis(attempt: 50, jitter: 0.5) <= 10_000)
        #expect(b.delayMillis(attempt: 50, jitter: 0) == 5_000)
    }
}
