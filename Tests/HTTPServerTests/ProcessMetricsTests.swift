import Foundation
import Glibc
import TestSupport
import Testing

@testable import HTTPServer

/// `thanos_build_info` and client_golang's `process_*` on a real server's /metrics, checked against
/// what the kernel reports through other doors (/proc/self/status, getrlimit, a child's start).
@Suite("Process metrics and build info")
struct ProcessMetricsTests {
    /// Every family client_golang's process collector writes on Linux, with its type and help.
    static let processFamilies: [String: (type: String, help: String)] = [
        "process_cpu_seconds_total": ("counter", "Total user and system CPU time spent in seconds."),
        "process_open_fds": ("gauge", "Number of open file descriptors."),
        "process_max_fds": ("gauge", "Maximum number of open file descriptors."),
        "process_virtual_memory_bytes": ("gauge", "Virtual memory size in bytes."),
        "process_virtual_memory_max_bytes": ("gauge", "Maximum amount of virtual memory available in bytes."),
        "process_resident_memory_bytes": ("gauge", "Resident memory size in bytes."),
        "process_start_time_seconds": ("gauge", "Start time of the process since unix epoch in seconds."),
        "process_network_receive_bytes_total": ("counter", "Number of bytes received by the process over the network."),
        "process_network_transmit_bytes_total": ("counter", "Number of bytes sent by the process over the network."),
    ]

