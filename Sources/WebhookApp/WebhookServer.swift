import AdmissionControl
import Glibc
import Synchronization
import HTTPServer
import KubernetesClient
import Manifests
import StrictJSON
import TLS

/// Why the webhook could not start: a bad flag value, configuration file, certificate or API config.
public struct WebhookStartError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The `serve` command's wiring: configuration, cluster access, admission, TLS and the HTTP server.
public final class WebhookServer: Sendable {
    public let options: ServeOptions
    public let metrics = WebhookMetrics()
    private let server: HTTPServer
    private let cache: NamespaceCache?
    private let log: RequestLog
    private let stopped = Mutex(false)

    /// Builds everything `options` asks for; nothing listens until `start()`.
    public init(options: ServeOptions, log: RequestLog = RequestLog()) throws(WebhookStartError) {
        self.options = options
        self.log = log

        let configuration = try Self.loadConfiguration(options.configFile)

        var cache: NamespaceCache?
        var namespaces: any NamespaceLookup = DefaultsOnlyNamespaces()
        var pods: any PodLister = NoPods()
        var source = "configuration defaults only: no in-cluster service account and no --kubeconfig, so namespace labels are not read"
        if let clientConfiguration = try Self.clusterConfiguration(kubeconfig: options.kubeconfig) {
            var adjusted = clientConfiguration
            adjusted.requestTimeoutSeconds = min(adjusted.requestTimeoutSeconds, 10)
            let client: KubernetesClient
            do {
                client = try KubernetesClient(configuration: adjusted)
            } catch {
                throw WebhookStartError("Kubernetes API client: \(error)")
            }
            let namespaceCache = NamespaceCache(client: client) { line in log.write([("msg", .string(line))]) }
            cache = namespaceCache
            namespaces = ClusterNamespaces(cache: namespaceCache)
            pods = ClusterPods(client: client)
            source = "namespace labels from the Kubernetes API at \(adjusted.scheme.rawValue)://\(adjusted.host):\(adjusted.port)"
        }
        self.cache = cache
        let readinessCache = cache

        guard let minimumVersion = TLSProtocolVersion(goName: options.tlsMinVersion) else {
            throw WebhookStartError("--tls-min-version: \(options.tlsMinVersion.debugDescription) is not VersionTLS12 or VersionTLS13")
        }
        let tls: TLSServerContext
        do {
            tls = try TLSServerContext(configuration: TLSServerConfiguration(
                certificateFile: options.tlsCertFile, privateKeyFile: options.tlsPrivateKeyFile,
                clientCAFile: options.clientCAFile, minimumVersion: minimumVersion, cipherSuites: options.tlsCipherSuites))
        } catch {
            throw WebhookStartError("TLS: \(error)")
        }

        let admission = AdmissionController(configuration: configuration, namespaces: namespaces, pods: pods)
        let handler = WebhookHandler(admission: admission, metrics: metrics, log: options.logRequests ? log : nil,
                                     isReady: { readinessCache?.isSynced ?? true })
        var serverConfiguration = HTTPServerConfiguration(bindAddress: options.bindAddress, port: options.securePort)
        serverConfiguration.maxConnections = options.maxConnections
        if let eventLoops = options.eventLoops { serverConfiguration.eventLoopCount = eventLoops }
        if let stackBytes = options.threadStackBytes { serverConfiguration.threadStackBytes = stackBytes }
        for text in options.allowedSourceCIDRs {
            guard let network = CIDR(parsing: text) else {
                throw WebhookStartError("--allowed-source-cidrs: \(text.debugDescription) is not an IPv4 or IPv6 CIDR (such as 10.0.0.0/8)")
            }
            serverConfiguration.allowedSources.append(network)
        }
        // Connection-level lines come from the event loops, which must not wait on stdout: buffered.
        serverConfiguration.log = { line in log.writeBuffered([("msg", .string(line))]) }
        server = HTTPServer(configuration: serverConfiguration, tls: tls, handler: handler)

        log.write([
            ("msg", .string("starting pod-security-webhook")),
            ("policySource", .string(source)),
            ("defaults", .string(configuration.defaults.description)),
            ("bindAddress", .string(options.bindAddress)),
            ("port", .number(JSONNumber(options.securePort))),
            ("mTLS", .bool(options.clientCAFile != nil)),
            ("allowedSourceCIDRs", .array(options.allowedSourceCIDRs.map { .string($0) })),
            // Without --event-loops, derived from the processors the pod may use: its CPU limit shows here.
            ("eventLoops", .number(JSONNumber(serverConfiguration.eventLoopCount))),
        ])
    }

