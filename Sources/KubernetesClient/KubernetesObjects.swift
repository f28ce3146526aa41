import StrictJSON

/// A namespace as the webhook needs it: its name and labels.
public struct NamespaceObject: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    /// `metadata.resourceVersion`, when present.
    public var resourceVersion: String?

    public init(name: String, labels: [String: String], resourceVersion: String? = nil) {
        self.name = name
        self.labels = labels
        self.resourceVersion = resourceVersion
    }

    /// Reads a Namespace object; throws when `metadata.name` is missing or a label value is not a string.
    public init(json: JSONValue) throws(KubernetesAPIError) {
        guard let metadata = json["metadata"], metadata.objectValue != nil else {
            throw KubernetesAPIError.protocolError("namespace object has no metadata")
        }
        guard let name = metadata["name"]?.stringValue, !name.isEmpty else {
            throw KubernetesAPIError.protocolError("namespace object has no metadata.name")
        }
        var labels: [String: String] = [:]
        if let labelValue = metadata["labels"], !labelValue.isNull {
            guard let object = labelValue.objectValue else {
                throw KubernetesAPIError.protocolError("namespace \(name): metadata.labels is a \(labelValue.kindName)")
            }
            for member in object.members {
                guard let value = member.value.stringValue else {
                    throw KubernetesAPIError.protocolError("namespace \(name): label \(member.key) is a \(member.value.kindName)")
                }
                labels[member.key] = value
            }
        }
        self.init(name: name, labels: labels, resourceVersion: metadata["resourceVersion"]?.stringValue)
    }
}

/// All namespaces at one resourceVersion (the point a watch continues from).
public struct NamespaceList: Sendable, Equatable {
    public var items: [NamespaceObject]
    public var resourceVersion: String
}

/// One page of a pod list.
public struct PodListPage: Sendable, Equatable {
    /// The pods, as the API server sent them.
    public var items: [JSONValue]
    /// The token for the next page; nil on the last page.
    public var continueToken: String?
    /// `metadata.resourceVersion` of the list.
    public var resourceVersion: String?
}

/// One event of a watch stream.
public struct WatchEvent: Sendable, Equatable {
    /// The event `type`.
    public enum EventType: String, Sendable, Equatable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }

    public var type: EventType
    /// The object (a Status for ERROR events).
    public var object: JSONValue

    public init(type: EventType, object: JSONValue) {
        self.type = type
        self.object = object
    }

    /// Decodes one line of a watch stream; throws `InvalidWatchEvent` for anything malformed.
    public init(line: [UInt8]) throws(KubernetesAPIError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(line)
        } catch {
            throw KubernetesAPIError(statusCode: nil, reason: "InvalidWatchEvent", message: "watch event is not JSON: \(error)")
        }
        guard let typeText = value["type"]?.stringValue else {
            throw KubernetesAPIError(statusCode: nil, reason: "InvalidWatchEvent", message: "watch event has no type")
        }
        guard let type = EventType(rawValue: typeText) else {
            throw KubernetesAPIError(statusCode: nil, reason: "InvalidWatchEvent", message: "unknown watch event type \(typeText.prefix(40))")
        }
        guard let object = value["object"], object.objectValue != nil else {
            throw KubernetesAPIError(statusCode: nil, reason: "InvalidWatchEvent", message: "\(typeText) watch event has no object")
        }
        self.init(type: type, object: object)
    }
}
