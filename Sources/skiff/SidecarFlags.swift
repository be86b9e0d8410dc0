import FlagParsing

/// Every flag `thanos sidecar` v0.42 parses (the global ones too, which kingpin accepts before or
/// after the command word), in Thanos' `--help` order, with Thanos' defaults; then Skiff's own.
/// `SidecarLaunch` turns them into a `SidecarConfiguration`; no flag here is parsed and left
/// unused (`SidecarFlagsTests` reads each one).
enum SidecarFlags {
    static let global: [FlagSpec] = [
        FlagSpec("log.level", .choice(["error", "warn", "info", "debug"]), default: "info", help: "Log filtering level."),
        FlagSpec(
            "log.format", .choice(["logfmt", "json", "journald"]), default: "logfmt",
            help: "Log format: logfmt or json (journald is Thanos-only and refused at start)."),
        FlagSpec(
            "tracing.config-file", placeholder: "<file-path>",
            help: "Tracing config YAML file; $(VAR) is replaced from the environment."),
        FlagSpec("tracing.config", placeholder: "<content>", help: "Tracing config YAML (instead of the file)."),
        FlagSpec(
            "enable-auto-gomemlimit", .boolean,
            help: "Go runtime setting; accepted for compatibility and has no effect in Skiff (logged at start)."),
        FlagSpec(
            "auto-gomemlimit.ratio", default: "0.9",
            help: "Go runtime setting, checked as Thanos checks it (0 < ratio <= 1); has no effect in Skiff."),
        FlagSpec("debug.name", hidden: true, help: "Name added as a prefix to every log line."),
    ]

