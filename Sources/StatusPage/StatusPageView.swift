import Ledger
import SkiffCore

/// The status page at `/`: Prometheus, shipping, the block timeline, what needs attention, the
/// last reconcile and recent failures. Everything from disk or Prometheus goes through `{{ }}`.
enum StatusPageView {
    /// Rows past these are left to the JSON API: the page stays fast with 10,000 blocks.
    static let attentionRows = 50, findingRows = 100

    static func render(_ model: StatusModel) -> String {
        template.render(context(model))
    }

    static func context(_ model: StatusModel) -> Fields {
        let title = model.prometheus?.externalLabels ?? "Blocks"
        let svg = TimelineSVG(linkPrefix: "blocks/", title: "Block timeline \(title)").render(model.timeline)
        var values: [String: any Sendable] = [
            "generated": Humanize.time(model.now), "timeline": svg, "bucket": model.bucket ?? "",
            "hasBucket": model.bucket != nil, "bytesShipped": Humanize.bytes(model.bytesShipped),
            "counts": TimelineState.allCases.map { state in
                Fields(["label": state.label, "colour": state.colour, "count": "\(model.counts[state] ?? 0)"])
            },
            "oldestUnshipped": model.oldestUnshippedAgeMillis.map(Humanize.duration) ?? "none",
            "uploads": model.uploads.map(upload),
            "attention": model.attention.prefix(attentionRows).map { attention($0.block, $0.state) },
            "hasAttention": !model.attention.isEmpty, "hasFailures": !model.failures.isEmpty,
            "failures": model.failures.map { group in
                Fields([
                    "error": group.error, "attempts": "\(group.attempts)", "blocks": "\(group.blocks)",
                    "last": Humanize.time(group.lastAt),
                ])
            },
        ]
        // A section renders for any present value, an empty string too: absent keys stay out.
        if model.attention.count > attentionRows { values["attentionMore"] = "\(model.attention.count - attentionRows)" }
        if let lag = model.lag {
            values["lag"] = Fields([
                "median": Humanize.duration(millis: lag.medianMillis), "p90": Humanize.duration(millis: lag.p90Millis),
                "max": Humanize.duration(millis: lag.maxMillis), "blocks": "\(lag.blocks)",
            ])
        }
        if let p = model.prometheus { values["prometheus"] = prometheus(p, now: model.now) }
        if let r = model.reloader { values["reloader"] = reloader(r, now: model.now) }
        if let run = model.reconcile { values["reconcile"] = reconcile(run) }
        return Fields(values)
    }

    static func prometheus(_ p: PrometheusStatus, now: Int64) -> Fields {
        var values: [String: any Sendable] = [
            "url": p.url, "up": p.up, "version": p.version ?? "unknown", "labels": p.externalLabels ?? "not read yet",
            "ready": p.ready, "reason": p.notReadyReason ?? "",
        ]
        if let error = p.lastError { values["error"] = error }
        if let beat = p.lastHeartbeatMillis {
            values["heartbeat"] = "\(Humanize.time(beat)) (\(Humanize.duration(millis: max(0, now - beat))) ago)"
        }
        return Fields(values)
    }

    static func reloader(_ r: ReloaderStatus, now: Int64) -> Fields {
        func ago(_ t: Int64) -> String { "\(Humanize.time(t)) (\(Humanize.duration(millis: max(0, now - t))) ago)" }
        var values: [String: any Sendable] = [
            "method": r.method, "reloads": "\(r.reloads)", "failed": "\(r.failedReloads)", "failing": r.failing,
            "watched": ([r.configFile].compactMap { $0 } + r.ruleDirs).joined(separator: ", "),
        ]
        if let output = r.outputFile { values["output"] = output }
        if let success = r.lastSuccessMillis { values["success"] = ago(success) }
        if let error = r.lastError, let at = r.lastErrorMillis {
            values["error"] = error
            values["errorAt"] = ago(at)
        }
        return Fields(values)
    }

