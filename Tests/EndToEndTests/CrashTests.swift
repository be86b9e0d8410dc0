import Foundation
import SkiffCore
import TestSupport
import Testing

/// Kill `skiff ship` at every interesting point, restart it, and check that bucket, ledger and
/// local dir agree: every block committed exactly once, byte-identical, nothing staged, no file
/// re-uploaded that the ledger had recorded as uploaded.
@Suite(.needs(.promtool)) struct CrashTests {
    static let killPoints = [
        "after:stage", "before:hashed", "after:hashed",
        "before:upload:chunks/000001", "after:upload:chunks/000001", "after:record:chunks/000001",
        "before:chunks_uploaded", "after:chunks_uploaded",
        "before:upload:index", "after:upload:index", "after:record:index",
        "before:index_uploaded", "after:index_uploaded",
        "before:upload:meta.json", "after:upload:meta.json", "before:committed", "after:committed",
        "before:shipper_json", "after:shipper_json",
        // The same points on a later block, with earlier blocks already committed.
        "after:upload:chunks/000001=exit@3", "after:committed=exit@2", "after:hashed=exit@4",
    ]

    @Test(arguments: killPoints)
    func killedAtAFailpointResumesExactly(_ point: String) async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let spec = point.contains("=") ? point : "\(point)=exit"
        let crashed = try await world.ship(failpoints: spec)
        #expect(crashed.killedBySIGKILL, "the failpoint was never reached: \(crashed)")
        let recorded = try await world.recordedUploads()

        let resumed = try await world.ship()
        #expect(resumed.status == 0, "\(resumed)")
        try await world.expectFullyShipped()
        let after = try await world.recordedUploads()
        for (key, inode) in recorded {
            #expect(after[key] == inode, "\(key) was uploaded again although the ledger recorded it")
        }
    }

    @Test func twoCrashesInARowStillConverge() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        #expect(try await world.ship(failpoints: "after:upload:chunks/000001=exit@2").killedBySIGKILL)
        #expect(try await world.ship(failpoints: "before:upload:meta.json=exit").killedBySIGKILL)
        #expect(try await world.ship().status == 0)
        try await world.expectFullyShipped()
    }

    /// SIGKILL at random points (the Kth failpoint hit, K random), again and again, until a run
    /// completes. Counting hits rather than sleeping keeps the kill points random but independent
    /// of how busy the machine is (a timed kill lands after the run ends when tests crowd the
    /// cores); `Tools/torture` does the timed `kill -9`s from outside.
    @Test func randomKill9ConvergesWithoutLossOrDuplicates() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        var kills = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<12 {
            let point = Int.random(in: 1...40, using: &generator)
            let result = try await world.ship(failpoints: "*=exit@\(point)")
            if result.killedBySIGKILL { kills += 1 } else { #expect(result.status == 0, "\(result)") }
        }
        #expect(kills > 0)
        let final = try await world.ship()
        #expect(final.status == 0, "\(final)")
        try await world.expectFullyShipped()
    }

    /// A second run ships nothing: every block is already committed.
    @Test func aSecondRunUploadsNothing() async throws {
        let world = try await ShippingWorld()
        defer { world.root.remove() }
        let first = try await world.ship()
        #expect(first.status == 0, "\(first)")
        let inodes = try await world.recordedUploads()
        let second = try await world.ship()
        #expect(second.status == 0)
        #expect(second.stdout.contains("0 block(s) shipped"), "\(second.stdout)")
        #expect(try await world.recordedUploads() == inodes)
        try await world.expectFullyShipped()
    }
}
