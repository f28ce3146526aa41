/// What `serve` was asked to do: flags named as kube-apiserver names them.
public struct ServeOptions: Sendable, Equatable {
    public var bindAddress = "0.0.0.0"
    public var securePort = 8443
    public var tlsCertFile = ""
    public var tlsPrivateKeyFile = ""
    /// `VersionTLS12` or `VersionTLS13`.
    public var tlsMinVersion = "VersionTLS12"
    /// IANA cipher suite names; empty means OpenSSL's secure defaults.
    public var tlsCipherSuites: [String] = []
    /// When set, only clients presenting a certificate signed by this CA get in.
    public var clientCAFile: String?
    /// A PodSecurityConfiguration (JSON or YAML); without it, privileged:latest everywhere (PSA's default).
    public var configFile: String?
    /// API access for namespace labels; without it (and outside a cluster) the configuration's defaults apply alone.
    public var kubeconfig: String?
    /// Connections from other sources are closed before TLS.
    public var allowedSourceCIDRs: [String] = []
    /// Most concurrent connections; more are refused.
    public var maxConnections = 1_024
    /// Event-loop threads; nil for the server's default (one per processor but one, from one to four).
    public var eventLoops: Int?
    /// How long SIGTERM waits for in-flight requests.
    public var shutdownGracePeriodSeconds = 25.0
    /// One JSON line per admission request on stdout.
    public var logRequests = true
    /// Stack size of the serving threads; nil for the server's default (1 MiB). Not a flag: tests built
    /// without optimization, whose frames are over twice as large, set it.
    package var threadStackBytes: Int?

    public init() {}
}
