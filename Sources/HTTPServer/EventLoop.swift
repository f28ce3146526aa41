#if canImport(Glibc)
import Glibc
#endif
import CEventPoll
import TLS

/// What other threads ask of an event loop: the accept thread hands it connections, handler threads hand back
/// responses, shutdown asks it to drain, cut and stop.
enum EventLoopMessage: Sendable {
    case adopt(fd: Int32, remoteAddress: String, acceptedAt: MonotonicInstant)
    case completed(connectionID: Int, response: HTTPResponse)
    case drain
    case cut
    case stop
}

/// The thread-safe side of an event loop: a queue of messages and the eventfd that wakes the loop.
///
/// The eventfd is written and closed only under the lock, so a late `post` (a handler thread finishing after
/// the loop stopped) can never write into a descriptor number that was closed and reused.
final class EventLoopMailbox: Sendable {
    let wakeFD: Int32
    private let queue = Guarded(Queue())

    struct Queue {
        var messages: [EventLoopMessage] = []
        var isClosed = false
    }

    init() throws(HTTPServerError) {
        wakeFD = cep_eventfd()
        guard wakeFD >= 0 else { throw HTTPServerError("cannot create an eventfd: \(errnoText(errno))") }
    }

    /// Queues `message` and wakes the loop; false when the loop has stopped (the message is dropped).
    @discardableResult
    func post(_ message: EventLoopMessage) -> Bool {
        queue.withLock { queue in
            guard !queue.isClosed else { return false }
            queue.messages.append(message)
            if queue.messages.count == 1 { cep_wake(wakeFD) } // already awake for an earlier message otherwise
            return true
        }
    }

    /// Everything queued so far (called by the loop when woken).
    func take() -> [EventLoopMessage] {
        cep_drain(wakeFD)
        return queue.withLock { queue in
            defer { queue.messages.removeAll() }
            return queue.messages
        }
    }

    /// Refuses later messages and closes the eventfd; returns what was still queued.
    func close() -> [EventLoopMessage] {
        queue.withLock { queue in
            guard !queue.isClosed else { return [] }
            queue.isClosed = true
            _ = closeDescriptor(wakeFD)
            defer { queue.messages.removeAll() }
            return queue.messages
        }
    }
}

/// One thread running epoll over its share of the connections: TLS, HTTP parsing, the handler's non-blocking
/// path and response writing all happen here, with no thread hop and no per-request wakeup of a thread of its
/// own. Requests whose handler may block run on a thread of their own and come back through the mailbox.
///
/// Everything in this class is touched by the loop's thread only (it is created on it), except `mailbox`.
final class EventLoop {
    let server: HTTPServer
    let mailbox: EventLoopMailbox
    let epollFD: Int32
    /// Connections by descriptor number (small integers, so an array).
    private var connections: [HTTPConnection?] = []
    private(set) var isDraining = false
    private var isStopping = false
    private var nextConnectionID = 0
    /// Connections that stopped for fairness with work left (possibly data already decrypted inside their TLS
    /// session, which epoll cannot see): driven again after the next poll, which then does not wait.
    private var runAgain: [HTTPConnection] = []
    /// When the deadlines are next looked at: the earliest one found at the last look, or sooner when a
    /// connection sets an earlier one.
    private var nextDeadlineCheck = MonotonicInstant(nanoseconds: .max)
    /// The time this turn of the loop began: the clock is read once a turn, when the wait returns (as nginx
    /// does), and the connections' deadlines are set from it and checked against it, not from a read of their
    /// own (each read is a vDSO call; a request took six). So a deadline may be early by at most the length of
    /// one turn (the time from the read to when it is set), and it is acted on late by at most as much (the
    /// check and the next wait's timeout count from the turn's start).
    private(set) var turnStart = MonotonicInstant.now()

    init(server: HTTPServer, mailbox: EventLoopMailbox, epollFD: Int32) {
        self.server = server
        self.mailbox = mailbox
        self.epollFD = epollFD
    }

    /// An epoll instance already watching the mailbox's eventfd (made before the loop's thread starts, so a
    /// failure is the server's `start()` error).
    static func makeEpoll(watching mailbox: EventLoopMailbox) throws(HTTPServerError) -> Int32 {
        let epollFD = cep_create()
        guard epollFD >= 0 else { throw HTTPServerError("cannot create an epoll instance: \(errnoText(errno))") }
        guard cep_add(epollFD, mailbox.wakeFD, UInt32(CEP_IN)) == 0 else {
            let text = errnoText(errno)
            _ = closeDescriptor(epollFD)
            throw HTTPServerError("cannot watch the eventfd: \(text)")
        }
        return epollFD
    }

