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

/// What a non-blocking TLS operation waits for before it can make progress.
public enum TLSWait: Sendable, Equatable {
    case readable
    case writable
}

/// The outcome of a non-blocking read.
public enum TLSReadResult: Sendable, Equatable {
    /// Decrypted bytes were read into the buffer.
    case bytes(Int)
    /// The peer closed the stream cleanly.
    case endOfStream
    /// Nothing to read yet: wait for the socket, then call again.
    case wait(TLSWait)
}

/// The outcome of a non-blocking write.
public enum TLSWriteResult: Sendable, Equatable {
    /// This many bytes (at least one) were taken; write the rest later.
    case wrote(Int)
    /// Nothing was taken: wait for the socket, then call again with the same bytes.
    case wait(TLSWait)
}

extension TLSConnection {
    /// Switches the connection to non-blocking use by an event loop: the calls below never wait, and
    /// deadlines are the loop's business. The blocking calls must not be used afterwards.
    public func makeNonBlocking() { socket.makeNonBlocking() }

    /// Advances the server handshake as far as the socket allows: nil when it is complete, else what to wait
    /// for. Throws on a failed handshake (the connection is then unusable; close it).
    public func handshakeStep() throws(TLSError) -> TLSWait? { try socket.handshakeStep() }

    /// Reads decrypted bytes that are available now. Data can sit decrypted inside the TLS session where the
    /// socket shows nothing: call until it says `.wait` before waiting on the socket.
    public func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> TLSReadResult {
        try socket.readAvailable(into: buffer)
    }

    /// Whether the session holds input a read would return without the socket: when false, waiting for the
    /// socket to become readable loses nothing (and spares a read that would only say `.wait`).
    public var hasBufferedInput: Bool { socket.hasBufferedInput }

    /// Writes as much of `bytes` as the socket takes now.
    public func writeAvailable(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> TLSWriteResult {
        try socket.writeAvailable(bytes)
    }
}

/// Unblocks a connection from another thread by shutting its socket down; safe after the connection closed.
public struct TLSInterrupter: Sendable {
    let descriptor: SocketDescriptor

    public func interrupt() { descriptor.shutdownBoth() }
}
