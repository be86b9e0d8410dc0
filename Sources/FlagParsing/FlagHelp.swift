/// `--help` text in kingpin's layout: a usage line, the command's summary, then one entry per
/// visible flag (`--[no-]name` for booleans, `--name=default` or `--name=<placeholder>`
/// otherwise) with its help wrapped beside it.
public enum FlagHelp {
    public static func render(usage: String, summary: String, flags: [FlagSpec], width: Int = 100) -> String {
        var lines = ["usage: \(usage)", ""] + wrap(summary, width: width) + ["", "Flags:"]
        let visible = flags.filter { !$0.hidden }
        let help = FlagSpec("help", .boolean, help: "Show context-sensitive help.")
        let version = FlagSpec("version", .boolean, help: "Show application version.")
        let entries = ([help, version] + visible).map { spec in (label(spec), spec.help) }
        let column = min(entries.map(\.0.count).max() ?? 0, 44) + 6
        for (label, text) in entries {
            let prefix = (label.hasPrefix("--[no-]help") ? "  -h, " : "      ") + label
            let wrapped = wrap(text, width: max(width - column, 30))
            let padding = String(repeating: " ", count: max(column - prefix.count, 2))
            if prefix.count + 2 > column {
                lines.append(prefix)
                lines.append(contentsOf: wrapped.map { String(repeating: " ", count: column) + $0 })
            } else {
                lines.append(prefix + padding + (wrapped.first ?? ""))
                lines.append(contentsOf: wrapped.dropFirst().map { String(repeating: " ", count: column) + $0 })
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Words joined into lines of at most `width` characters (a longer word gets its own line).
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static func label(_ spec: FlagSpec) -> String {
        switch spec.kind {
        case .boolean: return "--[no-]\(spec.name)"
        case .value, .choice, .repeatable:
            let shown =
                if let value = spec.defaultValue { "\"\(value)\"" } else {
                    spec.placeholder ?? "<\(spec.name.split(separator: ".").last ?? "value")>"
                }
            return "--\(spec.name)=\(shown)" + (spec.kind == .repeatable ? " ..." : "")
        }
    }
}
