import Ledger
import SkiffCore

/// The status page's data as JSON under /api/v1/skiff, in Prometheus' envelope
/// (`{"status":"success","data":...}`). Times are Unix milliseconds; durations are seconds.
enum StatusJSON {
    static func envelope(_ data: JSONValue) -> JSONValue {
        .object([.init("status", .string("success")), .init("data", data)])
    }

    static func error(_ type: String, _ message: String) -> JSONValue {
        .object([.init("status", .string("error")), .init("errorType", .string(type)), .init("error", .string(message))])
    }

    static func status(_ m: StatusModel) -> JSONValue {
        var shipping: [JSONValue.Member] = [
            .init("bucket", opt(m.bucket)),
            .init("counts", .object(TimelineState.allCases.map { .init($0.rawValue, .int(Int64(m.counts[$0] ?? 0))) })),
            .init("bytes_shipped", .int(m.bytesShipped)),
            .init("oldest_unshipped_age_seconds", m.oldestUnshippedAgeMillis.map(seconds) ?? .null),
            .init(
                "uploads",
                .array(
                    m.uploads.map { u in
                        .object([
                            .init("ulid", .string(u.ulid)), .init("state", .string(u.state)),
                            .init("uploaded_bytes", .int(u.uploadedBytes)), .init("total_bytes", opt(u.totalBytes)),
                        ])
                    })),
        ]
        shipping.append(
            .init(
                "lag_seconds",
                m.lag.map { lag in
                    .object([
                        .init("blocks", .int(Int64(lag.blocks))), .init("median", seconds(lag.medianMillis)),
                        .init("p90", seconds(lag.p90Millis)), .init("max", seconds(lag.maxMillis)),
                    ])
                } ?? .null))
        return .object([
            .init("generated_at", .int(m.now)), .init("prometheus", m.prometheus.map(prometheus) ?? .null),
            .init("reloader", m.reloader.map(reloader) ?? .null),
            .init("shipping", .object(shipping)), .init("last_reconcile", m.reconcile.map(reconcile) ?? .null),
            .init(
                "failures",
                .array(
                    m.failures.map { f in
                        .object([
                            .init("error", .string(f.error)), .init("attempts", .int(f.attempts)),
                            .init("blocks", .int(f.blocks)), .init("last_at", .int(f.lastAt)),
                        ])
                    })),
        ])
    }

    static func prometheus(_ p: PrometheusStatus) -> JSONValue {
        .object([
            .init("url", .string(p.url)), .init("up", .bool(p.up)), .init("version", opt(p.version)),
            .init("external_labels", opt(p.externalLabels)), .init("last_heartbeat_at", opt(p.lastHeartbeatMillis)),
            .init("last_error", opt(p.lastError)), .init("ready", .bool(p.ready)),
            .init("not_ready_reason", opt(p.notReadyReason)),
        ])
    }

    static func reloader(_ r: ReloaderStatus) -> JSONValue {
        .object([
            .init("method", .string(r.method)), .init("config_file", opt(r.configFile)),
            .init("config_envsubst_file", opt(r.outputFile)), .init("rule_dirs", .array(r.ruleDirs.map { .string($0) })),
            .init("reloads", .int(Int64(r.reloads))), .init("failed_reloads", .int(Int64(r.failedReloads))),
            .init("last_success_at", opt(r.lastSuccessMillis)), .init("last_error", opt(r.lastError)),
            .init("last_error_at", opt(r.lastErrorMillis)), .init("failing", .bool(r.failing)),
        ])
    }

    static func reconcile(_ r: ReconcileSummary) -> JSONValue {
        .object([
            .init("started_at", .int(r.startedAt)), .init("duration_seconds", seconds(r.durationMillis)),
            .init("mode", .string(r.mode)), .init("blocks", .int(r.blocks)), .init("drifted", .int(r.drifted)),
            .init("repaired", .int(r.repaired)),
            .init(
                "findings",
                .array(
                    r.findings.map { f in
                        .object([
                            .init("ulid", .string(f.ulid)), .init("status", .string(f.status)),
                            .init("detail", .string(f.detail)), .init("action", opt(f.action)),
                            .init("outcome", opt(f.outcome)),
                        ])
                    })),
        ])
    }

    /// Every block with its timeline state (the ledger's state, reconciled with the bucket).
    static func blocks(_ m: StatusModel, records: [BlockRecord]) -> JSONValue {
        .array(
            zip(records, m.timeline).map { b, bar in
                var members = block(b).members ?? []
                members.append(.init("timeline_state", .string(bar.state.rawValue)))
                return .object(members)
            })
    }

    static func block(_ b: BlockRecord) -> JSONValue {
        .object([
            .init("ulid", .string(b.ulid.string)), .init("state", .string(b.state.rawValue)),
            .init("quarantined", .bool(b.quarantined)), .init("min_time", .int(b.minTime)),
            .init("max_time", .int(b.maxTime)), .init("level", .int(Int64(b.level))),
            .init("num_samples", .int(b.numSamples)), .init("num_series", .int(b.numSeries)),
            .init("total_bytes", opt(b.totalBytes)), .init("uploaded_bytes", .int(b.uploadedBytes)),
            .init("attempts", .int(Int64(b.attempts))), .init("last_error", opt(b.lastError)),
            .init("reason", opt(b.reason)), .init("discovered_at", .int(b.discoveredAt)),
            .init("updated_at", .int(b.updatedAt)), .init("committed_at", opt(b.committedAt)),
        ])
    }

    static func detail(_ d: BlockDetail) -> JSONValue {
        var members = block(d.block).members ?? []
        members.append(.init("bucket", opt(d.bucket)))
        members.append(.init("key_prefix", .string(d.keyPrefix)))
        members.append(
            .init(
                "transitions",
                .array(
                    zip(d.transitions, d.took).map { t, took in
                        .object([
                            .init("at", .int(t.at)), .init("from", opt(t.from?.rawValue)), .init("to", .string(t.to.rawValue)),
                            .init("took_ms", opt(took)), .init("attempt", .int(Int64(t.attempt))),
                            .init("bytes", opt(t.bytes)), .init("detail", opt(t.detail)),
                        ])
                    })))
        members.append(
            .init(
                "files",
                .array(
                    d.files.map { f in
                        .object([
                            .init("path", .string(f.relPath)), .init("size_bytes", .int(f.sizeBytes)),
                            .init("sha256", .string(f.sha256)), .init("uploaded", .bool(f.uploaded)),
                        ])
                    })))
        return .object(members)
    }

    static func seconds(_ millis: Int64) -> JSONValue { .number("\(Double(millis) / 1000)") }
    static func opt(_ v: String?) -> JSONValue { v.map { .string($0) } ?? .null }
    static func opt(_ v: Int64?) -> JSONValue { v.map { .int($0) } ?? .null }
}
