import Foundation
import SkiffCore
import TSDB
import TestSupport
import Testing

@Suite struct DurableFileTests {
    @Test func writesAndReplacesWithoutWritingThroughLinks() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let path = tmp.sub("file")
        try DurableFile.write(Array("one".utf8), to: path)
        #expect(try bytes(path) == Array("one".utf8))
        #expect(link(path, tmp.sub("other-name")) == 0)
        try DurableFile.write(Array("two".utf8), to: path)
        #expect(try bytes(path) == Array("two".utf8))
        #expect(try bytes(tmp.sub("other-name")) == Array("one".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).sorted() == ["file", "other-name"])
    }

    @Test func missingDirIsAnIOError() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        let error = try #require(skiffError { try DurableFile.write([1], to: tmp.sub("no/such/file")) })
        #expect(error.code == .io && error.message.contains(tmp.sub("no/such/file")))
    }
}

@Suite struct ShipperMetaFileTests {
    let a = ULID("01HSR8RBPC2JZ3GZWN1WGV240C")!
    let b = ULID("01HSRFM4X03X6VQ77JRG4GKXPH")!

    @Test func emptyListIsNullAsGoWritesIt() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try ShipperMetaFile.write(uploaded: [], tsdbPath: tmp.path)
        let text = String(decoding: try bytes(tmp.sub("thanos.shipper.json")), as: UTF8.self)
        #expect(text == "{\n\t\"version\": 1,\n\t\"uploaded\": null\n}\n")
        #expect(ShipperMetaFile.read(tsdbPath: tmp.path) == [])
    }

    @Test func twoEntriesExactly() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        try ShipperMetaFile.write(uploaded: [a, b], tsdbPath: tmp.path)
        let text = String(decoding: try bytes(tmp.sub("thanos.shipper.json")), as: UTF8.self)
        #expect(
            text == """
                {
                \t"version": 1,
                \t"uploaded": [
                \t\t"01HSR8RBPC2JZ3GZWN1WGV240C",
                \t\t"01HSRFM4X03X6VQ77JRG4GKXPH"
                \t]
                }

                """)
        #expect(ShipperMetaFile.read(tsdbPath: tmp.path) == [a, b])
    }

    @Test func readRejectsMissingBrokenAndOtherVersions() throws {
        let tmp = try TempDir()
        defer { tmp.remove() }
        #expect(ShipperMetaFile.read(tsdbPath: tmp.path) == nil)
        let path = tmp.sub("thanos.shipper.json")
        for bad in ["{", "{\"version\": 2, \"uploaded\": []}", "{\"uploaded\": []}", "{\"version\": 1, \"uploaded\": [\"x\"]}"] {
            try write(Array(bad.utf8), to: path)
            #expect(ShipperMetaFile.read(tsdbPath: tmp.path) == nil, "\(bad)")
        }
        try write(Array("{\"version\":1,\"uploaded\":[\"\(b)\"]}".utf8), to: path)
        #expect(ShipperMetaFile.read(tsdbPath: tmp.path) == [b])
    }
}