    static func upload(_ u: UploadProgress) -> Fields {
        var values: [String: any Sendable] = [
            "ulid": u.ulid, "state": u.state, "uploaded": Humanize.bytes(u.uploadedBytes),
        ]
        if let total = u.totalBytes, total > 0 {
            values["total"] = Humanize.bytes(total)
            values["max"] = "\(total)"
            values["value"] = "\(min(u.uploadedBytes, total))"
        }
        return Fields(values)
    }

    static func attention(_ b: BlockRecord, _ state: TimelineState) -> Fields {
        Fields([
            "ulid": b.ulid.string, "state": state.label,
            "attempts": "\(b.attempts)", "error": b.lastError ?? b.reason ?? "",
            "updated": Humanize.time(b.updatedAt),
        ])
    }

    static func reconcile(_ run: ReconcileSummary) -> Fields {
        var values: [String: any Sendable] = [
            "started": Humanize.time(run.startedAt), "took": Humanize.duration(millis: run.durationMillis),
            "mode": run.mode, "blocks": "\(run.blocks)", "drifted": "\(run.drifted)", "repaired": "\(run.repaired)",
            "findings": run.findings.prefix(findingRows).map { f in
                Fields([
                    "ulid": f.ulid, "status": f.status, "detail": f.detail, "action": f.action ?? "",
                    "outcome": f.outcome ?? "",
                ])
            },
            "hasFindings": !run.findings.isEmpty,
        ]
        if run.findings.count > findingRows { values["findingsMore"] = "\(run.findings.count - findingRows)" }
        return Fields(values)
    }

