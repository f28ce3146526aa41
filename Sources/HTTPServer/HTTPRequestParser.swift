#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a request was refused: the status to answer and a message saying what is wrong.
/// After any of these the connection is closed (the framing can no longer be trusted).
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }
}

/// The parser's limits.
struct HTTPParserLimits: Sendable {
    var maxHeaderBytes: Int
    var maxBodyBytes: Int
}

/// A strict, incremental HTTP/1.1 request parser (security code; a pure value, no I/O).
///
/// Feed it the unconsumed bytes of a connection, starting at the current request; it says how many it
/// consumed (drop them) and whether a request is complete, more bytes are needed, or the input is refused.
/// Strict: CR LF line endings only, token methods and field names, no obs-fold, no space before the colon,
/// origin-form targets (or `*` for OPTIONS), HTTP/1.0 and 1.1 only, Host required for 1.1, Content-Length
/// digits only and consistent, chunked the only transfer coding, never both Content-Length and chunked.
struct HTTPRequestParser {
    enum Event {
        case needMore
        case complete(HTTPRequest, keepAlive: Bool)
        case failure(HTTPParseError)
    }

    private enum Phase {
        case head
        case contentBody(remaining: Int)
        case chunkedBody(ChunkedDecoder)
    }

    let limits: HTTPParserLimits
    let remoteAddress: String
    let clientCertificateSubject: String?
    private var phase = Phase.head
    /// How far the current head was already searched for its end (never rescanned: slow clients stay cheap).
    private var scanned = 0
    private var head: RequestHead?
    private var body: [UInt8] = []
    /// The storage of the body handed out last, for the next request's: once that request is gone (answered),
    /// the next body is read into it instead of a new allocation (malloc and free of a review's few KB were
    /// ~450 instructions). Still shared, it is not written: taking it allocates as before. Kept only up to
    /// `maxSpareBodyBytes`, so an idle connection does not hold a large body's memory.
    private var spareBody: [UInt8] = []
    static let maxSpareBodyBytes = 32 * 1024
    /// The header storage of the request handed out last, for the next head's, as `spareBody` (its bytes and
    /// field spans: two allocations and frees, ~400 instructions a request). Kept only up to
    /// `maxSpareHeaderBytes`.
    private var spareHeaders = HTTPHeaders()
    static let maxSpareHeaderBytes = 8 * 1024
    /// The head asked for `100 Continue` and its body has not fully arrived; cleared by `continueSent()`.
    private(set) var wantsContinue = false

    init(limits: HTTPParserLimits, remoteAddress: String = "", clientCertificateSubject: String? = nil) {
        self.limits = limits
        self.remoteAddress = remoteAddress
        self.clientCertificateSubject = clientCertificateSubject
    }

    /// True while between requests with nothing of the next one seen (for idle versus header timeouts).
    var isAtRequestStart: Bool {
        if case .head = phase { return scanned == 0 }
        return false
    }

    /// True while the head is still arriving.
    var isReadingHead: Bool {
        if case .head = phase { return true }
        return false
    }

    mutating func continueSent() { wantsContinue = false }

    /// Bytes of the current request's body read so far (what the server's body budget counts).
    var bodyBytesHeld: Int { body.count }

