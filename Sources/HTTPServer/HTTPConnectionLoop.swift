import TLS

/// Serves requests on one connection, on its own thread, until it closes, errs or times out.
///
/// One read buffer per connection, reused; parsed bytes are dropped from its front. Responses are
/// serialized into one reused buffer and written with one TLS write.
struct HTTPConnectionLoop {
    let server: HTTPServer
    let connection: TLSConnection
    let id: Int
    let configuration: HTTPServerConfiguration
    private var parser: HTTPRequestParser
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var output: [UInt8] = []
    /// The head of the request being read must be complete by then.
    private var headDeadline: MonotonicInstant
    /// The body of the request being read must be complete by then (set when its head completes).
    private var bodyDeadline: MonotonicInstant?
    private var isFirstRequest = true
    private var isBusy = false
    private let busyFlag: HTTPServer.BusyFlag

    private static let readChunk = 16 * 1024

    init(server: HTTPServer, connection: TLSConnection, id: Int, busyFlag: HTTPServer.BusyFlag, remoteAddress: String,
         acceptedAt: MonotonicInstant) {
        self.server = server
        self.connection = connection
        self.id = id
        self.busyFlag = busyFlag
        configuration = server.configuration
        parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: configuration.maxHeaderBytes,
                                                            maxBodyBytes: configuration.maxBodyBytes),
                                   remoteAddress: remoteAddress,
                                   clientCertificateSubject: server.tls.configuration.clientCAFile == nil
                                       ? nil : connection.peerCertificateSubject)
        buffer = [UInt8](repeating: 0, count: Self.readChunk)
        // The first request's head must arrive within the header timeout of the connection's arrival.
        headDeadline = acceptedAt.advanced(bySeconds: configuration.headerTimeoutSeconds)
    }

    mutating func run() {
        while true {
            if start < end {
                let (first, last) = (start, end)
                let (consumed, event) = buffer.withUnsafeBytes { raw in
                    parser.parse(UnsafeRawBufferPointer(rebasing: raw[first..<last]))
                }
                start += consumed
                if start == end { start = 0; end = 0 }
                switch event {
                case .failure(let error):
                    refuse(status: error.status, message: error.message)
                    return
                case .complete(let request, let keepAlive):
                    guard respond(to: request, keepAlive: keepAlive) else { return }
                    continue // a pipelined request may already be buffered
                case .needMore:
                    if parser.wantsContinue {
                        parser.continueSent()
                        connection.setDeadline(.now().advanced(bySeconds: configuration.writeTimeoutSeconds))
                        do { try HTTPResponseWriter.continueResponse.withUnsafeBytes { try connection.write($0) } } catch {
                            return
                        }
                    }
                }
            }
            guard readMore() else { return }
        }
    }

    /// Reads at least one byte into the buffer under the deadline of the current phase. False: the
    /// connection is done (closed by the peer, idle timeout, error, or a timeout already answered).
    private mutating func readMore() -> Bool {
        let waitingForRequest = start == end && parser.isAtRequestStart
        let deadline: MonotonicInstant
        if waitingForRequest {
            if !isFirstRequest {
                if isBusy {
                    isBusy = false
                    if !server.setBusy(false, flag: busyFlag) { return false } // draining: close idle connections
                }
                deadline = .now().advanced(bySeconds: configuration.idleTimeoutSeconds)
            } else {
                deadline = headDeadline
            }
        } else if parser.isReadingHead {
            deadline = headDeadline
        } else {
            if bodyDeadline == nil { bodyDeadline = .now().advanced(bySeconds: configuration.bodyTimeoutSeconds) }
            deadline = bodyDeadline!
        }
        if end == buffer.count {
            if start > 0 {
                let (first, last) = (start, end)
                buffer.withUnsafeMutableBytes { raw in
                    raw.baseAddress!.copyMemory(from: raw.baseAddress! + first, byteCount: last - first)
                }
                end -= start
                start = 0
            } else {
                // Only a head can fill the buffer (bodies are consumed as they come); the parser refuses
                // heads over the limit, so this stays bounded.
                buffer.append(contentsOf: repeatElement(0, count: min(buffer.count, configuration.maxHeaderBytes)))
            }
        }
        connection.setDeadline(deadline)
        let count: Int
        let filled = end
        let connection = self.connection
        do {
            count = try buffer.withUnsafeMutableBytes { raw in
                try connection.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
        } catch {
            if (error as? TLSError)?.kind == .timeout && !(waitingForRequest && !isFirstRequest) {
                // A slow head or body (or nothing at all on a new connection): say so, then close.
                refuse(status: 408, message: "the request did not arrive in time", linger: false)
            }
            return false
        }
        if count == 0 { return false }
        if waitingForRequest {
            if !isFirstRequest { headDeadline = .now().advanced(bySeconds: configuration.headerTimeoutSeconds) }
            if !isBusy {
                isBusy = true
                _ = server.setBusy(true, flag: busyFlag) // in flight now: a shutdown lets it finish
            }
        }
        end += count
        return true
    }

    /// Calls the handler and writes its response; false when the connection must close.
    private mutating func respond(to request: HTTPRequest, keepAlive: Bool) -> Bool {
        if !isBusy {
            isBusy = true
            _ = server.setBusy(true, flag: busyFlag)
        }
        bodyDeadline = nil
        isFirstRequest = false
        let response = server.handler.handle(request)
        let running = server.accepting.load(ordering: .relaxed)
        let keepOpen = keepAlive && running
        HTTPResponseWriter.serialize(response, headOnly: request.method == "HEAD", keepAlive: keepOpen,
                                     minorVersion: request.minorVersion, into: &output)
        connection.setDeadline(.now().advanced(bySeconds: configuration.writeTimeoutSeconds))
        do {
            try output.withUnsafeBytes { raw in try connection.write(raw) }
        } catch {
            return false
        }
        // A pipelined request already buffered has begun: its head gets a full header timeout from now.
        headDeadline = .now().advanced(bySeconds: configuration.headerTimeoutSeconds)
        return keepOpen
    }

    /// Answers a request that cannot be served (framing error, limit, timeout) with a Kubernetes Status,
    /// then reads and drops what the client still sends for a moment, so closing does not reset the
    /// connection before the client has read the answer.
    private mutating func refuse(status: Int, message: String, linger: Bool = true) {
        HTTPResponseWriter.serialize(HTTPResponse.status(status, message: message), headOnly: false, keepAlive: false,
                                     minorVersion: 1, into: &output)
        connection.setDeadline(.now().advanced(bySeconds: min(configuration.writeTimeoutSeconds, 5)))
        do {
            try output.withUnsafeBytes { raw in try connection.write(raw) }
        } catch {
            return
        }
        guard linger else { return }
        connection.shutdownWrite()
        connection.setDeadline(.now().advanced(bySeconds: 1))
        var discarded = 0
        while discarded < 4 * 1024 * 1024 {
            let count = (try? buffer.withUnsafeMutableBytes { raw in try connection.read(into: raw) }) ?? 0
            if count == 0 { break }
            discarded += count
        }
    }
}
