import Foundation
import Ledger
import SkiffCore
import TestSupport
import Testing

/// The new hostile cases NB1..NB7 of /work/notes/hostile-blocks.md.
extension HostileBlockTests {
    /// NB1: a socket among the chunks was an ENXIO retried as transient, holding back every block.
    @Test func aSocketAmongTheChunksIsQuarantined() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        let path = "\(world.tsdb)/\(bad)/chunks/000001"
        try FileManager.default.removeItem(atPath: path)
        let bind = try await ExternalProgram.python3.run([
            "-c", "import socket,sys;socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path,
        ])
        try #require(bind.succeeded, "\(bind.stderr)")
        let result = try await ship(world)
        #expect(quarantineLine(result, bad).contains("chunks/000001 is a socket"), "\(result)")
        try await expectOnlyQuarantined(bad, in: world)
    }

    /// NB2: a symlink inside a block is never followed: not out of the block (a host file's first
    /// bytes used to land in the message), not to a device, not round a loop (ELOOP used to hold
    /// back every newer block).
    @Test(arguments: ["/etc/shadow", "/dev/zero", "index"])
    func aSymlinkedIndexIsQuarantinedWithoutBeingFollowed(_ target: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        let path = "\(world.tsdb)/\(bad)/index"
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        let result = try await ship(world)
        let line = quarantineLine(result, bad)
        #expect(line.contains("index is a symlink, not a regular file"), "\(result)")
        #expect(!line.contains("found"), "a byte of the link's target was read: \(line)")
        try await expectOnlyQuarantined(bad, in: world)
    }

    /// NB4: a huge meta.json is refused from its size, never read (100 MB used to take minutes and
    /// hundreds of MB); a repeated key, which Go reads as its last value, is refused too.
    @Test(arguments: ["huge", "repeated"])
    func aHugeOrAmbiguousMetaJSONIsQuarantined(_ kind: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        let path = "\(world.tsdb)/\(bad)/meta.json"
        if kind == "huge" {
            #expect(truncate(path, 100 << 20) == 0)  // sparse: the size is what counts
        } else {
            var text = String(decoding: try #require(world.data(path)), as: UTF8.self)
            let end = try #require(text.lastIndex(of: "}"))
            text.replaceSubrange(end...end, with: ", \"maxTime\": 1 }")
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        }
        let result = try await ship(world)
        let line = quarantineLine(result, bad)
        #expect(line.contains(kind == "huge" ? "larger than 16 MiB" : "\"maxTime\" twice"), "\(result)")
        try await expectOnlyQuarantined(bad, in: world)
    }

    /// NB5: a chunk rewritten in place (same size) after hashing is refused by the bucket's SHA-256
    /// check; that used to be retried as a bucket error, holding back every newer block for good.
    @Test func aChunkRewrittenAfterHashingIsQuarantined() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        // Killed once the block is hashed and before its first upload (no race with a sleep),
        // the chunk is rewritten, and the next run finds it changed.
        let killed = try await world.ship(failpoints: "before:upload:chunks/000001=exit")
        #expect(killed.killedBySIGKILL, "\(killed)")
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: "\(world.tsdb)/\(bad)/chunks/000001"))
        try handle.seek(toOffset: 200)
        try handle.write(contentsOf: Data([0xFF, 0xFF, 0xFF, 0xFF]))
        try handle.close()
        let result = try await world.ship()
        #expect(quarantineLine(result, bad).contains("changed since it was hashed"), "\(result)")
        #expect(!result.stdout.contains("holds back newer blocks"), "\(result.stdout)")
        let records = try await records(world)
        for ulid in world.localBlocks where ulid != bad { #expect(records[ulid]?.state == .committed, "\(ulid)") }
        #expect(records[bad]?.state == .failed && records[bad]?.quarantined == true)
    }

    /// NB6: a staging root that leads back into the data dir used to make staging delete every
    /// Prometheus block (a block's staging dir was the block itself).
    @Test func aStagingDirLinkedIntoTheDataDirIsRefused() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        try FileManager.default.createDirectory(atPath: "\(world.tsdb)/thanos", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: "\(world.tsdb)/thanos/upload", withDestinationPath: "..")
        let result = try await ship(world)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("inside the data dir"), "\(result.stderr)")
        let pristine = try await ShippingWorld.pristine.value()
        for ulid in world.localBlocks {
            for rel in ["meta.json", "index", "chunks/000001", "tombstones"] {
                #expect(world.data("\(world.tsdb)/\(ulid)/\(rel)") == world.data("\(pristine)/\(ulid)/\(rel)"), "\(ulid)/\(rel)")
            }
        }
    }

    /// NB7: a chunk the skiff user may not read is quarantined; it used to be retried as transient
    /// and hold back every newer block. Needs root (to run skiff as nobody) and setpriv.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func anUnreadableChunkIsQuarantined() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let bad = world.localBlocks[0]
        #expect(chmod(world.root.path, 0o755) == 0)
        let chown = try await ExternalProgram.run(atPath: "/bin/chown", ["-R", "65534:65534", world.root.path])
        try #require(chown.succeeded, "\(chown.stderr)")
        #expect(chmod("\(world.tsdb)/\(bad)/chunks/000001", 0) == 0)
        let result = try await ExternalProgram.run(
            atPath: "/usr/bin/timeout",
            ["30", "/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SkiffProcess.binaryPath]
                + world.shipArguments)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("quarantined \(bad)") } ?? ""
        #expect(line.contains("Permission denied") && line.contains("read access"), "\(result.stdout)")
        let records = try await records(world)
        for ulid in world.localBlocks where ulid != bad { #expect(records[ulid]?.state == .committed, "\(ulid)") }
    }
}
