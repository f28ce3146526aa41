/// The status line and headers of an HTTP/1.1 response.
struct HTTPResponseHead: Sendable {
    /// How the body is delimited.
    enum Framing: Sendable, Equatable {
        case contentLength(Int)
        case chunked
        case untilClose
    }

    var statusCode: Int
    var reasonPhrase: String
    /// Header fields in order, names lowercased.
    var headers: [(name: String, value: String)]
    var framing: Framing
    /// True when the connection may carry another request after this response's body.
    var keepAlive: Bool

    /// The first value of a header (name in lowercase).
    func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }
}

/// Reads HTTP/1.1 responses from a byte stream: head, then the body by Content-Length, chunked encoding or
/// connection close. Every size is bounded, and every read is bounded by the stream's timeout and an optional
/// overall deadline.
final class HTTPResponseReader {
    /// Bounds on what the reader accepts.
    struct Limits: Sendable {
        var maxHeadBytes = 64 * 1024
        var maxHeaderCount = 128
        var maxChunkSizeLineBytes = 1024
    }

    private let stream: any ByteStream
    private let limits: Limits
    private var buffer: [UInt8] = []
    private var position = 0
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
    /// Monotonic instant (seconds) after which reads fail; nil for none.
    var deadline: Double?
    /// Per-read timeout applied when a deadline is set (the remaining time is used when shorter).
    var readTimeoutSeconds: Double = 30

    // Body state.
    private var framing: HTTPResponseHead.Framing = .contentLength(0)
    private var bodyRemaining = 0           // for Content-Length
    private var chunkRemaining = 0          // bytes left in the current chunk
    private var chunkStarted = false        // a chunk's data has been read (its CRLF is due)
    private var bodyDone = true

    init(stream: any ByteStream, limits: Limits = Limits()) {
        self.stream = stream
        self.limits = limits
    }

    /// True when bytes beyond the current response are already buffered (a server must not send them).
    var hasBufferedBytes: Bool { position < buffer.count }

    // MARK: Low-level buffer

