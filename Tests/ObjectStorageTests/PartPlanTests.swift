import S3
import Testing

/// At most one configured part unacknowledged at once, within S3's limits.
@Suite struct PartPlanTests {
    static let mib: Int64 = 1 << 20

    @Test func theConfiguredPartIsSplitAcrossTheStreams() {
        let plan = PartPlan(fileSize: 1 << 30, configuredPartSize: 64 * Self.mib)
        #expect(plan == PartPlan(fileSize: 1 << 30, configuredPartSize: 64 * Self.mib))
        #expect(plan.partSize == 16 * Self.mib && plan.partCount == 64 && plan.inFlight == 4)
        #expect(Int64(plan.inFlight) * plan.partSize <= 64 * Self.mib)
    }

    @Test func neverBelowTheMinimumPartAndNeverMoreInFlightThanAPart() {
        // 5 MiB configured: 5 MiB parts, one at a time.
        let small = PartPlan(fileSize: 12 * Self.mib, configuredPartSize: 5 * Self.mib)
        #expect(small.partSize == 5 * Self.mib && small.partCount == 3 && small.inFlight == 1)
        #expect(small.length(of: 3, fileSize: 12 * Self.mib) == 2 * Self.mib)
        // 12 MiB configured: 5 MiB parts, two at a time (10 MiB in flight).
        let twelve = PartPlan(fileSize: 100 * Self.mib, configuredPartSize: 12 * Self.mib)
        #expect(twelve.partSize == 5 * Self.mib && twelve.inFlight == 2)
        // A file of two parts never plans more streams than parts.
        #expect(PartPlan(fileSize: 70 * Self.mib, configuredPartSize: 64 * Self.mib).inFlight == 4)
        #expect(PartPlan(fileSize: 20 * Self.mib, configuredPartSize: 16 * Self.mib).inFlight == 3)
    }

    @Test func hugeFilesGrowThePartToStayWithinTenThousandParts() {
        let huge: Int64 = 2 << 40  // 2 TiB
        let plan = PartPlan(fileSize: huge, configuredPartSize: 64 * Self.mib)
        #expect(plan.partCount <= 10_000)
        #expect(plan.partSize >= huge / 10_000)
        #expect(plan.inFlight == 1, "a grown part is already more than the configured one")
        for size in [Int64(1), 5 * Self.mib, 5 * Self.mib + 1, 999 * Self.mib + 7] {
            let p = PartPlan(fileSize: size, configuredPartSize: 5 * Self.mib)
            #expect(Int64(p.partCount - 1) * p.partSize + p.length(of: p.partCount, fileSize: size) == size)
            #expect(p.length(of: p.partCount, fileSize: size) > 0)
        }
    }
}