    static let template = Template(
        """
        <!DOCTYPE html>
        <html lang="en"><head><title>Skiff sidecar status</title>
        \(PageStyle.head)
        </head><body>
        <header><h1>Skiff sidecar</h1><span class="muted">generated {{generated}} ·
        <a href="api/v1/skiff/status">JSON</a> · <a href="timeline.svg">timeline.svg</a></span></header>
        <main>
        <div class="cards">
        <section id="prometheus"><h2>Prometheus</h2>
        {{#prometheus}}
        <table>
        <tr><th>URL</th><td class="mono">{{url}}</td></tr>
        <tr><th>Reachable</th><td>{{#up}}<span class="ok">up</span>{{/up}}{{^up}}<span class="bad">down</span>{{/up}}</td></tr>
        <tr><th>Version</th><td>{{version}}</td></tr>
        <tr><th>External labels</th><td class="mono">{{labels}}</td></tr>
        <tr><th>Last heartbeat</th><td>{{#heartbeat}}{{heartbeat}}{{/heartbeat}}{{^heartbeat}}none yet{{/heartbeat}}</td></tr>
        <tr><th>Ready</th><td>{{#ready}}<span class="ok">ready</span>{{/ready}}{{^ready}}<span class="bad">not ready</span> \
        <span class="error">{{reason}}</span>{{/ready}}</td></tr>
        {{#error}}<tr><th>Last error</th><td class="error">{{error}}</td></tr>{{/error}}
        </table>
        {{/prometheus}}
        {{^prometheus}}<p class="muted">No Prometheus state (not served by a sidecar).</p>{{/prometheus}}
        </section>
        {{#reloader}}
        <section id="reloader"><h2>Config reloader</h2>
        <table>
        <tr><th>State</th><td>{{#failing}}<span class="bad">failing</span>{{/failing}}{{^failing}}<span class="ok">ok</span>{{/failing}} \
        (reload via {{method}})</td></tr>
        <tr><th>Watching</th><td class="mono">{{watched}}</td></tr>
        {{#output}}<tr><th>Writes</th><td class="mono">{{output}}</td></tr>{{/output}}
        <tr><th>Reloads</th><td>{{reloads}} ({{failed}} failed)</td></tr>
        <tr><th>Last reload</th><td>{{#success}}{{success}}{{/success}}{{^success}}none yet{{/success}}</td></tr>
        {{#error}}<tr><th>Last error</th><td class="error">{{error}} ({{errorAt}})</td></tr>{{/error}}
        </table>
        </section>
        {{/reloader}}
        <section id="shipping"><h2>Shipping</h2>
        {{^hasBucket}}<p class="muted">No bucket configured (--objstore.config-file): uploads are disabled.</p>{{/hasBucket}}
        {{#hasBucket}}<p>Bucket <span class="mono">{{bucket}}</span></p>{{/hasBucket}}
        <table>
        {{#counts}}<tr><th><span class="swatch" style="background:{{colour}}"></span>{{label}}</th><td class="num">{{count}}</td></tr>
        {{/counts}}
        <tr><th>Bytes shipped</th><td class="num">{{bytesShipped}}</td></tr>
        {{#lag}}<tr><th>Lag, end to commit</th><td>median {{median}}, p90 {{p90}}, max {{max}} ({{blocks}} blocks)</td></tr>{{/lag}}
        <tr><th>Oldest unshipped block</th><td>{{oldestUnshipped}}</td></tr>
        </table>
        {{#uploads}}
        <p>Uploading <a class="mono" href="blocks/{{ulid}}">{{ulid}}</a> ({{state}}): {{uploaded}}{{#total}} of {{total}} \
        <progress max="{{max}}" value="{{value}}"></progress>{{/total}}</p>
        {{/uploads}}
        </section>
        </div>
        <section id="timeline"><h2>Block timeline</h2>
        <div class="timeline-box">{{{timeline}}}</div>
        </section>
        {{#hasAttention}}
        <section id="attention"><h2>Blocks needing attention</h2>
        <table><tr><th>Block</th><th>State</th><th>Attempts</th><th>Updated</th><th>Last error</th></tr>
        {{#attention}}<tr><td><a class="mono" href="blocks/{{ulid}}">{{ulid}}</a></td><td>{{state}}</td>\
        <td class="num">{{attempts}}</td><td>{{updated}}</td><td class="error">{{error}}</td></tr>
        {{/attention}}
        </table>{{#attentionMore}}<p class="muted">and {{attentionMore}} more: see /api/v1/skiff/blocks</p>{{/attentionMore}}
        </section>
        {{/hasAttention}}
        <section id="reconcile"><h2>Last reconcile</h2>
        {{#reconcile}}
        <p>{{started}} ({{mode}}, took {{took}}): {{blocks}} blocks compared, {{drifted}} drifted, {{repaired}} repaired.</p>
        {{#hasFindings}}<table><tr><th>Block</th><th>Finding</th><th>Detail</th><th>Action</th><th>Outcome</th></tr>{{/hasFindings}}
        {{#findings}}<tr><td><a class="mono" href="blocks/{{ulid}}">{{ulid}}</a></td><td>{{status}}</td>\
        <td>{{detail}}</td><td>{{action}}</td><td>{{outcome}}</td></tr>
        {{/findings}}
        {{#hasFindings}}</table>{{/hasFindings}}
        {{#findingsMore}}<p class="muted">and {{findingsMore}} more: see `skiff report drift`</p>{{/findingsMore}}
        {{/reconcile}}
        {{^reconcile}}<p class="muted">No reconcile has run yet.</p>{{/reconcile}}
        </section>
        <section id="failures"><h2>Recent failures, by error</h2>
        {{#hasFailures}}<table><tr><th>Error</th><th>Attempts</th><th>Blocks</th><th>Last</th></tr>{{/hasFailures}}
        {{#failures}}<tr><td class="error">{{error}}</td><td class="num">{{attempts}}</td><td class="num">{{blocks}}</td>\
        <td>{{last}}</td></tr>
        {{/failures}}
        {{#hasFailures}}</table>{{/hasFailures}}
        {{^failures}}<p class="muted">No failed attempts recorded.</p>{{/failures}}
        </section>
        </main></body></html>

        """)
}
