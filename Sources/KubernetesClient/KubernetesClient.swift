import StrictJSON
import TLS

/// A small Kubernetes API client: GET and LIST over keep-alive connections (a few kept idle for reuse), WATCH
/// on a dedicated connection, bearer token and client certificate authentication, bounded sizes and reads.
public final class KubernetesClient: Sendable {
    /// The configuration in use.
    public let configuration: KubernetesClientConfiguration
    private let connector: ByteStreamConnector
    private let tokens: BearerTokenProvider
    /// Idle keep-alive connections; the lock guards only the array, never I/O.
    private let idle = Locked<[PooledConnection]>([])
    /// Private temporary files holding PEM data for the TLS layer (which takes paths); removed on deinit.
    private let temporaryFiles: [String]

    /// A client for `configuration`, connecting through the TLS layer (or plain TCP for `http://`).
    /// Throws when PEM data cannot be staged for the TLS layer.
    public convenience init(configuration: KubernetesClientConfiguration) throws {
        let (connector, files) = try makeDefaultConnector(configuration)
        self.init(configuration: configuration, connector: connector, temporaryFiles: files)
    }

    /// A client that opens its connections with `connector` (tests, or another transport).
    public convenience init(configuration: KubernetesClientConfiguration, connector: @escaping ByteStreamConnector) {
        self.init(configuration: configuration, connector: connector, temporaryFiles: [])
    }

    private init(configuration: KubernetesClientConfiguration, connector: @escaping ByteStreamConnector, temporaryFiles: [String]) {
        self.configuration = configuration
        self.connector = connector
        self.tokens = BearerTokenProvider(source: configuration.bearerToken, refreshSeconds: configuration.tokenRefreshSeconds)
        self.temporaryFiles = temporaryFiles
    }

    deinit {
        for connection in idle.withLock({ $0 }) { connection.stream.close() }
        for path in temporaryFiles { removeFile(path) }
    }

    // MARK: Namespaces

    /// The namespace `name`; throws a 404 `KubernetesAPIError` when it does not exist, a timeout when
    /// `deadline` (if any) passes first.
    public func getNamespace(_ name: String, deadline: ContinuousClock.Instant? = nil) throws(KubernetesAPIError) -> NamespaceObject {
        let value = try getJSON(path: "/api/v1/namespaces/\(percentEncode(name))", query: [],
                                deadline: try deadline.map(monotonicDeadline), maxBytes: 4 << 20)
        return try NamespaceObject(json: value)
    }

