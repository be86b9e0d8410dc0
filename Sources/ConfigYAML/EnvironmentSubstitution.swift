import SkiffCore

/// Replaces each `$(NAME)` (NAME of letters, digits and "_") with the environment variable's
/// value, as Thanos does for objstore configs, so credentials can stay out of the file. Anything
/// else, including `$NAME` and `${NAME}`, is left as written. An unset variable is an error naming
/// it (never its value).
package func substituteEnvironment(
    _ text: String, _ environment: [String: String], source: String
) throws(SkiffError)
    -> String
{
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if bytes[i] == UInt8(ascii: "$"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "(") {
            var end = i + 2
            while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
            if end > i + 2, end < bytes.count, bytes[end] == UInt8(ascii: ")") {
                let name = String(decoding: bytes[(i + 2)..<end], as: UTF8.self)
                guard let value = environment[name] else {
                    throw SkiffError(
                        .invalidArgument,
                        "\(source) uses $(\(name)), but environment variable \(name) is not set; set it or edit the config")
                }
                out.append(contentsOf: value.utf8)
                i = end + 1
                continue
            }
        }
        out.append(bytes[i])
        i += 1
    }
    return String(decoding: out, as: UTF8.self)
}

private func isNameByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
        return true
    default:
        return false
    }
}