    /// Parses as much of `bytes` as it can. `consumed` bytes must be dropped before the next call.
    mutating func parse(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, event: Event) {
        var consumed = 0
        if case .head = phase {
            switch scanHead(bytes) {
            case .needMore:
                return (0, .needMore)
            case .failure(let error):
                return (0, .failure(error))
            case .end(let length):
                let parsed: RequestHead
                var headers = HTTPHeaders()
                swap(&headers, &spareHeaders)
                switch RequestHead.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<length - 2]), into: consume headers) {
                case .success(let value): parsed = value
                case .failure(let error): return (0, .failure(error))
                }
                consumed = length
                scanned = 0
                head = parsed
                swap(&body, &spareBody)
                body.removeAll(keepingCapacity: true)  // a new buffer, of the same capacity, while still shared
                switch parsed.framing {
                case .none:
                    phase = .contentBody(remaining: 0)
                case .contentLength(let length):
                    if length > limits.maxBodyBytes {
                        return (consumed, .failure(HTTPParseError(413,
                            "request body of \(length) bytes is larger than the limit of \(limits.maxBodyBytes) bytes")))
                    }
                    body.reserveCapacity(length)
                    phase = .contentBody(remaining: length)
                case .chunked:
                    phase = .chunkedBody(ChunkedDecoder())
                }
                wantsContinue = parsed.expectContinue
            }
        }
        let rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
        switch phase {
        case .head:
            return (consumed, .needMore) // not reached: the head phase ended above
        case .contentBody(let remaining):
            let take = min(remaining, rest.count)
            if take > 0 { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[0..<take])) }
            consumed += take
            if take < remaining {
                phase = .contentBody(remaining: remaining - take)
                return (consumed, .needMore)
            }
        case .chunkedBody(var decoder):
            let (used, status) = decoder.decode(rest, into: &body, maxBodyBytes: limits.maxBodyBytes,
                                                maxTrailerBytes: limits.maxHeaderBytes)
            consumed += used
            switch status {
            case .needMore:
                phase = .chunkedBody(decoder)
                return (consumed, .needMore)
            case .failure(let error):
                return (consumed, .failure(error))
            case .done:
                break
            }
        }
        // Complete: hand the request out and start over.
        var finished = head.take()! // moved out, not copied
        // The headers and the body moved out too, into the request (copied, each reference was retained for the
        // request and released with `finished` and the emptied `body`); the spares share them.
        var headers = HTTPHeaders()
        swap(&headers, &finished.headers)
        var takenBody: [UInt8] = []
        swap(&takenBody, &body)
        phase = .head
        spareBody = takenBody.capacity <= Self.maxSpareBodyBytes ? takenBody : []
        spareHeaders = headers.storageBytes <= Self.maxSpareHeaderBytes ? headers : HTTPHeaders()
        let request = HTTPRequest(method: finished.method, target: finished.target, queryMark: finished.queryMark,
                                  headers: consume headers, body: consume takenBody, remoteAddress: remoteAddress,
                                  minorVersion: finished.minorVersion, clientCertificateSubject: clientCertificateSubject)
        wantsContinue = false
        return (consumed, .complete(request, keepAlive: finished.keepAlive))
    }

    private enum HeadScan {
        case needMore
        case end(Int) // length of the head including the final CR LF CR LF
        case failure(HTTPParseError)
    }

    /// Looks for the empty line ending the head, refusing bare LF as soon as it is seen. Only the LFs are
    /// looked at (found with memchr): the head's structure is in the bytes just before each.
    private mutating func scanHead(_ bytes: UnsafeRawBufferPointer) -> HeadScan {
        let limit = min(bytes.count, limits.maxHeaderBytes)
        var index = scanned
        if let base = bytes.baseAddress {
            while index < limit, let found = memchr(base + index, 0x0A, limit - index) {
                index = base.distance(to: UnsafeRawPointer(found))
                if index == 0 || bytes[index - 1] != 0x0D {
                    return .failure(HTTPParseError(400, "bare LF in the request head: lines must end with CR LF"))
                }
                if index == 1 {
                    return .failure(HTTPParseError(400, "empty request line"))
                }
                if index >= 3 && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
                    return .end(index + 1)
                }
                index += 1
            }
        }
        // Leave the last byte to be looked at again: a CR whose LF has not arrived yet.
        scanned = max(0, limit - 1)
        if bytes.count >= limits.maxHeaderBytes {
            return .failure(HTTPParseError(431, "request head is larger than the limit of \(limits.maxHeaderBytes) bytes"))
        }
        return .needMore
    }
}

/// How the body is delimited.
enum BodyFraming: Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// A validated request line and header section.
struct RequestHead {
    var method: String
    var target: String
    /// Where `?` is in `target` (its UTF-8 offset), if anywhere.
    var queryMark: Int?
    var minorVersion: Int
    var headers: HTTPHeaders
    var framing: BodyFraming
    var keepAlive: Bool
    var expectContinue: Bool

