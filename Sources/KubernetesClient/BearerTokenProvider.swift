import TLS

/// Supplies the bearer token: fixed, or read from a file and re-read when the cached copy is older than the
/// refresh interval or after the server answered 401 (service-account tokens rotate on disk).
final class BearerTokenProvider: Sendable {
    private struct Cached { var token: String?; var readAt: Double }

    private let source: KubernetesClientConfiguration.BearerTokenSource
    private let refreshSeconds: Double
    private let cache = Locked(Cached(token: nil, readAt: -Double.infinity))

    init(source: KubernetesClientConfiguration.BearerTokenSource, refreshSeconds: Double) {
        self.source = source
        self.refreshSeconds = refreshSeconds
    }

    /// True when a reload could yield a different token (only file tokens rotate).
    var canReload: Bool { if case .file = source { return true }; return false }

    /// The current token, nil for none; `forceReload` re-reads the file now.
    func token(forceReload: Bool = false) -> String? {
        switch source {
        case .none: return nil
        case .fixed(let token): return token
        case .file(let path, let fallback):
            let now = monotonicSeconds()
            let cached = cache.withLock { $0 }
            if !forceReload, cached.token != nil, now - cached.readAt < refreshSeconds { return cached.token }
            // Read outside the lock; a concurrent reader may read too, which is harmless.
            if let bytes = try? FileAccess.read(path: path, maxBytes: 64 * 1024) {
                let token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
                if !token.isEmpty {
                    cache.withLock { $0 = Cached(token: token, readAt: now) }
                    return token
                }
            }
            // Unreadable now (mid-rotation): keep the last good token, else the kubeconfig's `token`.
            return cached.token ?? fallback
        }
    }
}
