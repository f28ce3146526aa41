#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL
import CTLSShim

/// How the server speaks TLS; flags as kube-apiserver names them.
public struct TLSServerConfiguration: Sendable {
    /// PEM certificate chain (`--tls-cert-file`).
    public var certificateFile: String
    /// PEM private key (`--tls-private-key-file`).
    public var privateKeyFile: String
    /// When set, clients must present a certificate issued by this CA (`--client-ca-file`, mTLS).
    public var clientCAFile: String?
    /// `--tls-min-version`; never below TLS 1.2.
    public var minimumVersion: TLSProtocolVersion
    /// `--tls-cipher-suites`: IANA names; empty = forward-secret AEAD suites for TLS 1.2, OpenSSL's TLS 1.3 set.
    public var cipherSuites: [String]

    public init(certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil,
                minimumVersion: TLSProtocolVersion = .tls12, cipherSuites: [String] = []) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.minimumVersion = minimumVersion
        self.cipherSuites = cipherSuites
    }
}

/// An `SSL_CTX*`. `@unchecked Sendable`: never mutated after it is built; OpenSSL makes `SSL_new` on a shared
/// context thread-safe, and each `SSL` takes its own reference, so freeing this one never harms live connections.
final class SSLContextHandle: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    deinit { SSL_CTX_free(pointer) }
}

/// The server's TLS state: the current context, rebuilt when the certificate files change on disk.
public final class TLSServerContext: Sendable {
    public let configuration: TLSServerConfiguration
    private let current: Locked<(context: SSLContextHandle, stamps: [FileStamp?])>

    /// Loads the certificate and key (they must match), the client CA if any, versions and cipher suites.
    public init(configuration: TLSServerConfiguration) throws(TLSError) {
        self.configuration = configuration
        let stamps = Self.stamps(configuration)
        let context = try Self.makeContext(configuration)
        current = Locked((context, stamps))
    }

    /// Re-reads the certificate, key and client CA when any of them changed (inode, size or mtime) and
    /// swaps the context in for new connections; connections already open keep theirs. Returns whether it
    /// swapped. On error the old context stays in service.
    @discardableResult
    public func reloadIfChanged() throws(TLSError) -> Bool {
        let stamps = Self.stamps(configuration)
        if current.withLock({ $0.stamps == stamps }) { return false }
        let context = try Self.makeContext(configuration)
        current.withLock { $0 = (context, stamps) }
        return true
    }

    /// Starts TLS on an accepted socket, taking ownership of `fd` (closed when this throws). The handshake
    /// must finish by `handshakeDeadline`; the connection keeps that deadline until told otherwise.
    public func accept(socket fd: Int32, handshakeDeadline: MonotonicInstant) throws(TLSError) -> TLSConnection {
        let connection = try makeConnection(socket: fd)
        try connection.handshake(deadline: handshakeDeadline)
        return connection
    }

    /// A connection over an accepted socket with the current context, before its handshake (so the caller
    /// can keep its `interrupter` first). Takes ownership of `fd` (closed when this throws).
    public func makeConnection(socket fd: Int32) throws(TLSError) -> TLSConnection {
        let context = current.withLock { $0.context }
        return TLSConnection(socket: try SecureSocket(fd: fd, context: context.pointer))
    }

    private static func stamps(_ configuration: TLSServerConfiguration) -> [FileStamp?] {
        [configuration.certificateFile, configuration.privateKeyFile, configuration.clientCAFile].map { path in
            path.flatMap(FileStamp.init(path:))
        }
    }

    static func makeContext(_ configuration: TLSServerConfiguration) throws(TLSError) -> SSLContextHandle {
        drainOpenSSLErrors()
        guard let pointer = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.openSSL(.configuration, "cannot create a TLS context")
        }
        let context = SSLContextHandle(pointer)
        ctls_ctx_apply_defaults(pointer)
        guard ctls_ctx_set_min_proto(pointer, configuration.minimumVersion.openSSLValue) == 1 else {
            throw TLSError.openSSL(.configuration, "cannot set the minimum TLS version")
        }
        let suites = try TLSCipherSuites.resolve(configuration.cipherSuites)
        guard SSL_CTX_set_cipher_list(pointer, suites.tls12 ?? TLSCipherSuites.defaultTLS12) == 1 else {
            throw TLSError.openSSL(.configuration, "no usable TLS 1.2 cipher suite in \(configuration.cipherSuites)")
        }
        if let tls13 = suites.tls13, SSL_CTX_set_ciphersuites(pointer, tls13) != 1 {
            throw TLSError.openSSL(.configuration, "cannot set the TLS 1.3 cipher suites \(tls13)")
        }
        guard SSL_CTX_use_certificate_chain_file(pointer, configuration.certificateFile) == 1 else {
            throw TLSError.openSSL(.configuration, "cannot load the certificate \(configuration.certificateFile)")
        }
        guard SSL_CTX_use_PrivateKey_file(pointer, configuration.privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
            let details = drainOpenSSLErrors()
            let what = details.contains("mismatch")
                ? "the private key \(configuration.privateKeyFile) does not match the certificate \(configuration.certificateFile)"
                : "cannot load the private key \(configuration.privateKeyFile)"
            throw TLSError(.configuration, details.isEmpty ? what : "\(what): \(details)")
        }
        guard SSL_CTX_check_private_key(pointer) == 1 else {
            throw TLSError.openSSL(.configuration,
                                   "the private key \(configuration.privateKeyFile) does not match the certificate \(configuration.certificateFile)")
        }
        if let clientCAFile = configuration.clientCAFile {
            guard SSL_CTX_load_verify_locations(pointer, clientCAFile, nil) == 1 else {
                throw TLSError.openSSL(.configuration, "cannot load the client CA \(clientCAFile)")
            }
            // The CA names go in the CertificateRequest so clients pick the right certificate.
            guard let names = SSL_load_client_CA_file(clientCAFile) else {
                throw TLSError.openSSL(.configuration, "no CA certificate in \(clientCAFile)")
            }
            SSL_CTX_set_client_CA_list(pointer, names)
            SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        } else {
            SSL_CTX_set_verify(pointer, SSL_VERIFY_NONE, nil)
        }
        // Sessions are not resumed across reloads or replicas; a per-context ticket key is enough.
        _ = SSL_CTX_set_session_id_context(pointer, "pod-security-webhook", 20)
        return context
    }
}

/// What identifies a file's version on disk; a Kubernetes Secret update swaps a symlink, changing the inode.
struct FileStamp: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int
    let modifiedNanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if canImport(Glibc)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
        #else
        modifiedSeconds = Int(info.st_mtimespec.tv_sec)
        modifiedNanoseconds = Int(info.st_mtimespec.tv_nsec)
        #endif
    }
}
