import SkiffCore

/// Rules for object keys shared by every bucket, so a key that works on one works on all.
package enum ObjectKey {
    /// Names of in-flight uploads start with this; `list` never returns them. The leading dot keeps
    /// them out of Thanos' and promtool's way, which only look at ULID-named entries.
    package static let tempPrefix = ".skiff-tmp-"

    /// Checks an object key: relative, "/"-separated, no empty, "." or ".." segment, no NUL, and no
    /// segment that would be mistaken for a temp file. Throws `.invalidArgument` (a caller bug, not
    /// a bucket failure) naming the key.
    package static func validate(_ key: String, op: String) throws(SkiffError) {
        if let problem = problem(key, allowTrailingSlash: false) {
            throw SkiffError(.invalidArgument, "\(op) \"\(key)\": invalid object key: \(problem)")
        }
    }

    /// Checks a listing prefix: like a key, but it may be empty or end with "/".
    package static func validatePrefix(_ prefix: String, op: String) throws(SkiffError) {
        if prefix.isEmpty { return }
        if let problem = problem(prefix, allowTrailingSlash: true) {
            throw SkiffError(.invalidArgument, "\(op) \"\(prefix)\": invalid prefix: \(problem)")
        }
    }

    private static func problem(_ key: String, allowTrailingSlash: Bool) -> String? {
        if key.isEmpty { return "it is empty" }
        if key.hasPrefix("/") { return "it starts with \"/\"; keys are relative to the bucket" }
        if key.utf8.contains(0) { return "it contains a NUL byte" }
        var segments = key.split(separator: "/", omittingEmptySubsequences: false)
        if allowTrailingSlash && segments.last == "" { segments.removeLast() }
        for segment in segments {
            switch segment {
            case "": return "it has an empty path segment"
            case ".", "..": return "it has a \"\(segment)\" segment"
            default:
                if segment.hasPrefix(tempPrefix) { return "\"\(tempPrefix)\" names are reserved for temp files" }
            }
        }
        return nil
    }

    /// Byte-wise (UTF-8) order, which is what S3 and Thanos list in; Swift's `<` on `String`
    /// compares Unicode-normalized text and can disagree.
    package static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Byte-wise prefix test (`hasPrefix` works on characters, so "e\u{301}" would not start with "e").
    package static func has(_ key: String, prefix: String) -> Bool {
        key.utf8.starts(with: prefix.utf8)
    }
}
