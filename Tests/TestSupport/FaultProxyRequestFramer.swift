import NIOCore

/// What the proxy needs from a request head: whom a fault filter matches, and where the body ends.
struct ProxiedRequestHead: Equatable {
    /// How the body's length is known (RFC 9112 §6): chunked wins over Content-Length; neither means no body.
    enum BodyFraming: Equatable {
        case none
        case contentLength(Int64)
        case chunked
    }

    var method: String
    /// The request target as sent, normally origin-form: path plus query.
    var pathAndQuery: String
    var bodyFraming: BodyFraming
}

/// One slice of a client's request stream. Concatenating the pieces' bytes gives back the stream unchanged,
/// which is what lets the proxy forward untouched bytes while still knowing where each request starts and ends.
enum RequestPiece {
    case head(ProxiedRequestHead, bytes: ByteBuffer)
    /// Body bytes as on the wire. `payloadOffset` is where the first byte sits in the request's payload,
    /// or nil for chunked framing (size lines, the CRLF after each chunk, trailers), which is not payload.
    case body(ByteBuffer, payloadOffset: Int64?)
    /// The request is complete; the next byte, if any, starts a new request (keep-alive).
    case end
}

/// The client sent something that is not an HTTP/1.1 request this framer can delimit; the proxy drops the connection.
struct RequestFramingError: Error, CustomStringConvertible {
    let description: String
}

/// Splits a client's byte stream into requests without buffering bodies: heads are collected whole,
/// body bytes are handed on as they arrive. Only delimits; it does not validate what it passes through.
struct HTTPRequestFramer {
    private enum State {
        case head
        case fixedBody(remaining: Int64)
        case chunkSizeLine
        case chunkData(remaining: Int64)
        case chunkDataCRLF(remaining: Int)
        case trailerLine
    }

    /// Larger heads are refused rather than buffered without bound.
    static let maxHeadBytes = 64 * 1024
    private static let headTerminator: [UInt8] = Array("\r\n\r\n".utf8)
    private static let lineTerminator: [UInt8] = Array("\r\n".utf8)

    private var state = State.head
    /// Bytes of a head or line whose terminator has not arrived yet.
    private var partialLine = ByteBuffer()
    private var payloadOffset: Int64 = 0

    /// Takes the next bytes from the client and returns the pieces they complete, in stream order.
    mutating func feed(_ bytes: ByteBuffer) throws -> [RequestPiece] {
        var input = bytes
        var pieces: [RequestPiece] = []
        while true {
            switch state {
            case .head:
                guard let head = try takeLine(from: &input, ending: Self.headTerminator, limit: Self.maxHeadBytes)
                else { return pieces }
                let parsed = try Self.parseHead(head)
                pieces.append(.head(parsed, bytes: head))
                payloadOffset = 0
                switch parsed.bodyFraming {
                case .none, .contentLength(0): pieces.append(.end)
                case .contentLength(let length): state = .fixedBody(remaining: length)
                case .chunked: state = .chunkSizeLine
                }
            case .fixedBody(let remaining):
                guard let taken = takePayload(from: &input, upTo: remaining, into: &pieces) else { return pieces }
                if Int64(taken) == remaining {
                    pieces.append(.end)
                    state = .head
                } else {
                    state = .fixedBody(remaining: remaining - Int64(taken))
                }
            case .chunkSizeLine:
                guard let line = try takeLine(from: &input, ending: Self.lineTerminator, limit: 4096)
                else { return pieces }
                pieces.append(.body(line, payloadOffset: nil))
                let size = try Self.parseChunkSize(line)
                state = size == 0 ? .trailerLine : .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard let taken = takePayload(from: &input, upTo: remaining, into: &pieces) else { return pieces }
                state =
                    Int64(taken) == remaining
                    ? .chunkDataCRLF(remaining: 2) : .chunkData(remaining: remaining - Int64(taken))
            case .chunkDataCRLF(let remaining):
                guard input.readableBytes > 0 else { return pieces }
                let taken = min(remaining, input.readableBytes)
                pieces.append(.body(input.readSlice(length: taken)!, payloadOffset: nil))
                state = taken == remaining ? .chunkSizeLine : .chunkDataCRLF(remaining: remaining - taken)
            case .trailerLine:
                guard let line = try takeLine(from: &input, ending: Self.lineTerminator, limit: Self.maxHeadBytes)
                else { return pieces }
                pieces.append(.body(line, payloadOffset: nil))
                if line.readableBytes == Self.lineTerminator.count {  // the empty line closes the trailer section
                    pieces.append(.end)
                    state = .head
                }
            }
        }
    }

    /// Moves up to `limit` payload bytes from `input` into a body piece; nil when `input` is empty.
    private mutating func takePayload(
        from input: inout ByteBuffer, upTo limit: Int64, into pieces: inout [RequestPiece]
    ) -> Int? {
        guard input.readableBytes > 0 else { return nil }
        let count = Int(min(Int64(input.readableBytes), limit))
        pieces.append(.body(input.readSlice(length: count)!, payloadOffset: payloadOffset))
        payloadOffset += Int64(count)
        return count
    }

    /// Returns the bytes up to and including `terminator` once it has arrived, leaving the rest in `input`;
    /// until then keeps what came in `partialLine`.
    private mutating func takeLine(
        from input: inout ByteBuffer, ending terminator: [UInt8], limit: Int
    ) throws
        -> ByteBuffer?
    {
        // Only the tail of what was already searched can start a terminator that the new bytes finish.
        let alreadySearched = max(0, partialLine.readableBytes - (terminator.count - 1))
        partialLine.writeBuffer(&input)
        let view = partialLine.readableBytesView
        guard let found = view.dropFirst(alreadySearched).firstRange(of: terminator) else {
            if partialLine.readableBytes > limit {
                throw RequestFramingError(description: "no end of line within \(limit) bytes")
            }
            return nil
        }
        let line = partialLine.readSlice(length: view.distance(from: view.startIndex, to: found.upperBound))!
        input = partialLine
        partialLine = ByteBuffer()
        return line
    }

    private static func parseHead(_ head: ByteBuffer) throws -> ProxiedRequestHead {
        let lines = String(decoding: head.readableBytesView, as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ", omittingEmptySubsequences: true) ?? []
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            throw RequestFramingError(description: "not an HTTP/1.x request line: \(lines.first ?? "")")
        }
        var contentLength: Int64?
        var chunked = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingSpaces.lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            if name == "transfer-encoding" {
                chunked = value.lowercased().split(separator: ",").last?.trimmingSpaces == "chunked"
            } else if name == "content-length" {
                guard let length = Int64(value), length >= 0 else {
                    throw RequestFramingError(description: "bad Content-Length: \(value)")
                }
                contentLength = length
            }
        }
        let framing: ProxiedRequestHead.BodyFraming =
            chunked ? .chunked : contentLength.map { .contentLength($0) } ?? .none
        return ProxiedRequestHead(
            method: String(requestLine[0]), pathAndQuery: String(requestLine[1]), bodyFraming: framing)
    }

    private static func parseChunkSize(_ line: ByteBuffer) throws -> Int64 {
        let text = String(decoding: line.readableBytesView, as: UTF8.self)
        let digits = text.split(separator: ";", maxSplits: 1).first?.trimmingSpaces ?? ""
        guard let size = Int64(digits, radix: 16), size >= 0 else {
            throw RequestFramingError(description: "bad chunk size line: \(text)")
        }
        return size
    }
}

extension StringProtocol {
    /// The text without surrounding spaces, tabs and line ends (header values and chunk sizes may be padded).
    fileprivate var trimmingSpaces: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
