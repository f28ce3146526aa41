import StrictJSON

// API SKELETON: the engine work replaces the bodies here (the full Pod model and its decoding).

/// A field of the wrong JSON type, or an otherwise undecodable pod: names the field path.
public struct PodDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The field path, e.g. `spec.containers[0].securityContext.privileged`.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// The pod metadata the checks and admission read.
public struct PodMetadata: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var annotations: [String: String]

    public init(name: String = "", namespace: String = "", annotations: [String: String] = [:]) {
        self.name = name
        self.namespace = namespace
        self.annotations = annotations
    }
}

/// A pod as the checks see it: metadata and spec, decoded from JSON.
public struct Pod: Sendable {
    public var metadata: PodMetadata

    /// Decodes a Pod object (`{"metadata": ..., "spec": ...}`).
    public init(decoding object: JSONValue) throws(PodDecodeError) {
        try self.init(metadata: object["metadata"], spec: object["spec"], path: "")
    }

    /// Decodes a pod from its metadata and spec, e.g. a workload's pod template. `path` prefixes field paths
    /// in errors (`spec.template` for a Deployment; empty for a Pod).
    public init(metadata: JSONValue?, spec: JSONValue?, path: String) throws(PodDecodeError) {
        self.metadata = PodMetadata()
    }
}
