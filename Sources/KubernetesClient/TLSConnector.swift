import TLS

/// The connector a configuration implies: TLS through the project's TLS module for `https://`, plain TCP for
/// `http://`. Returns the private temporary files it staged PEM data in (the client removes them).
func makeDefaultConnector(_ configuration: KubernetesClientConfiguration) throws -> (ByteStreamConnector, [String]) {
    let host = configuration.host
    let port = configuration.port
    switch configuration.scheme {
    case .http:
        return ({ timeout in try SocketStream.connect(host: host, port: port, timeoutSeconds: timeout) }, [])
    case .https:
        var staged: [String] = []
        // The TLS layer reads client certificates from files: kubeconfig `*-data` is staged in 0600 files.
        func path(of source: KubernetesClientConfiguration.PEMSource?, prefix: String) throws -> String? {
            switch source {
            case nil: return nil
            case .file(let path)?: return path
            case .data(let bytes)?:
                let path = try FileAccess.writePrivateTemporary(bytes, prefix: prefix)
                staged.append(path)
                return path
            }
        }
        var tls = TLSClientConfiguration()
        switch configuration.certificateAuthority {
        case .file(let path)?: tls.caFile = path
        case .data(let bytes)?: tls.caPEM = bytes
        case nil: break
        }
        do {
            tls.clientCertificateFile = try path(of: configuration.clientCertificate, prefix: "psw-client-cert")
            tls.clientKeyFile = try path(of: configuration.clientKey, prefix: "psw-client-key")
        } catch {
            for file in staged { removeFile(file) }
            throw error
        }
        tls.serverName = configuration.tlsServerName
        tls.insecureSkipVerify = configuration.insecureSkipTLSVerify
        let settings = tls
        let connector: ByteStreamConnector = { timeout in
            do {
                return TLSByteStream(try TLSClientConnection.connect(host: host, port: port, configuration: settings,
                                                                     timeoutSeconds: timeout))
            } catch {
                throw TransportError("TLS connection to \(host):\(port) failed: \(error)")
            }
        }
        return (connector, staged)
    }
}

/// A TLS client connection as the client's byte stream.
final class TLSByteStream: ByteStream {
    private let connection: TLSClientConnection

    init(_ connection: TLSClientConnection) { self.connection = connection }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        do { return try connection.read(into: buffer) } catch { throw TransportError("\(error)") }
    }

    func write(_ bytes: [UInt8]) throws {
        do { try connection.write(bytes) } catch { throw TransportError("\(error)") }
    }

    func setTimeout(seconds: Double) { connection.setTimeout(seconds: seconds) }
    func interrupt() { connection.interrupt() }
    func close() { connection.close() }
}
