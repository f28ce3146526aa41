import AdmissionControl
import KubernetesClient
import StrictJSON

/// Namespace labels from the API server: the list+watch cache, and a live GET for a namespace the cache has
/// not seen yet (one created a moment ago). A namespace that does not exist is `nil`, as PSA treats it.
struct ClusterNamespaces: NamespaceLookup {
    let cache: NamespaceCache

    func labels(ofNamespace name: String, deadline: ContinuousClock.Instant) throws -> [String: String]? {
        do {
            return try cache.labels(forNamespace: name, deadline: deadline)
        } catch where error.statusCode == 404 {
            return nil
        }
    }

    /// A namespace the cache has not seen may have been created a moment ago: only a live GET can tell.
    func labelsWithoutWaiting(ofNamespace name: String) -> NamespaceLabelsNow {
        cache.cachedLabels(name).map(NamespaceLabelsNow.labels) ?? .unknown
    }
}

/// The pods of a namespace from the API server, page by page, until `limit` or the deadline.
struct ClusterPods: PodLister {
    let client: KubernetesClient

    func pods(inNamespace namespace: String, limit: Int, deadline: ContinuousClock.Instant) throws -> [JSONValue] {
        var pods: [JSONValue] = []
        var continueToken: String?
        repeat {
            let page = try client.listPods(namespace: namespace, limit: min(500, max(1, limit - pods.count)),
                                           continueToken: continueToken, deadline: deadline)
            pods.append(contentsOf: page.items)
            continueToken = page.continueToken
        } while continueToken != nil && pods.count < limit
        return Array(pods.prefix(limit))
    }
}
