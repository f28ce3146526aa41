/// A server-side TLS connection over an accepted socket, made by `TLSServerContext.accept`.
///
/// Owned by one thread (the connection's): read, write, deadlines and close happen there. `interrupt()` (or
/// `interrupter`) is the one operation meant for other threads.
public final class TLSConnection {
    let socket: SecureSocket

    init(socket: SecureSocket) { self.socket = socket }

    /// Runs the server side of the handshake, which must finish by `deadline` (kept for later reads until
    /// changed). Closes the connection when it fails.
    public func handshake(deadline: MonotonicInstant) throws(TLSError) {
        socket.setDeadline(deadline)
        do throws(TLSError) {
            try socket.handshake(asServer: true)
        } catch {
            socket.close()
            throw error
        }
    }

    /// Reads at most `buffer.count` decrypted bytes; returns 0 at a clean end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Int {
        try socket.read(into: buffer)
    }

    /// Writes all of `bytes` in as few TLS records as OpenSSL allows.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) { try socket.write(bytes) }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(TLSError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(TLSError) in try socket.write(raw) } }
        try result.get()
    }

    /// Bounds each later read or write to `seconds` (replaces any deadline).
    public func setTimeout(seconds: Double) { socket.setTimeout(seconds: seconds) }

    /// Bounds later reads and writes by an absolute instant; nil removes the bound.
    public func setDeadline(_ deadline: MonotonicInstant?) { socket.setDeadline(deadline) }

    /// Shuts the socket down so a read blocked on another thread returns; the connection is dead afterwards.
    public func interrupt() { socket.descriptor.shutdownBoth() }

    /// A handle other threads may keep to interrupt this connection.
    public var interrupter: TLSInterrupter { TLSInterrupter(descriptor: socket.descriptor) }

    /// Sends close_notify and shuts the sending direction: the peer sees end of stream at once, while
    /// reads still work (to drain a request before closing, so the peer is not reset before it reads).
    public func shutdownWrite() { socket.shutdownWrite() }

    /// Sends close_notify, frees the session, closes the socket. Idempotent.
    public func close() { socket.close() }

    /// The client certificate's subject (RFC 2253), when the client sent one (mTLS).
    public var peerCertificateSubject: String? { socket.peerCertificateSubject }

    /// The negotiated protocol version, as OpenSSL names it ("TLSv1.3").
    public var protocolVersion: String { socket.protocolVersion }

    /// The socket descriptor (for getpeername, logging). Do not read or write it directly.
    public var fileDescriptor: Int32 { socket.descriptor.fd }
}

/// Unblocks a connection from another thread by shutting its socket down; safe after the connection closed.
public struct TLSInterrupter: Sendable {
    let descriptor: SocketDescriptor

    public func interrupt() { descriptor.shutdownBoth() }
}