    /// All namespaces (fetched in pages of `pageSize`) and the list's resourceVersion.
    public func listNamespaces(pageSize: Int = 500) throws(KubernetesAPIError) -> NamespaceList {
        var items: [NamespaceObject] = []
        var continueToken: String?
        var resourceVersion = ""
        repeat {
            var query = [("limit", String(pageSize))]
            if let continueToken { query.append(("continue", continueToken)) }
            let value = try getJSON(path: "/api/v1/namespaces", query: query, deadline: nil,
                                    maxBytes: configuration.maxResponseBytes)
            guard let array = value["items"]?.arrayValue ?? (value["items"]?.isNull == true ? [] : nil) else {
                throw KubernetesAPIError.protocolError("namespace list has no items array")
            }
            for item in array { items.append(try NamespaceObject(json: item)) }
            guard let version = value["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty else {
                throw KubernetesAPIError.protocolError("namespace list has no metadata.resourceVersion")
            }
            resourceVersion = version
            continueToken = value["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        } while continueToken != nil
        return NamespaceList(items: items, resourceVersion: resourceVersion)
    }

    /// Watches namespaces from `resourceVersion` on a dedicated connection, with bookmarks, calling `handle`
    /// for each event until it returns false, the server ends the watch (after about `timeoutSeconds`), or
    /// `cancellation` is cancelled. A non-2xx answer (e.g. 410 Gone) throws; a malformed event throws
    /// `InvalidWatchEvent`. ERROR events are passed to `handle`.
    public func watchNamespaces(resourceVersion: String, timeoutSeconds: Int, cancellation: WatchCancellation? = nil,
                                handle: (WatchEvent) throws -> Bool) throws {
        let query = [("watch", "1"), ("resourceVersion", resourceVersion), ("allowWatchBookmarks", "true"),
                     ("timeoutSeconds", String(timeoutSeconds))]
        let target = requestTarget(path: "/api/v1/namespaces", query: query)
        var retriedUnauthorized = false
        while true {
            let stream: any ByteStream
            do { stream = try connector(configuration.connectTimeoutSeconds) } catch { throw KubernetesAPIError.transport(error) }
            defer { stream.close() }
            guard cancellation?.register(stream) ?? true else { return }
            defer { cancellation?.unregister() }
            let reader = HTTPResponseReader(stream: stream)
            let head: HTTPResponseHead
            do {
                // The server may stay silent between events for as long as the watch lasts.
                stream.setTimeout(seconds: Double(timeoutSeconds) + configuration.requestTimeoutSeconds)
                try stream.write(requestBytes(target: target, token: tokens.token(forceReload: retriedUnauthorized)))
                head = try reader.readHead()
            } catch {
                if cancellation?.isCancelled == true { return }
                throw KubernetesAPIError.transport(error)
            }
            if head.statusCode == 401 && tokens.canReload && !retriedUnauthorized {
                retriedUnauthorized = true
                continue
            }
            if !(200..<300).contains(head.statusCode) {
                let body = (try? reader.readBody(maxBytes: 1 << 20)) ?? []
                throw KubernetesAPIError.fromResponse(statusCode: head.statusCode, reasonPhrase: head.reasonPhrase, body: body)
            }
            do {
                try reader.forEachLine(maxLineBytes: configuration.maxWatchEventBytes) { line in
                    try handle(try WatchEvent(line: line))
                }
            } catch {
                if cancellation?.isCancelled == true { return }
                throw KubernetesAPIError.transport(error)
            }
            return
        }
    }

    // MARK: Pods

    /// One page of the pods in `namespace` (at most `limit`, continuing from `continueToken`), read before
    /// `deadline` or failing with a timeout.
    public func listPods(namespace: String, limit: Int, continueToken: String?,
                         deadline: ContinuousClock.Instant) throws(KubernetesAPIError) -> PodListPage {
        let until = try monotonicDeadline(deadline)
        var query = [("limit", String(max(1, limit)))]
        if let continueToken, !continueToken.isEmpty { query.append(("continue", continueToken)) }
        let value = try getJSON(path: "/api/v1/namespaces/\(percentEncode(namespace))/pods", query: query,
                                deadline: until, maxBytes: configuration.maxResponseBytes)
        guard let items = value["items"]?.arrayValue ?? (value["items"]?.isNull == true ? [] : nil) else {
            throw KubernetesAPIError.protocolError("pod list has no items array")
        }
        let next = value["metadata"]?["continue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        return PodListPage(items: items, continueToken: next, resourceVersion: value["metadata"]?["resourceVersion"]?.stringValue)
    }

    // MARK: Requests

    /// GETs `path?query` and parses the JSON body; non-2xx answers become errors with the Status message.
    /// `deadline` on the transport's clock (monotonic seconds); a timeout error when it has already passed.
    private func monotonicDeadline(_ deadline: ContinuousClock.Instant) throws(KubernetesAPIError) -> Double {
        let remaining = ContinuousClock.now.duration(to: deadline)
        let seconds = Double(remaining.components.seconds) + Double(remaining.components.attoseconds) / 1e18
        if seconds <= 0 { throw KubernetesAPIError(statusCode: nil, reason: "Timeout", message: "deadline exceeded before the request") }
        return monotonicSeconds() + seconds
    }

    func getJSON(path: String, query: [(String, String)], deadline: Double?, maxBytes: Int) throws(KubernetesAPIError) -> JSONValue {
        let target = requestTarget(path: path, query: query)
        var retriedUnauthorized = false
        var retriedStale = false
        while true {
            let connection: PooledConnection
            let reused: Bool
            if let pooled = idle.withLock({ $0.popLast() }) {
                connection = pooled; reused = true
            } else {
                do {
                    let timeout = deadline.map { min(configuration.connectTimeoutSeconds, max(0.001, $0 - monotonicSeconds())) }
                        ?? configuration.connectTimeoutSeconds
                    connection = PooledConnection(stream: try connector(timeout))
                } catch {
                    throw KubernetesAPIError.transport(error)
                }
                reused = false
            }
            let reader = connection.reader
            reader.deadline = deadline
            reader.readTimeoutSeconds = configuration.requestTimeoutSeconds
            connection.stream.setTimeout(seconds: deadline.map { min(configuration.requestTimeoutSeconds, max(0.001, $0 - monotonicSeconds())) }
                                         ?? configuration.requestTimeoutSeconds)
            let head: HTTPResponseHead
            do {
                try connection.stream.write(requestBytes(target: target, token: tokens.token(forceReload: retriedUnauthorized)))
                head = try reader.readHead()
            } catch {
                connection.stream.close()
                // A kept-alive connection the server closed meanwhile: try once more on a fresh one (GET is idempotent).
                if reused && !retriedStale && !(error is KubernetesAPIError) {
                    retriedStale = true
                    continue
                }
                throw KubernetesAPIError.transport(error)
            }
            let body: [UInt8]
            do {
                body = try reader.readBody(maxBytes: (200..<300).contains(head.statusCode) ? maxBytes : 1 << 20)
            } catch {
                connection.stream.close()
                throw KubernetesAPIError.transport(error)
            }
            if head.keepAlive && !reader.hasBufferedBytes {
                release(connection)
            } else {
                connection.stream.close()
            }
            if head.statusCode == 401 && tokens.canReload && !retriedUnauthorized {
                retriedUnauthorized = true
                continue
            }
            guard (200..<300).contains(head.statusCode) else {
                throw KubernetesAPIError.fromResponse(statusCode: head.statusCode, reasonPhrase: head.reasonPhrase, body: body)
            }
            do {
                return try JSONParser.parse(body)
            } catch {
                throw KubernetesAPIError.protocolError("response to GET \(path) is not valid JSON: \(error)")
            }
        }
    }

    private func release(_ connection: PooledConnection) {
        connection.reader.deadline = nil
        let kept = idle.withLock { connections -> Bool in
            guard connections.count < configuration.maxIdleConnections else { return false }
            connections.append(connection)
            return true
        }
        if !kept { connection.stream.close() }
    }

    private func requestTarget(path: String, query: [(String, String)]) -> String {
        var target = configuration.basePath + path
        for (index, (name, value)) in query.enumerated() {
            target += (index == 0 ? "?" : "&") + percentEncode(name) + "=" + percentEncode(value)
        }
        return target
    }

    private func requestBytes(target: String, token: String?) -> [UInt8] {
        var text = "GET \(target) HTTP/1.1\r\nHost: \(configuration.hostHeader)\r\nUser-Agent: \(configuration.userAgent)\r\n"
        text += "Accept: application/json\r\n"
        if let token, !token.isEmpty, !token.contains("\r"), !token.contains("\n") {
            text += "Authorization: Bearer \(token)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}

/// A kept-alive connection and its reader (which may hold buffered bytes of the stream).
// @unchecked Sendable: a connection is used by one request at a time; it moves between threads only through
// the client's locked idle list.
final class PooledConnection: @unchecked Sendable {
    let stream: any ByteStream
    let reader: HTTPResponseReader

    init(stream: any ByteStream) {
        self.stream = stream
        self.reader = HTTPResponseReader(stream: stream)
    }
}

/// Stops a watch from another thread: `cancel()` marks it cancelled and interrupts its connection.
public final class WatchCancellation: Sendable {
    private struct State { var cancelled = false; var stream: StreamBox? }
    // @unchecked Sendable: the stream is only interrupted (a thread-safe shutdown of its socket) through it.
    private final class StreamBox: @unchecked Sendable { let stream: any ByteStream; init(_ stream: any ByteStream) { self.stream = stream } }
    private let state = Locked(State())

    public init() {}

    /// True once `cancel()` was called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Cancels the watch in progress, if any, and any later one.
    public func cancel() {
        let box = state.withLock { state -> StreamBox? in
            state.cancelled = true
            return state.stream
        }
        box?.stream.interrupt()
    }

    /// Records the watch's stream; false when already cancelled.
    func register(_ stream: any ByteStream) -> Bool {
        state.withLock { state in
            if state.cancelled { return false }
            state.stream = StreamBox(stream)
            return true
        }
    }

    func unregister() { state.withLock { $0.stream = nil } }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
func percentEncode(_ text: String) -> String {
    var output = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            output.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".utf8)
            output += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
        }
    }
    return output
}
