import SkiffCore
import Testing

@testable import StoreLogic

/// Every pattern in `GoVectors` must be accepted or rejected as Go rejects it, and must match
/// exactly the inputs Go's regexp matches (anchored, `.` matching newline, as Prometheus 3).
@Suite struct RegexGoParityTests {
    /// Patterns whose results are known to differ, with the reason (see `Matcher`'s doc comment).
    static let knownDifferences: [String: String] = [:]

    /// Patterns rejected by both, for a reason worded differently.
    static let otherErrorWording: [String: String] = [
        "(?<=a)b": "Go 1.22 added (?<name>…), so current Go (and we) call this an invalid named capture"
    ]

    /// "invalid escape sequence" out of "error parsing regexp: invalid escape sequence: `\\8`".
    static func code(_ message: String) -> Substring {
        let body = message.dropFirst("error parsing regexp: ".count)
        return body.prefix { $0 != ":" }
    }

    @Test(arguments: GoVectors.regexes.indices)
    func agreesWithGo(_ index: Int) {
        let (pattern, goError, goMatching) = GoVectors.regexes[index]
        guard Self.knownDifferences[pattern] == nil else { return }
        let matcher: Matcher
        do {
            matcher = try Matcher(.regexMatch, name: "l", value: pattern)
        } catch {
            #expect(goError != nil, "Go accepts \(GoQuote.quote(pattern)); we said: \(error)")
            if let goError, Self.otherErrorWording[pattern] == nil {
                #expect(
                    Self.code(error.reason) == Self.code(goError),
                    "pattern \(GoQuote.quote(pattern)): \(error.reason) vs \(goError)")
            }
            return
        }
        #expect(goError == nil, "Go rejects \(GoQuote.quote(pattern)) (\(goError ?? "")); we accepted it")
        let ours = GoVectors.inputs.indices.filter { matcher.matches(GoVectors.inputs[$0]) }
        #expect(
            ours == goMatching,
            "pattern \(GoQuote.quote(pattern)): we match \(ours.map { GoQuote.quote(GoVectors.inputs[$0]) }), Go \(goMatching.map { GoQuote.quote(GoVectors.inputs[$0]) })"
        )
    }

    @Test func goQuoteAgreesWithStrconvQuote() {
        for (s, quoted) in GoVectors.quotes {
            #expect(GoQuote.quote(s) == quoted)
        }
    }
}

@Suite struct RegexLimitTests {
    /// Go: "expression nests too deeply" past 1000 levels; also keeps our recursion bounded.
    @Test func deepNestingIsRejectedNotACrash() throws {
        let deep = String(repeating: "(", count: 1001) + String(repeating: ")", count: 1001)
        #expect(throws: MatcherError.self) { try Matcher(.regexMatch, name: "l", value: deep) }
        let fine = String(repeating: "(", count: 200) + "a" + String(repeating: ")", count: 200)
        #expect(try Matcher(.regexMatch, name: "l", value: fine).matches("a"))
    }
}
