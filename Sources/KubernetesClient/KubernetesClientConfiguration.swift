#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrictJSON

/// Where and how to reach the Kubernetes API server: address, trust, client identity, limits.
public struct KubernetesClientConfiguration: Sendable, Equatable {
    /// `https` (the norm) or `http` (kubectl proxy on loopback).
    public enum Scheme: String, Sendable, Equatable { case https, http }

    /// PEM material: a file path (re-read on each new connection) or the bytes themselves.
    public enum PEMSource: Sendable, Equatable {
        case file(String)
        case data([UInt8])
    }

    /// Where the bearer token comes from.
    public enum BearerTokenSource: Sendable, Equatable {
        /// No Authorization header.
        case none
        /// A fixed token.
        case fixed(String)
        /// A file re-read when the cached copy is older than `tokenRefreshSeconds` or after a 401
        /// (service-account tokens rotate); `fallback` is used while the file cannot be read.
        case file(path: String, fallback: String?)
    }

    public var scheme: Scheme = .https
    /// Host name or IP address (IPv6 without brackets).
    public var host: String
    public var port: Int
    /// A path prefix of the server URL (`https://host/k8s/clusters/c-1`), without a trailing slash; usually empty.
    public var basePath: String = ""
    /// The name the server certificate must carry, when it is not `host`.
    public var tlsServerName: String?
    /// CA bundle that signs the server certificate; nil for the system trust store.
    public var certificateAuthority: PEMSource?
    /// Skip server certificate verification: set only from an explicit, allowed kubeconfig setting.
    public var insecureSkipTLSVerify: Bool = false
    /// Client certificate for mTLS authentication (with `clientKey`).
    public var clientCertificate: PEMSource?
    /// Client private key for mTLS authentication (with `clientCertificate`).
    public var clientKey: PEMSource?
    public var bearerToken: BearerTokenSource = .none
    /// The namespace the configuration points at (in-cluster: the pod's own namespace).
    public var namespace: String?

    /// Bounds connecting and the TLS handshake.
    public var connectTimeoutSeconds: Double = 10
    /// Bounds every read of an ordinary request (a request's total time is bounded by its deadline, if any).
    public var requestTimeoutSeconds: Double = 30
    /// How old a token read from a file may get before it is read again.
    public var tokenRefreshSeconds: Double = 60
    /// Largest response body accepted (lists).
    public var maxResponseBytes: Int = 64 << 20
    /// Largest single watch event accepted.
    public var maxWatchEventBytes: Int = 16 << 20
    /// Idle keep-alive connections kept for reuse.
    public var maxIdleConnections: Int = 4
    public var userAgent: String = "pod-security-webhook"

    /// A configuration for `host:port`; the rest from defaults.
    public init(scheme: Scheme = .https, host: String, port: Int, bearerToken: BearerTokenSource = .none,
                certificateAuthority: PEMSource? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.bearerToken = bearerToken
        self.certificateAuthority = certificateAuthority
    }

    /// The `Host` header value: the host (bracketed when IPv6) and the port unless it is the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        let defaultPort = scheme == .https ? 443 : 80
        return port == defaultPort ? name : "\(name):\(port)"
    }
}

// MARK: - In-cluster

/// The default service-account mount in a pod.
public let defaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

