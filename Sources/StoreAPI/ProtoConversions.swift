import Foundation
import GRPCCore
import GRPCRuntime
import PromWire
import SkiffCore
import StoreLogic
import StoreProto

/// Between the wire types (Thanos' and Prometheus' protobufs) and StoreLogic's.
enum ProtoConversions {
    /// Thanos matchers as StoreLogic matchers: a bad regex (or an unknown type) is InvalidArgument.
    static func matchers(_ proto: [Thanos_LabelMatcher]) throws(RPCError) -> [Matcher] {
        var out: [Matcher] = []
        for m in proto {
            guard let type = MatchType(rawValue: m.type.rawValue) else {
                throw RPCFailure.badRequest("unrecognized label matcher type \(m.type.rawValue)").rpcError
            }
            do throws(MatcherError) { out.append(try Matcher(type, name: m.name, value: m.value)) } catch {
                throw RPCFailure.badRequest(error.description).rpcError
            }
        }
        return out
    }

    static func prometheusMatchers(_ matchers: [Matcher]) -> [Prometheus_LabelMatcher] {
        matchers.map { m in
            var p = Prometheus_LabelMatcher()
            p.type = Prometheus_LabelMatcher.TypeEnum(rawValue: m.type.rawValue) ?? .eq
            p.name = m.name
            p.value = m.value
            return p
        }
    }

    static func thanosLabels(_ labels: LabelSet) -> [Thanos_Label] {
        labels.map { l in
            var t = Thanos_Label()
            t.name = l.name
            t.value = l.value
            return t
        }
    }

    static func labelSet(_ labels: [Prometheus_Label]) -> LabelSet {
        LabelSet(labels.map { Label(name: $0.name, value: $0.value) })
    }

    /// Raw samples (the SAMPLES answer) cut into XOR chunks of at most 120, as Thanos does.
    static func encodedChunks(_ samples: [Prometheus_Sample]) -> EncodedChunks {
        var out = EncodedChunks()
        for c in XORChunk.encodeSamples(samples.map { XORChunk.Sample(timestamp: $0.timestamp, value: $0.value) }) {
            c.data.withUnsafeBytes {
                SeriesTranscoder.append(
                    minTime: UInt64(bitPattern: c.minTime), maxTime: UInt64(bitPattern: c.maxTime), thanosType: 0, data: $0,
                    to: &out)
            }
        }
        return out
    }

    /// Prometheus' API takes times in (fractional) seconds.
    static func seconds(_ millis: Int64) -> String {
        millis % 1000 == 0 ? "\(millis / 1000)" : String(format: "%.3f", Double(millis) / 1000)
    }
}
