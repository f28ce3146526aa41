import CEventPoll
import TLS

/// One connection, driven by its event loop: handshake, then requests read, answered and written in turn
/// (pipelined ones in order), with the timeouts of `HTTPServerConfiguration`. Never blocks.
///
/// One read buffer per connection, reused; parsed bytes are dropped from its front. Each response is
/// serialized into one reused buffer and written as the socket takes it.
final class HTTPConnection {
    enum Phase: Equatable {
        case handshaking
        case reading
        /// The handler runs on a thread of its own; the socket is not watched until it answers, then the
        /// answer is written as `request` asked.
        case handling(PendingAnswer)
        case writing
        /// After a refusal: what the client still sends is read and dropped for a moment, so closing does not
        /// reset the connection before the client has read the answer.
        case lingering
        case closed
    }

    /// How to write the answer to a request a handler took to another thread.
    struct PendingAnswer: Equatable {
        var headOnly: Bool
        var keepAlive: Bool
        var minorVersion: Int
    }

    /// What happens when the output has been written.
    enum AfterWrite {
        case readNextRequest
        case close
        case linger
    }

    /// What a passed deadline means in the current phase.
    enum Expiry {
        /// The handshake did not finish: said in the log, then closed.
        case handshake
        /// A head or body did not arrive in time: 408, then closed.
        case requestTimeout
        /// Idle keep-alive, a stuck write, the end of lingering: closed quietly.
        case close
    }

    let id: Int
    let fd: Int32
    /// The loop serving this connection. Not counted: the loop holds its connections and calls them only from
    /// its `run()`, and a connection is never used after that ends, so the loop always outlives every use.
    /// The per-request uses go through `_withUnsafeGuaranteedRef` (`turnStart`, `isDraining`, `setDeadline`,
    /// `waitFor`), which does not retain it: a checked (`unowned`) or unchecked (`unowned(unsafe)`) reference
    /// still retained the loop for each use and released it after (~40 instructions, nine uses a request).
    private let loopReference: Unmanaged<EventLoop>
    /// The loop, for the uses outside a request (closing, yielding a turn, configuration).
    private var loop: EventLoop { loopReference.takeUnretainedValue() }
    let tls: TLSConnection
    /// The server's handler, held here: called through the loop's server, it was copied out of the server and
    /// destroyed again for every request (the server retained and released too).
    private let handler: any HTTPHandler
    let remoteAddress: String
    let configuration: HTTPServerConfiguration
    private(set) var phase = Phase.handshaking
    // The parser and the two buffers are used on every request through long accesses (parse, the TLS read
    // into `input`, serializing into and writing `output`), each checked for exclusivity at run time (~80
    // instructions a check). Unchecked: a connection is not Sendable, so only its loop's thread touches it,
    // and each such access is within one method here with no call back into the connection while it lasts.
    @exclusivity(unchecked) private var parser: HTTPRequestParser
    @exclusivity(unchecked) private var input: [UInt8]
    private var start = 0
    private var end = 0
    @exclusivity(unchecked) private var output: [UInt8] = []
    private var written = 0
    private var afterWrite = AfterWrite.close
    /// The head of the request being read must be complete by then.
    private var headDeadline: MonotonicInstant
    /// The body of the request being read must be complete by then (set when its head completes).
    private var bodyDeadline: MonotonicInstant?
    private var isFirstRequest = true
    /// The request being handled on another thread: how to answer it when its response comes back.
    private var lingerDiscarded = 0
    /// This connection's share of the server's body budget: the bytes of the body it is reading.
    private var bodyBytesReserved = 0
    /// The epoll events registered for the socket (0 = not registered).
    private var watched: UInt32 = 0
    /// The current phase's deadline, checked by the loop, and what passing it means.
    private(set) var deadline: MonotonicInstant?
    private var expiry = Expiry.close

    private static let readChunk = 16 * 1024
    static let requestsPerTurn = 16
    /// Requests answered (or refused) so far, for the fairness limit of a turn.
    private var answered = 0
    private static let maxLingerBytes = 4 * 1024 * 1024

