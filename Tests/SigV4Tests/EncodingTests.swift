import Foundation
import Testing

@testable import SigV4

// Expected encodings were produced by Python's `urllib.parse.quote(text, safe="~")` (with "/~" for
// paths), which is what botocore signs with, and agree with AWS's UriEncode rules.

@Suite struct URIEncoding {
    @Test func printableASCII() {
        let ascii = String((0x20...0x7E).map { Character(Unicode.Scalar(UInt8($0))) })
        #expect(
            SigV4.uriEncode(ascii, encodeSlash: true)
                == "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F0123456789%3A%3B%3C%3D%3E%3F%40"
                + "ABCDEFGHIJKLMNOPQRSTUVWXYZ%5B%5C%5D%5E_%60abcdefghijklmnopqrstuvwxyz%7B%7C%7D~")
    }

    @Test func slashIsKeptOnlyWhenAsked() {
        #expect(SigV4.uriEncode("a/b", encodeSlash: true) == "a%2Fb")
        #expect(SigV4.uriEncode("a/b", encodeSlash: false) == "a/b")
    }

    @Test func unicodeBecomesItsUTF8Bytes() {
        #expect(
            SigV4.uriEncode("a b/ü~*'é日本😀", encodeSlash: true)
                == "a%20b%2F%C3%BC~%2A%27%C3%A9%E6%97%A5%E6%9C%AC%F0%9F%98%80")
    }

    @Test func alreadyEncodedTextIsEncodedAgain() {
        // A key may really contain "%20"; S3 then stores those three characters.
        #expect(SigV4.uriEncode("100%20", encodeSlash: true) == "100%2520")
    }
}

@Suite struct EncodedPath {
    func path(_ raw: String) -> String {
        SigV4Request(method: "GET", host: "h", path: raw, payloadHash: SigV4Request.emptyPayloadHash).encodedPath
    }

    @Test func keysThatNeedEncoding() {
        #expect(path("/bucket/dir/my key+1.txt") == "/bucket/dir/my%20key%2B1.txt")
        #expect(path("/b/a=b&c;d,e:f@g$h") == "/b/a%3Db%26c%3Bd%2Ce%3Af%40g%24h")
        #expect(path("/b/~user/ü.txt") == "/b/~user/%C3%BC.txt")
    }

    @Test func noNormalization() {
        // S3 keys may contain empty and dot segments, so they are signed and sent as they are.
        #expect(path("/b//x/./y/../z/") == "/b//x/./y/../z/")
    }

    @Test func leadingSlashIsAdded() {
        #expect(path("") == "/")
        #expect(path("bucket/key") == "/bucket/key")
    }
}

@Suite struct EncodedQuery {
    func query(_ pairs: [(name: String, value: String)]) -> SigV4Request {
        SigV4Request(method: "GET", host: "h", path: "/b", query: pairs, payloadHash: SigV4Request.emptyPayloadHash)
    }

    @Test func sortedByNameThenValue() {
        let request = query([("prefix", "b"), ("delimiter", "/"), ("a", "2"), ("a", "1"), ("A", "x")])
        #expect(request.encodedQuery == "A=x&a=1&a=2&delimiter=%2F&prefix=b")
    }

    @Test func sortedByEncodedNotRawText() {
        // Raw "ü" (0xC3...) sorts after "z", encoded "%C3%BC" before it; "+" and "~" likewise swap.
        #expect(query([("z", "1"), ("ü", "2")]).encodedQuery == "%C3%BC=2&z=1")
        #expect(query([("k", "~"), ("k", "+")]).encodedQuery == "k=%2B&k=~")
    }

    @Test func emptyValuesKeepTheEqualsSign() {
        #expect(query([("uploads", "")]).encodedQuery == "uploads=")
        #expect(query([("uploads", "")]).encodedPathAndQuery == "/b?uploads=")
        #expect(
            query([("uploadId", "a+b/c="), ("partNumber", "10")]).encodedQuery == "partNumber=10&uploadId=a%2Bb%2Fc%3D")
    }

    @Test func noQuestionMarkWithoutQuery() {
        #expect(query([]).encodedQuery == "")
        #expect(query([]).encodedPathAndQuery == "/b")
    }
}

@Suite struct AMZDateFormatting {
    @Test func knownInstants() {
        #expect(amzDate(utcDate(2013, 5, 24)) == "20130524T000000Z")
        #expect(amzDate(utcDate(2015, 8, 30, 12, 36)) == "20150830T123600Z")
        #expect(amzDate(utcDate(2024, 2, 29, 23, 59, 59)) == "20240229T235959Z")
        #expect(amzDate(utcDate(2100, 3, 1)) == "21000301T000000Z")
    }

    @Test func fractionsAreDropped() {
        #expect(amzDate(Date(timeIntervalSince1970: 1_369_353_600.999)) == "20130524T000000Z")
    }

    @Test func outOfRangeDatesAreClampedNotTrapped() {
        #expect(amzDate(.distantPast) == "19700101T000000Z")
        #expect(amzDate(Date(timeIntervalSince1970: -0.5)) == "19700101T000000Z")
        #expect(amzDate(Date(timeIntervalSince1970: .nan)) == "19700101T000000Z")
        #expect(amzDate(Date(timeIntervalSince1970: .infinity)) == "99991231T235959Z")
        #expect(amzDate(Date(timeIntervalSince1970: 1e300)) == "99991231T235959Z")
    }

    /// Agrees with Foundation's Gregorian calendar in UTC over a spread of instants up to 2200.
    @Test func agreesWithFoundationCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let date = Date(timeIntervalSince1970: Double((state >> 11) % 7_258_118_400))
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d%02d%02dT%02d%02d%02dZ", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                parts.hour ?? 0,
                parts.minute ?? 0, parts.second ?? 0)
            #expect(amzDate(date) == expected)
        }
    }
}
