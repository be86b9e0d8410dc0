import FlagParsing
import Testing

/// Kingpin's parsing rules (alecthomas/kingpin v2.4 parser.go, flags.go, app.go), one by one.
@Suite struct KingpinParserTests {
    let specs = [
        FlagSpec("tsdb.path", default: "./data", help: ""),
        FlagSpec("log.level", .choice(["error", "warn", "info", "debug"]), default: "info", help: ""),
        FlagSpec("shipper.upload-compacted", .boolean, help: ""),
        FlagSpec("reloader.rule-dir", .repeatable, help: ""),
        FlagSpec("hash-func", .choice(["", "SHA256"]), default: "", help: ""),
        FlagSpec("min-time", default: "0000-01-01T00:00:00Z", help: ""),
        FlagSpec("objstore.config", help: ""),
    ]

    func parse(_ arguments: [String], files: [String: String] = [:]) throws(FlagParseError) -> KingpinParser.Outcome {
        try KingpinParser(specs).parse(arguments) { path throws(FlagParseError) in
            guard let text = files[path] else { throw FlagParseError("failed to open arguments file \"\(path)\"") }
            return text
        }
    }

    func flags(_ arguments: [String], files: [String: String] = [:]) throws -> ParsedFlags {
        guard case .flags(let flags) = try parse(arguments, files: files) else {
            Issue.record("expected flags")
            throw FlagParseError("not flags")
        }
        return flags
    }

    func refusal(_ arguments: [String], files: [String: String] = [:]) -> String? {
        do {
            _ = try parse(arguments, files: files)
            return nil
        } catch { return error.description }
    }

    @Test func valuesWithEqualsOrSpaceAndDefaults() throws {
        let a = try flags(["sidecar", "--tsdb.path=/prometheus", "--log.level", "debug"])
        #expect(a.string("tsdb.path") == "/prometheus")
        #expect(a.string("log.level") == "debug")
        #expect(a.positionals == ["sidecar"])
        let b = try flags(["sidecar"])
        #expect(b.string("tsdb.path") == "./data")
        #expect(b.string("log.level") == "info")
        #expect(b.ifSet("tsdb.path") == nil)
        #expect(!b.isSet("tsdb.path"))
        // The value is split at the first "=" only; an empty value is a value.
        let c = try flags(["--objstore.config=type: S3\nconfig: {a: b=c}", "--tsdb.path="])
        #expect(c.string("objstore.config") == "type: S3\nconfig: {a: b=c}")
        #expect(c.ifSet("tsdb.path") == "")
    }

