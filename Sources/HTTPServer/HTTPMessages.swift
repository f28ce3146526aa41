#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrictJSON

/// Request header fields in arrival order, looked up without regard to case.
///
/// A parsed request's fields stay as the bytes that arrived, with where each name and value is: a string is
/// made only for a field asked for, not for every field of every request.
public struct HTTPHeaders: Sendable, Sequence {
    /// The fields' bytes: a parsed request's header section as received, or names and values back to back.
    private var bytes: [UInt8]
    /// Where each field's name and value are in `bytes`, in arrival order.
    private var spans: [FieldSpan]

    struct FieldSpan: Sendable {
        var name: Range<Int>
        var value: Range<Int>
    }

    public init(_ fields: [(name: String, value: String)] = []) {
        bytes = []
        spans = []
        for (name, value) in fields { append(name: name, value: value) }
    }

    /// Empties the fields for a parsed request's, keeping the storage: a previous request's, once that request
    /// is gone (then no other value shares it), so that parsing a head allocates nothing; still shared, it is
    /// not written (emptying it allocates anew).
    /// The bytes are replaced by `setSection`, which the parser calls for every head it accepts.
    mutating func removeAllKeepingStorage(fieldCapacity: Int) {
        spans.removeAll(keepingCapacity: true)
        spans.reserveCapacity(fieldCapacity)
    }

    /// A parsed request's field, at `span` in the header section (the spans are appended while the head is
    /// validated, the section's bytes once it is: `setSection`).
    mutating func appendParsedField(_ span: FieldSpan) {
        spans.append(span)
    }

    /// A parsed request's header section, as received (already validated; maybe empty); `appendParsedField` said
    /// where each field is in it. Replaces the previous bytes in one call (emptying them first, then appending,
    /// took two passes through the array's general paths).
    mutating func setSection(_ section: UnsafeRawBufferPointer) {
        bytes.replaceSubrange(0..<bytes.count, with: section)
    }

    /// The bytes of storage held (for how much storage a parser keeps between requests).
    var storageBytes: Int {
        bytes.capacity + spans.capacity * MemoryLayout<FieldSpan>.stride
    }

    /// Every field as strings, in order.
    public var fields: [(name: String, value: String)] {
        bytes.withUnsafeBufferPointer { all in
            spans.map { (Self.string(all[$0.name]), Self.string(all[$0.value])) }
        }
    }

    /// The first value of the field `name` (any case), or nil.
    public subscript(name: String) -> String? {
        var result: String?
        forEachValue(named: name) { value in
            result = Self.string(value)
            return false
        }
        return result
    }

    /// Whether the first value of the field `name` (any case) passes `test`, given its bytes as received; false
    /// when there is no such field. For a check on every request that needs no string (the content type).
    /// Not generic: a generic result's metadata was looked up on each call.
    public func firstValue(named name: String, passes test: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        var passes = false
        forEachValue(named: name) { value in
            passes = test(UnsafeBufferPointer(rebasing: value))
            return false
        }
        return passes
    }

    /// Every value of the field `name` (any case), in order.
    public func values(for name: String) -> [String] {
        var values: [String] = []
        forEachValue(named: name) { value in
            values.append(Self.string(value))
            return true
        }
        return values
    }

    public var count: Int { spans.count }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    mutating func append(name: String, value: String) {
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        spans.append(FieldSpan(name: nameStart..<valueStart, value: valueStart..<bytes.count))
    }

    /// Calls `body` with the bytes of each value of the field `name` (any case) while it returns true.
    /// Names are compared in place: lengths first (most field names differ there), then bytes ignoring case.
    private func forEachValue(named name: String, _ body: (Slice<UnsafeBufferPointer<UInt8>>) -> Bool) {
        var name = name
        name.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { all in
                for span in spans where span.name.count == wanted.count {
                    let candidate = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all[span.name]))
                    if equalsIgnoringCase(candidate, UnsafeRawBufferPointer(wanted)) && !body(all[span.value]) { return }
                }
            }
        }
    }

    /// The bytes as a string, invalid UTF-8 repaired (U+FFFD) as `String(decoding:as:)` does.
    private static func string(_ source: Slice<UnsafeBufferPointer<UInt8>>) -> String {
        String(unsafeUninitializedCapacity: source.count) { buffer in
            _ = buffer.initialize(fromContentsOf: source)
            return source.count
        }
    }
}

@inline(__always) func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}

