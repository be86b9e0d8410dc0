import ObjectStorage
import ObjstoreConfig
import S3
import SkiffCore
import Testing

/// `type: S3` objstore YAML: Thanos' keys, credentials from the environment, and a clear error
/// for every key Skiff does not support yet.
@Suite struct S3ConfigTests {
    static let minimal = "type: S3\nconfig:\n  bucket: thanos\n  endpoint: 127.0.0.1:9000\n"

    func parse(_ yaml: String, environment: [String: String] = [:]) throws(SkiffError) -> S3Config {
        let config = try BucketConfig.parse(yaml: yaml, environment: environment)
        guard case .s3(let s3) = config.provider else {
            throw SkiffError(.invalidArgument, "not an S3 config")
        }
        return s3
    }

    @Test func fullThanosConfig() throws {
        let yaml = """
            type: s3
            config:
              bucket: thanos
              endpoint: minio.local:9000
              region: eu-west-1
              access_key: AKIAEXAMPLE
              secret_key: SECRETEXAMPLE
              insecure: true
              put_user_metadata:
                team: observability
              http_config:
                idle_conn_timeout: 1m30s
                response_header_timeout: 2m
                tls_handshake_timeout: 5s
                max_idle_conns: 100
                max_idle_conns_per_host: 100
                max_conns_per_host: 8
                expect_continue_timeout: 1s
                insecure_skip_verify: false
              list_objects_version: v1
              bucket_lookup_type: path
              part_size: 16777216
              send_content_md5: true
              disable_dualstack: false
              max_retries: 3
              sse_config:
              trace:
                enable: false
            prefix: tenant-a
            """
        let config = try parse(yaml)
        #expect(config.bucket == "thanos")
        #expect(config.endpoint == "minio.local:9000")
        #expect(config.region == "eu-west-1")
        #expect(config.accessKey == "AKIAEXAMPLE")
        #expect(config.insecure)
        #expect(config.userMetadata == ["team": "observability"])
        #expect(config.transport.idleConnectionTimeoutMillis == 90_000)
        #expect(config.transport.responseHeaderTimeoutMillis == 120_000)
        #expect(config.transport.tlsHandshakeTimeoutMillis == 5_000)
        #expect(config.transport.maxConnectionsPerHost == 8)
        #expect(config.listObjectsVersion == .v1)
        #expect(config.addressing == .path)
        #expect(config.partSize == 16 << 20)
        #expect(config.maxRetries == 3)
        #expect(try BucketConfig.parse(yaml: yaml).prefix == "tenant-a")
    }

    @Test func defaultsMatchThanos() throws {
        let config = try parse(Self.minimal, environment: ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"])
        #expect(config.region == "us-east-1")
        #expect(config.partSize == 64 << 20)
        #expect(config.listObjectsVersion == .v2)
        #expect(config.addressing == .auto)
        #expect(!config.insecure)
        #expect(config.transport.responseHeaderTimeoutMillis == 120_000)
    }

    @Test func credentialsFromTheEnvironment() throws {
        let config = try parse(
            Self.minimal,
            environment: ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "SKENV", "AWS_SESSION_TOKEN": "TOKEN"])
        #expect(config.accessKey == "AKENV")
        #expect(config.hasSessionToken)
        // Keys in the file win, and then the environment's token is not mixed in.
        let fromFile = try parse(
            Self.minimal + "  access_key: AKFILE\n  secret_key: SKFILE\n",
            environment: ["AWS_ACCESS_KEY_ID": "AKENV", "AWS_SECRET_ACCESS_KEY": "SKENV", "AWS_SESSION_TOKEN": "TOKEN"])
        #expect(fromFile.accessKey == "AKFILE")
        #expect(!fromFile.hasSessionToken)
        // $(VAR) substitution works for secrets too, as in Thanos.
        let substituted = try parse(
            Self.minimal + "  access_key: $(AK)\n  secret_key: $(SK)\n", environment: ["AK": "AKSUB", "SK": "SKSUB"])
        #expect(substituted.accessKey == "AKSUB")
    }

    @Test func descriptionNeverShowsSecrets() throws {
        let config = try parse(
            Self.minimal + "  access_key: AKIAEXAMPLE\n  secret_key: VERYSECRET\n  session_token: TOKENSECRET\n")
        for text in ["\(config)", String(describing: config), String(reflecting: config)] {
            #expect(!text.contains("VERYSECRET"), "\(text)")
            #expect(!text.contains("TOKENSECRET"), "\(text)")
        }
        #expect("\(config)".contains("s3://thanos at https://127.0.0.1:9000"))
    }

