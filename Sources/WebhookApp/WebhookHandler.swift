import Glibc
import AdmissionControl
import HTTPServer
import StrictJSON

/// The webhook's routes: health, readiness, metrics, and admission on any POSTed path (the apiserver calls
/// whatever path the webhook configuration names, as with PSA's own webhook). Knows HTTP and admission,
/// nothing of sockets or TLS.
public struct WebhookHandler: HTTPHandler {
    public let admission: AdmissionController
    public let metrics: WebhookMetrics
    public let log: RequestLog?
    /// True once the webhook can answer with cluster state (the namespace cache has synced).
    public let isReady: @Sendable () -> Bool

    /// The work on one review is bounded by `?timeout=` (the apiserver sends its webhook timeout), capped here.
    public static let defaultTimeoutSeconds = 10.0
    public static let maxTimeoutSeconds = 30.0

    public init(admission: AdmissionController, metrics: WebhookMetrics, log: RequestLog?,
                isReady: @escaping @Sendable () -> Bool = { true }) {
        self.admission = admission
        self.metrics = metrics
        self.log = log
        self.isReady = isReady
    }

    /// The answer where blocking is fine (a live namespace lookup, a pod listing).
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        respond(to: request, mayWait: true)! // with waiting allowed there is always an answer
    }

    /// The answer on the server's event loop, unless it needs waiting: then nil, and `handle(_:)` answers on a
    /// thread of its own. Only reviews can need it (a namespace not cached yet, a namespace review).
    public func respondWithoutBlocking(to request: HTTPRequest) -> HTTPResponse? {
        respond(to: request, mayWait: false)
    }

    private func respond(to request: HTTPRequest, mayWait: Bool) -> HTTPResponse? {
        // The health and metrics paths are 6 to 8 bytes long: a review's path skips their four string
        // comparisons (~22 instructions each).
        if (6...8).contains(request.path.utf8.count) { switch request.path {
        case "/healthz", "/livez", "/readyz", "/metrics":
            guard request.method == "GET" || request.method == "HEAD" else {
                return Self.problem(405, "method \(request.method) is not allowed on \(request.path); use GET", allow: "GET, HEAD")
            }
            switch request.path {
            case "/metrics":
                return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                    body: Array(metrics.render().utf8))
            case "/readyz":
                return isReady() ? Self.text(200, "ok") : Self.text(503, "not ready: the namespace cache has not synced yet")
            default:
                return Self.text(200, "ok")
            }
        default:
            break
        } }
        switch request.method {
        case "POST":
            return review(request, mayWait: mayWait)
        case "GET", "HEAD":
            return Self.problem(404, "no such path: \(request.path) (admission reviews are POSTed; health is at /healthz, /readyz, /livez, metrics at /metrics)")
        default:
            return Self.problem(405, "method \(request.method) is not allowed; admission reviews are POSTed", allow: "POST")
        }
    }

    private func review(_ request: HTTPRequest, mayWait: Bool) -> HTTPResponse? {
        let clock = ContinuousClock()
        let start = clock.now
        let startNanoseconds = Self.monotonicNanoseconds()
        // Tested on the header's bytes in place: the string is made only for the refusal's message.
        guard request.headers.firstValue(named: "Content-Type", passes: Self.isJSON) else {
            let found = request.headers["Content-Type"].map { "\"\($0)\"" } ?? "none"
            return Self.problem(415, "Content-Type must be application/json, found \(found)")
        }
        var timeout = Self.defaultTimeoutSeconds
        if let text = request.queryValue("timeout") {
            guard let seconds = GoDuration.seconds(text), seconds > 0 else {
                return Self.problem(400, "invalid timeout \(text.debugDescription): expected a duration such as 10s")
            }
            timeout = min(seconds, Self.maxTimeoutSeconds)
        }
        let deadline = start.advanced(by: .nanoseconds(Int64(timeout * 1e9)))
        let answer = mayWait ? admission.handle(reviewBody: request.body, deadline: deadline)
            : admission.handleWithoutWaiting(reviewBody: request.body, deadline: deadline)
        guard let outcome = answer else { return nil }
        let seconds = Double(Self.monotonicNanoseconds() &- startNanoseconds) / 1e9
        metrics.record(outcome.metrics, status: outcome.httpStatus, kind: outcome.log.kind, seconds: seconds)
        if let log { Self.writeLine(of: outcome, seconds: seconds, remote: request.remoteAddress, to: log) }
        return HTTPResponse(status: outcome.httpStatus, preparedFields: Self.jsonFields, body: outcome.body)
    }

    /// The request log's line for a review. The outcome is borrowed, so its strings are read in place: read
    /// from a local, each was retained for the call and released after it. Inlined into its one caller: grown
    /// by the quoted message's branch, it stopped being, and the call cost ~50 instructions a review.
    @inline(__always)
    private static func writeLine(of outcome: borrowing AdmissionOutcome, seconds: Double, remote: borrowing String,
                                  to log: RequestLog) {
        // A denial's line repeats its message (hundreds of bytes): room for it from the start.
        var line = RequestLog.Line(capacity: 512 + (outcome.quotedMessage?.count ?? outcome.log.message.utf8.count))
        line.appendLiteral(#","msg":"admission""#)  // what `append("msg", "admission")` writes
        line.append("uid", outcome.log.uid)
        // The fields that nearly always hold one of a few values are written as a literal of the key and the
        // value when they do (what `append` writes; a test compares): comparing two short strings takes a few
        // instructions, checking and copying a string field ~200.
        switch outcome.log.kind {
        case "Pod": line.appendLiteral(#","kind":"Pod""#)
        default: line.append("kind", outcome.log.kind)
        }
        line.append("namespace", outcome.log.namespace)
        line.append("name", outcome.log.name)
        switch outcome.log.operation {
        case "CREATE": line.appendLiteral(#","operation":"CREATE""#)
        case "UPDATE": line.appendLiteral(#","operation":"UPDATE""#)
        default: line.append("operation", outcome.log.operation)
        }
        line.append("user", outcome.log.userName)
        switch outcome.log.decision {
        case "allow": line.appendLiteral(#","decision":"allow""#)
        case "deny": line.appendLiteral(#","decision":"deny""#)
        default: line.append("decision", outcome.log.decision)
        }
        line.append("policy", outcome.log.policy)
        if outcome.httpStatus == 200 {
            line.appendLiteral(#","status":200"#)  // every answered review
        } else {
            line.append("status", outcome.httpStatus)
        }
        line.append("durationMicroseconds", Int(seconds * 1e6))
        if let quoted = outcome.quotedMessage {
            line.append("message", quoted: outcome.body, quoted)
        } else if outcome.log.message.isEmpty {
            line.appendLiteral(#","message":"""#)  // most allowed reviews
        } else {
            line.append("message", outcome.log.message)
        }
        line.append("remote", remote)
        log.writeBuffered(line)
    }

    /// The monotonic clock in nanoseconds, for a review's duration: a second `ContinuousClock.now`, the
    /// duration between and its components took ~300 instructions.
    private static func monotonicNanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec &* 1_000_000_000 &+ now.tv_nsec
    }

    /// Every review's response field, checked and written out once.
    private static let jsonFields = HTTPPreparedFields([(name: "Content-Type", value: "application/json")])

    /// `application/json`, with or without parameters (`; charset=utf-8`), in any letter case.
    static func isJSON(_ contentType: String) -> Bool {
        var contentType = contentType
        return contentType.withUTF8 { isJSON($0) }
    }

    /// `isJSON` on the value's bytes (a header as received: invalid UTF-8 is refused as the string's U+FFFD was).
    static func isJSON(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let literal: StaticString = "application/json"
        if bytes.count == literal.utf8CodeUnitCount && memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0 {
            return true  // what clients send, compared whole
        }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var index = 0
        while index < bytes.count && isSpace(bytes[index]) { index += 1 }
        for expected in UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount) {
            guard index < bytes.count else { return false }
            let byte = bytes[index]
            guard (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte) == expected else { return false }
            index += 1
        }
        while index < bytes.count && isSpace(bytes[index]) { index += 1 }
        return index == bytes.count || bytes[index] == UInt8(ascii: ";")
    }

    static func text(_ status: Int, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array((body + "\n").utf8))
    }

    /// A Kubernetes `Status` body saying what is wrong, as the apiserver's own errors read.
    static func problem(_ status: Int, _ message: String, allow: String? = nil) -> HTTPResponse {
        var response = HTTPResponse.status(status, message: message)
        if let allow { response.headers.append(("Allow", allow)) }
        return response
    }
}
