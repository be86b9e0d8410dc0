import Foundation
import SkiffCore
import TestSupport
import Testing

/// `skiff bucket ls`, `inspect` and `verify` over a FILESYSTEM bucket holding skiff's shipped
/// blocks, another producer's block (other labels, no hashes), a partial upload and a
/// deletion-marked block.
@Suite(.needs(.promtool)) struct BucketCommandTests {
    struct World {
        let shipping: ShippingWorld
        let shipped: [ULID]
        /// A copy of a shipped block with other labels, source "compactor" and no hashes.
        let foreign: ULID
        /// Objects but no meta.json.
        let partial: ULID
        var bucket: String { shipping.bucket }
        var config: String { shipping.bucketConfig }

        static func make() async throws -> World {
            let shipping = try await ShippingWorld()
            let ship = try await shipping.ship()
            #expect(ship.status == 0, "\(ship)")
            let shipped = shipping.localBlocks
            let bucket = shipping.bucket
            // Marked for deletion, as Thanos' compactor marks it.
            try #"{"id":"\#(shipped[0])","deletion_time":1700000000,"version":1}"#.write(
                toFile: "\(bucket)/\(shipped[0])/deletion-mark.json", atomically: true, encoding: .utf8)

            let foreign = try #require(ULID("01HAAAAAAAAAAAAAAAAAAAAAAA"))
            try FileManager.default.copyItem(atPath: "\(bucket)/\(shipped[1])", toPath: "\(bucket)/\(foreign)")
            var meta = try JSONValue.parse(Array(try #require(shipping.data("\(bucket)/\(foreign)/meta.json"))))
            meta.set("ulid", .string(foreign.string))
            var thanos = try #require(meta["thanos"])
            thanos.set("labels", .object([.init("cluster", .string("us2"))]))
            thanos.set("source", .string("compactor"))
            thanos.set(
                "files",
                .array(
                    (thanos["files"]?.arrayValue ?? []).map { file in
                        var copy = file
                        if case .object(var members) = copy {
                            members.removeAll { $0.key == "hash" }
                            copy = .object(members)
                        }
                        return copy
                    }))
            meta.set("thanos", thanos)
            try Data(meta.encodedIndented()).write(to: URL(fileURLWithPath: "\(bucket)/\(foreign)/meta.json"))

            let partial = try #require(ULID("01HBBBBBBBBBBBBBBBBBBBBBBB"))
            try FileManager.default.createDirectory(atPath: "\(bucket)/\(partial)/chunks", withIntermediateDirectories: true)
            try "half".write(toFile: "\(bucket)/\(partial)/chunks/000001", atomically: true, encoding: .utf8)
            return World(shipping: shipping, shipped: shipped, foreign: foreign, partial: partial)
        }

        func run(_ arguments: [String]) async throws -> SkiffProcess.Result {
            try await SkiffProcess.run(["bucket"] + arguments + ["--objstore.config-file", config])
        }
    }

    @Test func lsShowsEveryBlockWithItsMarksInEachFormat() async throws {
        let world = try await World.make()
        defer { world.shipping.root.remove() }
        let all = ([world.foreign, world.partial] + world.shipped).sorted()

        let json = try await world.run(["ls", "--output", "json"])
        #expect(json.status == 0, "\(json)")
        let rows = try #require(try JSONValue.parse(Array(json.stdout.utf8)).arrayValue)
        #expect(rows.compactMap { $0["ulid"]?.stringValue } == all.map(\.string))
        let byULID = Dictionary(uniqueKeysWithValues: rows.map { ($0["ulid"]!.stringValue!, $0) })
        let first = try #require(byULID[world.shipped[0].string])
        #expect(first["deletionMarked"] == .bool(true) && first["partial"] == .bool(false))
        #expect(first["labels"] == .object([.init("cluster", .string("eu1")), .init("replica", .string("0"))]))
        #expect(first["source"] == .string("sidecar") && first["level"] == .int(1) && first["resolution"] == .int(0))
        #expect((first["minTime"]?.int64Value ?? 0) > 1_600_000_000_000)  // milliseconds
        let localSize = try FileManager.default.subpathsOfDirectory(atPath: "\(world.shipping.tsdb)/\(world.shipped[0])")
            .filter { $0 != "meta.json" && $0 != "chunks" && $0 != "tombstones" }
            .reduce(Int64(0)) {
                $0
                    + ((try FileManager.default.attributesOfItem(atPath: "\(world.shipping.tsdb)/\(world.shipped[0])/\($1)")[
                        .size] as? Int64) ?? 0)
            }
        #expect(first["size"] == .int(localSize))
        let partial = try #require(byULID[world.partial.string])
        #expect(partial["partial"] == .bool(true) && partial["minTime"] == .null && partial["size"] == .int(4))
        #expect(partial["marks"] == .array([.string("partial")]))
        #expect(byULID[world.foreign.string]?["source"] == .string("compactor"))

        let table = try await world.run(["ls"])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ULID") == true && lines.count == all.count + 1, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix(world.partial.string) && $0.contains("partial") })
        #expect(lines.contains { $0.hasPrefix(world.shipped[0].string) && $0.contains("deletion-marked") })

        let csv = try await world.run(["ls", "--output", "csv"])
        let csvLines = csv.stdout.split(separator: "\r\n")
        #expect(csvLines.first == "ulid,minTime,maxTime,level,resolution,source,size,marks,labels", "\(csv.stdout)")
        #expect(csvLines.count == all.count + 1)
        #expect(csvLines.contains { $0.hasPrefix(world.shipped[1].string) && $0.hasSuffix("\"cluster=eu1,replica=0\"") })
    }

    @Test func lsSelectsBlocksWithARelabelConfigAsThanosDoes() async throws {
        let world = try await World.make()
        defer { world.shipping.root.remove() }
        func ulids(_ args: [String]) async throws -> [String] {
            let result = try await world.run(["ls", "--output", "json"] + args)
            #expect(result.status == 0, "\(result)")
            return try #require(try JSONValue.parse(Array(result.stdout.utf8)).arrayValue).compactMap { $0["ulid"]?.stringValue }
        }
        let keep = "- action: keep\n  source_labels: [cluster]\n  regex: eu1\n"
        #expect(try await ulids(["--selector.relabel-config", keep]) == world.shipped.map(\.string))
        let file = world.shipping.root.sub("selector.yml")
        try "- action: drop\n  source_labels: [__block_id]\n  regex: \(world.foreign)\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        #expect(try await !ulids(["--selector.relabel-config-file", file]).contains(world.foreign.string))

        let unsupported = try await world.run(["ls", "--selector.relabel-config", "- action: labeldrop\n  regex: a\n"])
        #expect(unsupported.status == 1 && unsupported.stderr.contains("unsupported relabel action: labeldrop"), "\(unsupported)")
    }

    @Test func inspectPrintsThanosColumnsSortedByTime() async throws {
        let world = try await World.make()
        defer { world.shipping.root.remove() }
        let table = try await world.run(["inspect"])
        #expect(table.status == 0, "\(table)")
        let lines = table.stdout.split(separator: "\n")
        let header = lines[0].split(separator: " ", omittingEmptySubsequences: true)
        #expect(
            header == [
                "ULID", "FROM", "UNTIL", "RANGE", "UNTIL-DOWN", "#SERIES", "#SAMPLES", "#CHUNKS", "COMP-LEVEL", "COMP-FAILED",
                "LABELS", "RESOLUTION", "SOURCE",
            ])
        #expect(lines.count == world.shipped.count + 2)  // every block with a meta.json; not the partial one
        #expect(!table.stdout.contains(world.partial.string))

        let csv = try await world.run(["inspect", "--output", "csv"])
        let rows = csv.stdout.split(separator: "\r\n").dropFirst().map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        let froms = rows.map { String($0[1]) }
        #expect(froms == froms.sorted(), "\(csv.stdout)")  // FROM first (RFC 3339 in UTC sorts as text)
        let row = try #require(
            lines.map { $0.split(separator: " ", omittingEmptySubsequences: true) }.first { $0[0] == world.shipped[0].string })
        #expect(row.count == 13, "\(row)")
        #expect(row[3].hasSuffix("s") && row[3].contains("m"), "\(row)")  // RANGE as Go prints durations: 2h0m0s
        #expect(row[8] == "1" && row[9] == "false" && row[10] == "cluster=eu1,replica=0", "\(row)")
        #expect(row[11] == "0s" && row[12] == "sidecar", "\(row)")

        let json = try await world.run(["inspect", "--output", "json", "--sort-by", "ULID", "-l", "cluster=\"us2\""])
        let items = try #require(try JSONValue.parse(Array(json.stdout.utf8)).arrayValue)
        #expect(items.compactMap { $0["ulid"]?.stringValue } == [world.foreign.string], "\(json)")
        #expect(items.first?["numSeries"]?.int64Value ?? 0 > 0)
        let badSort = try await world.run(["inspect", "--sort-by", "NOPE"])
        #expect(badSort.status == 1 && badSort.stderr.contains("--sort-by NOPE: no such column"))
    }

    @Test func verifyChecksAnyProducersBlocksAgainstTheirMetaJSON() async throws {
        let world = try await World.make()
        defer { world.shipping.root.remove() }
        let good = try await world.run(["verify", "--output", "json"] + world.shipped.map(\.string) + [world.foreign.string])
        #expect(good.status == 0, "\(good)")
        let rows = try #require(try JSONValue.parse(Array(good.stdout.utf8)).arrayValue)
        #expect(rows.allSatisfy { $0["result"] == .string("ok") })
        #expect(rows.first { $0["ulid"] == .string(world.foreign.string) }?["checked"] == .string("size"))  // said so
        #expect(rows.first { $0["ulid"] == .string(world.shipped[0].string) }?["checked"] == .string("sha256"))

        // Every block, the partial one failing; then a damaged object named.
        let all = try await world.run(["verify"])
        #expect(all.status == 1, "\(all)")
        #expect(all.stdout.contains("meta.json is missing"), "\(all.stdout)")
        let object = "\(world.bucket)/\(world.shipped[1])/index"
        var bytes = try #require(world.shipping.data(object))
        bytes[0] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: object))
        let damaged = try await world.run(["verify", world.shipped[1].string])
        #expect(damaged.status == 1)
        #expect(damaged.stdout.contains("index has sha256"), "\(damaged.stdout)")
        let csv = try await world.run(["verify", "--output", "csv", world.shipped[2].string])
        #expect(csv.status == 0 && csv.stdout.hasPrefix("ulid,result,checked,bytes_read,problems\r\n"), "\(csv)")
    }
}