    @Test(arguments: [
        ("type: S3\nconfig: {endpoint: e:1}", "S3 needs config.bucket"),
        ("type: S3\nconfig: {bucket: b}", "S3 needs config.endpoint"),
        ("type: S3\nconfig: {bucket: b, endpoint: 'https://s3.amazonaws.com'}", "without a scheme"),
        ("type: S3\nconfig: {bucket: b, endpoint: 'e:1/path'}", "without a path"),
        ("type: S3\nconfig: {bucket: b, endpoint: e}", "no S3 credentials"),
        ("type: S3\nconfig: {bucket: b, endpoint: e, access_key: a}", "set both config.access_key and config.secret_key"),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, acces_key: a}",
            #"bucket config: unknown key "config.acces_key"; allowed here: bucket, endpoint,"#
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, sse_config: {type: SSE-S3}}",
            "config.sse_config is not supported yet"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, signature_version2: true}",
            "config.signature_version2 is not supported yet"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, aws_sdk_auth: true}",
            "config.aws_sdk_auth is not supported yet"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, sts_endpoint: sts.local}",
            "config.sts_endpoint is not supported yet"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, trace: {enable: true}}",
            "config.trace.enable is not supported yet"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, part_size: 1024}",
            "config.part_size must be between 5 MiB"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, list_objects_version: v3}",
            "config.list_objects_version must be v1 or v2"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, bucket_lookup_type: dns}",
            "config.bucket_lookup_type must be auto, virtual-host or path"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, insecure: maybe}",
            "bucket config: config.insecure must be true or false"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, http_config: {idle_conn_timeout: soon}}",
            "bucket config: config.http_config.idle_conn_timeout must be a duration such as 500ms, 90s or 2m, or integer nanoseconds"
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, http_config: {bogus: 1}}",
            #"bucket config: unknown key "config.http_config.bogus"; allowed here: idle_conn_timeout,"#
        ),
        (
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, http_config: {tls_config: {cert_file: c}}}",
            "bucket config: config.http_config.tls_config needs both cert_file and key_file, or neither"
        ),
    ])
    func rejected(_ yaml: String, _ message: String) {
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml, environment: [:]) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "got: \(String(describing: error?.message))")
    }

    /// S3's `http_config` reads durations and booleans as `--prometheus.http-client` does (one
    /// reader): integer nanoseconds or a duration string, and yaml.v2's booleans.
    @Test func httpConfigTakesNanosecondsAndGoBooleans() throws {
        let yaml =
            Self.minimal + """
                  access_key: a
                  secret_key: s
                  insecure: Yes
                  disable_multipart: off
                  http_config:
                    idle_conn_timeout: 30000000000
                    response_header_timeout: 0
                    tls_handshake_timeout: 1500ms
                    tls_config:
                      insecure_skip_verify: ON

                """
        let config = try parse(yaml)
        #expect(config.insecure && !config.disableMultipart)
        #expect(config.transport.idleConnectionTimeoutMillis == 30_000)
        #expect(config.transport.responseHeaderTimeoutMillis == 0)
        #expect(config.transport.tlsHandshakeTimeoutMillis == 1_500)
        #expect(config.tls.insecureSkipVerify)
    }

    /// yaml.v2 refuses a quoted boolean and case variants beyond lower, Capitalised and UPPER.
    @Test(arguments: ["'true'", "\"yes\"", "tRUE", "1", "enabled"])
    func notAGoBoolean(_ value: String) {
        let yaml = "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, insecure: \(value)}"
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml, environment: [:]) }
        #expect(error?.message == "bucket config: config.insecure must be true or false")
    }

    @Test func durationErrorsNeverEchoTheValue() {
        let yaml =
            "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: s, http_config: {idle_conn_timeout: S3CR3Tish}}"
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml, environment: [:]) }
        #expect(error?.message.contains("S3CR3Tish") == false)
    }

    @Test func errorsNeverEchoTheSecret() {
        let yaml = "type: S3\nconfig: {bucket: b, endpoint: e, access_key: a, secret_key: TOPSECRET, max_retries: many}"
        let error = #expect(throws: SkiffError.self) { try BucketConfig.parse(yaml: yaml, environment: [:]) }
        #expect(error?.message.contains("TOPSECRET") == false)
    }

    /// One tls_config rule for both clients: a server_name other than the host cannot be sent
    /// (AsyncHTTPClient has no SNI override), so it is refused instead of silently ignored.
    @Test func serverNameOtherThanTheHostIsRefused() async throws {
        let yaml =
            Self.minimal + "  access_key: a\n  secret_key: s\n  http_config:\n    tls_config:\n      server_name: other.local\n"
        let config = try BucketConfig.parse(yaml: yaml, environment: [:])
        let error = #expect(throws: SkiffError.self) { _ = try config.makeBucket() }
        #expect(error?.message.contains("config.http_config.tls_config.server_name") == true, "\(String(describing: error))")
        let same =
            Self.minimal + "  access_key: a\n  secret_key: s\n  http_config:\n    tls_config:\n      server_name: 127.0.0.1\n"
        let bucket = try BucketConfig.parse(yaml: same, environment: [:]).makeBucket()
        await bucket.shutdown()
    }

    @Test func missingCAFileIsAClearErrorAtMakeBucket() throws {
        let yaml =
            Self.minimal
            + "  access_key: a\n  secret_key: s\n  http_config:\n    tls_config:\n      ca_file: /nonexistent/ca.pem\n"
        let config = try BucketConfig.parse(yaml: yaml, environment: [:])
        let error = #expect(throws: SkiffError.self) { _ = try config.makeBucket() }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("tls_config") == true)
    }
}
