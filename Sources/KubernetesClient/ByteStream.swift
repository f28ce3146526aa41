#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TLS

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

/// Socket helpers for the plain TCP stream.
enum Sockets {
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
    /// Shut down and closed under one lock, so an interrupt never reaches a descriptor number already closed
    /// and reused.
    private let descriptor: SocketDescriptor
    private var fd: Int32 { descriptor.fd }

    init(fd: Int32) { descriptor = SocketDescriptor(fd) }

    static func connect(host: String, port: Int, timeoutSeconds: Double) throws -> SocketStream {
        do {
            let fd = try TCPConnector.connect(host: host, port: port, deadline: .now().advanced(bySeconds: timeoutSeconds))
            Sockets.setTimeout(fd, seconds: timeoutSeconds)
            return SocketStream(fd: fd)
        } catch {
            throw TransportError(error.message)
        }
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

    func interrupt() { descriptor.shutdownBoth() }

    func close() { descriptor.close() }

    deinit { close() }
}