    /// Parses a head: the request line and field lines, each ending CR LF (the final empty line excluded).
    /// The fields go into `headers`, emptied first (its storage reused when no other value shares it).
    static func parse(_ bytes: UnsafeRawBufferPointer, into headers: consuming HTTPHeaders = HTTPHeaders())
        -> Result<RequestHead, HTTPParseError> {
        func refuse(_ message: String, _ status: Int = 400) -> Result<RequestHead, HTTPParseError> {
            .failure(HTTPParseError(status, message))
        }
        // The request line.
        guard let lineEnd = findCR(bytes, from: 0) else { return refuse("malformed request head") }
        var index = 0
        while index < lineEnd && isTokenByte(bytes[index]) { index += 1 }
        guard index > 0, index < lineEnd, bytes[index] == 0x20 else {
            return refuse("malformed request line: expected METHOD SP target SP HTTP-version")
        }
        let method = methodString(UnsafeRawBufferPointer(rebasing: bytes[0..<index]))
        let targetStart = index + 1
        index = targetStart
        var queryMark: Int?
        while index < lineEnd && bytes[index] > 0x20 && bytes[index] < 0x7F && bytes[index] != UInt8(ascii: "#") {
            if bytes[index] == UInt8(ascii: "?") && queryMark == nil { queryMark = index - targetStart }
            index += 1
        }
        guard index > targetStart, index < lineEnd, bytes[index] == 0x20 else {
            return refuse("malformed request line: expected METHOD SP target SP HTTP-version")
        }
        let targetEnd = index
        let firstTargetByte = bytes[targetStart]
        let isAsterisk = targetEnd - targetStart == 1 && firstTargetByte == UInt8(ascii: "*")
        guard firstTargetByte == UInt8(ascii: "/") || (isAsterisk && method == "OPTIONS") else {
            return refuse("request target must be a path starting with /")
        }
        let target = string(bytes, targetStart, targetEnd)
        let version = UnsafeRawBufferPointer(rebasing: bytes[(targetEnd + 1)..<lineEnd])
        let minorVersion: Int
        switch versionKind(version) {
        case .http10: minorVersion = 0
        case .http11: minorVersion = 1
        case .otherHTTP: return refuse("HTTP version \(string(version, 0, version.count)) is not supported", 505)
        case .invalid: return refuse("malformed request line: expected METHOD SP target SP HTTP-version")
        }

        // Field lines.
        let sectionStart = lineEnd + 2
        // One allocation for most requests' fields, when the storage is not a previous request's.
        headers.removeAllKeepingStorage(fieldCapacity: sectionStart < bytes.count ? 8 : 0)
        var contentLength: Int?
        var contentLengthTooLarge = false
        var transferCodings: [String] = []
        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var expectContinue = false
        var lineStart = sectionStart
        while lineStart < bytes.count {
            guard let end = findCR(bytes, from: lineStart) else { return refuse("malformed header line") }
            let first = bytes[lineStart]
            if first == 0x20 || first == 0x09 {
                return refuse("obsolete line folding in the header section is not accepted")
            }
            var colon = lineStart
            while colon < end && isTokenByte(bytes[colon]) { colon += 1 }
            guard colon < end, bytes[colon] == UInt8(ascii: ":") else {
                if colon < end && (bytes[colon] == 0x20 || bytes[colon] == 0x09) {
                    return refuse("whitespace between a header name and its colon")
                }
                return refuse("malformed header line: expected name \":\" value")
            }
            guard colon > lineStart else { return refuse("empty header name") }
            var valueStart = colon + 1
            var valueEnd = end
            while valueStart < valueEnd && (bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09) { valueStart += 1 }
            while valueEnd > valueStart && (bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09) { valueEnd -= 1 }
            if containsControlCharacter(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])) {
                return refuse("control character in the value of header \(string(bytes, lineStart, colon))")
            }
            let name = UnsafeRawBufferPointer(rebasing: bytes[lineStart..<colon])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            switch FieldKind(name) {
            case .contentLength:
                guard value.count > 0, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    return refuse("invalid Content-Length: digits only")
                }
                var length = 0
                if value.count > 18 {
                    contentLengthTooLarge = true
                    length = Int.max
                } else {
                    for digit in value { length = length * 10 + Int(digit - 0x30) }
                }
                if let previous = contentLength, previous != length {
                    return refuse("conflicting Content-Length headers")
                }
                contentLength = length
            case .transferEncoding:
                for coding in value.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    let trimmed = trim(coding)
                    guard !trimmed.isEmpty else { return refuse("empty transfer coding") }
                    transferCodings.append(String(decoding: trimmed.map(asciiLower), as: UTF8.self))
                }
            case .host:
                hostCount += 1
            case .connection:
                for option in value.split(separator: UInt8(ascii: ",")) {
                    let trimmed = trim(option)
                    if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: trimmed), "close") { connectionClose = true }
                    if equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: trimmed), "keep-alive") { connectionKeepAlive = true }
                }
            case .expect:
                guard equalsIgnoringCase(value, "100-continue") else {
                    return refuse("unsupported expectation \(string(value, 0, value.count))", 417)
                }
                expectContinue = true
            case .other:
                break
            }
            headers.appendParsedField(HTTPHeaders.FieldSpan(name: (lineStart - sectionStart)..<(colon - sectionStart),
                                                            value: (valueStart - sectionStart)..<(valueEnd - sectionStart)))
            lineStart = end + 2
        }

        if minorVersion == 1 && hostCount == 0 { return refuse("missing Host header") }
        if hostCount > 1 { return refuse("more than one Host header") }
        var framing = BodyFraming.none
        if !transferCodings.isEmpty {
            if contentLength != nil { return refuse("both Content-Length and Transfer-Encoding") }
            if minorVersion == 0 { return refuse("Transfer-Encoding in an HTTP/1.0 request") }
            if let unknown = transferCodings.first(where: { $0 != "chunked" }) {
                return refuse("transfer coding \"\(unknown)\" is not supported", 501)
            }
            if transferCodings.count > 1 { return refuse("chunked applied more than once") }
            framing = .chunked
        } else if let contentLength {
            if contentLengthTooLarge { return refuse("Content-Length is too large", 413) }
            framing = contentLength > 0 ? .contentLength(contentLength) : .none
        }
        let keepAlive = minorVersion == 1 ? !connectionClose : (connectionKeepAlive && !connectionClose)
        headers.setSection(UnsafeRawBufferPointer(rebasing: bytes[min(sectionStart, bytes.count)...]))
        return .success(RequestHead(method: method, target: target, queryMark: queryMark, minorVersion: minorVersion,
                                    headers: headers, framing: framing, keepAlive: keepAlive,
                                    expectContinue: expectContinue && framing != .none))
    }

    /// Whether `value` holds a control character other than HTAB (CTL, which no field value may hold), eight
    /// bytes at a time: a word with no byte below 0x20 and none equal to 0x7F is passed whole (tabs are rare,
    /// so a word flagged for any byte below 0x20 is looked at byte by byte).
    static func containsControlCharacter(_ value: UnsafeRawBufferPointer) -> Bool {
        guard let base = value.baseAddress else { return false }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = 0
        while value.count &- index >= 8 {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // Nonzero when some byte is below 0x20 or is 0x7F (a zero byte of `deletes`): a borrow runs only
            // upward from such a byte, so a word without one is never flagged.
            let deletes = word ^ (ones &* 0x7F)
            let flagged = ((word &- ones &* 0x20) & ~word | (deletes &- ones) & ~deletes) & highs
            if flagged != 0 {
                for offset in index..<(index &+ 8) where isControlCharacter(value[offset]) { return true }
            }
            index &+= 8
        }
        while index < value.count {
            if isControlCharacter(value[index]) { return true }
            index &+= 1
        }
        return false
    }

    @inline(__always)
    private static func isControlCharacter(_ byte: UInt8) -> Bool { (byte < 0x20 && byte != 0x09) || byte == 0x7F }

    /// The fields the parser acts on, told apart by length first: one comparison per field line, not five.
    /// Each name is given as clients usually spell it, which `equalsIgnoringCase` tries first.
    private enum FieldKind {
        case contentLength, transferEncoding, host, connection, expect, other

        init(_ name: UnsafeRawBufferPointer) {
            switch name.count {
            case 4: self = equalsIgnoringCase(name, "Host") ? .host : .other
            case 6: self = equalsIgnoringCase(name, "Expect") ? .expect : .other
            case 10: self = equalsIgnoringCase(name, "Connection") ? .connection : .other
            case 14: self = equalsIgnoringCase(name, "Content-Length") ? .contentLength : .other
            case 17: self = equalsIgnoringCase(name, "Transfer-Encoding") ? .transferEncoding : .other
            default: self = .other
            }
        }
    }

    private enum VersionKind { case http10, http11, otherHTTP, invalid }

    private static func versionKind(_ text: UnsafeRawBufferPointer) -> VersionKind {
        guard text.count >= 6, text[0] == UInt8(ascii: "H"), text[1] == UInt8(ascii: "T"), text[2] == UInt8(ascii: "T"),
              text[3] == UInt8(ascii: "P"), text[4] == UInt8(ascii: "/") else { return .invalid }
        let rest = text[5...]
        guard rest.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }),
              let first = rest.first, first >= 0x30 && first <= 0x39 else { return .invalid }
        if text.count == 8 && text[5] == 0x31 && text[6] == UInt8(ascii: ".") {
            if text[7] == 0x31 { return .http11 }
            if text[7] == 0x30 { return .http10 }
        }
        return .otherHTTP
    }

    /// The CR ending the line at `start`, if it is followed by LF (a CR alone is malformed). Found with
    /// memchr: `scanHead` has already refused any LF not after a CR, so no bare LF is skipped over (and one
    /// would still be refused, as no part of a line may hold it).
    private static func findCR(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start + 1 < bytes.count, let base = bytes.baseAddress,
              let found = memchr(base + start, 0x0D, bytes.count - 1 - start) else { return nil }
        let index = base.distance(to: UnsafeRawPointer(found))
        return bytes[index + 1] == 0x0A ? index : nil
    }

    /// The method as a string; the common ones are literals, made without decoding or allocating.
    private static func methodString(_ bytes: UnsafeRawBufferPointer) -> String {
        switch bytes.count {
        case 3:
            if equalsLiteral(bytes, "GET") { return "GET" }
            if equalsLiteral(bytes, "PUT") { return "PUT" }
        case 4:
            if equalsLiteral(bytes, "POST") { return "POST" }
            if equalsLiteral(bytes, "HEAD") { return "HEAD" }
        case 5:
            if equalsLiteral(bytes, "PATCH") { return "PATCH" }
        case 6:
            if equalsLiteral(bytes, "DELETE") { return "DELETE" }
        case 7:
            if equalsLiteral(bytes, "OPTIONS") { return "OPTIONS" }
        default:
            break
        }
        return string(bytes, 0, bytes.count)
    }

    /// Case-sensitive comparison with a literal of the same length.
    private static func equalsLiteral(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        memcmp(bytes.baseAddress!, literal.utf8Start, bytes.count) == 0
    }

    /// The bytes as a string, invalid UTF-8 repaired (U+FFFD), as `String(decoding:as:)` does. Copied in
    /// through `String(unsafeUninitializedCapacity:)`: up to 15 ASCII bytes, the usual method, target and
    /// field, make a small string with no validation pass and no allocation.
    private static func string(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> String {
        let source = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        return String(unsafeUninitializedCapacity: source.count) { buffer in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: source)
            return source.count
        }
    }

    private static func trim<C: Collection>(_ bytes: C) -> C.SubSequence where C.Element == UInt8 {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start = bytes.index(after: start) }
        while end > start {
            let before = bytes.index(start, offsetBy: bytes.distance(from: start, to: end) - 1)
            if bytes[before] == 0x20 || bytes[before] == 0x09 { end = before } else { break }
        }
        return bytes[start..<end]
    }

}