/// Detects the in-cluster configuration of a pod.
public enum InClusterConfig {
    /// The in-cluster configuration from this process's environment, nil when not running in a cluster
    /// (`KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT` unset); throws when in a cluster but the
    /// service-account files are missing.
    public static func detect(serviceAccountDirectory: String = defaultServiceAccountDirectory) throws -> KubernetesClientConfiguration? {
        var environment: [String: String] = [:]
        for name in ["KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        return try KubernetesClientConfiguration.inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
    }
}

extension KubernetesClientConfiguration {
    /// The configuration of a pod's service account, as client-go's `InClusterConfig`: nil when
    /// `KUBERNETES_SERVICE_HOST` or `KUBERNETES_SERVICE_PORT` is unset or empty; the token file (re-read as it
    /// rotates), `ca.crt` and `namespace` from `serviceAccountDirectory`.
    public static func inCluster(environment: [String: String],
                                 serviceAccountDirectory: String = defaultServiceAccountDirectory) throws -> KubernetesClientConfiguration? {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let portText = environment["KUBERNETES_SERVICE_PORT"], !portText.isEmpty else {
            return nil
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw KubernetesConfigurationError("KUBERNETES_SERVICE_PORT is not a port number: \(portText)")
        }
        let tokenPath = FileAccess.resolve("token", against: serviceAccountDirectory)
        let caPath = FileAccess.resolve("ca.crt", against: serviceAccountDirectory)
        // Fail now, with the path, rather than on the first request.
        let token = try FileAccess.read(path: tokenPath)
        if token.allSatisfy({ $0 == 10 || $0 == 13 || $0 == 32 }) {
            throw KubernetesConfigurationError("the service-account token file \(tokenPath) is empty")
        }
        guard FileAccess.isFile(caPath) else {
            throw KubernetesConfigurationError("the service-account CA file \(caPath) does not exist")
        }
        let bareHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        var configuration = KubernetesClientConfiguration(host: bareHost, port: port,
                                                          bearerToken: .file(path: tokenPath, fallback: nil),
                                                          certificateAuthority: .file(caPath))
        let namespacePath = FileAccess.resolve("namespace", against: serviceAccountDirectory)
        if let namespace = try? FileAccess.read(path: namespacePath, maxBytes: 1024) {
            let text = String(decoding: namespace, as: UTF8.self).trimmingWhitespace()
            configuration.namespace = text.isEmpty ? nil : text
        }
        return configuration
    }
}

// MARK: - kubeconfig

extension KubernetesClientConfiguration {
    /// The configuration a kubeconfig selects: `context` (or `current-context`) → its cluster (server URL,
    /// certificate-authority(-data), tls-server-name) and user (client-certificate(-data), client-key(-data),
    /// token, tokenFile). Relative paths resolve against `directory` (the kubeconfig's own directory).
    /// `insecure-skip-tls-verify: true` is refused unless `allowInsecureSkipTLSVerify`; exec and auth-provider
    /// plugins, basic auth, impersonation and proxies are refused with a clear error.
    public static func kubeconfig(_ value: JSONValue, directory: String, context: String? = nil,
                                  allowInsecureSkipTLSVerify: Bool = false) throws -> KubernetesClientConfiguration {
        guard value.objectValue != nil else {
            throw KubernetesConfigurationError("kubeconfig: the document is a \(value.kindName), not a mapping")
        }
        let contextName: String
        if let context, !context.isEmpty {
            contextName = context
        } else if let current = try optionalString(value, "current-context", in: "kubeconfig"), !current.isEmpty {
            contextName = current
        } else {
            throw KubernetesConfigurationError("kubeconfig: current-context is not set and no context was given")
        }
        let contextEntry = try namedEntry(value, list: "contexts", name: contextName, field: "context")
        let where_ = "kubeconfig context \"\(contextName)\""
        guard let clusterName = try optionalString(contextEntry, "cluster", in: where_), !clusterName.isEmpty else {
            throw KubernetesConfigurationError("\(where_): no cluster")
        }
        let cluster = try namedEntry(value, list: "clusters", name: clusterName, field: "cluster")
        let clusterWhere = "kubeconfig cluster \"\(clusterName)\""
        guard let server = try optionalString(cluster, "server", in: clusterWhere), !server.isEmpty else {
            throw KubernetesConfigurationError("\(clusterWhere): no server")
        }
        var configuration = try parseServerURL(server, where: clusterWhere)
        configuration.namespace = try optionalString(contextEntry, "namespace", in: where_)
        if cluster["proxy-url"] != nil {
            throw KubernetesConfigurationError("\(clusterWhere): proxy-url is not supported")
        }
        configuration.tlsServerName = try optionalString(cluster, "tls-server-name", in: clusterWhere)
        configuration.certificateAuthority = try pemSource(cluster, file: "certificate-authority", data: "certificate-authority-data",
                                                           directory: directory, where: clusterWhere)
        if let insecure = cluster["insecure-skip-tls-verify"] {
            guard let flag = insecure.boolValue else {
                throw KubernetesConfigurationError("\(clusterWhere): insecure-skip-tls-verify must be a boolean, not a \(insecure.kindName)")
            }
            if flag {
                guard allowInsecureSkipTLSVerify else {
                    throw KubernetesConfigurationError("\(clusterWhere): insecure-skip-tls-verify is set; refusing to talk to the API server without verifying its certificate (set a certificate-authority, or allow it explicitly)")
                }
                if configuration.certificateAuthority != nil {
                    throw KubernetesConfigurationError("\(clusterWhere): certificate-authority and insecure-skip-tls-verify cannot both be set")
                }
                configuration.insecureSkipTLSVerify = true
            }
        }

        if let userName = try optionalString(contextEntry, "user", in: where_), !userName.isEmpty {
            let user = try namedEntry(value, list: "users", name: userName, field: "user")
            let userWhere = "kubeconfig user \"\(userName)\""
            for unsupported in ["exec", "auth-provider"] where user[unsupported] != nil && user[unsupported]?.isNull == false {
                throw KubernetesConfigurationError("\(userWhere): \(unsupported) credential plugins are not supported; use a token, tokenFile or client certificate")
            }
            for unsupported in ["username", "password"] where user[unsupported] != nil {
                throw KubernetesConfigurationError("\(userWhere): basic authentication (\(unsupported)) is not supported")
            }
            for unsupported in ["as", "as-groups", "as-uid", "as-user-extra"] where user[unsupported] != nil {
                throw KubernetesConfigurationError("\(userWhere): impersonation (\(unsupported)) is not supported")
            }
            configuration.clientCertificate = try pemSource(user, file: "client-certificate", data: "client-certificate-data",
                                                            directory: directory, where: userWhere)
            configuration.clientKey = try pemSource(user, file: "client-key", data: "client-key-data",
                                                    directory: directory, where: userWhere)
            if (configuration.clientCertificate == nil) != (configuration.clientKey == nil) {
                throw KubernetesConfigurationError("\(userWhere): a client certificate needs a client key and a key needs a certificate")
            }
            let token = try optionalString(user, "token", in: userWhere).flatMap { $0.isEmpty ? nil : $0 }
            if let tokenFile = try optionalString(user, "tokenFile", in: userWhere), !tokenFile.isEmpty {
                // As client-go: the file, re-read periodically, takes precedence over `token`.
                let path = FileAccess.resolve(tokenFile, against: directory)
                guard FileAccess.isFile(path) else {
                    throw KubernetesConfigurationError("\(userWhere): tokenFile \(path) does not exist")
                }
                configuration.bearerToken = .file(path: path, fallback: token)
            } else if let token {
                configuration.bearerToken = .fixed(token)
            }
        }
        if configuration.scheme == .http && (configuration.clientCertificate != nil || configuration.bearerToken != .none) {
            throw KubernetesConfigurationError("\(clusterWhere): refusing to send credentials over plain http:// to \(server)")
        }
        return configuration
    }