    static let sidecar: [FlagSpec] = [
        FlagSpec("http-address", default: "0.0.0.0:10902", help: "Listen host:port for /-/healthy, /-/ready and /metrics."),
        FlagSpec("http-grace-period", default: "2m", help: "How long HTTP requests may finish on shutdown."),
        FlagSpec(
            "http.config", default: "", placeholder: "<path>",
            help: "Web config file (TLS and basic auth for the HTTP endpoints, exporter-toolkit format)."),
        FlagSpec("grpc-address", default: "0.0.0.0:10901", help: "Listen ip:port for the StoreAPI and Info (gRPC)."),
        FlagSpec("grpc-server-tls-cert", default: "", help: "TLS certificate for the gRPC server; empty: no TLS."),
        FlagSpec("grpc-server-tls-key", default: "", help: "TLS key for the gRPC server; empty: no TLS."),
        FlagSpec(
            "grpc-server-tls-client-ca", default: "",
            help: "CA that client certificates must chain to (mutual TLS); empty: no client certificates."),
        FlagSpec(
            "grpc-server-tls-min-version", .choice(["1.0", "1.1", "1.2", "1.3"]), default: "1.3",
            help: "Lowest TLS version the gRPC server accepts."),
        FlagSpec(
            "grpc-server-tls-ciphers", .repeatable, placeholder: "<cipher>",
            help: "TLS 1.2 cipher suite by Go's name (repeatable; a comma-joined list works too)."),
        FlagSpec(
            "grpc-server-tls-curves", .repeatable, placeholder: "<curve>",
            help: "Key exchange curve by Go's name, e.g. X25519, CurveP256 (repeatable; comma-joined works too)."),
        FlagSpec(
            "grpc-server-max-connection-age", default: "60m",
            help: "Close gRPC connections after this age so clients reconnect (and redo TLS handshakes)."),
        FlagSpec("grpc-grace-period", default: "2m", help: "How long gRPC calls may finish on shutdown."),
        FlagSpec(
            "prometheus.url", default: "http://localhost:9090", help: "URL of Prometheus; its path is kept as a prefix."),
        FlagSpec(
            "prometheus.ready_timeout", default: "10m",
            help: "How long to wait for Prometheus' external labels before giving up."),
        FlagSpec(
            "prometheus.get_config_interval", default: "30s",
            help: "How often Prometheus' config, flags and version are read (and retried)."),
        FlagSpec("prometheus.get_config_timeout", default: "30s", help: "Timeout of each of those reads."),
        FlagSpec(
            "prometheus.http-client-file", placeholder: "<file-path>",
            help: "HTTP client YAML for Prometheus (basic_auth, bearer_token, tls_config, transport)."),
        FlagSpec("prometheus.http-client", placeholder: "<content>", help: "HTTP client YAML (instead of the file)."),
        FlagSpec("tsdb.path", default: "./data", help: "Prometheus' data directory."),
        FlagSpec("reloader.config-file", default: "", help: "Prometheus config file to watch; a change reloads Prometheus."),
        FlagSpec(
            "reloader.config-envsubst-file", default: "",
            help: "Where to write the watched config, gunzipped and with $(VAR) replaced from the environment."),
        FlagSpec(
            "reloader.rule-dir", .repeatable, placeholder: "<dir>",
            help: "Rule directory to watch; a change reloads Prometheus (repeatable)."),
        FlagSpec(
            "reloader.watch-interval", default: "3m",
            help: "How often the watched files are checked even without a change event; 0 writes the output once."),
        FlagSpec("reloader.retry-interval", default: "5s", help: "How soon a failed reload is tried again."),
        FlagSpec(
            "reloader.method", .choice(["http", "signal"]), default: "http",
            help: "How Prometheus is reloaded: http (POST /-/reload) or signal (SIGHUP)."),
        FlagSpec(
            "reloader.process-name", default: "prometheus", help: "The process to send SIGHUP with --reloader.method=signal."),
        FlagSpec(
            "request.logging-config-file", placeholder: "<file-path>",
            help: "Request logging YAML for gRPC and HTTP; $(VAR) is replaced from the environment."),
        FlagSpec(
            "request.logging-config", placeholder: "<content>", help: "Request logging YAML (instead of the file)."),
        FlagSpec(
            "objstore.config-file", placeholder: "<file-path>",
            help: "Bucket config YAML (Thanos objstore format); $(VAR) is replaced. Without one nothing is uploaded."),
        FlagSpec("objstore.config", placeholder: "<content>", help: "Bucket config YAML (instead of the file)."),
        FlagSpec("shipper.upload-compacted", .boolean, help: "Also upload compacted blocks (level > 1), e.g. to migrate."),
        FlagSpec(
            "shipper.ignore-unequal-block-size", .boolean, hidden: true,
            help: "Ship even when Prometheus' min and max block durations differ."),
        FlagSpec(
            "shipper.allow-out-of-order-uploads", .boolean, hidden: true,
            help: "A block that fails to upload does not hold back newer ones."),
        FlagSpec(
            "shipper.skip-corrupted-blocks", .boolean,
            help: "Accepted for compatibility: Skiff always quarantines a corrupt block and ships the newer ones."),
        FlagSpec(
            "hash-func", .choice(["", "SHA256"]), default: "",
            help: "Accepted for compatibility: Skiff always records SHA-256 hashes (meta.json and the ledger)."),
        FlagSpec(
            "shipper.meta-file-name", default: "thanos.shipper.json",
            help: "Name of the file in --tsdb.path listing uploaded blocks (Prometheus' delay-compact-file)."),
        FlagSpec(
            "shipper.upload-concurrency", default: "0", help: "Files of a block uploaded at once (0 means 1)."),
        FlagSpec(
            "store.limits.request-series", default: "0", help: "Most series one Series call may return (0: no limit)."),
        FlagSpec(
            "store.limits.request-samples", default: "0",
            help: "Most samples one Series call may return, counted as chunks x 120 (0: no limit)."),
        FlagSpec(
            "min-time", default: "0000-01-01T00:00:00Z",
            help: "Oldest data served: RFC3339, or a duration from now such as -2d (past) or 2h45m (future)."),
    ]

    /// Skiff's own flags, which Thanos does not have.
    static let skiff: [FlagSpec] = [
        FlagSpec(
            "ledger.path", placeholder: "<file-path>", help: "SQLite ledger file (default: <tsdb.path>/thanos/skiff-ledger.db)."),
        FlagSpec("shipper.sync-interval", default: "30s", help: "How often to look for new blocks."),
        FlagSpec(
            "reconcile.interval", default: "10m", help: "How often to compare local dirs, ledger and bucket (0 turns it off)."),
        FlagSpec("reconcile.repair", .boolean, help: "Let the periodic reconcile repair drift (as skiff reconcile --repair)."),
        FlagSpec(
            "audit.export", .boolean,
            help: "Export the ledger's transitions to the bucket under skiff-audit/v1/ for `skiff fleet report`."),
        FlagSpec("audit.export-interval", default: "5m", help: "How often transitions are exported (with --audit.export)."),
        FlagSpec(
            "audit.export-max-rows", default: "10000",
            help: "Most transitions in one exported object; this many waiting export at once."),
    ]

    static let all = global + sidecar + skiff
}