/// tchar from RFC 9110: the characters of methods and field names. A bit per ASCII byte, looked up: the
/// names of every request's fields are scanned with it, byte by byte. The words are literals (a computed
/// global would be reached through its lazy initializer at every byte); `testTokenBytesAreExactlyTchar`
/// checks them against the RFC's list at every byte value.
@inline(__always) func isTokenByte(_ byte: UInt8) -> Bool {
    // Bytes 0–63: `!#$%&'*+-.` and the digits; bytes 64–127: the letters and `^_`|~`.
    let word: UInt64 = byte < 64 ? 0x03FF_6CFA_0000_0000 : 0x57FF_FFFF_C7FF_FFFE
    return byte < 128 && (word >> UInt64(byte & 63)) & 1 != 0
}

/// Decodes `Transfer-Encoding: chunked` incrementally, bounding the body, extensions and trailers.
struct ChunkedDecoder {
    enum Status {
        case needMore
        case done
        case failure(HTTPParseError)
    }

    private enum State {
        case size, chunkExtension, sizeLF, data(remaining: Int), dataCR, dataLF
        case trailerLineStart, trailerLine, trailerLF, finalLF
    }

    private var state = State.size
    private var chunkSize = 0
    private var sizeDigits = 0
    private var extensionBytes = 0
    private var trailerBytes = 0

