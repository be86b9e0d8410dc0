/// The flags a command line set, read through the specs so an unset flag reads as its default.
public struct ParsedFlags: Sendable {
    let specs: [String: FlagSpec]
    /// Every value given per flag name, in command-line order (booleans as "true"/"false").
    let given: [String: [String]]
    /// Arguments that are not flags (the command word, for instance).
    public let positionals: [String]

    /// The flag's value, its default when unset, "" when it has neither.
    public func string(_ name: String) -> String {
        given[name]?.last ?? spec(name).defaultValue ?? ""
    }

    /// The value when the user set the flag, nil otherwise (for `*-file` / content pairs).
    public func ifSet(_ name: String) -> String? {
        spec(name)
        return given[name]?.last
    }

    public func bool(_ name: String) -> Bool {
        string(name) == "true"
    }

    /// Every value of a repeatable flag, in order.
    public func strings(_ name: String) -> [String] {
        spec(name)
        return given[name] ?? []
    }

    public func isSet(_ name: String) -> Bool {
        spec(name)
        return given[name] != nil
    }

    /// The flags the user set, by name.
    public var namesSet: [String] { given.keys.sorted() }

    /// Reading a flag the table does not declare is a programming error, caught in debug builds
    /// by the tests that read every flag; a release build reads it as unset.
    @discardableResult
    private func spec(_ name: String) -> FlagSpec {
        guard let spec = specs[name] else {
            assertionFailure("flag --\(name) is not declared")
            return FlagSpec(name, help: "")
        }
        return spec
    }
}
