#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL
import CTLSShim

/// One TLS session over one socket: the part server and client connections share.
///
/// Ownership: the `SSL*` is used by exactly one thread at a time (the connection's owner); the only thing
/// another thread may do is `descriptor.shutdownBoth()` (interrupt), which touches the socket under a lock.
final class SecureSocket {
    let ssl: OpaquePointer
    let descriptor: SocketDescriptor
    /// Per-operation timeout in nanoseconds (`setTimeout`), or nil to use `deadline`.
    private var timeoutNanoseconds: Int64?
    /// Absolute deadline in CLOCK_MONOTONIC nanoseconds; 0 = none.
    private var deadline: Int64 = 0
    private var isClosed = false

    /// Takes ownership of `fd` (closed on failure too).
    init(fd: Int32, context: OpaquePointer) throws(TLSError) {
        let descriptor = SocketDescriptor(fd)
        drainOpenSSLErrors()
        guard let ssl = SSL_new(context) else {
            descriptor.close()
            throw TLSError.openSSL(.connection, "SSL_new failed")
        }
        guard ctls_attach_socket(ssl, fd) == 1 else {
            SSL_free(ssl)
            descriptor.close()
            throw TLSError.openSSL(.connection, "cannot attach the socket to TLS")
        }
        self.ssl = ssl
        self.descriptor = descriptor
    }

    deinit { close() }

    func setTimeout(seconds: Double?) {
        timeoutNanoseconds = seconds.map { Int64(max(0.001, $0) * 1_000_000_000) }
    }

    func setDeadline(_ instant: MonotonicInstant?) {
        timeoutNanoseconds = nil
        deadline = instant?.nanoseconds ?? 0
    }

    private func armDeadline() {
        if let timeoutNanoseconds {
            ctls_set_deadline(ssl, ctls_monotonic_ns() + timeoutNanoseconds)
        } else {
            ctls_set_deadline(ssl, deadline)
        }
    }

    /// Runs the handshake as server or client.
    func handshake(asServer: Bool) throws(TLSError) {
        armDeadline()
        clearOpenSSLErrors()
        let result = asServer ? SSL_accept(ssl) : SSL_connect(ssl)
        if result == 1 { return }
        throw failure(result, doing: "TLS handshake", kind: .handshake)
    }

