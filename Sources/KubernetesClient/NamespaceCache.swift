import TLS

/// Namespace labels kept current by list + watch on a background thread, with a live GET on a miss.
///
/// The loop: list (all pages) → watch from the list's resourceVersion → when the watch ends, watch again from
/// the last resourceVersion seen (immediately after a clean end, with capped, jittered backoff after an error)
/// → on 410 Gone (answer or ERROR event) or a malformed event, list again.
public final class NamespaceCache: Sendable {
    /// Tuning of the background loop.
    public struct Options: Sendable {
        /// First backoff delay after an error.
        public var initialBackoffSeconds: Double = 0.2
        /// Largest backoff delay.
        public var maxBackoffSeconds: Double = 30
        /// Server-side watch duration, picked at random in this range for each watch (as client-go does).
        public var watchTimeoutSeconds: ClosedRange<Int> = 300...600
        public init() {}
    }

    private struct State {
        var labels: [String: [String: String]] = [:]
        var synced = false
        var resourceVersion: String?
    }

    private let client: KubernetesClient
    private let log: @Sendable (String) -> Void
    private let options: Options
    private let state = Locked(State())
    private let running = Locked(false)
    private let cancellation = Locked<WatchCancellation?>(nil)

    /// A cache over `client`'s namespaces; `log` receives one line per notable event (errors, relists).
    public init(client: KubernetesClient, options: Options = Options(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.client = client
        self.options = options
        self.log = log
    }

    /// True once the first list has been loaded (what `/readyz` waits for).
    public var isSynced: Bool { state.withLock { $0.synced } }

    /// The resourceVersion the cache is current to (the last list or event), nil before the first list.
    public var resourceVersion: String? { state.withLock { $0.resourceVersion } }

    /// The labels of `name` if cached, without a live GET (diagnostics and tests).
    public func cachedLabels(_ name: String) -> [String: String]? {
        state.withLock { $0.labels[name] }
    }

    /// The number of namespaces cached.
    public var count: Int { state.withLock { $0.labels.count } }

    /// Starts the background list/watch thread (once; later calls do nothing until `stop()`).
    public func start() {
        let watchCancellation = WatchCancellation()
        let started = running.withLock { running -> Bool in
            if running { return false }
            running = true
            return true
        }
        guard started else { return }
        cancellation.withLock { $0 = watchCancellation }
        startDetachedThread { [self] in run(watchCancellation) }
    }

    /// Stops the background thread: interrupts the watch in progress; the thread exits shortly after.
    public func stop() {
        let current = cancellation.withLock { value in defer { value = nil }; return value }
        current?.cancel()
        running.withLock { $0 = false }
    }

    /// The labels of namespace `name`: from the cache, else by a live GET (a namespace created moments ago),
    /// which is then cached. Throws a 404 `KubernetesAPIError` when it does not exist, or the transport error
    /// when the API server cannot be reached or `deadline` passes.
    public func labels(forNamespace name: String, deadline: ContinuousClock.Instant? = nil) throws(KubernetesAPIError) -> [String: String] {
        if let labels = state.withLock({ $0.labels[name] }) { return labels }
        let namespace = try client.getNamespace(name, deadline: deadline)
        state.withLock { state in
            // The watch may have delivered it meanwhile; its copy is at least as new.
            if state.labels[namespace.name] == nil { state.labels[namespace.name] = namespace.labels }
        }
        return namespace.labels
    }

    // MARK: The loop

    private enum WatchOutcome { case ended, relist }

    private func run(_ watchCancellation: WatchCancellation) {
        var backoff = options.initialBackoffSeconds
        var needsList = true
        while !watchCancellation.isCancelled {
            let listing = needsList
            var watchStarted: Double?
            do {
                if needsList {
                    let list = try client.listNamespaces()
                    var labels: [String: [String: String]] = [:]
                    for namespace in list.items { labels[namespace.name] = namespace.labels }
                    state.withLock { state in
                        state.labels = labels
                        state.resourceVersion = list.resourceVersion
                        state.synced = true
                    }
                    log("namespace cache: listed \(list.items.count) namespaces at resourceVersion \(list.resourceVersion)")
                    needsList = false
                }
                let started = monotonicSeconds()
                watchStarted = started
                let outcome = try watchOnce(watchCancellation)
                if watchCancellation.isCancelled { break }
                switch outcome {
                case .ended where monotonicSeconds() - started < 1:
                    // A watch the server ends at once: do not spin; back off as after an error.
                    log("namespace cache: watch ended immediately; retrying in \(Int(backoff * 1000)) ms")
                case .ended:
                    backoff = options.initialBackoffSeconds
                    continue
                case .relist:
                    needsList = true
                    continue
                }
            } catch let error as KubernetesAPIError {
                if watchCancellation.isCancelled { break }
                if error.isGone && !listing {
                    log("namespace cache: resourceVersion too old (\(error.message)); listing again")
                    needsList = true
                    continue
                }
                if error.reason == "InvalidWatchEvent" || error.reason == "InvalidResponse" {
                    // We cannot tell what we missed: start over from a list.
                    needsList = true
                }
                log("namespace cache: \(error); retrying in \(Int(backoff * 1000)) ms")
            } catch {
                if watchCancellation.isCancelled { break }
                log("namespace cache: \(error); retrying in \(Int(backoff * 1000)) ms")
            }
            if let watchStarted, monotonicSeconds() - watchStarted > 30 {
                // A watch that ran a while and then dropped is not a failing server: resume promptly.
                backoff = options.initialBackoffSeconds
            }
            // Full jitter in [backoff/2, backoff], then double up to the cap.
            let delay = backoff / 2 + Double.random(in: 0...(backoff / 2))
            if !sleep(seconds: delay, unless: { watchCancellation.isCancelled }) { break }
            backoff = min(backoff * 2, options.maxBackoffSeconds)
        }
    }

    /// One watch from the current resourceVersion; `.relist` when an ERROR event says the version is gone.
    private func watchOnce(_ watchCancellation: WatchCancellation) throws -> WatchOutcome {
        guard let from = state.withLock({ $0.resourceVersion }) else { return .relist }
        var outcome = WatchOutcome.ended
        let timeout = Int.random(in: options.watchTimeoutSeconds)
        try client.watchNamespaces(resourceVersion: from, timeoutSeconds: timeout, cancellation: watchCancellation) { event in
            switch event.type {
            case .added, .modified:
                let namespace = try NamespaceObject(json: event.object)
                state.withLock { state in
                    state.labels[namespace.name] = namespace.labels
                    if let version = namespace.resourceVersion { state.resourceVersion = version }
                }
            case .deleted:
                let namespace = try NamespaceObject(json: event.object)
                state.withLock { state in
                    state.labels[namespace.name] = nil
                    if let version = namespace.resourceVersion { state.resourceVersion = version }
                }
            case .bookmark:
                if let version = event.object["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty {
                    state.withLock { $0.resourceVersion = version }
                }
            case .error:
                let error = KubernetesAPIError.fromStatus(event.object, fallbackCode: nil)
                if error.isGone || error.reason == "Expired" || error.reason == "Gone" {
                    log("namespace cache: watch expired (\(error.message)); listing again")
                    outcome = .relist
                    return false
                }
                throw error
            }
            return true
        }
        return outcome
    }
}
