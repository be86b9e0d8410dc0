import Foundation

/// A request's parameters as Go's `http.Request` holds them after `ParseForm`: the URL-encoded
/// POST body's values first, then the URL query's. `value` is `FormValue` (the first one).
public struct FormValues: Sendable {
    private var pairs: [(name: String, value: String)] = []

    public init(query: String, body: [UInt8] = [], contentType: String? = nil) {
        let isForm = contentType.map {
            $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                == "application/x-www-form-urlencoded"
        }
        if isForm == true { pairs += Self.decode(String(decoding: body, as: UTF8.self)) }
        pairs += Self.decode(query)
    }

    public init(_ pairs: [(String, String)]) { self.pairs = pairs.map { (name: $0.0, value: $0.1) } }

    /// `FormValue`: the first value, "" when absent.
    public func value(_ name: String) -> String { pairs.first { $0.name == name }?.value ?? "" }

    /// Every value of a repeated parameter (`replicaLabels[]`), in order.
    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// Go's `url.ParseQuery`: `&`-separated (a `;` makes the pair invalid and skipped), `+` is a
    /// space, `%XX` decoded; undecodable pairs are skipped.
    static func decode(_ text: String) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) where !part.contains(";") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescape(String(pieces[0])) else { continue }
            guard let value = unescape(pieces.count > 1 ? String(pieces[1]) : "") else { continue }
            out.append((name, value))
        }
        return out
    }

    static func unescape(_ s: String) -> String? {
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let c = utf8.popFirst() {
            switch c {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                    return nil
                }
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            default: bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
