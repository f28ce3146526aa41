import COpenSSL
import CTLSShim

/// A TLS failure: configuration (files, cipher names), handshake, timeout, I/O. The message includes
/// OpenSSL's error queue text when OpenSSL had something to say.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Bad configuration: unreadable or mismatched files, unknown cipher suite, unsupported setting.
        case configuration
        /// The handshake failed (protocol version, certificate verification, peer hung up).
        case handshake
        /// A deadline or timeout passed before the operation completed.
        case timeout
        /// The connection broke (reset, protocol error, or it was interrupted or closed).
        case connection
    }

    public let kind: Kind
    /// What failed, with OpenSSL's explanation appended when there is one.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// An error whose message ends with this thread's OpenSSL error queue, which it drains.
    static func openSSL(_ kind: Kind, _ what: String) -> TLSError {
        let details = drainOpenSSLErrors()
        return TLSError(kind, details.isEmpty ? what : "\(what): \(details)")
    }
}

/// Empties this thread's OpenSSL error queue before a call whose failure we will explain. Looked at first:
/// the queue is nearly always empty, and `ERR_clear_error` resets every slot of it even then (846 instructions
/// a call, about four calls a request, against 206 for the look: bench/README.md, item 26). `SSL_get_error` reads the queue through
/// `ERR_peek_error` too, so a queue that look finds empty cannot mislead it.
@inline(__always)
func clearOpenSSLErrors() {
    if ERR_peek_error() != 0 { ERR_clear_error() }
}

/// Empties this thread's OpenSSL error queue (it is per thread), returning its text.
@discardableResult
func drainOpenSSLErrors() -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 2048) { buffer in
        let length = ctls_drain_errors(buffer.baseAddress!, buffer.count)
        return length == 0 ? "" : String(cString: buffer.baseAddress!)
    }
}
