import Testing

@testable import HTTPServer

/// The procfs formats, on lines shaped as the kernel writes them, including the awkward ones.
@Suite("procfs formats")
struct ProcFormatsTests {
    @Test("stat fields are counted from the last ')', so a command name with spaces and parentheses parses")
    func statWithAwkwardName() throws {
        let text =
            "3832 (a) b (c)) R 3768 3768 10066 0 -1 4194304 101 0 0 0 7 3 0 0 20 0 1 0 3727597 3133440 414 "
            + "18446744073709551615 94919766827008 0 0\n"
        let stat = try #require(ProcStat(parsing: Array(text.utf8)))
        #expect((stat.utime, stat.stime, stat.starttime, stat.vsize, stat.rss) == (7, 3, 3_727_597, 3_133_440, 414))
        #expect(ProcStat(parsing: Array("3832 (cat) R 1 2 3\n".utf8)) == nil)
        #expect(ProcStat(parsing: Array("no parenthesis".utf8)) == nil)
    }

    @Test("limits: the soft column, 'unlimited' as 2^64-1; a malformed row read fails the file")
    func limits() throws {
        let text = """
            Limit                     Soft Limit           Hard Limit           Units
            Max cpu time              unlimited            unlimited            seconds
            Max open files            1024                 1048576              files
            Max address space         unlimited            unlimited            bytes
            Max realtime timeout      unlimited            unlimited            us

            """
        let limits = try #require(ProcLimits(parsing: Array(text.utf8)))
        #expect(limits.openFiles == 1024)
        #expect(limits.addressSpace == UInt64.max)
        #expect(Double(limits.addressSpace) == 1.8446744073709552e19)
        #expect(
            ProcLimits(
                parsing: Array("Limit  Soft\nMax open files            lots                 1048576              files\n".utf8))
                == nil)
    }

    @Test("netstat: IpExt's octets from the name and value line pair; mismatched pairs fail")
    func netstat() throws {
        let text = """
            TcpExt: SyncookiesSent SyncookiesRecv
            TcpExt: 0 0
            IpExt: InNoRoutes InOctets OutOctets InMcastOctets
            IpExt: 0 32233374227 32127774984 5

            """
        let octets = try #require(IPOctets(parsing: Array(text.utf8)))
        #expect(octets.received == 32_233_374_227)
        #expect(octets.transmitted == 32_127_774_984)
        #expect(IPOctets(parsing: Array("IpExt: InOctets OutOctets\nIpExt: 1\n".utf8)) == nil)
        #expect(IPOctets(parsing: Array("TcpExt: A\nTcpExt: 1\n".utf8)) == IPOctets(parsing: []))  // no IpExt: zeros, as in Go
    }

    @Test("numbers: decimal digits up to 2^64-1, nothing else")
    func numbers() {
        #expect(ProcNumber.parse(Array("18446744073709551615".utf8)[...]) == UInt64.max)
        #expect(ProcNumber.parse(Array("18446744073709551616".utf8)[...]) == nil)
        #expect(ProcNumber.parse(Array("-1".utf8)[...]) == nil)
        #expect(ProcNumber.parse([]) == nil)
    }

    @Test("boot time is the btime line of /proc/stat")
    func bootTime() {
        #expect(
            ProcessMetrics.parseBootTime(Array("cpu  1 2 3\nintr 5 6\nbtime 1764700000\nprocesses 9\n".utf8)) == 1_764_700_000)
        #expect(ProcessMetrics.parseBootTime(Array("cpu  1 2 3\n".utf8)) == nil)
    }

    @Test("values: integers as integers, the rest as shortest round-trip")
    func format() {
        #expect(ProcessMetrics.format(12) == "12")
        #expect(ProcessMetrics.format(1_764_700_000.5) == "1764700000.5")
        #expect(ProcessMetrics.format(1.8446744073709552e19) == "1.8446744073709552e+19")
        #expect(ProcessMetrics.format(0.01) == "0.01")
    }
}