    @Test func booleansTakeNoValue() throws {
        #expect(try flags(["--shipper.upload-compacted"]).bool("shipper.upload-compacted"))
        #expect(try !flags(["--no-shipper.upload-compacted"]).bool("shipper.upload-compacted"))
        #expect(try !flags([]).bool("shipper.upload-compacted"))
        #expect(
            refusal(["--shipper.upload-compacted=false"])
                == "unexpected false: --shipper.upload-compacted is a boolean flag and takes no value; "
                + "pass --shipper.upload-compacted or --no-shipper.upload-compacted")
        #expect(refusal(["--no-tsdb.path=/x"]) == "unknown long flag '--no-tsdb.path'")
    }

    @Test func repeatsAreErrorsExceptForRepeatableFlags() throws {
        #expect(refusal(["--tsdb.path=/a", "--tsdb.path=/b"]) == "flag 'tsdb.path' cannot be repeated")
        #expect(
            refusal(["--shipper.upload-compacted", "--no-shipper.upload-compacted"])
                == "flag 'shipper.upload-compacted' cannot be repeated")
        let dirs = try flags(["--reloader.rule-dir=/a", "--reloader.rule-dir", "/b"]).strings("reloader.rule-dir")
        #expect(dirs == ["/a", "/b"])
    }

    @Test func unknownFlagsAndMissingValues() {
        #expect(refusal(["--shipper.nope"]) == "unknown long flag '--shipper.nope'")
        #expect(refusal(["-x"]) == "unknown short flag '-x'")
        #expect(refusal(["--tsdb.path"]) == "expected argument for flag '--tsdb.path'")
        #expect(refusal(["--tsdb.path", "--log.level=info"]) == "expected argument for flag '--tsdb.path'")
    }

    @Test func enumsNameTheirValues() throws {
        #expect(refusal(["--log.level=loud"]) == "--log.level: enum value must be one of error,warn,info,debug, got 'loud'")
        #expect(try flags(["--hash-func="]).string("hash-func") == "")
        #expect(try flags(["--hash-func=SHA256"]).string("hash-func") == "SHA256")
        #expect(refusal(["--hash-func=sha256"]) == "--hash-func: enum value must be one of ,SHA256, got 'sha256'")
    }

    @Test func negativeDurationsAreValues() throws {
        #expect(try flags(["--min-time", "-2d"]).string("min-time") == "-2d")
        #expect(try flags(["--min-time=-2d"]).string("min-time") == "-2d")
    }

    @Test func helpAndVersion() throws {
        for arguments in [["-h"], ["--help"], ["sidecar", "--help"], ["--tsdb.path=/x", "--help-long"]] {
            guard case .help = try parse(arguments) else {
                Issue.record("\(arguments) is not help")
                continue
            }
        }
        guard case .version = try parse(["--version"]) else {
            Issue.record("--version is not version")
            return
        }
    }

    @Test func argumentFilesExpandLineByLine() throws {
        let files = [
            "args": "# the operator's list\n--tsdb.path=/prometheus\n\n--log.level\ndebug\r\n@more\n",
            "more": "--reloader.rule-dir=/rules\n",
            "loop": "@loop\n",
        ]
        let parsed = try flags(["sidecar", "@args", "--shipper.upload-compacted"], files: files)
        #expect(parsed.string("tsdb.path") == "/prometheus")
        #expect(parsed.string("log.level") == "debug")
        #expect(parsed.strings("reloader.rule-dir") == ["/rules"])
        #expect(parsed.bool("shipper.upload-compacted"))
        #expect(refusal(["@missing"], files: files) == "failed to open arguments file \"missing\"")
        #expect(refusal(["@"]) == "expected @ file to expand arguments from")
        #expect(refusal(["@loop"], files: files)?.contains("nest more than 10 deep") == true)
        // After "--" an @ is an argument like any other.
        #expect(try flags(["--", "@args"]).positionals == ["@args"])
    }

    @Test func twentyThousandArgumentsParseAtOnce() throws {
        let arguments = (0..<20_000).map { "--reloader.rule-dir=/rules/\($0)" }
        let clock = ContinuousClock()
        var parsed: ParsedFlags?
        let elapsed = try clock.measure { parsed = try flags(arguments) }
        #expect(parsed?.strings("reloader.rule-dir").count == 20_000)
        // Linear: a few milliseconds in release; swift-argument-parser took 36 s here (NC9).
        #expect(elapsed < .seconds(2))
    }

    @Test func helpListsVisibleFlagsInKingpinForm() {
        let hidden = FlagSpec("shipper.ignore-unequal-block-size", .boolean, hidden: true, help: "x")
        let text = FlagHelp.render(usage: "skiff sidecar [<flags>]", summary: "Summary.", flags: specs + [hidden])
        #expect(text.hasPrefix("usage: skiff sidecar [<flags>]\n"))
        #expect(text.contains("  -h, --[no-]help"))
        #expect(text.contains("--[no-]shipper.upload-compacted"))
        #expect(text.contains("--tsdb.path=\"./data\""))
        #expect(text.contains("--reloader.rule-dir=<rule-dir> ..."))
        #expect(!text.contains("ignore-unequal-block-size"))
    }
}
