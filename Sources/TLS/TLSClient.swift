#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL
import CTLSShim

/// How a client connection verifies the server and identifies itself.
public struct TLSClientConfiguration: Sendable {
    /// PEM file of the CAs to trust; with `caPEM` both count; with neither, the system's trust store.
    public var caFile: String?
    /// PEM bytes of CAs to trust (kubeconfig `certificate-authority-data`).
    public var caPEM: [UInt8]?
    /// Client certificate and key (PEM files) for mTLS.
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    /// The name to verify the server certificate against and send as SNI; nil = the host connected to.
    /// An IP address is verified against IP SANs (and sent as no SNI).
    public var serverName: String?
    /// Skips verification of the server certificate entirely (kubeconfig `insecure-skip-tls-verify`).
    public var insecureSkipVerify: Bool
    public var minimumVersion: TLSProtocolVersion
    /// nil = the newest OpenSSL speaks.
    public var maximumVersion: TLSProtocolVersion?
    /// Tests only: a raw OpenSSL protocol range (e.g. `TLS1_1_VERSION...TLS1_1_VERSION`) at security level 0,
    /// to check that servers refuse old protocols. Overrides `minimumVersion`/`maximumVersion`.
    public var rawProtocolRangeForTesting: ClosedRange<Int32>?

    public init(caFile: String? = nil, caPEM: [UInt8]? = nil, clientCertificateFile: String? = nil,
                clientKeyFile: String? = nil, serverName: String? = nil, insecureSkipVerify: Bool = false,
                minimumVersion: TLSProtocolVersion = .tls12, maximumVersion: TLSProtocolVersion? = nil,
                rawProtocolRangeForTesting: ClosedRange<Int32>? = nil) {
        self.caFile = caFile
        self.caPEM = caPEM
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.serverName = serverName
        self.insecureSkipVerify = insecureSkipVerify
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.rawProtocolRangeForTesting = rawProtocolRangeForTesting
    }

    func makeContext() throws(TLSError) -> SSLContextHandle {
        drainOpenSSLErrors()
        guard let pointer = SSL_CTX_new(TLS_client_method()) else {
            throw TLSError.openSSL(.configuration, "cannot create a TLS context")
        }
        let context = SSLContextHandle(pointer)
        ctls_ctx_apply_defaults(pointer)
        if let range = rawProtocolRangeForTesting {
            SSL_CTX_set_security_level(pointer, 0)
            _ = SSL_CTX_set_cipher_list(pointer, "DEFAULT:@SECLEVEL=0")
            _ = ctls_ctx_set_min_proto(pointer, range.lowerBound)
            _ = ctls_ctx_set_max_proto(pointer, range.upperBound)
        } else {
            guard ctls_ctx_set_min_proto(pointer, minimumVersion.openSSLValue) == 1,
                  ctls_ctx_set_max_proto(pointer, maximumVersion?.openSSLValue ?? 0) == 1 else {
                throw TLSError.openSSL(.configuration, "cannot set the TLS version range")
            }
        }
        if insecureSkipVerify {
            SSL_CTX_set_verify(pointer, SSL_VERIFY_NONE, nil)
        } else {
            SSL_CTX_set_verify(pointer, SSL_VERIFY_PEER, nil)
            if caFile == nil && caPEM == nil {
                _ = SSL_CTX_set_default_verify_paths(pointer)
            }
            if let caFile, SSL_CTX_load_verify_locations(pointer, caFile, nil) != 1 {
                throw TLSError.openSSL(.configuration, "cannot load the CA file \(caFile)")
            }
            if let caPEM { try Self.addCertificates(pem: caPEM, to: pointer) }
        }
        if let certificate = clientCertificateFile {
            guard let key = clientKeyFile else {
                throw TLSError(.configuration, "a client certificate needs its key")
            }
            guard SSL_CTX_use_certificate_chain_file(pointer, certificate) == 1 else {
                throw TLSError.openSSL(.configuration, "cannot load the client certificate \(certificate)")
            }
            guard SSL_CTX_use_PrivateKey_file(pointer, key, SSL_FILETYPE_PEM) == 1,
                  SSL_CTX_check_private_key(pointer) == 1 else {
                throw TLSError.openSSL(.configuration, "cannot load the client key \(key), or it does not match \(certificate)")
            }
        }
        return context
    }

    /// Adds every certificate in `pem` to the context's trust store; at least one is required.
    private static func addCertificates(pem: [UInt8], to context: OpaquePointer) throws(TLSError) {
        let store = SSL_CTX_get_cert_store(context)
        var added = 0
        let failed: Bool = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return true }
            defer { BIO_free(bio) }
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                defer { X509_free(certificate) }
                if X509_STORE_add_cert(store, certificate) != 1 { return true }
                added += 1
            }
            return false
        }
        drainOpenSSLErrors() // the loop ends on a "no start line" error
        if failed || added == 0 { throw TLSError(.configuration, "no usable CA certificate in the CA data") }
    }
}