    @Test("names, types and help as client_golang writes them; build info labels; promtool accepts it", .needs(.promtool))
    func namesTypesAndHelp() async throws {
        try await RunningServer.with { server in
            let body = try await RawHTTP.get("/metrics", port: server.port).body
            let scraped = ScrapedMetrics(body)
            for (name, family) in Self.processFamilies {
                #expect(scraped.types[name] == family.type, "\(name)")
                #expect(scraped.help[name] == family.help, "\(name)")
                #expect(scraped.value(name) != nil, "\(name) has no sample")
            }
            // goarch in Go's words for the machine uname reports.
            var name = utsname()
            uname(&name)
            let machine = withUnsafeBytes(of: name.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            let goarch = ["x86_64": "amd64", "aarch64": "arm64"][machine] ?? machine
            let series =
                #"thanos_build_info{branch="unknown",goarch="\#(goarch)",goos="linux",goversion="\#(BuildInfo.swiftVersion)","#
                + #"revision="unknown",tags="unknown",version="0.1.0"}"#
            #expect(scraped.value(series) == 1, "\(body.split(separator: "\n").filter { $0.contains("build_info") })")
            #expect(scraped.types["thanos_build_info"] == "gauge")
            #expect(scraped.help["thanos_build_info"]?.contains("from which thanos was built") == true)
            #expect(BuildInfo.swiftVersion.hasPrefix("swift6."))

            let check = try await promtoolCheckMetrics(body)
            #expect(check.status == 0 || check.status == 3, "promtool: \(check.output)")
        }
    }

    @Test("memory, limits and start time agree with /proc/self/status, getrlimit and the wall clock")
    func plausibleValues() async throws {
        try await RunningServer.with { server in
            let scraped = ScrapedMetrics(try await RawHTTP.get("/metrics", port: server.port).body)
            let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            func kilobytes(_ field: String) throws -> Double {
                let line = try #require(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
                return try #require(Double(line.split(separator: " ")[1])) * 1024
            }
            let rss = try #require(scraped.value("process_resident_memory_bytes"))
            let vmRSS = try kilobytes("VmRSS")
            #expect(rss > vmRSS / 2 && rss < vmRSS * 2, "rss \(rss), VmRSS \(vmRSS)")
            let vsize = try #require(scraped.value("process_virtual_memory_bytes"))
            let vmSize = try kilobytes("VmSize")
            #expect(vsize > vmSize / 2 && vsize < vmSize * 2, "vsize \(vsize), VmSize \(vmSize)")

            var files = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &files)
            #expect(scraped.value("process_max_fds") == Double(files.rlim_cur))
            var space = rlimit()
            getrlimit(Int32(RLIMIT_AS.rawValue), &space)
            #expect(scraped.value("process_virtual_memory_max_bytes") == Double(space.rlim_cur))

            // Started before now, after boot (this process may be older than a minute in a full run).
            let start = try #require(scraped.value("process_start_time_seconds"))
            let now = Date().timeIntervalSince1970
            let uptime = try #require(
                Double(try String(contentsOfFile: "/proc/uptime", encoding: .utf8).split(separator: " ")[0]))
            #expect(start <= now + 1 && start >= now - uptime - 1, "start \(start), now \(now), uptime \(uptime)")
        }
    }

    @Test("a process started now has a start time within a second of now and almost no CPU time")
    func startTimeOfAFreshProcess() async throws {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["5"]
        let launched = Date().timeIntervalSince1970
        try child.run()
        defer {
            child.terminate()
            child.waitUntilExit()
        }
        let families = ProcessMetrics.collect(procSelf: "/proc/\(child.processIdentifier)")
        let values = Dictionary(uniqueKeysWithValues: families.map { ($0.name, $0.value) })
        let start = try #require(values["process_start_time_seconds"])
        #expect(abs(start - launched) < 1, "start \(start), launched \(launched)")
        #expect(try #require(values["process_cpu_seconds_total"]) < 0.5)
        #expect(try #require(values["process_open_fds"]) >= 3)  // stdin, stdout, stderr
    }

    @Test("open fds are the entries of the process' fd dir", .needs(.python3))
    func openFdsOfAChild() async throws {
        // A child that opens 300 descriptors and then idles: its count holds still while it is
        // read, unlike this test process's, where suites running alongside open and close theirs.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.arguments = [
            "python3", "-c",
            "import os,sys,time\nfds=[os.open('/dev/null', os.O_RDONLY) for _ in range(300)]\n"
                + "print('ready', flush=True)\ntime.sleep(30)",
        ]
        let output = Pipe()
        child.standardOutput = output
        try child.run()
        defer {
            // SIGKILL: the test process blocks signals its children inherit, SIGTERM included.
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
        _ = output.fileHandleForReading.availableData  // "ready": all 300 are open
        let proc = "/proc/\(child.processIdentifier)"
        let families = ProcessMetrics.collect(procSelf: proc)
        let fds = try #require(families.first { $0.name == "process_open_fds" }?.value)
        let entries = try FileManager.default.contentsOfDirectory(atPath: "\(proc)/fd").count
        #expect(fds >= 300)
        #expect(fds == Double(entries))
    }

    @Test("CPU seconds and network bytes move with what the process does")
    func countersMove() async throws {
        try await RunningServer.with { server in
            let first = try await RawHTTP.get("/metrics", port: server.port)
            let before = ScrapedMetrics(first.body)

            // Burn a third of a second of CPU on this thread (no suspension point, so no thread hop).
            func threadCPU() -> Double {
                var now = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
                return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
            }
            let spinStart = threadCPU()
            var spin = 0.0
            repeat {
                for i in 0..<10_000 { spin += Double(i).squareRoot() }
            } while threadCPU() - spinStart < 0.35
            #expect(spin > 0)

            let after = ScrapedMetrics(try await RawHTTP.get("/metrics", port: server.port).body)
            // Only counters here: suites running alongside only add to them (open fds, which they
            // also lower, are checked on a child above).
            let cpu =
                try #require(after.value("process_cpu_seconds_total")) - (try #require(before.value("process_cpu_seconds_total")))
            #expect(cpu >= 0.25, "cpu rose by \(cpu) s")
            // The first scrape's answer crossed loopback after its values were read.
            let received =
                try #require(after.value("process_network_receive_bytes_total"))
                - (try #require(before.value("process_network_receive_bytes_total")))
            #expect(received >= Double(first.body.utf8.count), "received \(received) bytes")
        }
    }

    /// About 0.25 ms in a release build, 1.2 ms in a debug one on a loaded 2-core machine; the bound
    /// catches a regression such as parsing /proc/stat (thousands of lines on a large host) per scrape.
    @Test("a scrape's procfs reads are cheap enough to run inline")
    func cost() {
        let clock = ContinuousClock()
        let rounds = 200
        let elapsed = clock.measure { for _ in 0..<rounds { _ = ProcessMetrics.collect() } }
        let each = elapsed / rounds
        #expect(each < .milliseconds(10), "one collection took \(each)")
        print("ProcessMetrics.collect(): \(each) per scrape")
    }
}
