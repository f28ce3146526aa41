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
        output.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(status, to: &output)
        output.append(0x20)
        output.append(contentsOf: reasonPhrase(status).utf8)
        output.append(contentsOf: "\r\n".utf8)
        for (name, value) in response.headers where isValidName(name) && isValidValue(value) {
            if equalsIgnoringCase(name, "content-length") || equalsIgnoringCase(name, "connection")
                || equalsIgnoringCase(name, "transfer-encoding") { continue }
            output.append(contentsOf: name.utf8)
            output.append(contentsOf: ": ".utf8)
            output.append(contentsOf: value.utf8)
            output.append(contentsOf: "\r\n".utf8)
        }
        if hasBody {
            output.append(contentsOf: "Content-Length: ".utf8)
            appendDecimal(response.body.count, to: &output)
            output.append(contentsOf: "\r\n".utf8)
        }
        if !keepAlive {
            output.append(contentsOf: "Connection: close\r\n".utf8)
        } else if minorVersion == 0 {
            output.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        output.append(contentsOf: "\r\n".utf8)
        if hasBody && !headOnly { output.append(contentsOf: response.body) }
    }

    private static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &output) }
        output.append(UInt8(0x30 + value % 10))
    }

    private static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool { HTTPHeaders.equalIgnoringASCIICase(a, b) }

    private static func isValidName(_ name: String) -> Bool { !name.isEmpty && name.utf8.allSatisfy(isTokenByte) }

    /// No CR, LF or other controls: a handler can never split the response.
    private static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }
    }

    static func reasonPhrase(_ status: Int) -> String {
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