/// A client TLS connection; its methods match KubernetesClient's `ByteStream`.
///
/// Owned by one thread; `interrupt()` is safe from any thread (it only shuts the socket down, under a lock).
public final class TLSClientConnection {
    let socket: SecureSocket

    init(socket: SecureSocket) { self.socket = socket }

    /// Connects to `host:port` (any resolved address), then runs the handshake, all within `timeoutSeconds`.
    /// Later reads and writes are bounded by `timeoutSeconds` each until `setTimeout` changes it.
    public static func connect(host: String, port: Int, configuration: TLSClientConfiguration,
                               timeoutSeconds: Double) throws(TLSError) -> TLSClientConnection {
        let deadline = MonotonicInstant.now().advanced(bySeconds: timeoutSeconds)
        let context = try configuration.makeContext()
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let fd = try TCPConnector.connect(host: bareHost, port: port, deadline: deadline)
        let socket = try SecureSocket(fd: fd, context: context.pointer)
        do throws(TLSError) {
            let name = configuration.serverName ?? bareHost
            let isAddress = TCPConnector.isIPAddress(name)
            if !isAddress && !name.isEmpty { _ = ctls_set_host_name(socket.ssl, name) }
            if !configuration.insecureSkipVerify {
                let parameters = SSL_get0_param(socket.ssl)
                let accepted = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(parameters, name)
                    : X509_VERIFY_PARAM_set1_host(parameters, name, 0)
                if accepted != 1 { throw TLSError.openSSL(.configuration, "cannot verify against the name \(name)") }
                X509_VERIFY_PARAM_set_hostflags(parameters, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            }
            socket.setDeadline(deadline)
            try socket.handshake(asServer: false)
            socket.setTimeout(seconds: timeoutSeconds)
        } catch {
            socket.close()
            throw error
        }
        return TLSClientConnection(socket: socket)
    }

    /// Reads at most `buffer.count` bytes; 0 at end of stream. Throws on error or timeout.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Int {
        try socket.read(into: buffer)
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(TLSError) {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(TLSError) in try socket.write(raw) } }
        try result.get()
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) { try socket.write(bytes) }

    /// Bounds each later read and write to `seconds`.
    public func setTimeout(seconds: Double) { socket.setTimeout(seconds: seconds) }

    /// Shuts the socket down so a read blocked on another thread returns; the connection is dead afterwards.
    public func interrupt() { socket.descriptor.shutdownBoth() }

    /// A handle other threads may keep to interrupt this connection.
    public var interrupter: TLSInterrupter { TLSInterrupter(descriptor: socket.descriptor) }

    /// Sends close_notify, frees the session, closes the socket. Idempotent.
    public func close() { socket.close() }

    /// The server certificate's subject (RFC 2253).
    public var peerCertificateSubject: String? { socket.peerCertificateSubject }

    /// The server certificate's serial number, in hex.
    public var peerCertificateSerial: String? { socket.peerCertificateSerial }

    /// The negotiated protocol version, as OpenSSL names it ("TLSv1.3").
    public var protocolVersion: String { socket.protocolVersion }
}

/// TCP connect with a deadline, trying every address the name resolves to (the TLS client's, and the
/// Kubernetes client's for plain `http://`).
public enum TCPConnector {
    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// A connected, blocking, close-on-exec socket with TCP_NODELAY.
    public static func connect(host: String, port: Int, deadline: MonotonicInstant) throws(TLSError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, list != nil else {
            throw TLSError(.connection, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var entry = list
        while let address = entry?.pointee {
            entry = address.ai_next
            #if canImport(Glibc)
            let fd = socket(address.ai_family, address.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), address.ai_protocol)
            #else
            let fd = socket(address.ai_family, address.ai_socktype, address.ai_protocol)
            #endif
            if fd < 0 { lastError = errnoText(errno); continue }
            let flags = fcntl(fd, F_GETFL)
            _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
            var connected = systemConnect(fd, address.ai_addr, address.ai_addrlen) == 0
            if !connected && errno == EINPROGRESS {
                var pollEntry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                let milliseconds = max(1, Int32(clamping: Int64(MonotonicInstant.now().seconds(to: deadline) * 1000)))
                let ready = poll(&pollEntry, 1, milliseconds)
                if ready == 1 {
                    var socketError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
                    connected = socketError == 0
                    if !connected { lastError = errnoText(socketError) }
                } else {
                    lastError = ready == 0 ? "connect timed out" : errnoText(errno)
                }
            } else if !connected {
                lastError = errnoText(errno)
            }
            if connected {
                _ = fcntl(fd, F_SETFL, flags)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            }
            _ = closeDescriptor(fd)
        }
        throw TLSError(lastError == "connect timed out" ? .timeout : .connection,
                       "cannot connect to \(host):\(port): \(lastError)")
    }
}

#if canImport(Glibc)
private let systemConnect = Glibc.connect
let closeDescriptor = Glibc.close
#else
private let systemConnect = Darwin.connect
let closeDescriptor = Darwin.close
#endif
