/// One lexical token of PromQL and where it starts (a byte offset into the query's UTF-8).
struct Token: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        case number(String)
        case string(String)
        case duration(PromDuration)
        case identifier(String)
        case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket
        case comma, colon, at
        /// `=` in a matcher.
        case assign
        case equal, notEqual, regexMatch, regexNoMatch
        case less, lessEqual, greater, greaterEqual
        case add, sub, mul, div, mod, pow
        case eof
    }

    let kind: Kind
    let offset: Int

    var describe: String {
        switch kind {
        case .number(let text): "number \"\(text)\""
        case .string: "string"
        case .duration(let d): "duration \"\(d.text)\""
        case .identifier(let name): "identifier \"\(name)\""
        case .eof: "end of input"
        case .leftParen: "\"(\""
        case .rightParen: "\")\""
        case .leftBrace: "\"{\""
        case .rightBrace: "\"}\""
        case .leftBracket: "\"[\""
        case .rightBracket: "\"]\""
        case .comma: "\",\""
        case .colon: "\":\""
        case .at: "\"@\""
        case .assign: "\"=\""
        case .equal: "\"==\""
        case .notEqual: "\"!=\""
        case .regexMatch: "\"=~\""
        case .regexNoMatch: "\"!~\""
        case .less: "\"<\""
        case .lessEqual: "\"<=\""
        case .greater: "\">\""
        case .greaterEqual: "\">=\""
        case .add: "\"+\""
        case .sub: "\"-\""
        case .mul: "\"*\""
        case .div: "\"/\""
        case .mod: "\"%\""
        case .pow: "\"^\""
        }
    }
}
