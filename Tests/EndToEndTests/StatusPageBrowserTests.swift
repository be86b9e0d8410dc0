import Foundation
import HummingbirdBcrypt
import SkiffCore
import TestSupport
import Testing

/// The status page as an operator sees it: a real sidecar ships promtool's blocks from a real
/// Prometheus, and headless Chromium loads the page and reads the DOM it built.
@Suite(.serialized, .needs(.promtool, .prometheus, .chromium, .curl)) struct StatusPageBrowserTests {
    /// Headless Chromium with a profile of its own (it runs as root here, hence no sandbox).
    static func chromium(_ arguments: [String], profile: TempDir) async throws -> ProgramResult {
        try await ExternalProgram.chromium.run(
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.sub("profile"))",
                "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0",
            ] + arguments)
    }

    /// (ULID, state) of every timeline bar in a DOM.
    static func bars(_ dom: String) -> [(ulid: String, state: String)] {
        dom.matches(of: /<rect data-ulid="([0-9A-Z]{26})" data-state="([a-z-]+)"/).map { (String($0.1), String($0.2)) }
    }

    /// A script error, or a resource the page failed to load, as Chromium logs them.
    static func consoleErrors(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter {
            $0.contains("Uncaught") || $0.contains(":CONSOLE") || $0.contains("Failed to load resource")
        }
    }

    /// Where the screenshot goes: `SKIFF_STATUS_SCREENSHOT` (docs/status-page.png is made so), else a temp file.
    static func screenshotPath(_ dir: TempDir) -> String {
        ProcessInfo.processInfo.environment["SKIFF_STATUS_SCREENSHOT"] ?? dir.sub("status.png")
    }

    @Test func chromiumShowsEveryShippedBlockOnTheTimeline() async throws {
        let world = try await SidecarTests.World.make()
        let profile = try TempDir()
        defer { profile.remove() }
        let base = "http://127.0.0.1:\(world.httpPort)"
        // A watched rule dir: the reloader reloads Prometheus once and the page shows its card.
        let rules = world.root.sub("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        let arguments = world.arguments(["--reloader.rule-dir", rules, "--reloader.watch-interval=1s"])
        let (_, result) = try await SidecarTests.withSidecar(arguments) { running in
            // Shipped, and committed in the ledger (the page reads the ledger).
            let local = world.localBlocks.map(\.string)
            #expect(local.count >= 2, "promtool made too few blocks")
            let committed = try await HTTPProbe.waitFor(port: world.httpPort, path: "/api/v1/skiff/status", within: .seconds(60))
            {
                guard let body = $0?.body, let json = try? JSONValue.parse(Array(body.utf8)) else { return false }
                return json["data"]?["shipping"]?["counts"]?["committed"]?.int64Value == Int64(local.count)
                    && json["data"]?["prometheus"]?["ready"] == .bool(true)
                    && (json["data"]?["reloader"]?["reloads"]?.int64Value ?? 0) >= 1
            }
            #expect(committed?.status == 200, "\(running.stderrSoFar)")

            let dom = try await Self.chromium(["--dump-dom", base + "/"], profile: profile)
            #expect(dom.status == 0, "\(dom.stderr)")
            let bars = Self.bars(dom.stdout)
            #expect(bars.map(\.ulid).sorted() == local, "\(dom.stdout.prefix(2000))")
            #expect(bars.allSatisfy { $0.state == "committed" })
            for ulid in local { #expect(dom.stdout.contains("href=\"blocks/\(ulid)\"")) }
            #expect(dom.stdout.contains("cluster=\"eu1\""), "the external labels, as the DOM holds them")
            #expect(dom.stdout.contains("<span class=\"ok\">up</span>") && dom.stdout.contains("<span class=\"ok\">ready</span>"))
            #expect(Self.consoleErrors(dom.stderr).isEmpty, "\(dom.stderr)")
            #expect(dom.stdout.contains("<section id=\"reloader\">") && dom.stdout.contains("<span class=\"ok\">ok</span>"))
            #expect(dom.stdout.contains(rules))

            // A bar's link: the block's page, with its transitions and files.
            let block = try await Self.chromium(["--dump-dom", base + "/blocks/" + local[0]], profile: profile)
            #expect(block.stdout.contains("index_uploaded → committed"), "\(block.stdout.prefix(2000))")
            #expect(block.stdout.contains("meta.json") || block.stdout.contains("chunks/000001"))
            #expect(block.stdout.contains("key prefix <span class=\"mono\">\(local[0])/</span>"))

            let shot = Self.screenshotPath(profile)
            let screenshot = try await Self.chromium(
                ["--screenshot=\(shot)", "--window-size=1280,900", "--hide-scrollbars", base + "/"], profile: profile)
            #expect(screenshot.status == 0, "\(screenshot.stderr)")
            let png = FileManager.default.contents(atPath: shot) ?? Data()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "a PNG of the page")
        }
        #expect(result.status == 0, "\(result)")

        // The same timeline from the CLI, from the ledger the sidecar left.
        let svg = try await SkiffProcess.run(["report", "timeline", "--output", "svg", "--tsdb.path", world.tsdb])
        #expect(svg.status == 0, "\(svg)")
        #expect(Self.bars(svg.stdout).map(\.ulid).sorted() == world.localBlocks.map(\.string))
        #expect(svg.stdout.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        let html = try await SkiffProcess.run(["report", "timeline", "--output", "html", "--tsdb.path", world.tsdb])
        #expect(html.stdout.hasPrefix("<!DOCTYPE html>") && html.stdout.contains("<svg"), "\(html)")
        #expect(!html.stdout.contains("<script") && !html.stdout.contains("http-equiv"))
        // The named reports still parse beside the new subcommand.
        let lag = try await SkiffProcess.run(["report", "lag", "--tsdb.path", world.tsdb])
        #expect(lag.status == 0, "\(lag)")
        await world.finish()
    }

    /// Basic auth in --http.config guards the page and its API as it guards /metrics.
    @Test func thePageAndTheAPIAnswer401WithoutCredentials() async throws {
        let root = try TempDir()
        defer { root.remove() }
        let hash = "$2y$" + Bcrypt.hash("s3cret", cost: 10).dropFirst(4)
        let webConfig = root.sub("web.yml")
        try "basic_auth_users:\n  operator: \(hash)\n".write(toFile: webConfig, atomically: true, encoding: .utf8)
        let port = try HTTPProbe.freePort()
        let arguments = [
            "sidecar", "--http.config", webConfig, "--http-address=127.0.0.1:\(port)", "--grpc-address=127.0.0.1:0",
            "--prometheus.url=http://127.0.0.1:1", "--tsdb.path", root.sub("tsdb"), "--http-grace-period=0s",
        ]
        let paths = [
            "/", "/timeline.svg", "/api/v1/skiff/status", "/api/v1/skiff/blocks",
            "/blocks/01HZZZZZZZ0000000000000001", "/api/v1/skiff/blocks/01HZZZZZZZ0000000000000001",
        ]
        let (_, result) = try await SidecarTests.withSidecar(arguments) { running in
            func status(_ path: String, user: String? = nil) async throws -> String {
                try await ExternalProgram.curl.run(
                    ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"] + (user.map { ["-u", $0] } ?? [])
                        + ["http://127.0.0.1:\(port)\(path)"]
                ).stdout
            }
            let deadline = ContinuousClock.now + .seconds(30)
            var answer = ""
            while answer != "200" && ContinuousClock.now < deadline {
                answer = try await status("/-/healthy", user: "operator:s3cret")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(answer == "200", "\(running.stderrSoFar)")
            for path in paths {
                #expect(try await status(path) == "401", "\(path)")
                #expect(try await status(path, user: "operator:wrong") == "401", "\(path)")
            }
            #expect(try await status("/", user: "operator:s3cret") == "200")
            #expect(try await status("/api/v1/skiff/status", user: "operator:s3cret") == "200")
            // No bucket, so no ledger: a block is not found, behind the auth.
            #expect(try await status(paths[4], user: "operator:s3cret") == "404")
        }
        #expect(result.status == 0, "\(result)")
    }
}