    init(loop: EventLoop, tls: TLSConnection, fd: Int32, id: Int, remoteAddress: String, acceptedAt: MonotonicInstant) {
        loopReference = Unmanaged.passUnretained(loop)
        self.tls = tls
        self.fd = fd
        self.id = id
        self.remoteAddress = remoteAddress
        configuration = loop.server.configuration
        handler = loop.server.handler
        parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: configuration.maxHeaderBytes,
                                                            maxBodyBytes: configuration.maxBodyBytes),
                                   remoteAddress: remoteAddress)
        input = [UInt8](repeating: 0, count: Self.readChunk)
        // The handshake and the first request's head must arrive within the header timeout of the arrival.
        headDeadline = acceptedAt.advanced(bySeconds: configuration.headerTimeoutSeconds)
        setDeadline(headDeadline, .handshake)
    }

    /// No request in flight: nothing of one has arrived, or the connection is not serving yet or any more.
    /// A draining server closes these at once.
    var isIdle: Bool {
        switch phase {
        case .handshaking, .lingering, .closed: return true
        case .reading: return start == end && parser.isAtRequestStart
        case .handling, .writing: return false
        }
    }

    /// Makes the progress the socket allows, then waits for it (or closes). A turn answers at most
    /// `requestsPerTurn` requests, so a client pipelining without pause cannot keep its loop from the others.
    func drive() {
        let answeredBefore = answered
        while true {
            if answered - answeredBefore >= Self.requestsPerTurn && phase == .reading {
                loop.driveAgainLater(self)
                return
            }
            switch phase {
            case .handshaking:
                guard handshake() else { return }
            case .reading:
                serveBufferedRequests()
                // Answering may have moved on to writing (or handling); only a connection still reading reads.
                if phase == .reading && !readMore() { return }
            case .handling, .closed:
                return
            case .writing:
                // Written at once, not held for the end of the loop's turn: holding saved no CPU at today's cost
                // per request and made each answer wait for the turn (bench/README.md, item 39).
                guard writeOutput() else { return }
            case .lingering:
                guard discardInput() else { return }
            }
        }
    }

    /// The handler's answer to the request it took to another thread.
    func handlerFinished(_ response: HTTPResponse) {
        guard case .handling(let pending) = phase else { return }
        startWriting(response, headOnly: pending.headOnly, keepAlive: pending.keepAlive, minorVersion: pending.minorVersion)
        drive()
    }

    /// Called by the loop when `deadline` has passed.
    func deadlinePassed() {
        switch expiry {
        case .handshake:
            configuration.log?("TLS handshake failed for \(remoteAddress): TLS handshake timed out")
            close()
        case .requestTimeout:
            // A slow head or body (or nothing at all on a new connection): say so, then close.
            refuse(status: 408, message: "the request did not arrive in time", linger: false)
            drive()
        case .close:
            close()
        }
    }

    /// Sends close_notify (if it can without waiting), frees the session, closes the socket. Idempotent.
    func close() {
        guard phase != .closed else { return }
        phase = .closed
        deadline = nil
        releaseBodyBytes()
        if watched != 0 { loop.watch(fd, events: 0, previous: watched) }
        watched = 0
        tls.close()
        loop.removed(self)
    }

    // MARK: Phases

    /// False when the connection must wait (or has closed).
    private func handshake() -> Bool {
        do {
            if let wait = try tls.handshakeStep() {
                waitFor(wait)
                return false
            }
        } catch {
            configuration.log?("TLS handshake failed for \(remoteAddress): \(error)")
            close()
            return false
        }
        if loop.server.tls.configuration.clientCAFile != nil {
            parser = HTTPRequestParser(limits: parser.limits, remoteAddress: remoteAddress,
                                       clientCertificateSubject: tls.peerCertificateSubject)
        }
        phase = .reading
        return true
    }

    /// Parses what is buffered, up to a complete request (then answered) or a refusal; either changes the phase.
    private func serveBufferedRequests() {
        if start < end {
            let (first, last) = (start, end)
            // Mutable access, though only read: `withUnsafeBytes` on the stored array retained and released its
            // buffer around the call; the mutable one only checks it is unique (it always is: never shared).
            let (consumed, event) = input.withUnsafeMutableBytes { raw in
                parser.parse(UnsafeRawBufferPointer(rebasing: raw[first..<last]))
            }
            start += consumed
            if start == end { start = 0; end = 0 }
            guard accountBodyBytes() else {
                // What it read is dropped now, not when the connection closes.
                parser = HTTPRequestParser(limits: parser.limits, remoteAddress: remoteAddress,
                                           clientCertificateSubject: parser.clientCertificateSubject)
                refuse(status: 503, message: "the server is holding too many request bodies at once; retry shortly",
                       linger: true)
                return
            }
            // Consumed: the request is moved out of the event, not copied (and both destroyed after).
            switch consume event {
            case .failure(let error):
                refuse(status: error.status, message: error.message, linger: true)
            case .complete(let request, let keepAlive):
                answer(request, keepAlive: keepAlive)
            case .needMore:
                if parser.wantsContinue {
                    parser.continueSent()
                    output.removeAll(keepingCapacity: true)
                    output.append(contentsOf: HTTPResponseWriter.continueResponse)
                    beginWrite(then: .readNextRequest)
                }
            }
        }
    }

    /// Brings this connection's share of the server's body budget in line with the body it holds; false when
    /// the budget cannot take what it now holds (it then holds nothing more: the request is refused).
    private func accountBodyBytes() -> Bool {
        let held = parser.bodyBytesHeld
        if held > bodyBytesReserved {
            guard loop.server.bodyBudget.reserve(held - bodyBytesReserved) else {
                releaseBodyBytes()
                return false
            }
        } else if held < bodyBytesReserved {
            loop.server.bodyBudget.release(bodyBytesReserved - held)
        }
        bodyBytesReserved = held
        return true
    }

    private func releaseBodyBytes() {
        if bodyBytesReserved > 0 { loop.server.bodyBudget.release(bodyBytesReserved) }
        bodyBytesReserved = 0
    }

    /// Reads what the TLS session has. False when the connection must wait (or has closed).
    private func readMore() -> Bool {
        let waitingForRequest = start == end && parser.isAtRequestStart
        makeRoomForInput()
        let filled = end
        let result: TLSReadResult
        do {
            result = try input.withUnsafeMutableBytes { raw in
                try tls.readAvailable(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
            }
        } catch {
            close()
            return false
        }
        switch result {
        case .bytes(let count):
            if waitingForRequest && !isFirstRequest {
                headDeadline = turnStart.advanced(bySeconds: configuration.headerTimeoutSeconds)
            }
            end += count
            return true
        case .endOfStream:
            close()
            return false
        case .wait(let wait):
            waitForInput(wait, waitingForRequest: waitingForRequest)
            return false
        }
    }

    /// Waits for the socket under the deadline of what is being read (or closes an idle connection of a
    /// draining server).
    private func waitForInput(_ wait: TLSWait, waitingForRequest: Bool) {
        if waitingForRequest && !isFirstRequest {
            // Between requests: a draining server closes it; otherwise it may idle this long.
            if isDraining {
                close()
                return
            }
            setDeadline(turnStart.advanced(bySeconds: configuration.idleTimeoutSeconds), .close)
        } else if parser.isReadingHead {
            setDeadline(headDeadline, .requestTimeout)
        } else {
            if bodyDeadline == nil { bodyDeadline = turnStart.advanced(bySeconds: configuration.bodyTimeoutSeconds) }
            setDeadline(bodyDeadline!, .requestTimeout)
        }
        waitFor(wait)
    }

    /// Room at the end of the buffer: the unparsed bytes move to the front, or the buffer grows (only a head
    /// can fill it, as bodies are consumed as they come, and the parser refuses heads over the limit).
    private func makeRoomForInput() {
        guard end == input.count else { return }
        if start > 0 {
            let (first, last) = (start, end)
            input.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + first, byteCount: last - first)
            }
            end -= start
            start = 0
        } else {
            input.append(contentsOf: repeatElement(0, count: min(input.count, configuration.maxHeaderBytes)))
        }
    }

    /// Answers on the loop when the handler can without blocking; otherwise on a thread of the handler's own.
    private func answer(_ request: HTTPRequest, keepAlive: Bool) {
        bodyDeadline = nil
        isFirstRequest = false
        let headOnly = request.method == "HEAD"
        if let response = handler.respondWithoutBlocking(to: request) {
            startWriting(response, headOnly: headOnly, keepAlive: keepAlive, minorVersion: request.minorVersion)
            return
        }
        phase = .handling(PendingAnswer(headOnly: headOnly, keepAlive: keepAlive, minorVersion: request.minorVersion))
        deadline = nil // the handler bounds its own work; a shutdown's drain bounds the wait
        if watched != 0 { loop.watch(fd, events: 0, previous: watched) }
        watched = 0
        if !loop.runBlocking(request, for: self) {
            configuration.log?("cannot start a handler thread")
            phase = .reading
            startWriting(HTTPResponse.status(503, message: "the server cannot take this request now"), headOnly: headOnly,
                         keepAlive: false, minorVersion: request.minorVersion)
        }
    }

    private func startWriting(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool, minorVersion: Int) {
        answered += 1
        let keepOpen = keepAlive && !isDraining
        HTTPResponseWriter.serialize(response, headOnly: headOnly, keepAlive: keepOpen, minorVersion: minorVersion,
                                     into: &output)
        beginWrite(then: keepOpen ? .readNextRequest : .close)
    }

    /// Answers a request that cannot be served (framing error, limit, timeout) with a Kubernetes Status, and
    /// closes; with `linger`, after reading and dropping what the client still sends for a moment.
    private func refuse(status: Int, message: String, linger: Bool) {
        HTTPResponseWriter.serialize(HTTPResponse.status(status, message: message), headOnly: false, keepAlive: false,
                                     minorVersion: 1, into: &output)
        beginWrite(then: linger ? .linger : .close, timeoutSeconds: min(configuration.writeTimeoutSeconds, 5))
    }

    private func beginWrite(then next: AfterWrite, timeoutSeconds: Double? = nil) {
        written = 0
        afterWrite = next
        phase = .writing
        setDeadline(turnStart.advanced(bySeconds: timeoutSeconds ?? configuration.writeTimeoutSeconds), .close)
    }

    /// False when the connection must wait (or has closed).
    private func writeOutput() -> Bool {
        while written < output.count {
            let from = written
            let result: TLSWriteResult
            do {
                result = try output.withUnsafeMutableBytes { raw in  // not retained, as `input` above
                    try tls.writeAvailable(UnsafeRawBufferPointer(rebasing: raw[from...]))
                }
            } catch {
                close()
                return false
            }
            switch result {
            case .wrote(let count):
                written += count
            case .wait(let wait):
                waitFor(wait)
                return false
            }
        }
        switch afterWrite {
        case .readNextRequest:
            phase = .reading
            // A pipelined request already buffered has begun: its head gets a full header timeout from now.
            headDeadline = turnStart.advanced(bySeconds: configuration.headerTimeoutSeconds)
            deadline = nil
            if start == end && !tls.hasBufferedInput {
                // Nothing of the next request is here yet, not even inside the TLS session: wait for the socket
                // at once rather than read only to be told to wait (one system call per request).
                waitForInput(.readable, waitingForRequest: parser.isAtRequestStart)
                return false
            }
            return true
        case .close:
            close()
            return false
        case .linger:
            tls.shutdownWrite()
            phase = .lingering
            lingerDiscarded = 0
            setDeadline(turnStart.advanced(bySeconds: 1), .close)
            return true
        }
    }

    /// Reads and drops input until the peer closes, the limit, or the deadline. False when waiting or closed.
    private func discardInput() -> Bool {
        while lingerDiscarded < Self.maxLingerBytes {
            let result: TLSReadResult
            do {
                result = try input.withUnsafeMutableBytes { raw in try tls.readAvailable(into: raw) }
            } catch {
                break
            }
            switch result {
            case .bytes(let count):
                lingerDiscarded += count
            case .endOfStream:
                close()
                return false
            case .wait(let wait):
                waitFor(wait)
                return false
            }
        }
        close()
        return false
    }

    // MARK: Waiting

    private func waitFor(_ wait: TLSWait) {
        let events = UInt32(wait == .readable ? CEP_IN : CEP_OUT)
        if events != watched {
            loopReference._withUnsafeGuaranteedRef { $0.watch(fd, events: events, previous: watched) }
            watched = events
        }
    }

    /// When the loop's current turn began (see `EventLoop.turnStart`).
    private var turnStart: MonotonicInstant { loopReference._withUnsafeGuaranteedRef { $0.turnStart } }

    /// Whether the loop's server is draining.
    private var isDraining: Bool { loopReference._withUnsafeGuaranteedRef { $0.isDraining } }

    private func setDeadline(_ instant: MonotonicInstant, _ meaning: Expiry) {
        deadline = instant
        expiry = meaning
        loopReference._withUnsafeGuaranteedRef { $0.deadlineSet(instant) }
    }
}
