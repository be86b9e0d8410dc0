import Testing

@testable import PrometheusClient

/// Thanos' `validatePrometheus` rules, as a pure function.
struct PrometheusFlagsCheckTests {
    let shipper = "/prom/data/thanos.shipper.json"

    func flags(_ min: String, _ max: String, delay: String? = nil) -> [String: String] {
        var flags = ["storage.tsdb.min-block-duration": min, "storage.tsdb.max-block-duration": max]
        flags["storage.tsdb.delay-compact-file.path"] = delay
        return flags
    }

    @Test func twoHourBlocksPass() {
        #expect(
            PrometheusFlagsCheck.check(flags: flags("2h", "2h"), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
                == .init())
        // Durations compare by value, as Go's model.Duration does.
        #expect(
            PrometheusFlagsCheck.check(flags: flags("2h", "120m"), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
                == .init())
    }

    @Test func unequalBlockDurationsAreAnError() {
        let result = PrometheusFlagsCheck.check(
            flags: flags("2h", "4h48m"), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
        #expect(result.errors.count == 1)
        #expect(
            result.errors[0].hasPrefix(
                "found that TSDB Max time is 4h48m and Min time is 2h. Compaction needs to be disabled (storage.tsdb.min-block-duration = storage.tsdb.max-block-duration)"
            ))
        #expect(result.errors[0].contains("--storage.tsdb.max-block-duration=2h"))
        #expect(result.warnings.isEmpty)
    }

    @Test func ignoringUnequalBlockSizeOnlyWarns() {
        let result = PrometheusFlagsCheck.check(flags: flags("2h", "1d"), shipperFilePath: shipper, ignoreUnequalBlockSize: true)
        #expect(result.errors.isEmpty)
        #expect(result.warnings.count == 1 && result.warnings[0].contains("may be missing from your Thanos bucket"))
    }

    @Test func blockTimeOtherThanTwoHoursWarns() {
        let result = PrometheusFlagsCheck.check(flags: flags("1h", "1h"), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
        #expect(result.errors.isEmpty)
        #expect(result.warnings.count == 1)
        #expect(result.warnings[0].hasPrefix("found that TSDB block time is not 2h. Only 2h block time is recommended."))
    }

    @Test func delayCompactFileOnTheShipperFileAllowsUnequalDurations() {
        for delay in [shipper, "/prom/./data//thanos.shipper.json", "/prom/x/../data/thanos.shipper.json"] {
            let result = PrometheusFlagsCheck.check(
                flags: flags("2h", "24h", delay: delay), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
            #expect(result == .init(), "\(delay)")
        }
    }

    @Test func delayCompactFileElsewhereIsAnError() {
        let result = PrometheusFlagsCheck.check(
            flags: flags("2h", "2h", delay: "/other/thanos.shipper.json"), shipperFilePath: shipper, ignoreUnequalBlockSize: false
        )
        #expect(result.errors.count == 1)
        #expect(result.errors[0].hasPrefix("found that Prometheus and Thanos use different paths for tracking block uploads"))
        #expect(result.errors[0].contains("/other/thanos.shipper.json") && result.errors[0].contains(shipper))
    }

    @Test func emptyDelayCompactFileMeansUnset() {
        let result = PrometheusFlagsCheck.check(
            flags: flags("2h", "6h", delay: ""), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
        #expect(result.errors.count == 1)
    }

    @Test func unreadableDurationsAreAnError() {
        let result = PrometheusFlagsCheck.check(
            flags: flags("two hours", "2h"), shipperFilePath: shipper, ignoreUnequalBlockSize: false)
        #expect(result.errors.count == 1 && result.errors[0].contains("two hours"))
    }

    @Test func cleanPathMatchesGo() {
        #expect(PrometheusFlagsCheck.cleanPath("/a/./b/../c//d/") == "/a/c/d")
        #expect(PrometheusFlagsCheck.cleanPath("/../a") == "/a")
        #expect(PrometheusFlagsCheck.cleanPath("a/../../b") == "../b")
        #expect(PrometheusFlagsCheck.cleanPath("./") == ".")
    }
}
