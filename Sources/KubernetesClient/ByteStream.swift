#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected, bidirectional byte stream: a TLS connection to the API server, or a plain TCP socket for an
/// `http://` server (kubectl proxy). The HTTP logic is written against this, so it is testable on its own.
public protocol ByteStream: AnyObject {
    /// Reads at most `buffer.count` bytes; returns 0 at end of stream. Throws on error or read timeout.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) throws
    /// Bounds each later read (and write) to `seconds`.
    func setTimeout(seconds: Double)
    /// Unblocks a read in progress on another thread (shuts the socket down); the stream is dead afterwards.
    func interrupt()
    /// Closes the stream and releases its resources.
    func close()
}

/// Opens a new stream to the API server; the argument bounds the connect and handshake, in seconds.
public typealias ByteStreamConnector = @Sendable (_ timeoutSeconds: Double) throws -> any ByteStream

/// A failure below HTTP: connect, read, write, timeout.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// What failed, for logs and error messages.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Socket helpers shared by the plain TCP stream (and usable on a TLS connection's descriptor).
enum Sockets {
    /// A TCP connection to `host:port`, within `timeoutSeconds`, trying every resolved address.
    static func connect(host: String, port: Int, timeoutSeconds: Double) throws(TransportError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        if status != 0 || list == nil {
            throw TransportError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry = list
        while let address = entry?.pointee {
            entry = address.ai_next
            let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), address.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var result = Glibc.connect(fd, address.ai_addr, address.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                var pollEntry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&pollEntry, 1, Int32(max(1, timeoutSeconds * 1000)))
                if ready == 1 {
                    var socketError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
                    result = socketError == 0 ? 0 : -1
                    if socketError != 0 { lastError = String(cString: strerror(socketError)) }
                } else {
                    lastError = ready == 0 ? "connect timed out" : String(cString: strerror(errno))
                    result = -1
                }
            } else if result != 0 {
                lastError = String(cString: strerror(errno))
            }
            if result == 0 {
                _ = fcntl(fd, F_SETFL, flags)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                setTimeout(fd, seconds: timeoutSeconds)
                return fd
            }
            Glibc.close(fd)
        }
        throw TransportError("cannot connect to \(host):\(port): \(lastError)")
    }

    /// Sets the receive and send timeouts of a socket.
    static func setTimeout(_ fd: Int32, seconds: Double) {
        let clamped = max(0.001, seconds)
        var value = timeval(tv_sec: Int(clamped), tv_usec: Int((clamped - Double(Int(clamped))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// A plain TCP stream, for `http://` API server URLs (kubectl proxy) only.
final class SocketStream: ByteStream {
    private let fd: Int32
    private let closed = Locked(false)

    init(fd: Int32) { self.fd = fd }

    static func connect(host: String, port: Int, timeoutSeconds: Double) throws -> SocketStream {
        SocketStream(fd: try Sockets.connect(host: host, port: port, timeoutSeconds: timeoutSeconds))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw TransportError("read timed out") }
            throw TransportError("read failed: \(String(cString: strerror(errno)))")
        }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw TransportError("write timed out") }
                throw TransportError("write failed: \(String(cString: strerror(errno)))")
            }
            offset += count
        }
    }

    func setTimeout(seconds: Double) { Sockets.setTimeout(fd, seconds: seconds) }

    // Both under the lock, so an interrupt never reaches a descriptor number already closed and reused.
    func interrupt() { closed.withLock { closed in if !closed { _ = shutdown(fd, Int32(SHUT_RDWR)) } } }

    func close() {
        closed.withLock { closed in
            if !closed { Glibc.close(fd) }
            closed = true
        }
    }

    deinit { close() }
}