    /// Splits `https://host[:port][/path]` (IPv6 hosts in brackets).
    static func parseServerURL(_ server: String, where context: String) throws -> KubernetesClientConfiguration {
        let scheme: Scheme
        var rest: Substring
        if server.hasPrefix("https://") {
            scheme = .https; rest = server.dropFirst(8)
        } else if server.hasPrefix("http://") {
            scheme = .http; rest = server.dropFirst(7)
        } else {
            throw KubernetesConfigurationError("\(context): server \(server) is not an https:// (or http://) URL")
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        if rest.contains("@") || rest.contains("?") || path.contains("?") || path.contains("#") {
            throw KubernetesConfigurationError("\(context): server \(server) must not carry user info, a query or a fragment")
        }
        while path.hasSuffix("/") { path.removeLast() }
        var host: String
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw KubernetesConfigurationError("\(context): server \(server) has an unclosed IPv6 bracket")
            }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw KubernetesConfigurationError("\(context): server \(server) is malformed") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        if host.isEmpty { throw KubernetesConfigurationError("\(context): server \(server) has no host") }
        var port = scheme == .https ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw KubernetesConfigurationError("\(context): server \(server) has an invalid port")
            }
            port = value
        }
        host = host.lowercased()
        var configuration = KubernetesClientConfiguration(scheme: scheme, host: host, port: port)
        configuration.basePath = path
        return configuration
    }

    private static func optionalString(_ object: JSONValue, _ key: String, in context: String) throws -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw KubernetesConfigurationError("\(context): \(key) must be a string, not a \(value.kindName)")
        }
        return text
    }

    /// The `field` object of the entry named `name` in the top-level list `list` (`contexts`, `clusters`, `users`).
    private static func namedEntry(_ root: JSONValue, list: String, name: String, field: String) throws -> JSONValue {
        guard let entries = root[list], !entries.isNull else {
            throw KubernetesConfigurationError("kubeconfig: no \(list) (looking for \(field) \"\(name)\")")
        }
        guard let array = entries.arrayValue else {
            throw KubernetesConfigurationError("kubeconfig: \(list) must be a list, not a \(entries.kindName)")
        }
        for entry in array where entry["name"]?.stringValue == name {
            guard let body = entry[field], body.objectValue != nil else {
                throw KubernetesConfigurationError("kubeconfig: \(field) \"\(name)\" has no \(field) mapping")
            }
            return body
        }
        throw KubernetesConfigurationError("kubeconfig: \(field) \"\(name)\" is not in \(list)")
    }

    /// A PEM source from `<file>` (a path, relative to `directory`) or `<data>` (base64); both set is an error.
    private static func pemSource(_ object: JSONValue, file: String, data: String, directory: String,
                                  where context: String) throws -> PEMSource? {
        let path = try optionalString(object, file, in: context).flatMap { $0.isEmpty ? nil : $0 }
        let encoded = try optionalString(object, data, in: context).flatMap { $0.isEmpty ? nil : $0 }
        switch (path, encoded) {
        case (nil, nil):
            return nil
        case (.some, .some):
            throw KubernetesConfigurationError("\(context): \(file) and \(data) are both set; set one")
        case (let path?, nil):
            let resolved = FileAccess.resolve(path, against: directory)
            guard FileAccess.isFile(resolved) else {
                throw KubernetesConfigurationError("\(context): \(file) \(resolved) does not exist")
            }
            return .file(resolved)
        case (nil, let encoded?):
            guard let bytes = Base64.decode(encoded), !bytes.isEmpty else {
                throw KubernetesConfigurationError("\(context): \(data) is not valid base64")
            }
            guard String(decoding: bytes.prefix(4096), as: UTF8.self).contains("-----BEGIN ") else {
                throw KubernetesConfigurationError("\(context): \(data) does not decode to PEM")
            }
            return .data(bytes)
        }
    }
}

extension String {
    /// The string without leading and trailing whitespace (spaces, tabs, CR, LF).
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