    private static let maxExtensionBytes = 4096

    mutating func decode(_ bytes: UnsafeRawBufferPointer, into body: inout [UInt8], maxBodyBytes: Int,
                         maxTrailerBytes: Int) -> (consumed: Int, status: Status) {
        func fail(_ message: String, _ status: Int = 400) -> Status { .failure(HTTPParseError(status, message)) }
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch state {
            case .size:
                if let digit = hexValue(byte) {
                    sizeDigits += 1
                    if sizeDigits > 15 { return (index, fail("chunk size is too large", 413)) }
                    chunkSize = chunkSize << 4 | Int(digit)
                } else if byte == UInt8(ascii: ";") && sizeDigits > 0 {
                    state = .chunkExtension
                } else if byte == 0x0D && sizeDigits > 0 {
                    state = .sizeLF
                } else {
                    return (index, fail("malformed chunk size"))
                }
                index += 1
            case .chunkExtension:
                if byte == 0x0D {
                    state = .sizeLF
                } else if (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    return (index, fail("control character in a chunk extension"))
                }
                extensionBytes += 1
                if extensionBytes > Self.maxExtensionBytes { return (index, fail("chunk extensions are too large")) }
                index += 1
            case .sizeLF:
                guard byte == 0x0A else { return (index, fail("chunk size line must end with CR LF")) }
                index += 1
                if chunkSize == 0 {
                    state = .trailerLineStart
                } else {
                    if chunkSize > maxBodyBytes - body.count {
                        return (index, fail("request body is larger than the limit of \(maxBodyBytes) bytes", 413))
                    }
                    state = .data(remaining: chunkSize)
                }
            case .data(let remaining):
                let take = min(remaining, bytes.count - index)
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + take)]))
                index += take
                state = take == remaining ? .dataCR : .data(remaining: remaining - take)
            case .dataCR:
                guard byte == 0x0D else { return (index, fail("chunk data must be followed by CR LF")) }
                state = .dataLF
                index += 1
            case .dataLF:
                guard byte == 0x0A else { return (index, fail("chunk data must be followed by CR LF")) }
                state = .size
                chunkSize = 0
                sizeDigits = 0
                index += 1
            case .trailerLineStart:
                if byte == 0x0D {
                    state = .finalLF
                } else if byte == 0x0A {
                    return (index, fail("bare LF in the chunked trailer"))
                } else {
                    state = .trailerLine
                    trailerBytes += 1
                }
                index += 1
            case .trailerLine:
                if byte == 0x0D {
                    state = .trailerLF
                } else if byte == 0x0A || (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    return (index, fail("malformed chunked trailer"))
                }
                trailerBytes += 1
                if trailerBytes > maxTrailerBytes { return (index, fail("chunked trailer is too large", 431)) }
                index += 1
            case .trailerLF:
                guard byte == 0x0A else { return (index, fail("trailer lines must end with CR LF")) }
                state = .trailerLineStart
                index += 1
            case .finalLF:
                guard byte == 0x0A else { return (index, fail("chunked body must end with CR LF")) }
                return (index + 1, .done)
            }
        }
        return (index, .needMore)
    }
}
