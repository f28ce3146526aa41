/// Serializes responses: status line, the handler's headers (minus framing ones, which the server owns),
/// Content-Length, Connection, blank line and body, into one buffer for one TLS write.
enum HTTPResponseWriter {
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Replaces `output` with the serialized response; `output`'s capacity is reused across requests.
    /// Kept out of line, as before: one copy of the code for both callers, and a name in profiles.
    @inline(never)
    static func serialize(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, minorVersion: Int,
                          into output: inout [UInt8]) {
        let status = (100...999).contains(response.status) ? response.status : 500
        let hasBody = !(status < 200 || status == 204 || status == 304)
        let reason = reasonPhrase(status)
        // The most the head can take: the handler's fields, the status line, Content-Length (20 digits at
        // most), Connection and the blank line.
        var headCapacity = 96 + reason.utf8CodeUnitCount
        if !response.headers.isEmpty {  // most responses have prepared fields only: no iterator
            for (name, value) in response.headers { headCapacity += name.utf8.count + value.utf8.count + 4 }
        }
        headCapacity += response.preparedFields?.bytes.count ?? 0
        // The head is assembled in scratch memory and copied once: one append, not one per piece.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: headCapacity) { scratch in
            var head = HeadBuilder(scratch)
            head.append("HTTP/1.1 ")
            head.appendDecimal(status)
            head.append(" ")
            head.append(reason)
            head.append("\r\n")
            if !response.headers.isEmpty {
                forEachKeptField(response.headers) { name, value in
                    head.append(name)
                    head.append(": ")
                    head.append(value)
                    head.append("\r\n")
                }
            }
            // Read in place (bound, the fields were copied out: a retain and a release).
            response.preparedFields?.bytes.withUnsafeBufferPointer { head.append($0) }
            if hasBody {
                head.append("Content-Length: ")
                head.appendDecimal(response.body.count)
                head.append("\r\n")
            }
            if !keepAlive {
                head.append("Connection: close\r\n")
            } else if minorVersion == 0 {
                head.append("Connection: keep-alive\r\n")
            }
            head.append("\r\n")
            // The previous response replaced by the head in one call (emptying first, then appending, took two
            // passes through the array's general paths); the capacity is kept, and grown once for the body.
            output.replaceSubrange(0..<output.count, with: UnsafeBufferPointer(rebasing: scratch[..<head.count]))
            output.reserveCapacity(head.count + (hasBody && !headOnly ? response.body.count : 0))
        }
        if hasBody && !headOnly { output.append(contentsOf: response.body) }
    }

    /// The lines `serialize` writes for `fields` (those it keeps), for `HTTPPreparedFields`.
    static func fieldLines(_ fields: [(name: String, value: String)]) -> [UInt8] {
        var lines: [UInt8] = []
        forEachKeptField(fields) { name, value in
            lines += name
            lines += ": ".utf8
            lines += value
            lines += "\r\n".utf8
        }
        return lines
    }

    /// Calls `body` with the name and value bytes of each field a response may carry: a token that is not one
    /// of the framing fields the server writes itself, with a value that cannot split the response. Read
    /// through each string's UTF-8 buffer: a field is read twice, not five times.
    @inline(__always)
    private static func forEachKeptField(
        _ fields: [(name: String, value: String)],
        _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> Void
    ) {
        for (name, value) in fields {
            var name = name
            var value = value
            name.withUTF8 { name in
                value.withUTF8 { value in
                    if isHandlerField(name), isValidValue(value) { body(name, value) }
                }
            }
        }
    }

    /// Writes a head into memory sized for it beforehand (`serialize` counts the most it can take).
    private struct HeadBuilder {
        let buffer: UnsafeMutableBufferPointer<UInt8>
        private(set) var count = 0

        init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

        @inline(__always) mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            precondition(count + bytes.count <= buffer.count, "response head larger than counted")
            guard let source = bytes.baseAddress else { return }
            (buffer.baseAddress! + count).update(from: source, count: bytes.count)
            count += bytes.count
        }

        @inline(__always) mutating func append(_ text: StaticString) {
            append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        /// The digits of a non-negative value, most significant first.
        mutating func appendDecimal(_ value: Int) {
            var divisor = 1
            while divisor <= value / 10 { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                precondition(count < buffer.count, "response head larger than counted")
                buffer[count] = UInt8(0x30 + rest / divisor)
                count += 1
                rest %= divisor
                divisor /= 10
            }
        }
    }

    /// A token the handler may send: not empty, and not one of the framing fields the server writes itself.
    private static func isHandlerField(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return false }
        switch name.count {
        case 10: return !equalsIgnoringCase(UnsafeRawBufferPointer(name), "connection")
        case 14: return !equalsIgnoringCase(UnsafeRawBufferPointer(name), "content-length")
        case 17: return !equalsIgnoringCase(UnsafeRawBufferPointer(name), "transfer-encoding")
        default: return true
        }
    }

    /// No CR, LF or other controls: a handler can never split the response.
    private static func isValidValue(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.allSatisfy { ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }
    }


    static func reasonPhrase(_ status: Int) -> StaticString {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }
}
