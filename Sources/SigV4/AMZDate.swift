import Foundation

/// Formats `date` as SigV4's basic ISO 8601 timestamp, `yyyyMMdd'T'HHmmss'Z'` in UTC.
///
/// Plain arithmetic on the Unix time, not `DateFormatter`: a formatter follows the process's locale
/// and calendar unless every one of those is pinned (a Buddhist calendar adds 543 years, some
/// locales give non-ASCII digits), and a wrong timestamp only shows up as a 403 from the server.
/// Fractions of a second are dropped, as the header has none. Dates outside 1970...9999 are clamped
/// into it, so that any `Date`, even an infinite one, gives a well-formed 16-character value.
func amzDate(_ date: Date) -> String {
    let lastSecondOfYear9999: Int64 = 253_402_300_799
    let interval = date.timeIntervalSince1970
    let seconds: Int64
    if interval.isNaN || interval < 0 {
        seconds = 0
    } else if interval >= Double(lastSecondOfYear9999) {
        seconds = lastSecondOfYear9999
    } else {
        seconds = Int64(interval)  // truncates, which for a non-negative value drops the fraction
    }

    var days = Int(seconds / 86_400)
    let secondOfDay = Int(seconds % 86_400)
    var year = 1970
    while days >= daysIn(year: year) {
        days -= daysIn(year: year)
        year += 1
    }
    var month = 1
    while days >= daysIn(month: month, year: year) {
        days -= daysIn(month: month, year: year)
        month += 1
    }
    let day = days + 1

    return padded(year, 4) + padded(month, 2) + padded(day, 2) + "T" + padded(secondOfDay / 3600, 2)
        + padded(secondOfDay / 60 % 60, 2) + padded(secondOfDay % 60, 2) + "Z"
}

private func isLeap(_ year: Int) -> Bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

private func daysIn(year: Int) -> Int { isLeap(year) ? 366 : 365 }

private func daysIn(month: Int, year: Int) -> Int {
    switch month {
    case 2: return isLeap(year) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

private func padded(_ number: Int, _ width: Int) -> String {
    let digits = String(number)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
