import Foundation
import SkiffCore
import TestSupport
import Testing

@testable import Reloader

/// What the reloader reads and writes, on real files: which changes move the hash (and so cause
/// a reload) and which do not, rendering, and the output write.
@Suite struct ReloadInputsTests {
    func write(_ text: String, _ path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    @Test func ruleDirHashMovesOnlyWithContentOrNames() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let rules = dir.sub("rules")
        let elsewhere = dir.sub("elsewhere")
        try FileManager.default.createDirectory(atPath: rules + "/sub", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try write("a", rules + "/a.yml")
        try write("b", rules + "/sub/b.yml")
        try write("t", elsewhere + "/target.yml")
        try write("x", elsewhere + "/x.yml")
        try FileManager.default.createSymbolicLink(atPath: rules + "/linked.yml", withDestinationPath: elsewhere + "/target.yml")
        try FileManager.default.createSymbolicLink(atPath: rules + "/linkeddir", withDestinationPath: elsewhere)
        func hash() throws -> [UInt8]? { try ReloadInputs.hashDirectories([rules]) }
        let first = try hash()
        #expect(first != nil)

        // touch: same bytes, same names.
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: rules + "/a.yml")
        #expect(try hash() == first)
        // Rewriting the same bytes.
        try write("a", rules + "/a.yml")
        #expect(try hash() == first)
        // A symlinked dir is not descended (Go's Walk does not follow it).
        try write("x2", elsewhere + "/x.yml")
        #expect(try hash() == first)
        // A symlinked file is hashed with its target's bytes.
        try write("t2", elsewhere + "/target.yml")
        let afterTarget = try hash()
        #expect(afterTarget != first)
        // A real sub-directory is descended.
        try write("b2", rules + "/sub/b.yml")
        let afterSub = try hash()
        #expect(afterSub != afterTarget)
        // A new file.
        try write("", rules + "/new.yml")
        #expect(try hash() != afterSub)
        #expect(try ReloadInputs.hashDirectories([]) == nil)
    }

    @Test func missingRuleDirNamesTheFlag() throws {
        #expect {
            try ReloadInputs.hashDirectories(["/nonexistent/skiff-rules"])
        } throws: { error in
            (error as? SkiffError)?.message.contains("--reloader.rule-dir /nonexistent/skiff-rules") == true
        }
    }

    @Test func renderSubstitutesAndNamesAnUnsetVariable() throws {
        let template = Array("a: $(ONE)\nb: $ONE ${ONE} $(TWO)x\n".utf8)
        let rendered = try ReloadInputs.render(
            template, path: "in.yml", environment: ["ONE": "1", "TWO": "2"], unset: { Issue.record("nothing is unset") })
        #expect(String(decoding: rendered, as: UTF8.self) == "a: 1\nb: $ONE ${ONE} 2x\n")

        var unset = false
        #expect {
            try ReloadInputs.render(template, path: "in.yml", environment: ["ONE": "1"], unset: { unset = true })
        } throws: { error in
            let message = (error as? SkiffError)?.message ?? ""
            return message.contains("--reloader.config-file in.yml") && message.contains("TWO is not set")
        }
        #expect(unset)
    }

    @Test func outputIsReplacedOnlyWhenItsBytesChange() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let out = dir.sub("out.yml")
        try ReloadInputs.writeOutput(Array("one\n".utf8), to: out)
        let inode = try FileManager.default.attributesOfItem(atPath: out)[.systemFileNumber] as? UInt64
        try ReloadInputs.writeOutput(Array("one\n".utf8), to: out)
        #expect(try FileManager.default.attributesOfItem(atPath: out)[.systemFileNumber] as? UInt64 == inode)
        try ReloadInputs.writeOutput(Array("two\n".utf8), to: out)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "two\n")
        #expect(!FileManager.default.fileExists(atPath: out + ".tmp"))
        #expect {
            try ReloadInputs.writeOutput([1], to: dir.sub("missing/out.yml"))
        } throws: { error in
            (error as? SkiffError)?.message.contains("--reloader.config-envsubst-file") == true
        }
    }

    /// A name longer than the kernel's 15-byte comm: found by its full name through argv[0],
    /// never by another name sharing the first 15 bytes.
    @Test func processFinderMatchesNamesPastTheCommLimit() async throws {
        let dir = try TempDir()
        defer { dir.remove() }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let long = "skiffreloadtest-\(suffix)"
        let short = "skrl\(suffix)"
        try FileManager.default.createSymbolicLink(atPath: dir.sub(long), withDestinationPath: "/bin/sleep")
        try FileManager.default.createSymbolicLink(atPath: dir.sub(short), withDestinationPath: "/bin/sleep")
        let processes = try [long, short].map { name in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: dir.sub(name))
            process.arguments = ["30"]
            try process.run()
            return process
        }
        defer {
            for process in processes { kill(process.processIdentifier, SIGKILL) }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try ReloadInputs.commOf(processes[0].processIdentifier) == String(long.prefix(15)))
        #expect(try ProcessFinder.find(long) == processes[0].processIdentifier)
        #expect(try ProcessFinder.find(short) == processes[1].processIdentifier)
        #expect(try ProcessFinder.find("skiffreloadtest-other") == nil)
    }
}

extension ReloadInputs {
    /// What the kernel keeps as the process' name.
    static func commOf(_ pid: Int32) throws -> String {
        try String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
    }
}
