import FileIO
import FlagParsing
import Foundation
import HTTPServer
import SkiffCore

/// How a `skiff sidecar` command line starts: parsed as kingpin parses `thanos sidecar` (so an
/// operator can swap the image and keep every argument), checked, then run. ArgumentParser never
/// sees these arguments: `Skiff.main` sends them here.
enum SidecarLaunch {
    /// Whether the command line runs the sidecar: its first argument that is neither a global
    /// flag nor a global flag's value is `sidecar` (kingpin takes global flags on both sides of
    /// the command word), or it is `help sidecar`.
    static func isSidecar(_ arguments: [String]) -> Bool {
        let globals = Dictionary(SidecarFlags.global.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "sidecar" { return true }
            if argument == "help" { return arguments.dropFirst(index + 1).first == "sidecar" }
            guard argument.hasPrefix("--"), argument.count > 2 else { return false }
            let name = String(argument.dropFirst(2))
            if !name.contains("="), let spec = globals[name], spec.takesValue { index += 1 }
            index += 1
        }
        return false
    }

    /// Parses, checks and runs the sidecar; returns the process' exit code: 2 for a command line
    /// kingpin would refuse (as Thanos exits), 1 for a bad value or a failure while running.
    static func main(_ arguments: [String]) async -> Int32 {
        let outcome: KingpinParser.Outcome
        do {
            outcome = try KingpinParser(SidecarFlags.all).parse(arguments, readFile: readArgumentFile)
        } catch {
            // Thanos prints the whole argv here; Skiff does not, as it can hold credentials
            // (an --objstore.config the kubelet expanded from a secret).
            printError("error parsing commandline arguments: \(error)\nSee `skiff sidecar --help` for every flag.")
            return 2
        }
        switch outcome {
        case .help:
            print(helpText, terminator: "")
            return 0
        case .version:
            print("skiff, version \(BuildInfo.version) (drop-in for thanos sidecar v0.42)")
            return 0
        case .flags(let flags):
            if flags.positionals == ["help", "sidecar"] {
                print(helpText, terminator: "")
                return 0
            }
            guard flags.positionals == ["sidecar"] else {
                let stray = flags.positionals.first { $0 != "sidecar" } ?? "sidecar"
                printError(
                    "error parsing commandline arguments: unexpected \(stray)\nsidecar takes flags only; "
                        + "see `skiff sidecar --help`.")
                return 2
            }
            do throws(SkiffError) {
                try await SidecarRun(flags: flags).run()
                return 0
            } catch {
                printError(error.message)
                return 1
            }
        }
    }

    static var helpText: String {
        FlagHelp.render(
            usage: "skiff sidecar [<flags>]",
            summary: """
                Run next to Prometheus as a drop-in for `thanos sidecar`: ship its blocks to the bucket with its \
                external labels (every step in the SQLite ledger), serve the Thanos StoreAPI and Info on \
                --grpc-address and probes and /metrics on --http-address. Takes every flag of thanos sidecar v0.42, \
                in kingpin's forms (--flag=value, --flag value, --[no-]flag, @file), plus Skiff's own at the end.
                """,
            flags: SidecarFlags.all)
    }

    /// An `@file` argument's text (at most 16 MiB, as every config file Skiff reads).
    private static func readArgumentFile(_ path: String) throws(FlagParseError) -> String {
        do throws(Errno) {
            return String(decoding: try Posix.readAll(path), as: UTF8.self)
        } catch {
            throw FlagParseError("failed to open arguments file \"\(path)\": \(error.reason)")
        }
    }

    private static func printError(_ message: String) {
        FileHandle.standardError.write(Data("skiff: \(message)\n".utf8))
    }
}
