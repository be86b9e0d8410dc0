// The procfs formats `ProcessMetrics` reads, parsed as prometheus/procfs parses them. They are
// parsed as bytes: every scrape parses them, and Character-wise string splitting cost a
// millisecond per scrape in a debug build (bytes: a few microseconds).

/// The fields of /proc/<pid>/stat the collector uses (proc(5) numbering).
struct ProcStat: Equatable {
    var utime: UInt64  // field 14, clock ticks
    var stime: UInt64  // 15
    var starttime: UInt64  // 22, clock ticks after boot
    var vsize: UInt64  // 23, bytes
    var rss: UInt64  // 24, pages

    /// The command name (field 2) is in parentheses and may itself hold spaces and ')', so fields
    /// are counted from the last ')', as procfs does.
    init?(parsing text: [UInt8]) {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = text[(close + 1)...].split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        // fields[0] is field 3 (state).
        guard fields.count > 21, let utime = ProcNumber.parse(fields[11]), let stime = ProcNumber.parse(fields[12]),
            let starttime = ProcNumber.parse(fields[19]), let vsize = ProcNumber.parse(fields[20]),
            let rss = ProcNumber.parse(fields[21])
        else { return nil }
        (self.utime, self.stime, self.starttime, self.vsize, self.rss) = (utime, stime, starttime, vsize, rss)
    }
}

/// The two soft limits of /proc/<pid>/limits the collector reports.
struct ProcLimits: Equatable {
    var openFiles: UInt64 = 0
    var addressSpace: UInt64 = 0

    /// Rows are "Max open files            1024                 1048576              files"; the soft
    /// limit is the first field after the name. A row read that does not parse fails the file, as
    /// in procfs; a missing row leaves 0, Go's zero value.
    init?(parsing text: [UInt8]) {
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let keyPath: WritableKeyPath<ProcLimits, UInt64>
            let name: String
            if line.starts(with: "Max open files ".utf8) {
                (keyPath, name) = (\.openFiles, "Max open files ")
            } else if line.starts(with: "Max address space ".utf8) {
                (keyPath, name) = (\.addressSpace, "Max address space ")
            } else {
                continue
            }
            guard let soft = line.dropFirst(name.utf8.count).split(separator: UInt8(ascii: " ")).first else { return nil }
            if soft.elementsEqual("unlimited".utf8) {
                self[keyPath: keyPath] = .max
            } else if let value = ProcNumber.parse(soft) {
                self[keyPath: keyPath] = value
            } else {
                return nil
            }
        }
    }
}

/// IpExt's InOctets and OutOctets in /proc/<pid>/net/netstat: pairs of lines, names then values.
struct IPOctets: Equatable {
    var received = 0.0
    var transmitted = 0.0

    /// Only the IpExt pair is split; one with unequal field counts fails, as in procfs. A file
    /// without it gives zeros, as client_golang reports then.
    init?(parsing text: [UInt8]) {
        let lines = text.split(separator: UInt8(ascii: "\n"))
        var index = 0
        while index + 1 < lines.count {
            defer { index += 2 }
            guard lines[index].starts(with: "IpExt:".utf8) else { continue }
            let names = lines[index].split(separator: UInt8(ascii: " "))
            let values = lines[index + 1].split(separator: UInt8(ascii: " "))
            guard names.count == values.count else { return nil }
            for (name, value) in zip(names, values).dropFirst() {
                if name.elementsEqual("InOctets".utf8) {
                    guard let octets = ProcNumber.parse(value) else { return nil }
                    received = Double(octets)
                } else if name.elementsEqual("OutOctets".utf8) {
                    guard let octets = ProcNumber.parse(value) else { return nil }
                    transmitted = Double(octets)
                }
            }
        }
    }
}

enum ProcNumber {
    /// A decimal unsigned integer, nil when empty, not all digits, or above 2^64-1.
    static func parse(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}
