import NIOSSL

/// `--grpc-server-tls-min-version`: Thanos' enum (pkg/tls `GetTlsVersion`), default "1.3".
///
/// BoringSSL, which NIOSSL bundles, still negotiates TLS 1.0 and 1.1 when the minimum allows them,
/// so every value Thanos accepts is served for real.
public enum GRPCServerTLSVersion: String, Sendable, CaseIterable {
    case tls10 = "1.0"
    case tls11 = "1.1"
    case tls12 = "1.2"
    case tls13 = "1.3"

    public static let thanosDefault = GRPCServerTLSVersion.tls13

    /// Parses the flag's value; an unknown one gets Thanos' message, prefixed with the flag.
    public init(flag value: String) throws(GRPCServerTLSError) {
        guard let version = GRPCServerTLSVersion(rawValue: value) else {
            let valid = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw GRPCServerTLSError(
                description: "--grpc-server-tls-min-version: invalid TLS version: \(value), valid values are \(valid)")
        }
        self = version
    }

    var nioSSL: TLSVersion {
        switch self {
        case .tls10: .tlsv1
        case .tls11: .tlsv11
        case .tls12: .tlsv12
        case .tls13: .tlsv13
        }
    }
}

/// The values of a repeatable list flag. Each occurrence may also hold several names joined by
/// commas: prometheus-operator v0.91 to v0.93 emits `--grpc-server-tls-ciphers=A,B` that way, which
/// Thanos itself rejects; accepting both forms is what lets a drop-in run under those operators.
func splitFlagValues(_ occurrences: [String]) -> [String] {
    occurrences.flatMap { occurrence in
        occurrence.split(separator: ",", omittingEmptySubsequences: false).map { piece in
            // "A, B" written by hand reads as two names too.
            let start = piece.drop(while: \.isWhitespace)
            return String(start.dropLast(start.reversed().prefix(while: \.isWhitespace).count))
        }
    }
}

/// `--grpc-server-tls-ciphers`: Go's `crypto/tls` names, as `tls.CipherSuites()` (Go 1.26, which
/// Thanos v0.42 is built with) lists them; Thanos accepts exactly these.
enum GoCipherSuite {
    /// Name and IANA code point of each suite Go calls secure.
    static let all: [(name: String, id: UInt16)] = [
        ("TLS_AES_128_GCM_SHA256", 0x1301),
        ("TLS_AES_256_GCM_SHA384", 0x1302),
        ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xC009),
        ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xC00A),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC013),
        ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xC014),
        ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02B),
        ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xC02C),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC02F),
        ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xC030),
        ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA8),
        ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9),
    ]

    /// The TLS 1.3 suites. Neither Go nor BoringSSL lets them be chosen: Go accepts their names in
    /// `CipherSuites` and ignores them, and so does Skiff.
    static let tls13: Set<UInt16> = [0x1301, 0x1302, 0x1303]

    /// Go's default for TLS 1.0 to 1.2 when no suite is given (Go 1.22 dropped RSA key exchange
    /// from it): every ECDHE suite above. NIOSSL's own default would also offer RSA key exchange.
    static var defaultSuites: [NIOTLSCipher] {
        all.filter { !tls13.contains($0.id) }.map { NIOTLSCipher(rawValue: $0.id) }
    }

    /// The suites named by the flag's occurrences, in order, without repeats, TLS 1.3 ones left out.
    /// Thanos' message for an unknown name, which lists the valid ones in Go's sort order.
    static func parse(_ occurrences: [String]) throws(GRPCServerTLSError) -> [NIOTLSCipher] {
        var suites: [NIOTLSCipher] = []
        for name in splitFlagValues(occurrences) {
            guard let id = all.first(where: { $0.name == name })?.id else {
                let valid = all.map(\.name).sorted().joined(separator: ", ")
                throw GRPCServerTLSError(
                    description: "--grpc-server-tls-ciphers: invalid cipher suite: \(name), valid values are \(valid)")
            }
            if !tls13.contains(id), !suites.contains(NIOTLSCipher(rawValue: id)) {
                suites.append(NIOTLSCipher(rawValue: id))
            }
        }
        return suites
    }
}

/// `--grpc-server-tls-curves`: the names Thanos maps to Go's `tls.CurveID`s (pkg/tls `getCurveIDs`).
enum GoCurve {
    /// Name and IANA group ID; nil where the BoringSSL bundled with NIOSSL has no such group.
    static let all: [(name: String, group: NIOTLSCurve?)] = [
        ("CurveP256", .secp256r1),
        ("CurveP384", .secp384r1),
        ("CurveP521", .secp521r1),
        ("X25519", .x25519),
        ("X25519MLKEM768", .x25519_MLKEM768),
        // BoringSSL implements neither hybrid of ML-KEM with a NIST curve (0x11EB, 0x11ED).
        ("SecP256r1MLKEM768", nil),
        ("SecP384r1MLKEM1024", nil),
    ]

    /// Go's default preference (Go 1.24 and later) when no curve is given.
    static let defaultGroups: [NIOTLSCurve] = [.x25519_MLKEM768, .x25519, .secp256r1, .secp384r1, .secp521r1]

    /// The groups named by the flag's occurrences, in order, without repeats (BoringSSL refuses a
    /// list with a group twice; Go accepts one).
    static func parse(_ occurrences: [String]) throws(GRPCServerTLSError) -> [NIOTLSCurve] {
        var groups: [NIOTLSCurve] = []
        for name in splitFlagValues(occurrences) {
            guard let entry = all.first(where: { $0.name == name }) else {
                let valid = all.map(\.name).sorted().joined(separator: ", ")
                throw GRPCServerTLSError(
                    description: "--grpc-server-tls-curves: invalid curve: \(name), valid values are \(valid)")
            }
            guard let group = entry.group else {
                let served = all.filter { $0.group != nil }.map(\.name).joined(separator: ", ")
                throw GRPCServerTLSError(
                    description:
                        "--grpc-server-tls-curves: \(name) is valid in Thanos but Skiff's TLS library (BoringSSL) "
                        + "cannot offer it; use one of \(served)")
            }
            if !groups.contains(group) { groups.append(group) }
        }
        return groups
    }
}
