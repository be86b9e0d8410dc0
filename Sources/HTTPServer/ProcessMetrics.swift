#if canImport(Glibc)
import Glibc
#endif

/// The `process_*` metrics of client_golang's process collector (`process_collector_procfsenabled.go`
/// over prometheus/procfs), read from procfs at every scrape with the same sources and arithmetic, so
/// Thanos' dashboards and the usual process alerts work unchanged:
///
/// | metric | source |
/// |---|---|
/// | `process_cpu_seconds_total` | (utime + stime) / clock ticks, `/proc/self/stat` |
/// | `process_virtual_memory_bytes` | vsize, `/proc/self/stat` |
/// | `process_resident_memory_bytes` | rss × page size, `/proc/self/stat` |
/// | `process_start_time_seconds` | btime of `/proc/stat` + starttime / clock ticks |
/// | `process_open_fds` | size of `/proc/self/fd` (Linux 6.2+), else its entries |
/// | `process_max_fds`, `process_virtual_memory_max_bytes` | soft "Max open files" and "Max address space" of `/proc/self/limits` ("unlimited" is 2⁶⁴−1) |
/// | `process_network_receive_bytes_total`, `..._transmit_...` | IpExt InOctets, OutOctets of `/proc/self/net/netstat` (the network namespace's, as client_golang reads it) |
///
/// A source that cannot be read or parsed leaves its metrics out, as client_golang does without
/// `ReportErrors` (Thanos' setting): a scrape never fails because of them.
///
/// Cost: procfs files are generated from kernel memory, never read from a device, so these reads do
/// not block the way disk I/O does. A scrape reads four small files and stats one directory: about
/// 0.25 ms in a release build on the 2-core test machine under load, two thirds of it the kernel
/// generating net/netstat (/proc/stat, long on many-CPU machines, is read once). That is under a
/// millisecond of one thread per scrape, so it runs inline in the /metrics handler rather than
/// through `Blocking.run`.
///
/// Go's runtime metrics (`go_*`) are not imitated: Skiff has no Go runtime to report on.
enum ProcessMetrics {
    struct Family: Equatable {
        let name: String
        let help: String
        let type: String
        let value: Double
    }

    /// The metrics of this process, now; empty where procfs is absent (macOS).
    static func collect() -> [Family] {
        #if os(Linux)
        return collect(procSelf: "/proc/self")
        #else
        return []
        #endif
    }

    /// Appends the text exposition of `collect()`.
    static func emit(into buffer: inout [UInt8]) {
        for family in collect() {
            buffer.append(contentsOf: "# HELP \(family.name) \(family.help)\n".utf8)
            buffer.append(contentsOf: "# TYPE \(family.name) \(family.type)\n".utf8)
            buffer.append(contentsOf: "\(family.name) \(format(family.value))\n".utf8)
        }
    }

    /// Integral values as integers (as Go's `%g` writes them up to 2^53), others as Swift's shortest
    /// round-tripping form; both parse the same in Prometheus.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return "\(value)"
    }

    #if os(Linux)
    /// The metrics of the process whose /proc directory is `procSelf` (tests read a child's).
    static func collect(procSelf: String) -> [Family] {
        var families: [Family] = []
        func add(_ name: String, _ type: String, _ value: Double, _ help: String) {
            families.append(Family(name: name, help: help, type: type, value: value))
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))  // USER_HZ: procfs' constant 100 on every Linux Swift runs on
        if let text = ProcFile.read(procSelf + "/stat"), let stat = ProcStat(parsing: text) {
            add("process_cpu_seconds_total", "counter", Double(stat.utime + stat.stime) / ticks, Help.cpu)
            add("process_virtual_memory_bytes", "gauge", Double(stat.vsize), Help.vsize)
            add("process_resident_memory_bytes", "gauge", Double(stat.rss) * Double(sysconf(Int32(_SC_PAGESIZE))), Help.rss)
            if let boot = bootTime {
                add("process_start_time_seconds", "gauge", boot + Double(stat.starttime) / ticks, Help.start)
            }
        }
        if let fds = ProcFile.countEntries(procSelf + "/fd") {
            add("process_open_fds", "gauge", Double(fds), Help.openFDs)
        }
        if let text = ProcFile.read(procSelf + "/limits"), let limits = ProcLimits(parsing: text) {
            add("process_max_fds", "gauge", Double(limits.openFiles), Help.maxFDs)
            add("process_virtual_memory_max_bytes", "gauge", Double(limits.addressSpace), Help.maxVsize)
        }
        if let text = ProcFile.read(procSelf + "/net/netstat"), let octets = IPOctets(parsing: text) {
            add("process_network_receive_bytes_total", "counter", octets.received, Help.received)
            add("process_network_transmit_bytes_total", "counter", octets.transmitted, Help.transmitted)
        }
        return families
    }

    /// The boot time in Unix seconds. It never changes, so /proc/stat (long on many-CPU machines)
    /// is read once.
    private static let bootTime = ProcFile.read("/proc/stat").flatMap(parseBootTime)
    #endif

    /// The `btime` line of /proc/stat.
    static func parseBootTime(_ bytes: [UInt8]) -> Double? {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == "btime" { return UInt64(fields[1]).map { Double($0) } }
        }
        return nil
    }

    /// client_golang's help texts, word for word.
    enum Help {
        static let cpu = "Total user and system CPU time spent in seconds."
        static let openFDs = "Number of open file descriptors."
        static let maxFDs = "Maximum number of open file descriptors."
        static let vsize = "Virtual memory size in bytes."
        static let maxVsize = "Maximum amount of virtual memory available in bytes."
        static let rss = "Resident memory size in bytes."
        static let start = "Start time of the process since unix epoch in seconds."
        static let received = "Number of bytes received by the process over the network."
        static let transmitted = "Number of bytes sent by the process over the network."
    }
}
