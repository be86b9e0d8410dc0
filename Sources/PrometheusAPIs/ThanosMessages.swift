import PrometheusClient
import SkiffCore
import StoreLogic
import StoreProto
import SwiftProtobuf

/// Prometheus' HTTP API answers as the Thanos messages a sidecar sends, field by field as Thanos'
/// decoders fill them. Thanos' non-nullable fields (gogoproto) are always set, so an empty label
/// set or Go's zero time is on the wire as Thanos puts it there.
enum ThanosMessages {
    /// A label map in Prometheus' byte order, with `external` added (Thanos `ExtendSortedLabels`:
    /// on a clash the external value wins).
    static func labels(_ map: [String: String], external: LabelSet = LabelSet()) -> Thanos_ZLabelSet {
        let set = LabelSet(map).withExternal(external)
        return .with {
            $0.labels = set.map { label in
                .with {
                    $0.name = label.name
                    $0.value = label.value
                }
            }
        }
    }

    static func timestamp(_ time: PrometheusTimestamp) -> Google_Protobuf_Timestamp {
        .with {
            $0.seconds = time.seconds
            $0.nanos = time.nanos
        }
    }

    static func alertState(_ state: PrometheusAlertState) -> Thanos_AlertState {
        switch state {
        case .unknown: .unknown
        case .inactive: .inactive
        case .pending: .pending
        case .firing: .firing
        }
    }

    // MARK: Rules

    /// A group, its rules' labels extended; Prometheus has no partial responses, so every group
    /// says ABORT (`promclient.RulesInGRPC`).
    static func group(_ group: PrometheusRuleGroup, external: LabelSet) -> Thanos_RuleGroup {
        .with {
            $0.name = group.name
            $0.file = group.file
            $0.rules = group.rules.map { rule($0, external: external) }
            $0.interval = group.interval
            $0.evaluationDurationSeconds = group.evaluationTime
            $0.lastEvaluation = timestamp(group.lastEvaluation)
            $0.limit = group.limit
            $0.partialResponseStrategy = .abort
        }
    }

    static func rule(_ rule: PrometheusRule, external: LabelSet) -> Thanos_Rule {
        switch rule {
        case .recording(let r):
            return .with {
                $0.recording = .with {
                    $0.name = r.name
                    $0.query = r.query
                    $0.labels = labels(r.labels, external: external)
                    $0.health = r.health
                    $0.lastError = r.lastError
                    $0.evaluationDurationSeconds = r.evaluationTime
                    $0.lastEvaluation = timestamp(r.lastEvaluation)
                }
            }
        case .alerting(let a):
            return .with {
                $0.alert = .with {
                    $0.state = alertState(a.state)
                    $0.name = a.name
                    $0.query = a.query
                    $0.durationSeconds = a.duration
                    $0.labels = labels(a.labels, external: external)
                    $0.annotations = labels(a.annotations)
                    // Alert instances keep Prometheus' labels: Thanos extends only the rule's.
                    $0.alerts = a.alerts.map(alert)
                    $0.health = a.health
                    $0.lastError = a.lastError
                    $0.evaluationDurationSeconds = a.evaluationTime
                    $0.lastEvaluation = timestamp(a.lastEvaluation)
                    $0.keepFiringForSeconds = a.keepFiringFor
                }
            }
        }
    }

    static func alert(_ alert: PrometheusAlert) -> Thanos_AlertInstance {
        .with {
            $0.labels = labels(alert.labels)
            $0.annotations = labels(alert.annotations)
            $0.state = alertState(alert.state)
            // Nullable in Thanos: absent stays absent.
            if let activeAt = alert.activeAt { $0.activeAt = timestamp(activeAt) }
            $0.value = alert.value
        }
    }

    // MARK: Targets

    /// Active targets' discovered labels and labels, and dropped targets' discovered labels, get
    /// the external labels (`enrichTargetsWithExtLabels`).
    static func targets(_ targets: PrometheusTargets, external: LabelSet) -> Thanos_TargetDiscovery {
        .with {
            $0.activeTargets = targets.activeTargets.map { t in
                .with {
                    $0.discoveredLabels = labels(t.discoveredLabels, external: external)
                    $0.labels = labels(t.labels, external: external)
                    $0.scrapePool = t.scrapePool
                    $0.scrapeURL = t.scrapeUrl
                    $0.globalURL = t.globalUrl
                    $0.lastError = t.lastError
                    $0.lastScrape = timestamp(t.lastScrape)
                    $0.lastScrapeDuration = t.lastScrapeDuration
                    $0.health =
                        switch t.health {
                        case .down: .down
                        case .up: .up
                        case .unknown: .unknown
                        }
                }
            }
            $0.droppedTargets = targets.droppedTargets.map { t in
                .with { $0.discoveredLabels = labels(t.discoveredLabels, external: external) }
            }
        }
    }

    // MARK: Metadata and exemplars

    /// The whole map as is: metadata carries no labels, so no external labels either.
    static func metadata(_ metadata: [String: [PrometheusMetricMeta]]) -> Thanos_MetricMetadata {
        .with {
            $0.metadata = metadata.mapValues { metas in
                .with {
                    $0.metas = metas.map { m in
                        .with {
                            $0.type = m.type
                            $0.help = m.help
                            $0.unit = m.unit
                        }
                    }
                }
            }
        }
    }

    /// One series' exemplars: the series labels extended, the exemplars' own labels untouched.
    static func exemplars(_ series: PrometheusExemplarSeries, external: LabelSet) -> Thanos_ExemplarData {
        .with {
            $0.seriesLabels = labels(series.seriesLabels, external: external)
            $0.exemplars = series.exemplars.map { e in
                .with {
                    $0.labels = labels(e.labels)
                    $0.value = e.value
                    $0.ts = e.timestampMillis
                }
            }
        }
    }
}
