import PromQL

/// How the query API behaves where a Thanos Querier takes it from its flags.
public struct QueryAPIConfiguration: Sendable {
    /// `--query.replica-label`: the replica labels when a request names none.
    public var replicaLabels: [String]
    /// `--query.partial-response`: partial response when a request does not say.
    public var partialResponse: Bool
    /// `--query.default-step`, in nanoseconds: the least default step of a range query.
    public var defaultStepNanoseconds: Int64
    /// `--query.timeout`: the longest a query may run (a request's `timeout` can only shorten it).
    public var timeout: Duration
    /// `--query.promql-engine`: `prometheus` or `thanos` (both are evaluated by Prometheus here).
    public var defaultEngine: String
    /// The address `storeMatch[]`'s `__address__` matchers are compared with: the one a Querier
    /// dials for this sidecar (its `--grpc-address` as the Querier sees it).
    public var storeAddress: String

    public init(
        replicaLabels: [String] = [], partialResponse: Bool = true, defaultStepNanoseconds: Int64 = 1_000_000_000,
        timeout: Duration = .seconds(120), defaultEngine: String = "prometheus", storeAddress: String = ""
    ) {
        self.replicaLabels = replicaLabels
        self.partialResponse = partialResponse
        self.defaultStepNanoseconds = defaultStepNanoseconds
        self.timeout = timeout
        self.defaultEngine = defaultEngine
        self.storeAddress = storeAddress
    }
}

/// One query, as the HTTP and gRPC front ends hand it to `QueryService`.
public struct QueryRequest: Sendable {
    public enum Evaluation: Sendable, Equatable {
        /// At this Unix ms.
        case instant(Int64)
        /// From start to end (Unix ms) every step (nanoseconds).
        case range(start: Int64, end: Int64, stepNanoseconds: Int64)
    }

    public var query: String
    public var evaluation: Evaluation
    /// A deadline shorter than the configured timeout, in nanoseconds.
    public var timeoutNanoseconds: Int64?
    public var dedup: Bool
    public var replicaLabels: [String]
    /// `storeMatch[]`: sets of matchers, any of which may select this store.
    public var storeMatchers: [[LabelMatcher]]
    public var partialResponse: Bool
    /// `stats`: passed to Prometheus ("all" adds per-step figures); empty for none.
    public var stats: String
    /// Warnings the request itself earns (a parameter honoured only in part).
    public var warnings: [String]

    public init(
        query: String, evaluation: Evaluation, timeoutNanoseconds: Int64? = nil, dedup: Bool = true,
        replicaLabels: [String] = [], storeMatchers: [[LabelMatcher]] = [], partialResponse: Bool = false,
        stats: String = "", warnings: [String] = []
    ) {
        self.query = query
        self.evaluation = evaluation
        self.timeoutNanoseconds = timeoutNanoseconds
        self.dedup = dedup
        self.replicaLabels = replicaLabels
        self.storeMatchers = storeMatchers
        self.partialResponse = partialResponse
        self.stats = stats
        self.warnings = warnings
    }
}

extension QueryRequest {
    /// The warning for `lookback_delta`, which Prometheus' API does not take from a request.
    static let lookbackWarning =
        "lookback_delta is not applied: Prometheus evaluates with its own --query.lookback-delta"
    /// The warning for `shard_info`: this sidecar answers every shard in full.
    static let shardWarning = "shard_info is not applied: the answer holds every shard's series"

    /// `/api/v1/query`'s parameters, checked in Thanos' order with Thanos' messages.
    public static func instant(
        _ form: FormValues, configuration: QueryAPIConfiguration, nowMillis: Int64
    )
        throws(QueryAPIError) -> QueryRequest
    {
        var time = nowMillis
        let timeText = form.value("time")
        if !timeText.isEmpty {
            do { time = try ParameterParsing.time(timeText) } catch {
                throw .badData("Invalid time value for 'time': \(error.message)")
            }
        }
        let timeout = try timeoutParameter(form)
        var request = try common(form, configuration: configuration, evaluation: .instant(time))
        request.timeoutNanoseconds = timeout
        return request
    }

