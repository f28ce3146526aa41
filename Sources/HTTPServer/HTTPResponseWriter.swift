/// Serializes responses: status line, the handler's headers (minus framing ones, which the server owns),
/// Content-Length, Connection, blank line and body, into one buffer for one TLS write.
enum HTTPResponseWriter {
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Replaces `output` with the serialized response; `output`'s capacity is reused across requests.
    static func serialize(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, minorVersion: Int,
                          into output: inout [UInt8]) {
        output.removeAll(keepingCapacity: true)
        let status = (100...999).contains(response.status) ? response.status : 500
        let hasBody = !(status < 200 || status == 204 || status == 304)
        output.reserveCapacity(256 + response.headers.count * 64 + (hasBody ? response.body.count : 0))
        append("HTTP/1.1 ", to: &output)
        appendDecimal(status, to: &output)
        output.append(0x20)
        append(reasonPhrase(status), to: &output)
        append("\r\n", to: &output)
        for (name, value) in response.headers {
            var name = name
            var value = value
            // Checked and copied through each string's UTF-8 buffer: a header is read twice, not five times.
            name.withUTF8 { name in
                value.withUTF8 { value in
                    guard isHandlerField(name), isValidValue(value) else { return }
                    output.append(contentsOf: name)
                    append(": ", to: &output)
                    output.append(contentsOf: value)
                    append("\r\n", to: &output)
                }
            }
        }
        if hasBody {
            append("Content-Length: ", to: &output)
            appendDecimal(response.body.count, to: &output)
            append("\r\n", to: &output)
        }
        if !keepAlive {
            append("Connection: close\r\n", to: &output)
        } else if minorVersion == 0 {
            append("Connection: keep-alive\r\n", to: &output)
        }
        append("\r\n", to: &output)
        if hasBody && !headOnly { output.append(contentsOf: response.body) }
    }

    /// A literal's bytes, copied at once (not through the generic `String.UTF8View` path).
    @inline(__always) private static func append(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// The digits of a non-negative value, most significant first.
    private static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(0x30 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// A token the handler may send: not empty, and not one of the framing fields the server writes itself.
    private static func isHandlerField(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !name.isEmpty, name.allSatisfy(isTokenByte) else { return false }
        switch name.count {
        case 10: return !equalsLowercase(name, "connection")
        case 14: return !equalsLowercase(name, "content-length")
        case 17: return !equalsLowercase(name, "transfer-encoding")
        default: return true
        }
    }

    /// No CR, LF or other controls: a handler can never split the response.
    private static func isValidValue(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.allSatisfy { ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }
    }

    /// Case-insensitive comparison with a lowercase ASCII literal of the same length.
    private static func equalsLowercase(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        let expected = literal.utf8Start
        for index in 0..<bytes.count where asciiLower(bytes[index]) != expected[index] { return false }
        return true
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
