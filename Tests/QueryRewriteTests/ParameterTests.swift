import QueryAPI
import Testing

/// Thanos' parameter checks for /api/v1/query(_range), with its messages (pkg/api/query/v1.go).
@Suite struct ParameterTests {
    static let configuration = QueryAPIConfiguration()

    static func instant(_ pairs: [(String, String)]) throws(QueryAPIError) -> QueryRequest {
        try QueryRequest.instant(FormValues(pairs), configuration: configuration, nowMillis: 1_000_000)
    }

    static func range(_ pairs: [(String, String)]) throws(QueryAPIError) -> QueryRequest {
        try QueryRequest.range(FormValues(pairs), configuration: configuration)
    }

    static func error(_ body: () throws(QueryAPIError) -> QueryRequest) -> QueryAPIError? {
        do {
            _ = try body()
            return nil
        } catch { return error }
    }

    @Test func timesAreFloatSecondsOrRFC3339() throws {
        #expect(try Self.instant([("query", "up")]).evaluation == .instant(1_000_000))
        #expect(try Self.instant([("time", "1700000000.1234")]).evaluation == .instant(1_700_000_000_123))
        #expect(try Self.instant([("time", "2023-11-14T22:13:20.5Z")]).evaluation == .instant(1_700_000_000_500))
        #expect(try Self.instant([("time", "2023-11-14T23:13:20+01:00")]).evaluation == .instant(1_700_000_000_000))
        #expect(
            Self.error { () throws(QueryAPIError) in try Self.instant([("time", "yesterday")]) }
                == .badData("Invalid time value for 'time': cannot parse \"yesterday\" to a valid timestamp"))
    }

    @Test func rangeChecksInThanosOrder() throws {
        let ok = try Self.range([("start", "100"), ("end", "200"), ("step", "1m")])
        #expect(ok.evaluation == .range(start: 100_000, end: 200_000, stepNanoseconds: 60_000_000_000))
        #expect(
            try Self.range([("start", "0"), ("end", "2500")]).evaluation
                == .range(start: 0, end: 2_500_000, stepNanoseconds: 10_000_000_000))
        #expect(
            try Self.range([("start", "0"), ("end", "10")]).evaluation
                == .range(start: 0, end: 10_000, stepNanoseconds: 1_000_000_000))
        let cases: [([(String, String)], QueryAPIError)] = [
            ([("start", "x"), ("end", "1")], .badData("cannot parse \"x\" to a valid timestamp")),
            ([("start", "2"), ("end", "1")], .badData("end timestamp must not be before start time")),
            (
                [("start", "1"), ("end", "2"), ("step", "fast")],
                .badData("'step' parameter: cannot parse \"fast\" to a valid duration")
            ),
            (
                [("start", "1"), ("end", "2"), ("step", "0")],
                .badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
            ),
            (
                [("start", "1"), ("end", "2"), ("step", "-1")],
                .badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
            ),
            (
                [("start", "0"), ("end", "11001"), ("step", "1")],
                .badData(
                    "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
            ),
            ([("start", "1"), ("end", "2"), ("timeout", "soon")], .badData("cannot parse \"soon\" to a valid duration")),
            (
                [("start", "1"), ("end", "2"), ("dedup", "maybe")],
                .badData("'dedup' parameter: strconv.ParseBool: parsing \"maybe\": invalid syntax")
            ),
            (
                [("start", "1"), ("end", "2"), ("max_source_resolution", "-300")],
                .badData("negative 'max_source_resolution' is not accepted. Try a positive integer")
            ),
            (
                // Go's duration parser takes no sign: "-5m" is not a duration at all.
                [("start", "1"), ("end", "2"), ("max_source_resolution", "-5m")],
                .badData("'max_source_resolution' parameter: cannot parse \"-5m\" to a valid duration")
            ),
            (
                [("start", "1"), ("end", "2"), ("max_source_resolution", "fine")],
                .badData("'max_source_resolution' parameter: cannot parse \"fine\" to a valid duration")
            ),
            ([("start", "1"), ("end", "2"), ("engine", "fast")], .badData("'fast' bad engine")),
        ]
        for (pairs, expected) in cases {
            #expect(Self.error { () throws(QueryAPIError) in try Self.range(pairs) } == expected, "\(pairs)")
        }
    }

    @Test func dedupReplicaLabelsAndOtherParameters() throws {
        let plain = try Self.instant([("query", "up")])
        #expect(plain.dedup && plain.replicaLabels.isEmpty && plain.warnings.isEmpty && plain.partialResponse)
        let full = try Self.instant([
            ("dedup", "false"), ("replicaLabels[]", "replica"), ("replicaLabels[]", "rule_replica"),
            ("storeMatch[]", "{__address__=~\"x.*\"}"), ("partial_response", "0"), ("max_source_resolution", "auto"),
            ("engine", "thanos"), ("stats", "all"), ("lookback_delta", "1m"), ("shard_info", "{}"),
        ])
        #expect(!full.dedup && full.replicaLabels == ["replica", "rule_replica"] && !full.partialResponse)
        #expect(full.storeMatchers.count == 1 && full.stats == "all" && full.warnings.count == 2)
        #expect(try Self.instant([("max_source_resolution", "0s")]).warnings.isEmpty)
        #expect(Self.error { () throws(QueryAPIError) in try Self.instant([("storeMatch[]", "sum(x)")]) }?.type == "bad_data")
    }

    @Test func formsReadBodyBeforeQuery() {
        let form = FormValues(
            query: "query=from%20url&a=1&a=2", body: Array("query=from+body&b=%2B".utf8),
            contentType: "application/x-www-form-urlencoded; charset=utf-8")
        #expect(form.value("query") == "from body" && form.value("b") == "+" && form.values("a") == ["1", "2"])
        #expect(form.values("query") == ["from body", "from url"])
        #expect(FormValues(query: "q=1", body: Array("q=2".utf8), contentType: "text/plain").value("q") == "1")
    }

    @Test func statusPerErrorType() {
        #expect(QueryAPIError.badData("x").httpStatus == 400)
        #expect(QueryAPIError("execution", "x").httpStatus == 422)
        #expect(QueryAPIError("timeout", "x").httpStatus == 503 && QueryAPIError("canceled", "x").httpStatus == 503)
        #expect(QueryAPIError("internal", "x").httpStatus == 500)
    }
}
