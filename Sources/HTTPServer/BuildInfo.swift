/// What this binary is: the one place Skiff's version lives (`skiff --version` and
/// `thanos_build_info` both read it), and the labels of `thanos_build_info`.
///
/// Thanos exports `thanos_build_info` through client_golang's `collectors/version`, which labels it
/// with prometheus/common's `version` variables. Skiff fills the same labels with its own facts, so a
/// dashboard grouping by `version` or `goos` works unchanged:
/// - `goversion` holds the Swift compiler's version ("swift6.2"), in the place and shape of Go's
///   `runtime.Version()` ("go1.24.0"): it is the toolchain that built the binary, which is what the
///   label tells an operator. It is known only to the minor version (`#if compiler` has no patch).
/// - `goos` and `goarch` use Go's names (`linux`, `darwin`; `amd64`, `arm64`), as dashboards filter on them.
/// - `revision`, `branch` and `tags`: "unknown", which is what prometheus/common reports for a build
///   without VCS stamping. SwiftPM can only learn the git revision through a build-tool plugin.
public enum BuildInfo {
    /// Skiff's version (semantic versioning, no "v").
    public static let version = "0.1.0"
    public static let revision = "unknown"
    public static let branch = "unknown"
    public static let tags = "unknown"

    public static let swiftVersion: String = {
        #if compiler(>=6.4)
        return "swift6.4"
        #elseif compiler(>=6.3)
        return "swift6.3"
        #elseif compiler(>=6.2)
        return "swift6.2"
        #elseif compiler(>=6.1)
        return "swift6.1"
        #else
        return "swift6.0"
        #endif
    }()

    public static let os: String = {
        #if os(Linux)
        return "linux"
        #elseif os(macOS)
        return "darwin"
        #else
        return "unknown"
        #endif
    }()

    public static let arch: String = {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }()

    /// client_golang's help text, with Thanos' program name.
    static let help =
        "A metric with a constant '1' value labeled by version, revision, branch, goversion from which thanos was "
        + "built, and the goos and goarch for the build."

    /// `thanos_build_info`'s labels, sorted by name as client_golang writes them.
    static var labels: [(String, String)] {
        [
            ("branch", branch), ("goarch", arch), ("goos", os), ("goversion", swiftVersion), ("revision", revision),
            ("tags", tags), ("version", version),
        ]
    }
}