    /// `/api/v1/query_range`'s parameters, checked in Thanos' order with Thanos' messages.
    public static func range(
        _ form: FormValues, configuration: QueryAPIConfiguration
    ) throws(QueryAPIError)
        -> QueryRequest
    {
        let start = try ParameterParsing.time(form.value("start"))
        let end = try ParameterParsing.time(form.value("end"))
        guard end >= start else { throw .badData("end timestamp must not be before start time") }
        var step: Int64
        let stepText = form.value("step")
        if !stepText.isEmpty {
            do { step = try ParameterParsing.duration(stepText) } catch {
                throw .badData("'step' parameter: \(error.message)")
            }
        } else {
            // Go: max(float64(rangeSeconds/250), float64(defaultStep/time.Second)) seconds.
            let rangeSeconds = (end - start) / 1000
            step = max(rangeSeconds / 250, configuration.defaultStepNanoseconds / 1_000_000_000) * 1_000_000_000
        }
        guard step > 0 else {
            throw .badData("zero or negative query resolution step widths are not accepted. Try a positive integer")
        }
        let (rangeNanos, overflow) = (end - start).multipliedReportingOverflow(by: 1_000_000)
        if !overflow && rangeNanos / step > 11000 || overflow {
            throw .badData(
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let timeout = try timeoutParameter(form)
        var request = try common(
            form, configuration: configuration, evaluation: .range(start: start, end: end, stepNanoseconds: step))
        request.timeoutNanoseconds = timeout
        return request
    }

    private static func timeoutParameter(_ form: FormValues) throws(QueryAPIError) -> Int64? {
        let text = form.value("timeout")
        return text.isEmpty ? nil : try ParameterParsing.duration(text)
    }

    /// dedup, replicaLabels[], storeMatch[], partial_response, max_source_resolution,
    /// shard_info, engine, query, lookback_delta: in that order, as Thanos reads them.
    private static func common(
        _ form: FormValues, configuration: QueryAPIConfiguration, evaluation: Evaluation
    )
        throws(QueryAPIError) -> QueryRequest
    {
        let dedupText = form.value("dedup")
        let dedup = dedupText.isEmpty ? true : try ParameterParsing.bool(dedupText, parameter: "dedup")
        let replicaValues = form.values("replicaLabels[]")
        let replicaLabels = replicaValues.isEmpty ? configuration.replicaLabels : replicaValues
        var storeMatchers: [[LabelMatcher]] = []
        for text in form.values("storeMatch[]") {
            do { storeMatchers.append(try Parser.parseSelector(text).allMatchers) } catch {
                throw .badData(error.description)
            }
        }
        let partialText = form.value("partial_response")
        let partial =
            partialText.isEmpty
            ? configuration.partialResponse : try ParameterParsing.bool(partialText, parameter: "partial_response")
        let resolution = form.value("max_source_resolution")
        if !resolution.isEmpty && resolution != "auto" {
            let nanoseconds: Int64
            do { nanoseconds = try ParameterParsing.duration(resolution) } catch {
                throw .badData("'max_source_resolution' parameter: \(error.message)")
            }
            // Only raw data is served here, which any resolution accepts.
            guard nanoseconds >= 0 else {
                throw .badData("negative 'max_source_resolution' is not accepted. Try a positive integer")
            }
        }
        var warnings: [String] = []
        if !form.value("shard_info").isEmpty { warnings.append(shardWarning) }
        var engine = form.value("engine")
        if engine.isEmpty { engine = configuration.defaultEngine }
        guard engine == "prometheus" || engine == "thanos" else { throw .badData("'\(engine)' bad engine") }
        let lookback = form.value("lookback_delta")
        if !lookback.isEmpty {
            let nanoseconds: Int64
            do { nanoseconds = try ParameterParsing.duration(lookback) } catch {
                throw .badData("'lookback_delta' parameter: \(error.message)")
            }
            if nanoseconds > 0 { warnings.append(lookbackWarning) }
        }
        return QueryRequest(
            query: form.value("query"), evaluation: evaluation, dedup: dedup, replicaLabels: replicaLabels,
            storeMatchers: storeMatchers, partialResponse: partial, stats: form.value("stats"), warnings: warnings)
    }
}