    /// Starts listening (and the namespace cache); returns the bound port.
    public func start() throws(WebhookStartError) -> Int {
        let port: Int
        do {
            port = try server.start()
        } catch {
            throw WebhookStartError("cannot listen on \(options.bindAddress):\(options.securePort): \(error)")
        }
        cache?.start()
        log.write([("msg", .string("serving")), ("port", .number(JSONNumber(port)))])
        return port
    }

    /// Stops accepting, lets in-flight requests finish (up to the grace period), stops the cache.
    public func shutdown() {
        guard stopped.withLock({ stopped in defer { stopped = true }; return !stopped }) else { return }
        log.write([("msg", .string("shutting down")), ("gracePeriodSeconds", .number(JSONNumber(text: String(options.shutdownGracePeriodSeconds))))])
        server.shutdown(drainSeconds: options.shutdownGracePeriodSeconds)
        server.waitUntilStopped()
        cache?.stop()
        log.write([("msg", .string("stopped"))])
    }

    /// Runs until SIGTERM or SIGINT; returns the process exit status (0 after a clean drain).
    public static func run(_ options: ServeOptions) -> Int32 {
        // A peer closing its socket must never kill the process; the signals that stop it are taken by
        // sigwait on this thread, so they are blocked before any other thread starts (threads inherit it).
        signal(SIGPIPE, SIG_IGN)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGTERM)
        sigaddset(&stopSignals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

        let log = RequestLog()
        let webhook: WebhookServer
        do {
            webhook = try WebhookServer(options: options, log: log)
            _ = try webhook.start()
        } catch {
            log.write([("msg", .string("cannot start")), ("error", .string(error.description))])
            Self.writeStandardError("pod-security-webhook: \(error.description)\n")
            return 1
        }
        var received: Int32 = 0
        sigwait(&stopSignals, &received)
        log.write([("msg", .string("received signal \(received == SIGTERM ? "SIGTERM" : "SIGINT")"))])
        webhook.shutdown()
        return 0
    }

    // MARK: Configuration

    /// The PodSecurityConfiguration file (JSON or YAML), or PSA's default (privileged:latest) without one.
    static func loadConfiguration(_ path: String?) throws(WebhookStartError) -> AdmissionConfiguration {
        guard let path else { return .standard }
        let bytes = try readFile(path, what: "--config")
        let objects: [ManifestObject]
        do {
            objects = try ManifestReader.objects(in: bytes, sourceName: path)
        } catch {
            throw WebhookStartError("--config: \(error)")
        }
        guard objects.count == 1, let object = objects.first else {
            throw WebhookStartError("--config \(path): expected one PodSecurityConfiguration document, found \(objects.count)")
        }
        do {
            return try AdmissionConfiguration(decoding: object.value)
        } catch {
            throw WebhookStartError("--config \(path): \(error)")
        }
    }

    /// `--kubeconfig`'s cluster, else the in-cluster service account, else nil (defaults only).
    static func clusterConfiguration(kubeconfig: String?) throws(WebhookStartError) -> KubernetesClientConfiguration? {
        if let kubeconfig {
            let bytes = try readFile(kubeconfig, what: "--kubeconfig")
            do {
                let documents = try ManifestReader.documents(in: bytes, sourceName: kubeconfig)
                guard let document = documents.first?.value else {
                    throw WebhookStartError("--kubeconfig \(kubeconfig): the file is empty")
                }
                let directory = kubeconfig.contains("/") ? String(kubeconfig[..<kubeconfig.lastIndex(of: "/")!]) : "."
                return try KubernetesClientConfiguration.kubeconfig(document, directory: directory.isEmpty ? "/" : directory)
            } catch let error as WebhookStartError {
                throw error
            } catch {
                throw WebhookStartError("--kubeconfig \(kubeconfig): \(error)")
            }
        }
        do {
            return try InClusterConfig.detect()
        } catch {
            throw WebhookStartError("in-cluster configuration: \(error)")
        }
    }

    static func readFile(_ path: String, what: String) throws(WebhookStartError) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw WebhookStartError("\(what) \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return bytes }
            if count < 0 {
                if errno == EINTR { continue }
                throw WebhookStartError("\(what) \(path): \(String(cString: strerror(errno)))")
            }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > 16 << 20 { throw WebhookStartError("\(what) \(path): larger than 16 MiB") }
        }
    }

    static func writeStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}