    private var available: Int { buffer.count - position }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        if let deadline {
            let left = deadline - monotonicSeconds()
            if left <= 0 { throw TransportError("deadline exceeded") }
            stream.setTimeout(seconds: min(left, readTimeoutSeconds))
        }
        if position > 0 && position == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            position = 0
        } else if position > 64 * 1024 && position * 2 > buffer.count {
            buffer.removeSubrange(0..<position)
            position = 0
        }
        let count = try scratch.withUnsafeMutableBytes { try stream.read(into: $0) }
        if count == 0 { return false }
        buffer.append(contentsOf: scratch[0..<count])
        return true
    }

    /// One line without its CRLF (a bare LF is accepted); throws past `maxBytes` or at end of stream.
    private func readLine(maxBytes: Int, what: String) throws -> [UInt8] {
        var scanFrom = position
        while true {
            if let newline = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > position && buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                if end - position > maxBytes { throw KubernetesAPIError.protocolError("\(what) is longer than \(maxBytes) bytes") }
                let line = Array(buffer[position..<end])
                position = newline + 1
                return line
            }
            if buffer.count - position > maxBytes { throw KubernetesAPIError.protocolError("\(what) is longer than \(maxBytes) bytes") }
            scanFrom = buffer.count
            let consumed = position
            if try !fill() { throw TransportError("connection closed while reading the \(what)") }
            scanFrom -= consumed - position  // fill() may have compacted the buffer
        }
    }

    // MARK: Head

    /// Reads a response's status line and headers, and prepares to read its body.
    func readHead(requestMethod: String = "GET") throws -> HTTPResponseHead {
        var headBytes = 0
        var statusLine = try readLine(maxBytes: limits.maxHeadBytes, what: "response status line")
        // Skip 1xx interim responses? The API server does not send them for GET; treat any as an error below.
        headBytes += statusLine.count
        let text = String(decoding: statusLine, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let code = Int(parts[1]), (100...599).contains(code) else {
            throw KubernetesAPIError.protocolError("not an HTTP/1.x status line: \(text.prefix(80))")
        }
        let isHTTP10 = parts[0] == "HTTP/1.0"
        statusLine.removeAll()
        var headers: [(name: String, value: String)] = []
        while true {
            let line = try readLine(maxBytes: limits.maxHeadBytes, what: "response header")
            if line.isEmpty { break }
            headBytes += line.count
            if headBytes > limits.maxHeadBytes { throw KubernetesAPIError.protocolError("response headers exceed \(limits.maxHeadBytes) bytes") }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else {
                throw KubernetesAPIError.protocolError("malformed response header line")
            }
            let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            headers.append((name, value))
            if headers.count > limits.maxHeaderCount { throw KubernetesAPIError.protocolError("more than \(limits.maxHeaderCount) response headers") }
        }
        let connectionTokens = headers.filter { $0.name == "connection" }.flatMap { $0.value.lowercased().split(separator: ",").map { String($0).trimmingSpaces() } }
        var keepAlive = isHTTP10 ? connectionTokens.contains("keep-alive") : !connectionTokens.contains("close")

        let framing: HTTPResponseHead.Framing
        let transferEncoding = headers.filter { $0.name == "transfer-encoding" }.map { $0.value.lowercased() }
        let contentLengths = Set(headers.filter { $0.name == "content-length" }.map(\.value))
        if requestMethod == "HEAD" || code == 204 || code == 304 || (100..<200).contains(code) {
            framing = .contentLength(0)
        } else if !transferEncoding.isEmpty {
            guard transferEncoding.last?.split(separator: ",").last.map({ String($0).trimmingSpaces() }) == "chunked" else {
                throw KubernetesAPIError.protocolError("unsupported transfer-encoding \(transferEncoding.joined(separator: ", "))")
            }
            framing = .chunked
        } else if contentLengths.count > 1 {
            throw KubernetesAPIError.protocolError("conflicting content-length headers")
        } else if let lengthText = contentLengths.first {
            guard let length = Int(lengthText), length >= 0 else {
                throw KubernetesAPIError.protocolError("invalid content-length \(lengthText.prefix(40))")
            }
            framing = .contentLength(length)
        } else {
            framing = .untilClose
            keepAlive = false
        }
        beginBody(framing)
        let reason = parts.count > 2 ? String(parts[2]) : ""
        return HTTPResponseHead(statusCode: code, reasonPhrase: reason, headers: headers, framing: framing, keepAlive: keepAlive)
    }

    private func beginBody(_ framing: HTTPResponseHead.Framing) {
        self.framing = framing
        chunkRemaining = 0
        chunkStarted = false
        switch framing {
        case .contentLength(let length): bodyRemaining = length; bodyDone = length == 0
        case .chunked, .untilClose: bodyDone = false
        }
    }

    // MARK: Body

    /// The next piece of the body, nil at its end. Pieces follow the wire (one read, at most one chunk).
    func nextBodyPiece() throws -> [UInt8]? {
        if bodyDone { return nil }
        switch framing {
        case .contentLength:
            if available == 0, try !fill() {
                throw TransportError("connection closed with \(bodyRemaining) body bytes still due")
            }
            let count = min(available, bodyRemaining)
            let piece = Array(buffer[position..<(position + count)])
            position += count
            bodyRemaining -= count
            if bodyRemaining == 0 { bodyDone = true }
            return piece
        case .untilClose:
            if available == 0, try !fill() { bodyDone = true; return nil }
            let piece = Array(buffer[position...])
            position = buffer.count
            return piece
        case .chunked:
            while chunkRemaining == 0 {
                if chunkStarted {
                    // The CRLF that ends the previous chunk's data.
                    let end = try readLine(maxBytes: 2, what: "chunk terminator")
                    if !end.isEmpty { throw KubernetesAPIError.protocolError("chunk data longer than its size") }
                    chunkStarted = false
                }
                let sizeLine = try readLine(maxBytes: limits.maxChunkSizeLineBytes, what: "chunk size line")
                let sizeText = sizeLine.prefix { $0 != UInt8(ascii: ";") }
                let hex = String(decoding: sizeText, as: UTF8.self).trimmingSpaces()
                guard !hex.isEmpty, hex.count <= 15, let size = Int(hex, radix: 16), size >= 0 else {
                    throw KubernetesAPIError.protocolError("invalid chunk size line")
                }
                if size == 0 {
                    // Trailer fields, then the empty line.
                    var trailerBytes = 0
                    while true {
                        let trailer = try readLine(maxBytes: limits.maxHeadBytes, what: "chunked trailer")
                        if trailer.isEmpty { break }
                        trailerBytes += trailer.count
                        if trailerBytes > limits.maxHeadBytes { throw KubernetesAPIError.protocolError("chunked trailers too large") }
                    }
                    bodyDone = true
                    return nil
                }
                chunkRemaining = size
                chunkStarted = true
            }
            if available == 0, try !fill() {
                throw TransportError("connection closed inside a chunk")
            }
            let count = min(available, chunkRemaining)
            let piece = Array(buffer[position..<(position + count)])
            position += count
            chunkRemaining -= count
            return piece
        }
    }

    /// The whole body; throws when it exceeds `maxBytes`.
    func readBody(maxBytes: Int) throws -> [UInt8] {
        if case .contentLength(let length) = framing, length > maxBytes {
            throw KubernetesAPIError.protocolError("response body of \(length) bytes exceeds the limit of \(maxBytes)")
        }
        var body: [UInt8] = []
        while let piece = try nextBodyPiece() {
            body.append(contentsOf: piece)
            if body.count > maxBytes { throw KubernetesAPIError.protocolError("response body exceeds the limit of \(maxBytes) bytes") }
        }
        return body
    }

    /// Reads the body as newline-separated lines (a watch stream), calling `handle` for each non-empty line
    /// until the body ends or `handle` returns false. Lines may span reads and chunks; a read may hold many.
    func forEachLine(maxLineBytes: Int, _ handle: ([UInt8]) throws -> Bool) throws {
        var pending: [UInt8] = []
        while let piece = try nextBodyPiece() {
            var start = 0
            while let newline = piece[start...].firstIndex(of: UInt8(ascii: "\n")) {
                pending.append(contentsOf: piece[start..<newline])
                start = newline + 1
                if pending.count > maxLineBytes { throw KubernetesAPIError.protocolError("watch event longer than \(maxLineBytes) bytes") }
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                if !pending.isEmpty {
                    if try !handle(pending) { return }
                }
                pending.removeAll(keepingCapacity: true)
            }
            pending.append(contentsOf: piece[start...])
            if pending.count > maxLineBytes { throw KubernetesAPIError.protocolError("watch event longer than \(maxLineBytes) bytes") }
        }
        // A final event without a trailing newline.
        if !pending.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
            _ = try handle(pending)
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
