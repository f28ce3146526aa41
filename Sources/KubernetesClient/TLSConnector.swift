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
                return try TLSClientConnection.connect(host: host, port: port, configuration: settings, timeoutSeconds: timeout)
            } catch {
                throw TransportError("TLS connection to \(host):\(port) failed: \(error)")
            }
        }
        return (connector, staged)
    }
}

/// A TLS client connection already has the byte stream's shape (read, write, timeouts, interrupt, close).
extension TLSClientConnection: ByteStream {}
