/// One command-line flag as kingpin declares it: its name, how it takes a value, its default and
/// its help line. `skiff sidecar` lists Thanos' flags this way so it parses exactly what
/// `thanos sidecar` parses.
public struct FlagSpec: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `--name=value` or `--name value`, at most once.
        case value
        /// `--name` sets true, `--no-name` sets false; never a value.
        case boolean
        /// A value, given as often as wanted (kingpin's `Strings`).
        case repeatable
        /// A value out of a fixed list (kingpin's `Enum`), at most once.
        case choice([String])
    }

    public let name: String
    public let kind: Kind
    /// What an unset flag reads as; nil when it has none (shown in help when set).
    public let defaultValue: String?
    /// What `--help` shows after the flag, e.g. `<path>`.
    public let placeholder: String?
    public let help: String
    /// Parsed but not listed in `--help`, as kingpin's `Hidden()`.
    public let hidden: Bool

    public init(
        _ name: String, _ kind: Kind = .value, default defaultValue: String? = nil, placeholder: String? = nil,
        hidden: Bool = false, help: String
    ) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.placeholder = placeholder
        self.help = help
        self.hidden = hidden
    }

    public var takesValue: Bool { kind != .boolean }
}

/// Why the command line was refused, in kingpin's words where kingpin has them (deployments and
/// their docs quote those), followed by what to do.
public struct FlagParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