    /// Reads decrypted bytes; 0 at a clean end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Int {
        guard !isClosed else { throw TLSError(.connection, "read on a closed connection") }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        armDeadline()
        clearOpenSSLErrors()
        let count = SSL_read(ssl, base, Int32(min(buffer.count, Int(Int32.max))))
        if count > 0 { return Int(count) }
        let code = SSL_get_error(ssl, count)
        if code == SSL_ERROR_ZERO_RETURN { return 0 }
        if code == SSL_ERROR_SYSCALL && ctls_last_errno(ssl) == 0 && ERR_peek_error() == 0 { return 0 }
        throw failure(count, doing: "TLS read", kind: .connection)
    }

    /// Writes all of `bytes` (OpenSSL's partial writes are off: one call, all or error).
    func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard !isClosed else { throw TLSError(.connection, "write on a closed connection") }
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let chunk = min(bytes.count - offset, 1 << 30)
            armDeadline()
            clearOpenSSLErrors()
            let count = SSL_write(ssl, base + offset, Int32(chunk))
            if count <= 0 { throw failure(count, doing: "TLS write", kind: .connection) }
            offset += Int(count)
        }
    }

    // MARK: Non-blocking use (an event loop waits for the socket; nothing here polls)

    func makeNonBlocking() { ctls_set_nonblocking(ssl) }

    /// Whether the session holds input not yet returned by a read (a record, or decrypted bytes), which
    /// waiting for the socket would not announce.
    var hasBufferedInput: Bool { SSL_has_pending(ssl) == 1 }

    /// What a non-blocking call needs before it can go on, from SSL_get_error; nil when it is a real failure.
    private func wait(after result: Int32) -> TLSWait? {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ:
            clearOpenSSLErrors()
            return .readable
        case SSL_ERROR_WANT_WRITE:
            clearOpenSSLErrors()
            return .writable
        default:
            return nil
        }
    }

    /// One step of the server handshake: nil when it is done, else what the socket must become first.
    func handshakeStep() throws(TLSError) -> TLSWait? {
        clearOpenSSLErrors()
        let result = SSL_accept(ssl)
        if result == 1 { return nil }
        if let wait = wait(after: result) { return wait }
        throw failure(result, doing: "TLS handshake", kind: .handshake)
    }

    /// Reads what is available without blocking.
    func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> TLSReadResult {
        guard !isClosed else { throw TLSError(.connection, "read on a closed connection") }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        clearOpenSSLErrors()
        let count = SSL_read(ssl, base, Int32(min(buffer.count, Int(Int32.max))))
        if count > 0 { return .bytes(Int(count)) }
        if let wait = wait(after: count) { return .wait(wait) }
        let code = SSL_get_error(ssl, count)
        if code == SSL_ERROR_ZERO_RETURN { return .endOfStream }
        if code == SSL_ERROR_SYSCALL && ctls_last_errno(ssl) == 0 && ERR_peek_error() == 0 { return .endOfStream }
        throw failure(count, doing: "TLS read", kind: .connection)
    }

    /// Writes what the socket takes now: the count written (maybe less than asked), or what to wait for.
    func writeAvailable(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> TLSWriteResult {
        guard !isClosed else { throw TLSError(.connection, "write on a closed connection") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .wrote(0) }
        clearOpenSSLErrors()
        let count = SSL_write(ssl, base, Int32(min(bytes.count, 1 << 30)))
        if count > 0 { return .wrote(Int(count)) }
        if let wait = wait(after: count) { return .wait(wait) }
        throw failure(count, doing: "TLS write", kind: .connection)
    }

    /// The error for a failed SSL call returning `result`; drains the error queue.
    private func failure(_ result: Int32, doing what: String, kind: TLSError.Kind) -> TLSError {
        let code = SSL_get_error(ssl, result)
        if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) && ctls_timed_out(ssl) != 0 {
            drainOpenSSLErrors()
            return TLSError(.timeout, "\(what) timed out")
        }
        let socketErrno = ctls_last_errno(ssl)
        var details = drainOpenSSLErrors()
        if kind == .handshake {
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
                details = details.isEmpty ? "certificate verify failed: \(String(cString: text))"
                    : "\(details) (certificate verify failed: \(String(cString: text)))"
            }
        }
        if details.isEmpty {
            if code == SSL_ERROR_SYSCALL || code == SSL_ERROR_ZERO_RETURN {
                details = socketErrno != 0 ? errnoText(socketErrno) : "the peer closed the connection"
            } else {
                details = "SSL error \(code)"
            }
        }
        return TLSError(kind, "\(what) failed: \(details)")
    }

    /// The peer certificate's subject (RFC 2253), if it sent one.
    var peerCertificateSubject: String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1024) { buffer in
            ctls_peer_subject(ssl, buffer.baseAddress!, buffer.count) < 0 ? nil : String(cString: buffer.baseAddress!)
        }
    }

    /// The peer certificate's serial number (hex), if it sent one.
    var peerCertificateSerial: String? {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
            ctls_peer_serial(ssl, buffer.baseAddress!, buffer.count) < 0 ? nil : String(cString: buffer.baseAddress!)
        }
    }

    /// The negotiated protocol ("TLSv1.3", "TLSv1.2").
    var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// Sends close_notify and ends the sending direction; reads still work (to drain what the peer sends).
    func shutdownWrite() {
        guard !isClosed, SSL_is_init_finished(ssl) == 1 else { return }
        ctls_set_deadline(ssl, ctls_monotonic_ns() + 200_000_000)
        drainOpenSSLErrors()
        _ = SSL_shutdown(ssl)
        drainOpenSSLErrors()
        descriptor.shutdownWrite()
    }

    /// Sends close_notify (bounded by a short deadline), frees the session and closes the socket.
    func close() {
        if isClosed { return }
        isClosed = true
        if SSL_is_init_finished(ssl) == 1 && (SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN) == 0 {
            ctls_set_deadline(ssl, ctls_monotonic_ns() + 200_000_000)
            drainOpenSSLErrors()
            _ = SSL_shutdown(ssl)
            drainOpenSSLErrors()
        }
        SSL_free(ssl)
        descriptor.close()
    }
}
