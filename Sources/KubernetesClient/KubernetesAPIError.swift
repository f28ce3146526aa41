import StrictJSON

/// An error from the Kubernetes API: a non-2xx answer (with the Status object's code, reason and message),
/// or a failure to reach the server or to read its answer (`statusCode` nil).
public struct KubernetesAPIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status / Status `code` (404, 410, 403, ...); nil when no answer was received or it was unreadable.
    public let statusCode: Int?
    /// The Status `reason` (`NotFound`, `Expired`, `Forbidden`, ...), or a transport reason
    /// (`ConnectionFailed`, `InvalidResponse`, `InvalidWatchEvent`).
    public let reason: String
    /// The human-readable message (the Status `message` when the server sent one).
    public let message: String

    public init(statusCode: Int?, reason: String, message: String) {
        self.statusCode = statusCode
        self.reason = reason
        self.message = message
    }

    /// True for 404 Not Found.
    public var isNotFound: Bool { statusCode == 404 }
    /// True for 410 Gone (a resourceVersion too old to watch from: relist).
    public var isGone: Bool { statusCode == 410 }

    public var description: String {
        if let statusCode { return "Kubernetes API error \(statusCode) \(reason): \(message)" }
        return "Kubernetes API request failed (\(reason)): \(message)"
    }

    static func protocolError(_ message: String) -> KubernetesAPIError {
        KubernetesAPIError(statusCode: nil, reason: "InvalidResponse", message: message)
    }

    static func transport(_ error: any Error) -> KubernetesAPIError {
        if let error = error as? KubernetesAPIError { return error }
        return KubernetesAPIError(statusCode: nil, reason: "ConnectionFailed", message: String(describing: error))
    }

    /// The error for a non-2xx answer: the Status object's fields when the body is one, else the status line.
    static func fromResponse(statusCode: Int, reasonPhrase: String, body: [UInt8]) -> KubernetesAPIError {
        if let status = try? JSONParser.parse(body), status["kind"]?.stringValue == "Status" {
            return fromStatus(status, fallbackCode: statusCode)
        }
        let text = String(decoding: body.prefix(256), as: UTF8.self).trimmingSpaces()
        let reason = reasonPhrase.isEmpty ? "HTTP \(statusCode)" : reasonPhrase
        return KubernetesAPIError(statusCode: statusCode, reason: reason, message: text.isEmpty ? reason : text)
    }

    /// The error a Status object describes (a non-2xx body, or the object of a watch ERROR event).
    static func fromStatus(_ status: JSONValue, fallbackCode: Int?) -> KubernetesAPIError {
        let code = status["code"]?.numberValue?.int64.map(Int.init) ?? fallbackCode
        let reason = status["reason"]?.stringValue ?? "Unknown"
        let message = status["message"]?.stringValue ?? "(no message)"
        return KubernetesAPIError(statusCode: code, reason: reason, message: message)
    }
}

/// A kubeconfig or in-cluster configuration that cannot be used, with what is wrong in its message.
public struct KubernetesConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, naming the field or file.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
