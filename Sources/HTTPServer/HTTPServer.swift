#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEventPoll
import Synchronization
import TLS

/// Why the server could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// HTTP/1.1 over TLS with keep-alive, strict parsing and limits. Knows nothing of what it serves.
///
/// Threads: one accept thread, handing connections in turn to `eventLoopCount` event-loop threads (epoll,
/// non-blocking OpenSSL), which read, parse, answer and write without blocking; a handler's blocking path
/// runs on a thread of its own per request. Dispatch's pool is never used (it starves on 2 cores).
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let tls: TLSServerContext
    let handler: any HTTPHandler
    let state = Guarded(ServerState())
    /// Request-body bytes held by all connections (`configuration.maxBufferedBodyBytes` at most).
    let bodyBudget: ByteBudget

    struct ServerState {
        enum Phase { case created, running, draining, stopped }
        var phase = Phase.created
        var listenFD: Int32 = -1
        var acceptThreadRunning = false
        var connectionCount = 0
        var mailboxes: [EventLoopMailbox] = []
        var loopsRunning = 0
    }

    public init(configuration: HTTPServerConfiguration, tls: TLSServerContext, handler: any HTTPHandler) {
        self.configuration = configuration
        self.tls = tls
        self.handler = handler
        bodyBudget = ByteBudget(limit: configuration.maxBufferedBodyBytes)
    }

    /// Request-body bytes the connections hold now (tests and diagnostics).
    public var bufferedBodyBytes: Int { bodyBudget.used }

    /// Connections open now (handshaking, idle or busy).
    public var connectionCount: Int { state.withLock { $0.connectionCount } }

    /// Binds, listens, starts the event loops and accepting; returns the bound port (useful with port 0).
    /// Also ignores SIGPIPE process-wide: a client vanishing mid-response must not kill the server
    /// (the TLS layer writes with MSG_NOSIGNAL too; this covers anything else).
    public func start() throws(HTTPServerError) -> Int {
        signal(SIGPIPE, SIG_IGN)
        let ready = state.withLock { $0.phase == .created }
        guard ready else { throw HTTPServerError("the server was already started") }
        let (fd, port) = try Self.listen(address: configuration.bindAddress, port: configuration.port)
        var mailboxes: [EventLoopMailbox] = []
        do throws(HTTPServerError) {
            for _ in 0..<max(1, configuration.eventLoopCount) {
                let mailbox = try EventLoopMailbox()
                let epollFD = try EventLoop.makeEpoll(watching: mailbox)
                mailboxes.append(mailbox)
                state.withLock { $0.loopsRunning += 1 }
                // The loops parse and decide reviews as the blocking path does, so they get its stack: a review
                // nested to the parser's depth limit takes 256 of the scanner's recursive frames (0x280 bytes
                // each in release builds, bench/README item 35; more than twice that unoptimized).
                let started = startDetachedThread(stackBytes: configuration.threadStackBytes) { [self] in
                    EventLoop(server: self, mailbox: mailbox, epollFD: epollFD).run()
                    state.withLock(signal: true) { $0.loopsRunning -= 1 }
                }
                guard started else {
                    state.withLock { $0.loopsRunning -= 1 }
                    _ = closeDescriptor(epollFD)
                    throw HTTPServerError("cannot start an event loop thread")
                }
            }
        } catch {
            mailboxes.forEach { $0.post(.stop) }
            _ = closeDescriptor(fd)
            state.withLock(signal: true) { $0.phase = .stopped }
            throw error
        }
        state.withLock(signal: true) { state in
            state.phase = .running
            state.listenFD = fd
            state.acceptThreadRunning = true
            state.mailboxes = mailboxes
        }
        let loopMailboxes = mailboxes
        guard startDetachedThread(stackBytes: 256 * 1024, { [self] in acceptLoop(fd, mailboxes: loopMailboxes) }) else {
            _ = closeDescriptor(fd)
            state.withLock(signal: true) { $0.acceptThreadRunning = false }
            stopLoops()
            throw HTTPServerError("cannot start the accept thread")
        }
        return port
    }

    /// Stops accepting (new connections are refused), closes idle keep-alive connections, lets requests in
    /// flight finish and be answered (with `Connection: close`), and waits up to `drainSeconds` for that;
    /// connections still open then are cut. Returns when the server has stopped.
    public func shutdown(drainSeconds: Double) {
        let listenFD = state.withLock(signal: true) { state -> Int32? in
            switch state.phase {
            case .created:
                state.phase = .stopped
                return nil
            case .running:
                state.phase = .draining
                return state.listenFD
            case .draining, .stopped:
                return nil
            }
        }
        guard let listenFD else {
            waitUntilStopped()
            return
        }
        // Wakes the accept thread, which closes the listening socket.
        _ = Glibc.shutdown(listenFD, Int32(SHUT_RDWR))
        _ = state.wait { !$0.acceptThreadRunning }

        let mailboxes = state.withLock { $0.mailboxes }
        mailboxes.forEach { $0.post(.drain) }
        if !state.wait(timeoutSeconds: drainSeconds, until: { $0.connectionCount == 0 }) {
            let open = connectionCount
            configuration.log?("shutdown: cutting \(open) connections still open after \(drainSeconds) s")
            mailboxes.forEach { $0.post(.cut) }
            _ = state.wait(timeoutSeconds: 1) { $0.connectionCount == 0 }
        }
        stopLoops()
    }

    /// Blocks until `shutdown` has finished.
    public func waitUntilStopped() {
        _ = state.wait { $0.phase == .stopped }
    }

    private func stopLoops() {
        let mailboxes = state.withLock { $0.mailboxes }
        mailboxes.forEach { $0.post(.stop) }
        // Loops never block, so they stop at once; the bound only guards against a handler that broke that rule.
        _ = state.wait(timeoutSeconds: 5) { $0.loopsRunning == 0 }
        state.withLock(signal: true) { $0.phase = .stopped }
    }

    /// A connection has closed (called by its event loop).
    func connectionClosed() {
        state.withLock(signal: true) { $0.connectionCount -= 1 }
    }

    // MARK: Accepting

    private func acceptLoop(_ listenFD: Int32, mailboxes: [EventLoopMailbox]) {
        var lastCertificateCheck = MonotonicInstant.now()
        var nextLoop = 0
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = cep_accept(listenFD, &address, &length)
            if fd < 0 {
                let code = errno
                if state.withLock({ $0.phase != .running }) { break }
                if code == EINTR || code == ECONNABORTED || code == EPROTO { continue }
                configuration.log?("accept failed: \(errnoText(code))")
                usleep(10_000) // EMFILE and friends: do not spin
                continue
            }
            let acceptedAt = MonotonicInstant.now()
            guard withUnsafePointer(to: &address, { configuration.admits($0) }) else {
                // Outside --allowed-source-cidrs: closed before TLS, and said once per connection.
                configuration.log?("connection from \(Self.describe(&address)) refused: not in the allowed source networks")
                _ = closeDescriptor(fd)
                continue
            }
            let admitted = state.withLock { state -> Bool in
                guard state.phase == .running, state.connectionCount < configuration.maxConnections else { return false }
                state.connectionCount += 1
                return true
            }
            guard admitted else {
                // Over the cap (or stopping): closed before TLS, the cheapest refusal there is.
                _ = closeDescriptor(fd)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if configuration.certificateCheckIntervalSeconds > 0
                && lastCertificateCheck.seconds(to: acceptedAt) >= configuration.certificateCheckIntervalSeconds {
                lastCertificateCheck = acceptedAt
                do {
                    if try tls.reloadIfChanged() { configuration.log?("TLS certificate reloaded") }
                } catch {
                    configuration.log?("TLS certificate reload failed, still serving the previous one: \(error)")
                }
            }
            let mailbox = mailboxes[nextLoop]
            nextLoop = (nextLoop + 1) % mailboxes.count
            if !mailbox.post(.adopt(fd: fd, remoteAddress: Self.describe(&address), acceptedAt: acceptedAt)) {
                _ = closeDescriptor(fd)
                connectionClosed()
            }
        }
        _ = closeDescriptor(listenFD)
        state.withLock(signal: true) { state in
            state.acceptThreadRunning = false
            state.listenFD = -1
        }
    }

    // MARK: Sockets

    private static func listen(address: String, port: Int) throws(HTTPServerError) -> (Int32, Int) {
        let host = address.hasPrefix("[") && address.hasSuffix("]") ? String(address.dropFirst().dropLast()) : address
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw HTTPServerError("cannot resolve the bind address \(address): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        let info = first.pointee
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        guard fd >= 0 else { throw HTTPServerError("cannot create a socket: \(errnoText(errno))") }
        var one: Int32 = 1
        var zero: Int32 = 0
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if info.ai_family == AF_INET6 {
            // "::" serves IPv4 clients too (as mapped addresses).
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(fd, info.ai_addr, info.ai_addrlen) == 0 else {
            let text = errnoText(errno)
            _ = closeDescriptor(fd)
            throw HTTPServerError("cannot bind \(address):\(port): \(text)")
        }
        guard Glibc.listen(fd, 1024) == 0 else {
            let text = errnoText(errno)
            _ = closeDescriptor(fd)
            throw HTTPServerError("cannot listen on \(address):\(port): \(text)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let boundPort = withUnsafePointer(to: &bound) { pointer -> Int in
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        return (fd, boundPort)
    }

    /// "1.2.3.4:5678" or "[::1]:5678".
    private static func describe(_ address: inout sockaddr_storage) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        func string(_ text: [CChar]) -> String {
            String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return withUnsafePointer(to: &address) { pointer -> String in
            if Int32(pointer.pointee.ss_family) == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                    var raw = v6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                    let host = string(text)
                    let port = UInt16(bigEndian: v6.pointee.sin6_port)
                    // An IPv4 client of a dual-stack listener: show it as the IPv4 address it is.
                    if host.hasPrefix("::ffff:") && host.contains(".") { return "\(host.dropFirst(7)):\(port)" }
                    return "[\(host)]:\(port)"
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                var raw = v4.pointee.sin_addr
                inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
                return "\(string(text)):\(UInt16(bigEndian: v4.pointee.sin_port))"
            }
        }
    }
}

#if canImport(Glibc)
let closeDescriptor = Glibc.close
#else
let closeDescriptor = Darwin.close
#endif

extension HTTPServerConfiguration {
    /// Processors this process may use: its CPU affinity (which a container's cpuset narrows), capped by its
    /// cgroup's CPU quota (a container's CPU limit), rounded up.
    public static var processorCount: Int { max(1, Int(cep_processor_count())) }

    /// One event loop per processor but one, at least one and at most four. A loop runs its requests from
    /// bytes to bytes on its thread, so it keeps a processor busy while it has work; with a loop on every
    /// processor, the loops take processors from everything else the pod and node must run meanwhile (the
    /// kernel's network work, the log flusher, a client on the same node) and are preempted mid-request. On
    /// two processors shared with the load generator, one loop used about a fifth less CPU per request than
    /// two, and served as many requests a second or more (bench/README.md, item 13). At most four: the apiserver keeps
    /// few connections to a webhook, one loop answers tens of thousands of reviews a second, and each loop
    /// costs memory (its stack, a malloc arena) on a large node where a pod without a CPU limit sees every core.
    public static func defaultEventLoopCount(processors: Int) -> Int {
        min(max(1, processors - 1), 4)
    }
}

/// A shared count of bytes against a limit, taken and given back without a lock (event loops on several
/// threads share it).
final class ByteBudget: Sendable {
    let limit: Int
    private let taken = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    var used: Int { taken.load(ordering: .relaxed) }

    /// Takes `count` bytes if the total stays within the limit.
    func reserve(_ count: Int) -> Bool {
        var current = taken.load(ordering: .relaxed)
        while true {
            guard current + count <= limit else { return false }
            let (exchanged, original) = taken.compareExchange(expected: current, desired: current + count,
                                                              ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ count: Int) {
        taken.subtract(count, ordering: .relaxed)
    }
}
