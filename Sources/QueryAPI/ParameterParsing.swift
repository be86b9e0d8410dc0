import Foundation
import SkiffCore

/// Thanos' parameter parsers for the query API (`pkg/api/query/v1.go`), with their messages.
enum ParameterParsing {
    /// `parseTime`: float Unix seconds (rounded to the millisecond) or RFC 3339, as Unix ms.
    static func time(_ s: String) throws(QueryAPIError) -> Int64 {
        if let seconds = goFloat(s) {
            let whole = seconds.rounded(.towardZero)
            let fraction = ((seconds - whole) * 1000).rounded() / 1000
            if let w = Int64(exactly: whole), let f = Int64(exactly: (fraction * 1000).rounded()) {
                let (ms, overflow) = w.multipliedReportingOverflow(by: 1000)
                if !overflow { return ms &+ f }
            }
        }
        if let ms = rfc3339Millis(s) { return ms }
        throw .badData("cannot parse \(goQuote(s)) to a valid timestamp")
    }

    /// `parseDuration`: float seconds or a Prometheus duration ("1m", "1h30m"), as nanoseconds.
    static func duration(_ s: String) throws(QueryAPIError) -> Int64 {
        if let seconds = goFloat(s) {
            let ns = seconds * 1e9
            guard ns < 9.223372036854775807e18, ns >= -9.223372036854775808e18, !ns.isNaN else {
                throw .badData("cannot parse \(goQuote(s)) to a valid duration. It overflows int64")
            }
            return Int64(ns)
        }
        if s == "0" { return 0 }
        if let ms = promDurationMillis(s) { return ms * 1_000_000 }
        throw .badData("cannot parse \(goQuote(s)) to a valid duration")
    }

    /// `strconv.ParseBool`, with Thanos' "'name' parameter: " prefix on failure.
    static func bool(_ s: String, parameter: String) throws(QueryAPIError) -> Bool {
        switch s {
        case "1", "t", "T", "TRUE", "true", "True": return true
        case "0", "f", "F", "FALSE", "false", "False": return false
        default:
            throw .badData("'\(parameter)' parameter: strconv.ParseBool: parsing \(goQuote(s)): invalid syntax")
        }
    }

    /// Go's `strconv.ParseFloat(s, 64)` for what it accepts: decimal and exponent forms, a sign,
    /// "Inf"/"Infinity"/"NaN" in any case. Hex floats and underscores are rare enough to refuse.
    static func goFloat(_ s: String) -> Double? {
        guard !s.isEmpty else { return nil }
        let body = s.first == "+" || s.first == "-" ? s.dropFirst() : s[...]
        switch body.lowercased() {
        case "inf", "infinity": return s.first == "-" ? -.infinity : .infinity
        case "nan": return .nan
        default: break
        }
        guard body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "+" || $0 == "-") })
        else { return nil }
        return Double(s)
    }

    /// Prometheus' `model.ParseDuration`: units y w d h m s ms, largest first, each at most once.
    static func promDurationMillis(_ s: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000),
            ("s", 1000), ("ms", 1),
        ]
        var rest = Substring(s)
        var total: Int64 = 0
        var last = -1
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, let value = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unit = rest.hasPrefix("ms") ? "ms" : String(rest.prefix(1))
            guard let index = units.firstIndex(where: { $0.0 == unit }), index > last else { return nil }
            last = index
            rest = rest.dropFirst(unit.count)
            let (part, o1) = value.multipliedReportingOverflow(by: units[index].1)
            let (sum, o2) = total.addingReportingOverflow(part)
            if o1 || o2 { return nil }
            total = sum
        }
        return total
    }

    /// Go's `time.Parse(time.RFC3339Nano, s)`: `2006-01-02T15:04:05[.fraction](Z|±07:00)`.
    static func rfc3339Millis(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        func num(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var v: Int64 = 0
            for c in b[from..<from + count] {
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 20, let year = num(0, 4), b[4] == 45, let month = num(5, 2), b[7] == 45, let day = num(8, 2),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), let hour = num(11, 2), b[13] == 58,
            let minute = num(14, 2), b[16] == 58, let second = num(17, 2),
            (1...12).contains(month), day >= 1, day <= daysIn(month, year), hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > start else { return nil }
            let digits = b[start..<min(start + 3, i)]
            millis = Int64(String(decoding: digits, as: UTF8.self))! * [100, 10, 1][digits.count - 1]
        }
        var offset: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let h = num(i + 1, 2), i + 3 < b.count, b[i + 3] == 58, let m = num(i + 4, 2), h < 24, m < 60 else {
                return nil
            }
            offset = (h * 60 + m) * 60 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year, month, day)
        return ((days * 86400 + hour * 3600 + minute * 60 + second) - offset) * 1000 + millis
    }

    private static func daysIn(_ month: Int64, _ year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Go's `%q`, as Thanos' messages quote a parameter.
    static func goQuote(_ s: String) -> String { GoQuote.quote(s) }

    /// Unix ms as Prometheus reads a time parameter: decimal seconds, millisecond precision.
    static func seconds(_ millis: Int64) -> String {
        let sign = millis < 0 ? "-" : ""
        let magnitude = millis.magnitude
        let fraction = String(magnitude % 1000)
        return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// Nanoseconds as float seconds for Prometheus' duration parameters.
    static func durationSeconds(_ nanoseconds: Int64) -> String {
        let sign = nanoseconds < 0 ? "-" : ""
        let magnitude = nanoseconds.magnitude
        let fraction = String(magnitude % 1_000_000_000)
        return sign + String(magnitude / 1_000_000_000) + "." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
}
