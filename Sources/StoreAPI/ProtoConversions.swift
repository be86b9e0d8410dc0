import Foundation
import GRPCCore
import PromWire
import StoreLogic
import StoreProto

/// Between the wire types (Thanos' and Prometheus' protobufs) and StoreLogic's.
enum ProtoConversions {
    /// Thanos matchers as StoreLogic matchers: a bad regex (or an unknown type) is InvalidArgument.
    static func matchers(_ proto: [Thanos_LabelMatcher]) throws(RPCError) -> [Matcher] {
        var out: [Matcher] = []
        for m in proto {
            guard let type = MatchType(rawValue: m.type.rawValue) else {
                throw RPCError(code: .invalidArgument, message: "unrecognized label matcher type \(m.type.rawValue)")
            }
            do throws(MatcherError) { out.append(try Matcher(type, name: m.name, value: m.value)) } catch {
                throw RPCError(code: .invalidArgument, message: error.description)
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

    /// A streamed chunk, its bytes passed through: Prometheus numbers encodings from UNKNOWN = 0
    /// (XOR = 1), Thanos from XOR = 0. Nil for an encoding Thanos has no number for.
    static func aggrChunk(_ chunk: Prometheus_Chunk) -> Thanos_AggrChunk? {
        guard let type = Thanos_Chunk.Encoding(rawValue: chunk.type.rawValue - 1), chunk.type.rawValue >= 1 else { return nil }
        var raw = Thanos_Chunk()
        raw.type = type
        raw.data = chunk.data
        var aggr = Thanos_AggrChunk()
        aggr.minTime = chunk.minTimeMs
        aggr.maxTime = chunk.maxTimeMs
        aggr.raw = raw
        return aggr
    }

    /// Raw samples (the SAMPLES answer) cut into XOR chunks of at most 120, as Thanos does.
    static func aggrChunks(_ samples: [Prometheus_Sample]) -> [Thanos_AggrChunk] {
        XORChunk.encodeSamples(samples.map { XORChunk.Sample(timestamp: $0.timestamp, value: $0.value) }).map { c in
            var raw = Thanos_Chunk()
            raw.type = .xor
            raw.data = Data(c.data)
            var aggr = Thanos_AggrChunk()
            aggr.minTime = c.minTime
            aggr.maxTime = c.maxTime
            aggr.raw = raw
            return aggr
        }
    }

    /// Prometheus' API takes times in (fractional) seconds.
    static func seconds(_ millis: Int64) -> String {
        millis % 1000 == 0 ? "\(millis / 1000)" : String(format: "%.3f", Double(millis) / 1000)
    }
}
