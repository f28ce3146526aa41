/// What `AdmissionController.handle` produces: the HTTP answer, a log record and the metric events.
public struct AdmissionOutcome: Sendable {
    /// 200 for every answered review (the decision is in the body), 400 when the body is not a usable review.
    public var httpStatus: Int
    /// The JSON body: an `AdmissionReview` with the response, or a `Status` for a bad request.
    public var body: [UInt8]
    public var log: AdmissionLogRecord
    /// The PSA metric events this request produced, in order.
    public var metrics: [AdmissionMetricEvent]
    /// Where `body` holds `log.message` as a JSON string, quotes included (a denial's status message, hundreds
    /// of bytes): the request log copies it from there rather than escaping it again. nil when it does not.
    package var quotedMessage: Range<Int>?

    public init(httpStatus: Int, body: [UInt8], log: AdmissionLogRecord, metrics: [AdmissionMetricEvent]) {
        self.httpStatus = httpStatus
        self.body = body
        self.log = log
        self.metrics = metrics
    }

    package init(httpStatus: Int, body: [UInt8], quotedMessage: Range<Int>?, log: AdmissionLogRecord,
                 metrics: [AdmissionMetricEvent]) {
        self.httpStatus = httpStatus
        self.body = body
        self.quotedMessage = quotedMessage
        self.log = log
        self.metrics = metrics
    }
}

/// One structured log line's worth of facts about a request.
public struct AdmissionLogRecord: Sendable, Hashable {
    public var uid: String
    /// The request's kind (`Pod`, `Deployment`, `Namespace`, ...).
    public var kind: String
    public var namespace: String
    public var name: String
    public var operation: String
    public var userName: String
    /// `allow`, `deny` (forbidden or invalid) or `error` (bad request, failed lookup, undecodable object).
    public var decision: String
    /// The namespace policy evaluated (`enforce=baseline:latest, audit=..., warn=...`), empty when none was.
    public var policy: String
    /// The denial or error message, or what else is worth a line (exemption, warnings count); may be empty.
    public var message: String

    public init(uid: String = "", kind: String = "", namespace: String = "", name: String = "", operation: String = "",
                userName: String = "", decision: String = "", policy: String = "", message: String = "") {
        self.uid = uid
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.operation = operation
        self.userName = userName
        self.decision = decision
        self.policy = policy
        self.message = message
    }
}

/// A PSA metric increment, with the labels PSA's `metrics.go` uses.
public enum AdmissionMetricEvent: Sendable, Hashable {
    /// `pod_security_evaluations_total{decision, policy_level, policy_version, mode, request_operation, resource, subresource}`.
    case evaluation(decision: String, policyLevel: String, policyVersion: String, mode: String, operation: String, resource: String, subresource: String)
    /// `pod_security_exemptions_total{request_operation, resource, subresource}`.
    case exemption(operation: String, resource: String, subresource: String)
    /// `pod_security_errors_total{fatal, request_operation, resource, subresource}`.
    case error(fatal: Bool, operation: String, resource: String, subresource: String)

    /// The Prometheus metric name.
    public var name: String {
        switch self {
        case .evaluation: "pod_security_evaluations_total"
        case .exemption: "pod_security_exemptions_total"
        case .error: "pod_security_errors_total"
        }
    }

    /// The label names and values, in PSA's order.
    public var labels: [(name: String, value: String)] {
        switch self {
        case let .evaluation(decision, level, version, mode, operation, resource, subresource):
            [("decision", decision), ("policy_level", level), ("policy_version", version), ("mode", mode),
             ("request_operation", operation), ("resource", resource), ("subresource", subresource)]
        case let .exemption(operation, resource, subresource):
            [("request_operation", operation), ("resource", resource), ("subresource", subresource)]
        case let .error(fatal, operation, resource, subresource):
            [("fatal", fatal ? "true" : "false"), ("request_operation", operation), ("resource", resource), ("subresource", subresource)]
        }
    }
}