/// Whether `first` and `second` hold the same bytes in any ASCII letter case. Compared as they are first (one
/// `memcmp`): a field name mostly arrives spelt as it is asked for (`Content-Type`, `Content-Length`, `Host`, as
/// Go's net/http and wrk send them), and byte by byte through `asciiLower` costs ~20 instructions a byte.
func equalsIgnoringCase(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Bool {
    guard first.count == second.count else { return false }
    guard let firstBase = first.baseAddress, let secondBase = second.baseAddress else { return true } // both empty
    if memcmp(firstBase, secondBase, first.count) == 0 { return true }
    for index in 0..<first.count where asciiLower(first[index]) != asciiLower(second[index]) { return false }
    return true
}

/// Whether `bytes` is `literal` in any ASCII letter case (`equalsIgnoringCase`): the parser's test for the
/// header names and values it acts on (names given in their usual spelling, so that the first comparison mostly
/// decides), and the response writer's for the framing names it drops.
func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
    equalsIgnoringCase(bytes, UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
}

/// One parsed request, body complete.
public struct HTTPRequest: Sendable {
    /// The method as sent (case-sensitive: "GET", "POST").
    public let method: String
    /// The request target as sent ("/validate?timeout=10s").
    public let target: String
    /// The target's path, not percent-decoded ("/validate").
    public let path: String
    /// The query's name/value pairs, percent-decoded ('+' as space), in order.
    public let query: [(name: String, value: String)]
    public let headers: HTTPHeaders
    public let body: [UInt8]
    /// The client's address and port ("10.0.0.1:53122", "[::1]:53122").
    public let remoteAddress: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public let minorVersion: Int
    /// The subject (RFC 2253) of the client's verified certificate, when the server requires one (mTLS).
    public let clientCertificateSubject: String?

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                remoteAddress: String = "", minorVersion: Int = 1, clientCertificateSubject: String? = nil) {
        let queryMark = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target.utf8.distance(from: target.startIndex, to: $0) }
        self.init(method: method, target: target, queryMark: queryMark, headers: headers, body: body,
                  remoteAddress: remoteAddress, minorVersion: minorVersion, clientCertificateSubject: clientCertificateSubject)
    }

    /// `queryMark` is the UTF-8 offset of the first `?` in `target`, as the parser found it (not searched again).
    init(method: String, target: String, queryMark: Int?, headers: HTTPHeaders, body: [UInt8], remoteAddress: String,
         minorVersion: Int, clientCertificateSubject: String?) {
        self.clientCertificateSubject = clientCertificateSubject
        self.method = method
        self.target = target
        if let queryMark {
            let mark = target.utf8.index(target.startIndex, offsetBy: queryMark)
            path = String(target[..<mark])
            query = Self.parseQuery(target[target.index(after: mark)...])
        } else {
            path = target
            query = []
        }
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.minorVersion = minorVersion
    }

    /// The first value of query parameter `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        for item in query where item.name == name { return item.value }
        return nil
    }

    static func parseQuery(_ text: Substring) -> [(name: String, value: String)] {
        var items: [(name: String, value: String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = pair.firstIndex(of: "=") {
                items.append((percentDecoded(pair[..<equals]), percentDecoded(pair[pair.index(after: equals)...])))
            } else {
                items.append((percentDecoded(pair), ""))
            }
        }
        return items
    }

    /// `%XX` decoded and `+` read as space; malformed escapes are kept as they are.
    static func percentDecoded(_ text: Substring) -> String {
        let bytes = Array(text.utf8)
        if !bytes.contains(UInt8(ascii: "%")) && !bytes.contains(UInt8(ascii: "+")) { return String(text) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                      let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}

@inline(__always) func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// What a handler answers. The server adds Content-Length and Connection; handlers should not.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    /// Fields checked and written out beforehand, sent after `headers`.
    public var preparedFields: HTTPPreparedFields?
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int, preparedFields: HTTPPreparedFields, body: [UInt8] = []) {
        self.status = status
        headers = []
        self.preparedFields = preparedFields
        self.body = body
    }

    /// A response with a JSON body already encoded.
    public static func json(status: Int = 200, _ body: [UInt8], headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
    }

    /// A response with a JSON body given as text.
    public static func json(status: Int = 200, _ text: String) -> HTTPResponse {
        json(status: status, Array(text.utf8))
    }

    /// A Kubernetes `Status` failure, the shape clients of the API expect:
    /// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":…,"reason":…,"code":N}`.
    public static func status(_ code: Int, message: String, reason: String? = nil) -> HTTPResponse {
        let status = JSONValue.object(JSONObject([
            .init(key: "kind", value: .string("Status")),
            .init(key: "apiVersion", value: .string("v1")),
            .init(key: "metadata", value: .object(JSONObject())),
            .init(key: "status", value: .string("Failure")),
            .init(key: "message", value: .string(message)),
            .init(key: "reason", value: .string(reason ?? statusReason(code))),
            .init(key: "code", value: .number(JSONNumber(code))),
        ]))
        return json(status: code, status.serialized())
    }

    /// The Kubernetes `StatusReason` for an HTTP status.
    public static func statusReason(_ code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 408: return "Timeout"
        case 409: return "Conflict"
        case 413: return "RequestEntityTooLarge"
        case 415: return "UnsupportedMediaType"
        case 417: return "ExpectationFailed"
        case 429: return "TooManyRequests"
        case 431: return "RequestHeaderFieldsTooLarge"
        case 500: return "InternalError"
        case 501: return "NotImplemented"
        case 503: return "ServiceUnavailable"
        case 505: return "HTTPVersionNotSupported"
        default: return code >= 500 ? "InternalError" : "BadRequest"
        }
    }
}

