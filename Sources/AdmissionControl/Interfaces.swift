import StrictJSON

/// Where the controller reads namespace labels (a cache kept by list+watch, a live GET on a miss).
public protocol NamespaceLookup: Sendable {
    /// The labels of the namespace `name`; nil when the namespace does not exist (PSA then fails the request as
    /// it does when the lookup fails). Throws when the lookup fails or `deadline` passes.
    func labels(ofNamespace name: String, deadline: ContinuousClock.Instant) throws -> [String: String]?
    /// What the lookup knows without waiting (a cache hit), for answering on a thread that must not block;
    /// `.unknown` sends the caller to `labels(ofNamespace:deadline:)`. The default knows nothing.
    func labelsWithoutWaiting(ofNamespace name: String) -> NamespaceLabelsNow
}

/// A namespace lookup's answer when it may not wait.
public enum NamespaceLabelsNow: Sendable, Equatable {
    case labels([String: String])
    /// The namespace does not exist.
    case missing
    /// Only a lookup that may wait can tell.
    case unknown
}

extension NamespaceLookup {
    public func labelsWithoutWaiting(ofNamespace name: String) -> NamespaceLabelsNow { .unknown }
}

/// Every namespace exists and has no labels: the configuration's defaults apply everywhere.
public struct DefaultsOnlyNamespaces: NamespaceLookup {
    public init() {}
    public func labels(ofNamespace name: String, deadline: ContinuousClock.Instant) throws -> [String: String]? { [:] }
    public func labelsWithoutWaiting(ofNamespace name: String) -> NamespaceLabelsNow { .labels([:]) }
}

/// Lists the pods of a namespace, for the warnings when a namespace's enforce level tightens.
public protocol PodLister: Sendable {
    /// Pod objects (JSON, as the API returns them) in `namespace`. `limit` is the most the controller evaluates
    /// (PSA's 3,000); a lister may return more, and the controller then reports how many it left unchecked.
    /// Throws when listing fails or `deadline` passes.
    func pods(inNamespace namespace: String, limit: Int, deadline: ContinuousClock.Instant) throws -> [JSONValue]
}

/// A lister that finds no pods.
public struct NoPods: PodLister {
    public init() {}
    public func pods(inNamespace namespace: String, limit: Int, deadline: ContinuousClock.Instant) throws -> [JSONValue] { [] }
}

/// The error a `NamespaceLookup` returning nil stands for: Kubernetes' NotFound message.
struct NamespaceNotFound: Error, CustomStringConvertible {
    var name: String
    var description: String { "namespaces \(goQuoted(name)) not found" }
}