    /// Runs until told to stop; then every connection is closed, and so are the mailbox and the epoll instance.
    func run() {
        let capacity = 64
        var readyFDs = [Int32](repeating: 0, count: capacity)
        var readyEvents = [UInt32](repeating: 0, count: capacity)
        while !isStopping {
            let timeout = runAgain.isEmpty ? waitMilliseconds() : 0
            let count = readyFDs.withUnsafeMutableBufferPointer { fds in
                readyEvents.withUnsafeMutableBufferPointer { events in
                    cep_wait(epollFD, fds.baseAddress, events.baseAddress, Int32(capacity), timeout)
                }
            }
            turnStart = .now()
            if count < 0 && errno != EINTR {
                server.configuration.log?("epoll_wait failed: \(errnoText(errno))")
                usleep(10_000)
            }
            for index in 0..<max(0, Int(count)) {
                let fd = readyFDs[index]
                if fd == mailbox.wakeFD {
                    for message in mailbox.take() { receive(message) }
                } else if let connection = connectionAt(fd) {
                    connection.drive()
                }
            }
            if !runAgain.isEmpty {
                let again = runAgain
                runAgain.removeAll(keepingCapacity: true)
                for connection in again { connection.drive() }
            }
            if turnStart >= nextDeadlineCheck { checkDeadlines() }
        }
        for case let connection? in connections { connection.close() }
        for case .adopt(let fd, _, _) in mailbox.close() {
            _ = closeDescriptor(fd)
            server.connectionClosed()
        }
        _ = closeDescriptor(epollFD)
    }

    private func waitMilliseconds() -> Int32 {
        if nextDeadlineCheck.nanoseconds == .max { return -1 }
        let remaining = nextDeadlineCheck.nanoseconds &- turnStart.nanoseconds
        if remaining <= 0 { return 0 }
        return Int32(min((remaining + 999_999) / 1_000_000, 60_000))
    }

    private func connectionAt(_ fd: Int32) -> HTTPConnection? {
        Int(fd) < connections.count ? connections[Int(fd)] : nil
    }

    private func receive(_ message: EventLoopMessage) {
        switch message {
        case .adopt(let fd, let remoteAddress, let acceptedAt):
            adopt(fd: fd, remoteAddress: remoteAddress, acceptedAt: acceptedAt)
        case .completed(let connectionID, let response):
            // The connection may have been cut meanwhile, and its descriptor number reused: match the ID.
            for case let connection? in connections where connection.id == connectionID {
                connection.handlerFinished(response)
                break
            }
        case .drain:
            isDraining = true
            for case let connection? in connections where connection.isIdle { connection.close() }
        case .cut:
            isDraining = true
            for case let connection? in connections { connection.close() }
        case .stop:
            isStopping = true
        }
    }

    private func adopt(fd: Int32, remoteAddress: String, acceptedAt: MonotonicInstant) {
        if isDraining {
            _ = closeDescriptor(fd)
            server.connectionClosed()
            return
        }
        let tlsConnection: TLSConnection
        do {
            tlsConnection = try server.tls.makeConnection(socket: fd)
        } catch {
            server.configuration.log?("TLS setup failed for \(remoteAddress): \(error)")
            server.connectionClosed()
            return
        }
        tlsConnection.makeNonBlocking()
        let id = nextConnectionID
        nextConnectionID += 1
        let connection = HTTPConnection(loop: self, tls: tlsConnection, fd: fd, id: id, remoteAddress: remoteAddress,
                                        acceptedAt: acceptedAt)
        if Int(fd) >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: Int(fd) + 1 - connections.count))
        }
        connections[Int(fd)] = connection
        connection.drive()
    }

    // MARK: Called by connections

    /// Registers, re-registers or unregisters `fd` for `events` (0 = not watched).
    func watch(_ fd: Int32, events: UInt32, previous: UInt32) {
        let result: Int32
        if previous == 0 {
            result = cep_add(epollFD, fd, events)
        } else if events == 0 {
            result = cep_remove(epollFD, fd)
        } else {
            result = cep_modify(epollFD, fd, events)
        }
        if result != 0 { server.configuration.log?("epoll_ctl failed for a connection: \(errnoText(errno))") }
    }

    /// `connection` has used its turn with work left: drive it again after the next poll.
    func driveAgainLater(_ connection: HTTPConnection) {
        runAgain.append(connection)
    }

    /// A connection's next deadline; the loop acts on it once a turn starts at or after it (see `turnStart`).
    func deadlineSet(_ deadline: MonotonicInstant) {
        if deadline < nextDeadlineCheck { nextDeadlineCheck = deadline }
    }

    func removed(_ connection: HTTPConnection) {
        if connectionAt(connection.fd) === connection { connections[Int(connection.fd)] = nil }
        server.connectionClosed()
    }

    /// Runs the handler's blocking path on a thread of its own; the response comes back as a message.
    func runBlocking(_ request: HTTPRequest, for connection: HTTPConnection) -> Bool {
        let handler = server.handler
        let mailbox = mailbox
        let connectionID = connection.id
        return startDetachedThread(stackBytes: server.configuration.threadStackBytes) {
            mailbox.post(.completed(connectionID: connectionID, response: handler.handle(request)))
        }
    }

    /// Looks at every connection's deadline, acts on the expired ones, and finds the next one.
    private func checkDeadlines() {
        var next = MonotonicInstant(nanoseconds: .max)
        for case let connection? in connections {
            guard let deadline = connection.deadline else { continue }
            if deadline <= turnStart {
                connection.deadlinePassed()
                if let later = connection.deadline, later < next { next = later }
            } else if deadline < next {
                next = deadline
            }
        }
        nextDeadlineCheck = next
    }
}
