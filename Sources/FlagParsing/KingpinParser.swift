/// Parses a command line the way kingpin v2.4 (Thanos' flag library) does, so every argument
/// list that starts `thanos sidecar` starts `skiff sidecar` too:
///
/// - `--name=value` (split at the first `=`) and `--name value`;
/// - booleans as `--name` / `--no-name`, never with a value (`--name=false` is refused);
/// - a flag that is not repeatable given twice is an error, repeatable ones collect;
/// - `@path` is replaced by the arguments in that file, one per line (`#` lines and blank lines
///   skipped), as kingpin's `EnableFileExpansion`; files may name other files, to a bounded depth;
/// - after `--` everything is an argument;
/// - an unknown flag is an error naming it.
///
/// Kingpin reads `--min-time -2d` as a flag `-2`; a value that starts with `-` and a digit is
/// taken as the value here, so negative durations work in both spellings.
///
/// The parser is linear in the number of arguments (dictionary lookups), so even a generated
/// list of tens of thousands of flags parses at once.
public struct KingpinParser: Sendable {
    public enum Outcome: Sendable {
        case flags(ParsedFlags)
        /// `-h`, `--help` (also `--help-long`, `--help-man`): print help, exit 0.
        case help
        /// `--version`: print the version, exit 0.
        case version
    }

    /// How deep `@file` arguments may name further `@file`s (a file naming itself ends here).
    public static let maxExpansionDepth = 10

    let specs: [String: FlagSpec]

    public init(_ specs: [FlagSpec]) {
        var byName: [String: FlagSpec] = [:]
        for spec in specs { byName[spec.name] = spec }
        self.specs = byName
    }

    /// `readFile` returns an `@file`'s text or throws a message saying why it could not.
    public func parse(
        _ arguments: [String], readFile: (String) throws(FlagParseError) -> String
    ) throws(FlagParseError) -> Outcome {
        let expanded = try Self.expand(arguments, readFile: readFile, depth: 0)
        var given: [String: [String]] = [:]
        var positionals: [String] = []
        var index = 0
        var argumentsOnly = false
        var wantsHelp = false
        var wantsVersion = false

        while index < expanded.count {
            let argument = expanded[index]
            index += 1
            if argumentsOnly {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                argumentsOnly = true
                continue
            }
            if argument == "-h" {
                wantsHelp = true
                continue
            }
            guard argument.hasPrefix("--") else {
                if argument.hasPrefix("-") && argument.count > 1 {
                    throw FlagParseError("unknown short flag '\(argument.prefix(2))'")
                }
                positionals.append(argument)
                continue
            }
            let body = argument.dropFirst(2)
            let name: String
            var inlineValue: String?
            if let equals = body.firstIndex(of: "=") {
                name = String(body[..<equals])
                inlineValue = String(body[body.index(after: equals)...])
            } else {
                name = String(body)
            }
            switch name {
            case "help", "help-long", "help-man":
                wantsHelp = true
                continue
            case "version":
                wantsVersion = true
                continue
            default: break
            }

            var spec = specs[name]
            var negated = false
            if spec == nil, name.hasPrefix("no-"), let positive = specs[String(name.dropFirst(3))] {
                spec = positive
                negated = true
            }
            guard let spec else { throw FlagParseError("unknown long flag '--\(name)'") }
            if negated && spec.takesValue { throw FlagParseError("unknown long flag '--\(name)'") }

            let value: String
            if spec.takesValue {
                if let inlineValue {
                    value = inlineValue
                } else if index < expanded.count, Self.canBeValue(expanded[index]) {
                    value = expanded[index]
                    index += 1
                } else {
                    throw FlagParseError("expected argument for flag '--\(name)'")
                }
            } else {
                if let inlineValue {
                    throw FlagParseError(
                        "unexpected \(inlineValue): --\(spec.name) is a boolean flag and takes no value; "
                            + "pass --\(spec.name) or --no-\(spec.name)")
                }
                value = negated ? "false" : "true"
            }
            if case .choice(let options) = spec.kind, !options.contains(value) {
                throw FlagParseError(
                    "--\(spec.name): enum value must be one of \(options.joined(separator: ",")), got '\(value)'")
            }
            if given[spec.name] != nil && spec.kind != .repeatable {
                throw FlagParseError("flag '\(spec.name)' cannot be repeated")
            }
            given[spec.name, default: []].append(value)
        }
        if wantsHelp { return .help }
        if wantsVersion { return .version }
        return .flags(ParsedFlags(specs: specs, given: given, positionals: positionals))
    }

    /// The next argument is this flag's value unless it is another flag. `-2d` is a value.
    private static func canBeValue(_ argument: String) -> Bool {
        if argument.hasPrefix("--") { return false }
        guard argument.hasPrefix("-"), argument.count > 1 else { return true }
        let second = argument[argument.index(after: argument.startIndex)]
        return second.isASCII && second.isNumber
    }

    /// Replaces every `@path` argument (before `--`) by the file's arguments.
    static func expand(
        _ arguments: [String], readFile: (String) throws(FlagParseError) -> String, depth: Int
    ) throws(FlagParseError) -> [String] {
        guard arguments.contains(where: { $0.hasPrefix("@") }) else { return arguments }
        var out: [String] = []
        out.reserveCapacity(arguments.count)
        var argumentsOnly = false
        for argument in arguments {
            if argument == "--" { argumentsOnly = true }
            guard !argumentsOnly, argument.hasPrefix("@") else {
                out.append(argument)
                continue
            }
            let path = String(argument.dropFirst())
            guard !path.isEmpty else { throw FlagParseError("expected @ file to expand arguments from") }
            guard depth < maxExpansionDepth else {
                throw FlagParseError(
                    "@\(path): argument files nest more than \(maxExpansionDepth) deep; does one name itself?")
            }
            // "\r\n" is one Character in Swift, so CRLF files split here too, as Go's ScanLines does.
            let lines = try readFile(path).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            let fileArguments = lines.compactMap { line -> String? in
                if line.hasPrefix("#") || line.allSatisfy(\.isWhitespace) { return nil }
                return String(line)
            }
            out.append(contentsOf: try expand(fileArguments, readFile: readFile, depth: depth + 1))
        }
        return out
    }
}