/// Header fields checked and written out once, for responses that send the same fields again and again (the
/// webhook's `Content-Type` on every review): the writer copies their bytes instead of checking and copying
/// each field of each response. Fields the writer would drop (framing fields, invalid names or values) are
/// dropped here, by the same tests.
public struct HTTPPreparedFields: Sendable {
    /// `name: value` CR LF for each field kept, in order.
    let bytes: [UInt8]

    public init(_ fields: [(name: String, value: String)]) {
        bytes = HTTPResponseWriter.fieldLines(fields)
    }
}

/// Answers requests, possibly on many threads at once.
///
/// The server's event loops serve many connections each, so they must never block: they first ask
/// `respondWithoutBlocking(to:)`, and only when that declines (nil) run `handle(_:)` on a thread of its own.
/// A handler whose answers are pure computation answers in the first; one that may wait (on a network
/// call, a lock held across I/O, a sleep) declines there, at least for the requests that may wait.
public protocol HTTPHandler: Sendable {
    /// The answer; may block. Runs on a thread of its own.
    func handle(_ request: HTTPRequest) -> HTTPResponse
    /// The answer if it can be given without blocking, on the event loop itself (the fast path); nil sends
    /// the request to `handle(_:)`. The default declines every request.
    func respondWithoutBlocking(to request: HTTPRequest) -> HTTPResponse?
}

extension HTTPHandler {
    public func respondWithoutBlocking(to request: HTTPRequest) -> HTTPResponse? { nil }
}

/// The server's limits and timeouts.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 address ("0.0.0.0", "::" listens on both families) or a host name to resolve.
    public var bindAddress: String = "0.0.0.0"
    /// 0 picks a free port (`start()` returns it).
    public var port: Int = 8443
    /// Larger bodies are answered 413 (by Content-Length before reading, or while reading chunks).
    public var maxBodyBytes: Int = 3 * 1024 * 1024
    /// The most request-body bytes all connections together may hold while their requests arrive. A request
    /// whose body would go beyond it is answered 503 (and its connection closed), so many clients sending large
    /// bodies at once cannot take the server past its memory limit (1,024 connections × 3 MiB would be 3 GiB).
    public var maxBufferedBodyBytes: Int = 64 * 1024 * 1024
    /// Request line plus header fields; larger heads are answered 431.
    public var maxHeaderBytes: Int = 64 * 1024
    /// A new connection must complete its TLS handshake and first request head within this; a kept-alive
    /// one must complete a head within this after its first byte. Otherwise: 408 and close.
    public var headerTimeoutSeconds: Double = 10
    /// A body must arrive within this after its head (408 and close otherwise).
    public var bodyTimeoutSeconds: Double = 30
    /// Writing a response must finish within this.
    public var writeTimeoutSeconds: Double = 30
    /// A kept-alive connection with no request for this long is closed quietly.
    public var idleTimeoutSeconds: Double = 60
    /// Connections beyond this are accepted and closed at once, before TLS (a 503 would need a handshake
    /// the overloaded server cannot afford).
    public var maxConnections: Int = 1024
    /// Threads running event loops, each serving its share of the connections (handed out in turn). The
    /// default is `defaultEventLoopCount(processors:)` of the processors the server may use (its CPU affinity,
    /// capped by a container's CPU limit).
    public var eventLoopCount: Int = HTTPServerConfiguration.defaultEventLoopCount(processors: HTTPServerConfiguration.processorCount)
    /// How often (at most, checked when a connection arrives) the certificate files are looked at for a
    /// rotation; 0 turns the check off.
    public var certificateCheckIntervalSeconds: Double = 1
    /// Stack size of each event loop and of each thread running a handler's blocking path.
    public var threadStackBytes: Int = 1024 * 1024
    /// When not empty, only peers inside one of these networks are served; others are closed right after
    /// `accept`, before any TLS work (the webhook guarding itself: only the apiserver's addresses get in).
    public var allowedSources: [CIDR] = []
    /// Receives one line per connection-level problem (handshake failures, accept errors). nil = silent.
    public var log: (@Sendable (String) -> Void)?

    public init(bindAddress: String = "0.0.0.0", port: Int = 8443) {
        self.bindAddress = bindAddress
        self.port = port
    }
}
