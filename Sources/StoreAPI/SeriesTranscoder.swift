import PromWire
import SkiffCore
import StoreLogic

/// A series' chunks already encoded as Thanos `Series.chunks` entries (field 2, each an
/// `AggrChunk` with only `raw` set), so a series split over frames is joined by appending.
struct EncodedChunks: Sendable {
    var bytes: [UInt8] = []
    var count = 0
}

/// Prometheus `ChunkedReadResponse` frames in, Thanos `SeriesResponse` bytes out.
///
/// Wire layouts (field numbers from Protos/):
///   prometheus.ChunkedSeries { 1: repeated Label {1: name, 2: value}, 2: repeated Chunk {1: min_time_ms,
///     2: max_time_ms, 3: type (XOR = 1), 4: data} }
///   thanos.SeriesResponse { 1: Series { 1: repeated Label {1: name, 2: value}, 2: repeated AggrChunk
///     {1: min_time, 2: max_time, 3: raw Chunk {1: type (XOR = 0), 2: data}} } }
enum SeriesTranscoder {
    /// Every series in one frame (Prometheus sends one; more are accepted), labels as sent.
    static func decodeFrame(_ frame: UnsafeRawBufferPointer) throws(ProtoWire.Malformed) -> [RemoteReader.Series] {
        var out: [RemoteReader.Series] = []
        var reader = ProtoWire.Reader(frame)
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            guard field == 1, wireType == 2 else {
                try reader.skip(wireType: wireType)  // query_index
                continue
            }
            out.append(try series(frame, try reader.lengthDelimited()))
        }
        return out
    }

    private static func series(
        _ buffer: UnsafeRawBufferPointer, _ range: Range<Int>
    ) throws(ProtoWire.Malformed) -> (LabelSet, EncodedChunks) {
        var labels: [Label] = []
        var chunks = EncodedChunks()
        // Thanos' AggrChunk entry is at most a byte longer than Prometheus' Chunk (it drops the
        // type field for XOR and adds the raw wrapper's tag and length), and the labels are left
        // out: the input's size, plus slack for a byte a chunk, holds them all in one allocation.
        chunks.bytes.reserveCapacity(range.count + range.count / 16 + 16)
        var reader = ProtoWire.Reader(buffer, range: range)
        while !reader.atEnd {
            let (field, wireType) = try reader.tag()
            switch (field, wireType) {
            case (1, 2):
                var label = ProtoWire.Reader(buffer, range: try reader.lengthDelimited())
                var name = ""
                var value = ""
                while !label.atEnd {
                    let (f, w) = try label.tag()
                    if f == 1, w == 2 {
                        name = label.string(try label.lengthDelimited())
                    } else if f == 2, w == 2 {
                        value = label.string(try label.lengthDelimited())
                    } else {
                        try label.skip(wireType: w)
                    }
                }
                labels.append(Label(name: name, value: value))
            case (2, 2):
                var chunk = ProtoWire.Reader(buffer, range: try reader.lengthDelimited())
                var minTime: UInt64 = 0
                var maxTime: UInt64 = 0
                var type: UInt64 = 0
                var data: Range<Int> = 0..<0
                while !chunk.atEnd {
                    let (f, w) = try chunk.tag()
                    switch (f, w) {
                    case (1, 0): minTime = try chunk.varint()
                    case (2, 0): maxTime = try chunk.varint()
                    case (3, 0): type = try chunk.varint()
                    case (4, 2): data = try chunk.lengthDelimited()
                    default: try chunk.skip(wireType: w)
                    }
                }
                // Prometheus numbers encodings from UNKNOWN = 0 (XOR = 1), Thanos from XOR = 0.
                guard type >= 1 else { continue }
                append(
                    minTime: minTime, maxTime: maxTime, thanosType: type - 1,
                    data: UnsafeRawBufferPointer(rebasing: buffer[data]), to: &chunks)
            default:
                try reader.skip(wireType: wireType)
            }
        }
        return (LabelSet(labels), chunks)
    }

    /// Appends one `AggrChunk` entry (times as int64 two's complement, as protobuf does).
    static func append(
        minTime: UInt64, maxTime: UInt64, thanosType: UInt64, data: UnsafeRawBufferPointer, to chunks: inout EncodedChunks
    ) {
        let raw = ProtoWire.varintFieldSize(thanosType) + 1 + UVarint.length(of: UInt64(data.count)) + data.count
        let aggr =
            ProtoWire.varintFieldSize(minTime) + ProtoWire.varintFieldSize(maxTime) + 1 + UVarint.length(of: UInt64(raw)) + raw
        chunks.bytes.append(2 << 3 | 2)
        UVarint.append(UInt64(aggr), to: &chunks.bytes)
        ProtoWire.appendVarintField(1, minTime, to: &chunks.bytes)
        ProtoWire.appendVarintField(2, maxTime, to: &chunks.bytes)
        chunks.bytes.append(3 << 3 | 2)
        UVarint.append(UInt64(raw), to: &chunks.bytes)
        ProtoWire.appendVarintField(1, thanosType, to: &chunks.bytes)
        ProtoWire.appendBytesField(2, data, to: &chunks.bytes)
        chunks.count += 1
    }

    /// The size of the `SeriesResponse` carrying `labels` and `chunks`.
    static func responseSize(labels: LabelSet, chunks: EncodedChunks) -> Int {
        lengthDelimitedSize(seriesSize(labels: labels, chunks: chunks))
    }

    /// A length-delimited field's size (tag, length, body) around a body of `size` bytes.
    static func lengthDelimitedSize(_ size: Int) -> Int { 1 + UVarint.length(of: UInt64(size)) + size }

    /// Writes the `SeriesResponse` carrying `labels` and `chunks` into `out`, which must be
    /// exactly `responseSize` bytes (the chunk bytes, the bulk of it, are copied exactly once).
    static func writeResponse(labels: LabelSet, chunks: EncodedChunks, into out: UnsafeMutableRawBufferPointer) {
        writeResponse(BatchedSeries(labels: labels, chunks: chunks), into: out)
    }

    /// `writeResponse` for a series whose size is counted already.
    static func writeResponse(_ series: BatchedSeries, into out: UnsafeMutableRawBufferPointer) {
        var writer = ProtoWire.Writer(out)
        writeSeries(labels: series.labels, chunks: series.chunks, size: series.size, to: &writer)
        precondition(writer.isFull, "SeriesResponse size miscounted")
    }

    /// Writes a `SeriesResponse` whose `batch` (field 4, a `SeriesBatch`) holds `series`, each
    /// with its `seriesSize` given, into `out`, exactly `lengthDelimitedSize(bodySize)` bytes.
    static func writeBatchResponse(
        _ series: [BatchedSeries], bodySize: Int, into out: UnsafeMutableRawBufferPointer
    ) {
        var writer = ProtoWire.Writer(out)
        writer.append(4 << 3 | 2)
        writer.appendVarint(UInt64(bodySize))
        for s in series { writeSeries(labels: s.labels, chunks: s.chunks, size: s.size, to: &writer) }
        precondition(writer.isFull, "SeriesResponse batch size miscounted")
    }

    /// One `Series` as field 1 (of `SeriesResponse` or of `SeriesBatch`: both number it 1).
    private static func writeSeries(labels: LabelSet, chunks: EncodedChunks, size: Int, to writer: inout ProtoWire.Writer) {
        writer.append(1 << 3 | 2)
        writer.appendVarint(UInt64(size))
        for label in labels {
            var name = label.name
            var value = label.value
            writer.append(1 << 3 | 2)
            writer.appendVarint(UInt64(stringFieldSize(name) + stringFieldSize(value)))
            name.withUTF8 { writer.appendNonEmptyBytesField(1, UnsafeRawBufferPointer($0)) }
            value.withUTF8 { writer.appendNonEmptyBytesField(2, UnsafeRawBufferPointer($0)) }
        }
        chunks.bytes.withUnsafeBytes { writer.append(contentsOf: $0) }
    }

    /// The size of a `Series` message's body.
    static func seriesSize(labels: LabelSet, chunks: EncodedChunks) -> Int {
        var size = chunks.bytes.count
        for label in labels {
            let entry = stringFieldSize(label.name) + stringFieldSize(label.value)
            size += 1 + UVarint.length(of: UInt64(entry)) + entry
        }
        return size
    }

    private static func stringFieldSize(_ text: String) -> Int {
        let n = text.utf8.count
        return n == 0 ? 0 : 1 + UVarint.length(of: UInt64(n)) + n
    }
}
