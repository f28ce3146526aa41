#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
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
/// Threads: one accept thread, and one thread per connection (up to `maxConnections`) running blocking
/// OpenSSL calls with deadlines. Dispatch's pool is never blocked (it starves on 2 cores).
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    let tls: TLSServerContext
    let handler: any HTTPHandler
    let state = Guarded(ServerState())
    /// `state.phase == .running`, readable on every request without the lock (which all connections share).
    let accepting = Atomic<Bool>(false)

    struct ServerState {
        enum Phase { case created, running, draining, stopped }
        var phase = Phase.created
        var listenFD: Int32 = -1
        var acceptThreadRunning = false
        var nextConnectionID = 0
        var connections: [Int: ConnectionSlot] = [:]
    }

    /// What shutdown needs to know of a connection.
    struct ConnectionSlot {
        /// Set once the TLS session exists; shuts the socket down from another thread, safely.
        var interrupter: TLSInterrupter?
        /// A request is being read, handled or answered: set by the connection's thread without the lock.
        let busy = BusyFlag()
    }

    final class BusyFlag: Sendable {
        let value = Atomic<Bool>(false)
    }

    public init(configuration: HTTPServerConfiguration, tls: TLSServerContext, handler: any HTTPHandler) {
        self.configuration = configuration
        self.tls = tls
        self.handler = handler
    }

    /// Connections open now (handshaking, idle or busy).
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Binds, listens and starts accepting; returns the bound port (useful with port 0).
    /// Also ignores SIGPIPE process-wide: a client vanishing mid-response must not kill the server
    /// (the TLS layer writes with MSG_NOSIGNAL too; this covers anything else).
    public func start() throws(HTTPServerError) -> Int {
        signal(SIGPIPE, SIG_IGN)
        let ready = state.withLock { $0.phase == .created }
        guard ready else { throw HTTPServerError("the server was already started") }
        let (fd, port) = try Self.listen(address: configuration.bindAddress, port: configuration.port)
        state.withLock(signal: true) { state in
            state.phase = .running
            state.listenFD = fd
            state.acceptThreadRunning = true
        }
        accepting.store(true, ordering: .sequentiallyConsistent)
        guard startThread(stackBytes: 256 * 1024, { [self] in acceptLoop(fd) }) else {
            _ = closeDescriptor(fd)
            state.withLock(signal: true) { state in
                state.phase = .stopped
                state.acceptThreadRunning = false
            }
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
                accepting.store(false, ordering: .sequentiallyConsistent)
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

        // A connection going idle checks `accepting` after clearing its flag, so one this misses closes itself.
        let idle = state.withLock { state in
            state.connections.values.filter { !$0.busy.value.load(ordering: .sequentiallyConsistent) }.compactMap(\.interrupter)
        }
        idle.forEach { $0.interrupt() }
        if !state.wait(timeoutSeconds: drainSeconds, until: { $0.connections.isEmpty }) {
            let all = state.withLock { state in state.connections.values.compactMap(\.interrupter) }
            configuration.log?("shutdown: cutting \(all.count) connections still open after \(drainSeconds) s")
            all.forEach { $0.interrupt() }
            _ = state.wait(timeoutSeconds: 1) { $0.connections.isEmpty }
        }
        state.withLock(signal: true) { $0.phase = .stopped }
    }

    /// Blocks until `shutdown` has finished.
    public func waitUntilStopped() {
        _ = state.wait { $0.phase == .stopped }
    }

    // MARK: Accepting

    private func acceptLoop(_ listenFD: Int32) {
        var lastCertificateCheck = MonotonicInstant.now()
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    accept(listenFD, $0, &length)
                }
            }
            if fd < 0 {
                let code = errno
                if state.withLock({ $0.phase != .running }) { break }
                if code == EINTR || code == ECONNABORTED || code == EPROTO { continue }
                configuration.log?("accept failed: \(errnoText(code))")
                usleep(10_000) // EMFILE and friends: do not spin
                continue
            }
            let acceptedAt = MonotonicInstant.now()
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC) // accept4 is not visible from Swift's Glibc
            guard withUnsafePointer(to: &address, { configuration.admits($0) }) else {
                // Outside --allowed-source-cidrs: closed before TLS, and said once per connection.
                configuration.log?("connection from \(Self.describe(&address)) refused: not in the allowed source networks")
                _ = closeDescriptor(fd)
                continue
            }
            let id = state.withLock { state -> Int? in
                guard state.phase == .running, state.connections.count < configuration.maxConnections else { return nil }
                let id = state.nextConnectionID
                state.nextConnectionID += 1
                state.connections[id] = ConnectionSlot()
                return id
            }
            guard let id else {
                // Over the cap (or stopping): closed before TLS, the cheapest refusal there is.
                _ = closeDescriptor(fd)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let remote = Self.describe(&address)
            if configuration.certificateCheckIntervalSeconds > 0
                && lastCertificateCheck.seconds(to: acceptedAt) >= configuration.certificateCheckIntervalSeconds {
                lastCertificateCheck = acceptedAt
                do {
                    if try tls.reloadIfChanged() { configuration.log?("TLS certificate reloaded") }
                } catch {
                    configuration.log?("TLS certificate reload failed, still serving the previous one: \(error)")
                }
            }
            let started = startThread(stackBytes: configuration.threadStackBytes) { [self] in
                serveConnection(fd: fd, id: id, remoteAddress: remote, acceptedAt: acceptedAt)
            }
            if !started {
                configuration.log?("cannot start a connection thread")
                _ = closeDescriptor(fd)
                state.withLock(signal: true) { _ = $0.connections.removeValue(forKey: id) }
            }
        }
        _ = closeDescriptor(listenFD)
        state.withLock(signal: true) { state in
            state.acceptThreadRunning = false
            state.listenFD = -1
        }
    }

    private func serveConnection(fd: Int32, id: Int, remoteAddress: String, acceptedAt: MonotonicInstant) {
        defer { state.withLock(signal: true) { _ = $0.connections.removeValue(forKey: id) } }
        let connection: TLSConnection
        do {
            connection = try tls.makeConnection(socket: fd)
        } catch {
            configuration.log?("TLS setup failed for \(remoteAddress): \(error)")
            return
        }
        let (running, busyFlag) = state.withLock { state -> (Bool, BusyFlag) in
            state.connections[id]?.interrupter = connection.interrupter
            return (state.phase == .running, state.connections[id]?.busy ?? BusyFlag())
        }
        guard running else {
            connection.close()
            return
        }
        do {
            try connection.handshake(deadline: acceptedAt.advanced(bySeconds: configuration.headerTimeoutSeconds))
        } catch {
            configuration.log?("TLS handshake failed for \(remoteAddress): \(error)")
            return
        }
        var loop = HTTPConnectionLoop(server: self, connection: connection, id: id, busyFlag: busyFlag,
                                      remoteAddress: remoteAddress, acceptedAt: acceptedAt)
        loop.run()
        connection.close()
    }

    /// Marks a connection busy or idle; returns whether the server is still running (not draining).
    func setBusy(_ busy: Bool, flag: BusyFlag) -> Bool {
        flag.value.store(busy, ordering: .sequentiallyConsistent)
        return accepting.load(ordering: .sequentiallyConsistent)
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
